"""The machine-owned state folder of one repository: caches, locks, backups and crash logs.

It lives inside the repository's git folder (shared by its worktrees, never committed, gone with
the clone), or under the user's cache folder for a target that is not a git repository.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from . import git
from .errors import GitError
from .files import atomic_write

FOLDER_NAME = "backlog-executor"
README = """\
This folder belongs to the `backlog` tool (Continuous Backlog Executor). It holds machine
state: caches, locks, backups and crash logs. It is safe to delete; the tool rebuilds it.
Items themselves live in the backlog file (DOCS/backlog.yml by default), never here.
"""
CACHEDIR_TAG = """\
Signature: 8a477f597d28d172789f06886806bc55
# This file is a cache directory tag created by the backlog tool.
# For information about cache directory tags see https://bford.info/cachedir/
"""


class StateStore:
    """Paths inside the state folder; folders are created on first use."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def locate(cls, repo: Path, override: Path | None = None) -> StateStore:
        """The state folder for ``repo``: ``override``, the git folder, or the user cache."""
        if override is not None:
            return cls(override)
        try:
            if git.toplevel(repo) is not None:
                return cls(git.common_dir(repo) / FOLDER_NAME)
        except GitError:
            pass
        return cls(_user_cache() / FOLDER_NAME / _key(repo.resolve()))

    def folder(self, *parts: str) -> Path:
        """``root/parts``, created (with the folder's README and cache tag) if missing."""
        if not (self.root / "README").exists():
            self.root.mkdir(parents=True, exist_ok=True)
            atomic_write(self.root / "README", README)
            atomic_write(self.root / "CACHEDIR.TAG", CACHEDIR_TAG)
        path = self.root.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def lock_path(self, target: Path) -> Path:
        """The lock file guarding ``target`` (kept here so the user's tree stays clean)."""
        return self.folder("locks") / f"{target.name}-{_key(target.resolve())}.lock"

    def cache_path(self, target: Path, kind: str) -> Path:
        """Where a cache of ``kind`` about ``target`` is kept."""
        return self.folder("cache") / f"{kind}-{_key(target.resolve())}.pickle"


def _key(path: Path) -> str:
    return hashlib.blake2b(str(path).encode(), digest_size=6).hexdigest()


def _user_cache() -> Path:
    configured = os.environ.get("XDG_CACHE_HOME")
    return Path(configured) if configured else Path.home() / ".cache"
