"""From TODO-style tags found in files to findings: identity, age, title and description.

A finding's identity is its tag and text (numbered among identical ones in its file) plus the
file it was first seen in, so it survives lines moving and its file being renamed; its age is
when its comment was written, from git blame.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import blame as blame_mod
from ..classify import classify
from ..errors import GitError
from ..model import Source
from ..todos import Todo
from .base import DiscoveryContext, Finding

TITLE_LIMIT = 120


@dataclass(frozen=True, slots=True)
class Hit:
    """A tag found in a file (the cached form of a ``Todo`` plus the file's content id)."""

    path: str
    blob: str
    todo: Todo
    committed: bool = False  # the file is exactly as committed at HEAD


def cache_path(context: DiscoveryContext, kind: str) -> Path | None:
    try:
        return context.state.cache_path(context.repo, kind)
    except OSError:
        return None


def findings(context: DiscoveryContext, hits: list[Hit], texts: Mapping[str, str]) -> list[Finding]:
    """The findings for ``hits``, described with the code around them from ``texts`` (the text
    of each file with hits)."""
    content = _content_hashes(hits)
    identities = _identities(context.known, [(h.path, content[id(h)]) for h in hits])
    ages = _ages(context, hits)
    context_lines = int(context.options.get("context_lines", 3))
    findings = []
    for hit in hits:
        todo = hit.todo
        fingerprint = identities[(hit.path, content[id(hit)])]
        age = ages.get((hit.path, todo.line))
        author = todo.who or (age.author if age and age.commit != blame_mod.NOT_COMMITTED else None)
        origin = Source(kind="comments", path=hit.path, line=todo.line, tag=todo.tag, author=author)
        findings.append(
            Finding(
                fingerprint=fingerprint,
                title=_title(todo, hit.path),
                description=_description(todo, hit.path, texts.get(hit.path, ""), context_lines),
                task_type=classify(todo.text, tag=todo.tag),
                origin=origin,
                created_at=age.time if age else None,
                labels=(f"ref:{todo.ref}",) if todo.ref else (),
            )
        )
    return findings


def _content_hashes(hits: Iterable[Hit]) -> dict[int, str]:
    """A hash of each hit's tag and text, numbered among identical ones in the same file."""
    seen: Counter[tuple[str, str, str]] = Counter()
    hashes = {}
    for hit in hits:
        words = " ".join(hit.todo.text.split())
        occurrence = seen[(hit.path, hit.todo.tag, words)]
        seen[(hit.path, hit.todo.tag, words)] += 1
        hashes[id(hit)] = hashlib.sha1(  # an identity, not a security measure
            f"{hit.todo.tag}\0{words}\0{occurrence}".encode(), usedforsecurity=False
        ).hexdigest()[:16]
    return hashes


def _identities(
    known: Sequence[Source], current: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """The fingerprint of each (path, content hash) found now.

    A finding keeps the fingerprint it had where it was (same file, same content); one that
    vanished from its file and turns up elsewhere once (a moved or renamed file) keeps it too;
    anything else gets a new fingerprint naming its content and where it was first seen.
    """
    by_place: dict[tuple[str, str], str] = {}
    for source in known:
        if source.fingerprint and source.path and ":" in source.fingerprint:
            by_place[(source.path, source.fingerprint.split(":", 1)[0])] = source.fingerprint
    now = set(current)
    moved: dict[str, list[str]] = {}
    for (path, content), fingerprint in by_place.items():
        if (path, content) not in now:
            moved.setdefault(content, []).append(fingerprint)
    identities: dict[tuple[str, str], str] = {}
    for place in sorted(now):
        path, content = place
        kept = by_place.get(place)
        if kept is None and moved.get(content):
            kept = moved[content].pop(0)
        identities[place] = kept or f"{content}:{path}"
    return identities


def _ages(
    context: DiscoveryContext, hits: Sequence[Hit]
) -> dict[tuple[str, int], blame_mod.LineAge]:
    if not hits or not context.options.get("blame", True):
        return {}
    repo = context.repo
    try:
        if context.options.get("write_commit_graph") and not blame_mod.has_commit_graph(repo):
            blame_mod.write_commit_graph(repo)
    except GitError:
        pass  # an old git, or a repository without commits: blame still works, only slower
    blamer = blame_mod.Blamer(repo, cache_path(context, "blame"))
    wanted: dict[str, tuple[str, list[int]]] = {}
    clean = set()
    for hit in hits:
        wanted.setdefault(hit.path, (hit.blob, []))[1].append(hit.todo.line)
        if hit.committed:
            clean.add(hit.path)
    context.observer.progress("comments", 0, len(wanted), "dating comments with git blame")
    ages = blamer.ages(wanted, clean=clean)
    # How many files git actually had to blame (the rest were remembered from earlier scans).
    context.observer.progress("comments", blamer.blamed_files, len(wanted), "blamed")
    return ages


def _title(todo: Todo, path: str) -> str:
    text = " ".join(todo.text.split())
    if not text:
        return f"{todo.tag} in {path}:{todo.line}"
    return text if len(text) <= TITLE_LIMIT else text[: TITLE_LIMIT - 1].rstrip() + "\u2026"


def _description(todo: Todo, path: str, text: str, around: int) -> str:
    code = "\n".join(f"{n:>{width}}  {line}" for n, line, width in _code(todo, text, around))
    who = f" (for {todo.who})" if todo.who else ""
    head = f"{todo.tag}{who} at {path}:{todo.line}: {' '.join(todo.text.split()) or '(no text)'}"
    return f"{head}\n\n{code}" if code else head


def _code(todo: Todo, text: str, around: int) -> list[tuple[int, str, int]]:
    """The lines from ``around`` before the tag's to ``around`` after its comment's last, found
    from where its line starts, so a large file is never split into lines: (number, line,
    width of the last number)."""
    start, number = todo.offset, todo.line
    while number > max(1, todo.line - around) and start > 0:
        start = text.rfind("\n", 0, start - 1) + 1
        number -= 1
    rows = []
    while number <= todo.end_line + around and start < len(text):
        end = text.find("\n", start)
        end = len(text) if end == -1 else end
        rows.append((number, text[start:end].removesuffix("\r")))
        start, number = end + 1, number + 1
    width = len(str(rows[-1][0])) if rows else 0
    return [(n, line, width) for n, line in rows]
