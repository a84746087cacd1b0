"""The files of a repository as the comments source sees them, from git: the tracked ones with
the content ids the index gives them, which of them are not as committed, and which are gone."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..git import git

_NOT_FILES = frozenset({"120000", "160000"})  # symlinks and submodules: not ours to read


@dataclass(frozen=True, slots=True)
class Status:
    """Tracked paths not as committed (in the index or the working tree), and of those, the
    ones deleted from the working tree."""

    changed: frozenset[str]
    deleted: frozenset[str]


def tracked(repo: Path) -> dict[str, str | None]:
    """Tracked files (not symlinks nor submodules) by the content id the index gives them."""
    listing = git("ls-files", "-s", "-z", cwd=repo).stdout
    # Each record is "<mode> <id> <stage>\t<path>\0", and everything before the path has a
    # fixed width: six digits of mode, an id as long as the repository's hash makes them (40
    # hex digits for SHA-1, 64 for SHA-256), one digit of stage. Slicing by those widths is
    # much quicker than matching a pattern on each of thousands of records.
    records = listing.split("\0")
    records.pop()  # what follows the last record's terminator: nothing
    if not records:
        return {}
    id_end = records[0].index(" ", 7)
    path_start = id_end + 3
    return {
        record[path_start:]: record[7:id_end] for record in records if record[:6] not in _NOT_FILES
    }


def untracked(repo: Path) -> list[str]:
    """Untracked files that git does not ignore."""
    output = git("ls-files", "--others", "--exclude-standard", "-z", cwd=repo).stdout
    return [path for path in output.split("\0") if path]


def status(repo: Path) -> Status:
    """Which tracked files are not as committed, and which are deleted (``git status``)."""
    output = git("status", "--porcelain=v1", "-z", "--untracked-files=no", cwd=repo).stdout
    changed = set()
    deleted = set()
    records = iter(output.split("\0"))
    for record in records:
        if len(record) < 4:
            continue
        changed.add(record[3:])
        if record[1] == "D":
            deleted.add(record[3:])
        if record[0] in "RC":
            next(records, None)  # the rename's source path follows
    return Status(frozenset(changed), frozenset(deleted))
