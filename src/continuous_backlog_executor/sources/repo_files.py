"""The files of a repository as the comments source sees them, from git: the tracked ones with
the content ids the index gives them, which of them are not as committed, and which are gone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..git import git

# One record of ``git ls-files -s -z``: mode, content id, stage, path.
_INDEX_RECORD = re.compile(r"(\d+) ([0-9a-f]+) \d\t([^\0]*)\0")
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
    return {
        path: blob for mode, blob, path in _INDEX_RECORD.findall(listing) if mode not in _NOT_FILES
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
