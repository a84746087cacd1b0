"""The local forge: pull requests kept beside the repository, merged by git itself, no network.

A pull request is the item's branch plus a JSON record in the state folder. Merging makes the
merge commit a hosted forge would make, without disturbing the user's checkouts: off any work
tree when the base branch is not checked out, else in its checkout, refusing when that would
touch the user's uncommitted work.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from ..git import git
from ..model import utcnow
from ..store import StateStore
from .base import ForgeError, PullRequest, PullState, PullStatus
from .records import Records

IDENTITY = {"user.name": "backlog", "user.email": "backlog@localhost"}
SHOWN_PATHS = 10  # a refusal names this many paths, then says how many more
T = TypeVar("T")


class LocalForge:
    """Pull requests of the repository at ``repo``, recorded in ``state``'s ``prs`` folder
    (or the sub-folder ``under`` names: one per repository of a portfolio)."""

    name = "local"

    def __init__(
        self,
        repo: Path,
        state: StateStore,
        *,
        under: tuple[str, ...] = ("prs",),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.repo = repo
        self.records = Records(state, state.folder(*under))
        self.clock = clock

    def open(self, *, item_id: str, branch: str, base: str, title: str, body: str) -> PullRequest:
        """Open a pull request for ``branch``, or update the open one it already has."""
        head = _tip(self.repo, branch, "the pull request's branch")
        _tip(self.repo, base, "the pull request's base branch")
        with self.records.locked():
            existing = self.list()
            for pr in reversed(existing):
                if pr.branch == branch and pr.state is PullState.OPEN:
                    updated = dataclasses.replace(pr, base=base, title=title, body=body, head=head)
                    return self.records.save(updated)
            number = max((pr.number for pr in existing), default=0) + 1
            created = PullRequest(
                number, item_id, branch, base, title, body, f"local://pr/{number}",
                PullState.OPEN, head, self.clock(),
            )  # fmt: skip
            return self.records.save(created)

    def find(self, key: str) -> PullRequest | None:
        """The pull request with this number (``7`` or ``#7``), or the latest of this item id."""
        return self.records.find(key)

    def list(self) -> list[PullRequest]:
        """Every pull request, oldest first."""
        return self.records.list()

    def merge(self, key: str) -> PullRequest:
        """Merge the open pull request ``key`` (number or item id) into its base branch."""
        with self.records.locked():
            pr = self.find(key)
            if pr is None:
                raise ForgeError(f"no pull request {key!r}; `backlog prs` lists them")
            if pr.state is not PullState.OPEN:
                raise ForgeError(
                    f"pull request #{pr.number} ({pr.branch}) is {pr.state}, not open; "
                    "only an open pull request can be merged"
                )
            head = _tip(self.repo, pr.branch, f"the branch of pull request #{pr.number}")
            commit = _merge(self.repo, pr, head)
            merged = dataclasses.replace(
                pr, state=PullState.MERGED, head=head, merged_at=self.clock(), merge_commit=commit
            )
            return self.records.save(merged)

    def status(self, key: str) -> PullStatus:
        """The pull request ``key``; a local forge has no reviews or checks."""
        pr = self.find(key)
        if pr is None:
            raise ForgeError(f"no pull request {key!r}; `backlog prs` lists them")
        return PullStatus(pr)


# --- merging ---------------------------------------------------------------------------------


def _tip(repo: Path, branch: str, what: str) -> str:
    """The commit at the tip of ``branch``; a ForgeError naming ``what`` when there is none."""
    result = git(
        "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}", cwd=repo, check=False
    )
    if not result.ok or not result.stdout.strip():
        raise ForgeError(
            f"{what}, {branch!r}, does not exist in {repo}; `git branch --list` shows the branches"
        )
    return result.stdout.strip()


def _merge(repo: Path, pr: PullRequest, head: str) -> str:
    """Merge ``head`` into ``pr.base`` as a forge would; the merge commit (or ``head`` when the
    base already contains it, as a forge marks a branch pushed into its base as merged)."""
    base = _tip(repo, pr.base, f"the base branch of pull request #{pr.number}")
    if git("merge-base", "--is-ancestor", head, base, cwd=repo, check=False).ok:
        return head
    tree = _merged_tree(repo, pr, base, head)
    message = f"Merge pull request #{pr.number} from {pr.branch}\n\n{pr.title}"
    worktree = _checkout_of(repo, pr.base)
    if worktree is None:
        return _commit_off_tree(repo, pr, base=base, head=head, tree=tree, message=message)
    refusal = _in_the_way(worktree, _changed(repo, base, tree))
    if refusal:
        raise ForgeError(
            f"cannot merge pull request #{pr.number} into {pr.base}, which is checked out in "
            f"{worktree}: {refusal}. Commit or stash them, then run `backlog merge {pr.number}` "
            "again; nothing was changed"
        )
    return _commit_in(worktree, pr, head=head, message=message)


def _merged_tree(repo: Path, pr: PullRequest, base: str, head: str) -> str:
    """The tree of the merge, written to the object store only; a ForgeError on conflict."""
    result = git(
        "merge-tree", "--write-tree", "-z", "--name-only", "--no-messages", base, head,
        cwd=repo, check=False,
    )  # fmt: skip
    tree, *conflicted = [part for part in result.stdout.split("\0") if part] or [""]
    if result.returncode == 1 and len(tree) >= 40:
        raise ForgeError(
            f"pull request #{pr.number} ({pr.branch}) conflicts with {pr.base} in "
            f"{_paths(sorted(set(conflicted)))}; nothing was changed. Merge {pr.base} into "
            f"{pr.branch} and resolve the conflicts, then run `backlog merge {pr.number}` again"
        )
    if not result.ok:
        raise ForgeError(f"git could not merge pull request #{pr.number}:\n{result.describe()}")
    return tree


def _checkout_of(repo: Path, branch: str) -> Path | None:
    """The work tree that has ``branch`` checked out, if any."""
    listed = git("worktree", "list", "--porcelain", "-z", cwd=repo).stdout
    current: Path | None = None
    for field in listed.split("\0"):
        if field.startswith("worktree "):
            current = Path(field.removeprefix("worktree "))
        elif field == f"branch refs/heads/{branch}":
            return current
    return None


def _changed(repo: Path, base: str, tree: str) -> list[str]:
    """The paths the merge changes in ``base``."""
    listed = git("diff-tree", "-r", "--no-renames", "--name-only", "-z", base, tree, cwd=repo)
    return [path for path in listed.stdout.split("\0") if path]


def _in_the_way(worktree: Path, changed: list[str]) -> str | None:
    """Why the user's work in ``worktree`` stops the merge, or ``None`` when nothing does."""
    if git("rev-parse", "--quiet", "--verify", "MERGE_HEAD", cwd=worktree, check=False).ok:
        return "a merge is already in progress there (finish or abort it first)"
    staged, touched = [], []
    entries = iter(_status(worktree))
    for entry in entries:
        code, paths = entry[:2], [entry[3:]]
        if code[0] in "RC":
            paths.append(next(entries, ""))  # a rename also names where it came from
        if code[0] not in " ?!":
            staged += paths
        touched += [path for path in paths if any(_overlap(path, c) for c in changed)]
    if touched:
        return f"the merge would change paths with uncommitted work: {_paths(touched)}"
    if staged:
        # git refuses to merge over staged changes: the merge commit would take them in.
        return f"it has staged changes the merge commit would take in: {_paths(staged)}"
    return None


def _status(worktree: Path) -> list[str]:
    listed = git("status", "--porcelain=v1", "-z", "--untracked-files=all", cwd=worktree).stdout
    return [entry for entry in listed.split("\0") if entry]


def _overlap(path: str, changed: str) -> bool:
    """True when ``path`` is ``changed`` or a file or folder in its way."""
    return path == changed or path.startswith(f"{changed}/") or changed.startswith(f"{path}/")


def _paths(paths: list[str]) -> str:
    shown = ", ".join(paths[:SHOWN_PATHS])
    more = len(paths) - SHOWN_PATHS
    return f"{shown} and {more} more" if more > 0 else shown


def _identity(repo: Path) -> list[str]:
    """``-c`` options giving merge commits an author where the repository configures none."""
    options = []
    for key, value in IDENTITY.items():
        if not git("config", key, cwd=repo, check=False).stdout.strip():
            options += ["-c", f"{key}={value}"]
    return options


def _commit_off_tree(
    repo: Path, pr: PullRequest, *, base: str, head: str, tree: str, message: str
) -> str:
    """Make the merge commit and move ``pr.base`` to it, touching no work tree."""
    commit = git(
        *_identity(repo), "commit-tree", tree, "-p", base, "-p", head, "-m", message, cwd=repo
    ).stdout.strip()
    # Giving the old value makes git refuse if the branch moved since we read it.
    moved = git(
        "update-ref", "-m", f"merge pull request #{pr.number}",
        f"refs/heads/{pr.base}", commit, base, cwd=repo, check=False,
    )  # fmt: skip
    if not moved.ok:
        raise ForgeError(
            f"{pr.base} moved while pull request #{pr.number} was being merged; nothing was "
            f"changed. Run `backlog merge {pr.number}` again"
        )
    return commit


def _commit_in(worktree: Path, pr: PullRequest, *, head: str, message: str) -> str:
    """Merge ``head`` in the checkout of ``pr.base``; the new commit."""
    # --no-verify: a forge's merge runs none of the user's local commit hooks.
    argv = ["merge", "--no-ff", "--no-edit", "--no-verify", "--no-log", "-m", message, head]
    with _aborting(worktree):
        result = git(*_identity(worktree), *argv, cwd=worktree, check=False)
        if not result.ok:
            raise ForgeError(
                f"git could not merge pull request #{pr.number} into {pr.base} in {worktree}; "
                f"nothing was changed:\n{result.describe()}"
            )
    return git("rev-parse", "--verify", "HEAD", cwd=worktree).stdout.strip()


@contextlib.contextmanager
def _aborting(worktree: Path) -> Iterator[None]:
    """Abort the merge started in ``worktree`` if the body fails, so no half-merge remains."""
    try:
        yield
    except BaseException:
        if git("rev-parse", "--quiet", "--verify", "MERGE_HEAD", cwd=worktree, check=False).ok:
            git("merge", "--abort", cwd=worktree, check=False)
        raise
