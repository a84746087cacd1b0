"""Everything a command needs, assembled once from the options: settings, stores, the clock."""

from __future__ import annotations

import getpass
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from . import config as config_mod
from . import git
from .backlog import Backlog, BacklogStore
from .config import Config
from .errors import BacklogError, ConfigError, GitError
from .journal import Journal
from .model import utcnow
from .store import StateStore

log = logging.getLogger(__name__)


@dataclass
class Context:
    """A command's collaborators. Commands never read the environment or the clock directly."""

    config: Config
    store: BacklogStore
    state: StateStore
    journal: Journal
    actor: str
    now: datetime = field(default_factory=utcnow)

    @property
    def repo(self) -> Path:
        """The target repository's root."""
        return self.config.repo

    def load(self) -> Backlog:
        """The backlog, read without taking the lock; its warnings are logged."""
        backlog = self.store.load()
        for warning in backlog.warnings:
            log.warning("%s", warning)
        return backlog


def find_repo(path: Path | None) -> Path:
    """The repository to work on: ``path`` as given, else the work tree you stand in."""
    start = (path or Path.cwd()).resolve()
    if not start.exists():
        raise BacklogError(f"{start}: no such folder; check --repo")
    if not start.is_dir():
        raise BacklogError(f"{start}: not a folder; --repo takes the repository's folder")
    if path is not None:
        return start
    try:
        root = git.toplevel(start)
    except GitError:
        root = None
    return root or start


def build(
    *,
    repo: Path | None,
    config_file: Path | None,
    overrides: Mapping[str, object],
    environ: Mapping[str, str] | None = None,
) -> Context:
    """Resolve the repository and settings and wire up the stores."""
    root = find_repo(repo)
    cfg = config_mod.load(root, file=config_file, environ=environ, overrides=overrides)
    state_dir = cfg.value("paths.state_dir")
    state = StateStore.locate(root, Path(state_dir) if state_dir else None)
    journal = Journal(cfg.path("journal"))
    backlog_path = cfg.path("backlog")
    if backlog_path.is_dir():
        raise ConfigError(f"paths.backlog: {backlog_path} is a folder; point it at a file")
    store = BacklogStore(
        backlog_path,
        state=state,
        journal=journal,
        lock_timeout=cfg.value("lock_timeout"),
        settle=True,
    )
    return Context(cfg, store, state, journal, _actor(cfg, root))


def _actor(cfg: Config, root: Path) -> str:
    configured = cfg.value("actor")
    if configured:
        return str(configured)
    try:
        name = git.user_name(root)
    except GitError:
        name = None
    return name or os.environ.get("USER") or _login() or "backlog"


def _login() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None
