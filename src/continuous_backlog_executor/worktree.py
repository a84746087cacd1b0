"""Each item's own git worktree and branch, kept in the state folder beside the user's checkout and
never in it, and what the engine asks of one: commit it, reset it, and what changed since the base.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator, Set
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from . import git, process
from .errors import ConfigError, GitError
from .store import StateStore

BRANCH_PREFIX = "backlog/"
SLUG_MAX = 40  # characters of the title kept in a branch name
ID_MAX = 48  # characters of the item id kept in a branch or file name
# Who commits when the repository configures no identity of its own.
ENGINE_NAME = "backlog"
ENGINE_EMAIL = "backlog@localhost"


def safe_id(item_id: str) -> str:
    """``item_id`` as a ref component and file name: ascii letters, digits, ``.``, ``_``, ``-``.

    An id that had to be changed gets a short hash of the original, so two ids never share one.
    """
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", _ascii(item_id))
    cleaned = re.sub(r"\.{2,}", ".", cleaned).strip(".-")[:ID_MAX].rstrip(".-")
    if cleaned == item_id and not cleaned.endswith(".lock"):
        return cleaned
    digest = hashlib.blake2b(item_id.encode(), digest_size=3).hexdigest()
    return f"{cleaned or 'item'}-{digest}"


def branch_name(item_id: str, title: str) -> str:
    """``backlog/<id>-<slug of the title>``, always a valid branch name."""
    slug = _slug(title)
    return f"{BRANCH_PREFIX}{safe_id(item_id)}{'-' if slug else ''}{slug}"


def _slug(title: str) -> str:
    words = re.findall(r"[a-z0-9]+", _ascii(title).lower())
    slug = ""
    for word in words:
        longer = f"{slug}-{word}" if slug else word
        if len(longer) > SLUG_MAX:
            break
        slug = longer
    return slug or (words[0][:SLUG_MAX] if words else "")


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def base_branch(repo: Path, configured: str | None = None) -> str:
    """The branch items start from: ``configured``, else the main worktree's checked-out one."""
    if configured:
        if git.resolve_commit(repo, configured) is None:
            raise ConfigError(
                f"execution.base_branch is {configured!r}, which names no commit in {repo}; "
                "set it to an existing branch"
            )
        return configured
    main = _registered(repo)[0]
    if main.branch is None:
        raise ConfigError(
            f"{main.path} is not on a branch (detached HEAD or bare), so items have no base "
            "branch to start from; check out a branch there or set execution.base_branch"
        )
    return main.branch


@dataclass(frozen=True, slots=True)
class _Entry:
    """One worktree as ``git worktree list`` reports it."""

    path: Path
    branch: str | None  # None when detached or bare


def _registered(repo: Path) -> list[_Entry]:
    listed = git.git("worktree", "list", "--porcelain", "-z", cwd=repo).stdout
    entries = []
    for block in listed.split("\0\0"):
        fields = dict(field.partition(" ")[::2] for field in block.split("\0") if field)
        if "worktree" in fields:
            branch = fields.get("branch", "").removeprefix("refs/heads/") or None
            entries.append(_Entry(Path(fields["worktree"]), branch))
    return entries


@dataclass(frozen=True, slots=True)
class Worktree:
    """An item's worktree: where it is, its branch, and the base commit that branch started from."""

    item_id: str
    path: Path
    branch: str
    base: str
    base_sha: str


class Worktrees:
    """The items' worktrees of ``repo``, one folder each under the state folder's ``worktrees``.

    Every command runs in an item's worktree or on refs: the user's checkout (its branch, index and
    files) is never touched. Only our own worktrees are ever removed; ``git worktree prune`` is
    not used because it would also forget the user's worktrees whose folders are unmounted.
    """

    def __init__(
        self, repo: Path, state: StateStore, *, under: tuple[str, ...] = ("worktrees",)
    ) -> None:
        self.repo = repo
        self.state = state
        self.under = under  # the state folder's sub-folder; one per repository worked on

    @property
    def folder(self) -> Path:
        """Where the items' worktrees live."""
        return self.state.folder(*self.under).resolve()

    def path_for(self, item_id: str) -> Path:
        """The folder of ``item_id``'s worktree."""
        return self.folder / safe_id(item_id)

    def prepare(
        self, item_id: str, title: str, base: str, *, branch: str | None = None
    ) -> Worktree:
        """The item's worktree, reused with its work so far if it exists, else (re)created.

        A missing branch (``branch``, by default ``branch_name(item_id, title)``) is made from the
        head of ``base``; an existing one is checked out as it is. An existing worktree keeps
        whatever branch it is on, so a renamed item still finds its work.
        """
        path = self.path_for(item_id)
        start = git.resolve_commit(self.repo, base)
        if start is None:
            raise ConfigError(
                f"base branch {base!r} names no commit in {self.repo}; commit to it first "
                "or set execution.base_branch"
            )
        current = self._reusable(path, item_id)
        if current is None:
            current = branch or branch_name(item_id, title)
            self._add(path, current, start)
        return Worktree(item_id, path, current, base, git.merge_base(self.repo, current, start))

    def remove(self, worktree: Worktree, *, keep_branch: bool = True) -> None:
        """Delete the worktree's folder; its branch stays (it holds the work) unless told not to."""
        self._discard(worktree.path)
        if not keep_branch:
            git.git("branch", "-D", "--", worktree.branch, cwd=self.repo)

    @contextlib.contextmanager
    def checkout(
        self, item_id: str, title: str, base: str, *, keep: bool = False, branch: str | None = None
    ) -> Iterator[Worktree]:
        """``prepare`` the item's worktree and remove it afterwards (unless ``keep``), even when
        the body raises or is interrupted; the branch always stays."""
        worktree = self.prepare(item_id, title, base, branch=branch)
        try:
            yield worktree
        finally:
            if not keep:
                self.remove(worktree)

    def stale(self, active: Set[str] = frozenset()) -> list[Path]:
        """Our worktrees (on disk or only registered) whose item is not in ``active``."""
        keep = {safe_id(item_id) for item_id in active}
        found = set(self.folder.iterdir())
        found.update(e.path for e in _registered(self.repo) if e.path.parent == self.folder)
        return sorted(path for path in found if path.name not in keep)

    def clean_stale(self, active: Set[str]) -> list[Path]:
        """Remove the worktrees ``stale`` finds (after a crash); their branches stay. A
        program still working in one (the agent of a run that was killed) is stopped first,
        or it would go on writing into the worktree the next attempt makes at the same path."""
        removed = self.stale(active)
        for path in removed:
            process.kill_working_in(path)
            self._discard(path)
        return removed

    def _reusable(self, path: Path, item_id: str) -> str | None:
        # The branch of a healthy worktree at ``path``; a broken one's remains are cleared.
        if not (path.exists() or path.is_symlink()):
            return None
        top = git.toplevel(path) if path.is_dir() and not path.is_symlink() else None
        if top is None or top.resolve() != path or not self._same_repo(path):
            self._discard(path)
            return None
        branch = git.git("symbolic-ref", "--quiet", "--short", "HEAD", cwd=path, check=False)
        if not branch.ok:
            raise GitError(
                f"the worktree of item {item_id!r} at {path} is not on a branch (detached HEAD); "
                "check out its backlog/ branch there, or delete the folder to start over"
            )
        return branch.stdout.strip()

    def _same_repo(self, path: Path) -> bool:
        return git.common_dir(path).resolve() == git.common_dir(self.repo).resolve()

    def _add(self, path: Path, branch: str, start: str) -> None:
        self._discard(path)  # a registration left behind by a vanished folder blocks ``add``
        if git.resolve_commit(self.repo, f"refs/heads/{branch}") is None:
            git.git("worktree", "add", "--quiet", "-b", branch, str(path), start, cwd=self.repo)
            return
        for entry in _registered(self.repo):
            if entry.branch == branch:
                raise GitError(
                    f"branch {branch} is checked out at {entry.path}; switch that checkout to "
                    "another branch (or remove that worktree) so the item can continue on it"
                )
        git.git("worktree", "add", "--quiet", str(path), branch, cwd=self.repo)

    def _discard(self, path: Path) -> None:
        # Unregister and delete one of our worktrees, whatever state it is in.
        if path.parent != self.folder:
            raise ValueError(f"refusing to remove {path}: it is not under {self.folder}")
        remove = ("worktree", "remove", "--force", "--force", str(path))
        removed = git.git(*remove, cwd=self.repo, check=False).ok
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.exists():
            shutil.rmtree(path)
        if not removed:  # git cannot remove a broken folder, but it can forget a missing one
            git.git(*remove, cwd=self.repo, check=False)


def commit_all(path: Path, message: str) -> str | None:
    """Commit every change in the item's worktree (deletions and new files too); the new commit,
    or ``None`` when there was nothing to commit.

    Hooks are skipped: the engine's gates judge the work, and a RED commit fails tests on
    purpose. The engine's identity is used only when the repository configures none.
    """
    _require_item_worktree(path)
    git.git("add", "--all", cwd=path)
    if git.git("diff", "--cached", "--quiet", cwd=path, check=False).returncode == 0:
        return None
    git.git(*_identity(path), "commit", "--quiet", "--no-verify", "-m", message, cwd=path)
    return git.head(path)


def _identity(path: Path) -> tuple[str, ...]:
    if git.user_name(path) and git.user_email(path):
        return ()
    return ("-c", f"user.name={ENGINE_NAME}", "-c", f"user.email={ENGINE_EMAIL}")


def reset_hard(path: Path, sha: str) -> None:
    """Move the item's branch back to ``sha`` and make its tracked files match (a failed try)."""
    _require_item_worktree(path)
    git.git("reset", "--hard", "--quiet", sha, cwd=path)


def clean(path: Path, *, ignored: bool = False) -> None:
    """Delete untracked files and folders in the item's worktree (ignored ones too if asked)."""
    _require_item_worktree(path)
    git.git("clean", "-ffdq", *(["-x"] if ignored else []), cwd=path)


def _require_item_worktree(path: Path) -> None:
    # These helpers destroy or commit work; never let them near a repository's main checkout.
    if not _is_linked_worktree(str(path.resolve())):
        raise GitError(f"{path} is a repository's main checkout, not an item's worktree")


@functools.lru_cache(maxsize=256)
def _is_linked_worktree(path: str) -> bool:
    # Cached: a folder git made as a linked worktree does not turn into a main checkout, and
    # the helpers above run many times per attempt.
    dirs = git.git(
        "rev-parse", "--path-format=absolute", "--git-dir", "--git-common-dir", cwd=Path(path)
    ).stdout.splitlines()
    return len(set(dirs)) == 2


class ChangeKind(StrEnum):
    """How a file differs from the base, as ``git diff --name-status`` letters."""

    ADDED = "A"
    MODIFIED = "M"
    DELETED = "D"
    RENAMED = "R"


@dataclass(frozen=True, slots=True)
class ChangedFile:
    """One file that differs between the base commit and the worktree."""

    status: ChangeKind
    path: str
    old_path: str | None = None  # for renames


_KINDS = {"A": ChangeKind.ADDED, "D": ChangeKind.DELETED}


def changed_files(path: Path, base_sha: str) -> list[ChangedFile]:
    """Files differing between ``base_sha`` and the worktree as it is now: committed, staged,
    unstaged and untracked (not ignored) changes alike, renames detected."""
    parts = iter(_diff(path, base_sha, "--name-status", "-z", "-M").split("\0"))
    changes = []
    for status in parts:
        if not status:
            break
        if status[0] == "R":
            old = next(parts)
            changes.append(ChangedFile(ChangeKind.RENAMED, next(parts), old))
        elif status[0] == "C":  # only with diff.renames=copies; the source stays as it was
            next(parts)
            changes.append(ChangedFile(ChangeKind.ADDED, next(parts)))
        else:
            changes.append(ChangedFile(_KINDS.get(status[0], ChangeKind.MODIFIED), next(parts)))
    return changes


def diff_text(path: Path, base_sha: str) -> str:
    """The unified diff from ``base_sha`` to the worktree as it is now, untracked files included."""
    return _diff(path, base_sha, "-M")


def diffstat(path: Path, base_sha: str) -> str:
    """``git diff --stat`` from ``base_sha`` to the worktree as it is now."""
    return _diff(path, base_sha, "--stat", "-M")


def _diff(path: Path, base_sha: str, *options: str) -> str:
    with _scratch_index(path) as index:
        argv = ("diff", "--cached", "--no-color", "--no-ext-diff", *options, base_sha, "--")
        return git.git_with_index(index, *argv, cwd=path).stdout


@contextlib.contextmanager
def _scratch_index(path: Path) -> Iterator[Path]:
    """A throwaway copy of the worktree's index with everything staged (``git add --all``).

    Diffing it against the base shows untracked files and deletions too, while the worktree's
    own index (and what an agent staged in it) stays exactly as it was. Copying the real index
    keeps git's file-status cache, so unchanged files are not read again.
    """
    real = git.git("rev-parse", "--path-format=absolute", "--git-path", "index", cwd=path)
    with tempfile.TemporaryDirectory(prefix="backlog-index-") as folder:
        index = Path(folder, "index")
        with contextlib.suppress(FileNotFoundError):
            # With its time of change: git trusts a file's cached status only when the file is
            # older than the index, and a fresh copy's new time would hide same-size edits.
            shutil.copy2(real.stdout.strip(), index)
        git.git_with_index(index, "add", "--all", cwd=path)
        yield index


def escapes(path: Path, base_sha: str | None = None) -> list[str]:
    """Symlinks in the worktree that point outside it (paths relative to it, sorted): writing
    through one would change files outside the item's worktree. A link the repository already
    had at ``base_sha``, pointing where it pointed then, is the project's own and not counted."""
    root = path.resolve()
    known = _committed_links(path, base_sha) if base_sha else {}
    found = []
    for folder, dirs, files in os.walk(root):
        if Path(folder) == root and ".git" in dirs:
            dirs.remove(".git")
        for name in (*dirs, *files):
            link = Path(folder, name)
            if not link.is_symlink() or _inside(Path(os.path.realpath(link)), root):
                continue
            relative = link.relative_to(root).as_posix()
            if relative not in known or known[relative] != _link_blob(link, known[relative]):
                found.append(relative)
    return sorted(found)


def _committed_links(path: Path, sha: str) -> dict[str, str]:
    # Every symlink in the commit ``sha``, with the id of the blob holding its target.
    listed = git.git("ls-tree", "-r", "-z", "--full-tree", sha, cwd=path).stdout
    links = {}
    for record in listed.split("\0"):
        meta, _, name = record.partition("\t")
        if meta.startswith("120000 "):
            links[name] = meta.split()[2]
    return links


def _link_blob(link: Path, like: str) -> str:
    # The blob id git gives the link's target (SHA-1 or, for a 64-digit ``like``, SHA-256).
    target = os.fsencode(link.readlink())
    digest = hashlib.sha256() if len(like) == 64 else hashlib.sha1(usedforsecurity=False)
    digest.update(b"blob %d\0" % len(target) + target)
    return digest.hexdigest()


def _inside(target: Path, root: Path) -> bool:
    return target == root or root in target.parents
