"""When each line was written, from git blame, at a cost that suits a large code base.

Blame is the expensive part of reading ages from history, so: only the lines asked for are
blamed (one ``git blame -L a,a -L b,b`` per file), several files at once in parallel processes,
and every answer is remembered under the blamed file content's id and the line number, so a
rescan blames only lines of files that changed. A commit-graph with changed-path Bloom filters
speeds blame up further; it is used when present and written when the caller allows it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .cache import FrameCache
from .git import git, git_env
from .process import run

BLAME_TIMEOUT = 120.0
_FORMAT = ("blame", 1)
NOT_COMMITTED = "0000000000000000000000000000000000000000"


@dataclass(frozen=True, slots=True)
class LineAge:
    """Who last changed a line, when, and in which commit (zeros: not committed yet)."""

    author: str
    time: datetime
    commit: str


def blob_id(data: bytes) -> str:
    """The id git gives a file with these bytes (``git hash-object``), computed here."""
    return hashlib.sha1(  # git's object naming, not a security measure
        b"blob %d\0" % len(data) + data, usedforsecurity=False
    ).hexdigest()


def _key(blob: str, line: int) -> bytes:
    return hashlib.blake2b(f"{blob}:{line}".encode(), digest_size=16).digest()


def has_commit_graph(repo: Path) -> bool:
    """True when the repository already has a commit-graph."""
    common = Path(
        git("rev-parse", "--path-format=absolute", "--git-common-dir", cwd=repo).stdout.strip()
    )
    info = common / "objects" / "info"
    return (info / "commit-graph").exists() or (info / "commit-graphs").exists()


def write_commit_graph(repo: Path) -> None:
    """Write a commit-graph with changed-path Bloom filters (what makes blame quicker)."""
    git("commit-graph", "write", "--reachable", "--changed-paths", cwd=repo)


class Blamer:
    """Line ages for one repository, with a persistent cache."""

    def __init__(self, repo: Path, cache_path: Path | None, *, workers: int | None = None) -> None:
        self.repo = repo
        self.cache = FrameCache[tuple[str, float, str]](cache_path, header=_FORMAT)
        self.cache.load()
        self.workers = workers or min(8, (os.cpu_count() or 2) * 2)
        self.blamed_files = 0  # how many files needed git this time (the rest came from cache)

    def ages(
        self,
        wanted: Mapping[str, tuple[str, Iterable[int]]],
        *,
        clean: Iterable[str] = (),
    ) -> dict[tuple[str, int], LineAge]:
        """Ages of ``{path: (blob id, lines)}``, by (path, line); lines git cannot blame
        (a file that is not committed at all) are left out. ``clean`` names the paths whose
        content is exactly as committed at HEAD: those can be dated without blame when a
        single commit ever touched them."""
        found: dict[tuple[str, int], LineAge] = {}
        missing: dict[str, tuple[str, list[int]]] = {}
        for path, (blob, lines) in wanted.items():
            for line in sorted(set(lines)):
                cached = self.cache.get(_key(blob, line))
                if cached is None:
                    missing.setdefault(path, (blob, []))[1].append(line)
                else:
                    found[(path, line)] = _age(cached)
        clean_missing = set(clean) & set(missing)
        for path, raw in (
            single_commit_files(self.repo, clean_missing) if clean_missing else {}
        ).items():
            blob, lines = missing.pop(path)
            for line in lines:
                self.cache.put(_key(blob, line), raw)
                found[(path, line)] = _age(raw)
        self.blamed_files = len(missing)
        # A file as committed is blamed at the commit: git then reads neither the index nor
        # the working tree, which takes about a third off each run.
        head = _head(self.repo) if clean_missing else None
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            results = pool.map(
                lambda item: (
                    item[0],
                    item[1][0],
                    self._blame(item[0], item[1], head if item[0] in clean_missing else None),
                ),
                missing.items(),
            )
            for path, blob, ages in results:
                for line, raw in ages.items():
                    self.cache.put(_key(blob, line), raw)
                    found[(path, line)] = _age(raw)
        self.cache.flush()
        return found

    def _blame(
        self, path: str, job: tuple[str, list[int]], commit: str | None
    ) -> dict[int, tuple[str, float, str]]:
        ranges = [arg for line in job[1] for arg in ("-L", f"{line},{line}")]
        result = run(
            ["git", "blame", "--porcelain", *ranges, *([commit] if commit else []), "--", path],
            cwd=self.repo,
            env=git_env(),
            timeout=BLAME_TIMEOUT,
        )
        return parse_porcelain(result.stdout) if result.ok else {}


def _head(repo: Path) -> str | None:
    found = git("rev-parse", "--verify", "--quiet", "HEAD^{commit}", cwd=repo, check=False)
    return (found.stdout.strip() or None) if found.ok else None


def _age(raw: tuple[str, float, str]) -> LineAge:
    return LineAge(raw[0], datetime.fromtimestamp(raw[1], UTC), raw[2])


def parse_porcelain(text: str) -> dict[int, tuple[str, float, str]]:
    """``{final line: (author, author time, commit)}`` from ``git blame --porcelain``."""
    commits: dict[str, dict[str, str]] = {}
    found: dict[int, tuple[str, float, str]] = {}
    current: dict[str, str] = {}
    commit, final = "", 0
    for line in text.splitlines():
        if line.startswith("\t"):
            info = commits.setdefault(commit, current)
            author = info.get("author", "")
            found[final] = (author, float(info.get("author-time", "0")), commit)
            continue
        head, _, rest = line.partition(" ")
        if len(head) == 40 and all(c in "0123456789abcdef" for c in head):
            commit, final = head, int(rest.split()[1])
            current = commits.get(commit, {})
            commits.setdefault(commit, current)
        else:
            current[head] = rest
    return found


MAX_HISTORY = 20_000  # commits; beyond this, reading the whole history costs more than it saves


def single_commit_files(repo: Path, paths: set[str]) -> dict[str, tuple[str, float, str]]:
    """``{path: (author, time, commit)}`` for those of ``paths`` that one commit created and no
    other commit touched since, following renames: every line of such a file dates from it.

    One pass over the history's file changes replaces a ``git blame`` per such file.
    """
    count = git("rev-list", "--count", "HEAD", cwd=repo, check=False)
    if not count.ok or int(count.stdout.strip() or 0) > MAX_HISTORY:
        return {}
    log = git("log", "-M", "--name-status", "-z", "--format=%x01%H %at %an", cwd=repo, check=False)
    if not log.ok:
        return {}
    touched: dict[str, int] = {}
    created: dict[str, tuple[str, float, str]] = {}
    for block in log.stdout.split("\x01")[1:]:
        head, _, changes = block.partition("\n")
        commit, stamp, author = [*head.strip("\0").split(" ", 2), "", ""][:3]
        fields = [f for f in changes.strip("\n\0").split("\0") if f]
        index = 0
        while index < len(fields):
            status = fields[index].strip()
            names = fields[index + 1 : index + (3 if status[:1] in "RC" else 2)]
            index += 1 + len(names)
            for name in names:
                touched[name] = touched.get(name, 0) + 1
            if status == "A" and names:
                created[names[0]] = (author, float(stamp), commit)
    return {p: created[p] for p in paths if touched.get(p) == 1 and p in created}
