"""Forges: where an item's branch becomes a pull request (see ``base`` for the contract)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..store import StateStore
from .base import Forge, ForgeError
from .local import LocalForge

if TYPE_CHECKING:
    from ..context import Context

FORGE_TYPES = ("local",)


def make_forge(name: str, *, repo: Path, state: StateStore) -> Forge:
    """The forge called ``name`` for the repository at ``repo``."""
    if name == "local":
        return LocalForge(repo, state)
    raise ForgeError(f"unknown forge {name!r}; use one of: {', '.join(FORGE_TYPES)}")


def configured(ctx: Context) -> Forge:
    """The forge the configuration names (``execution.forge``) for the context's repository."""
    return make_forge(ctx.config.value("execution.forge"), repo=ctx.repo, state=ctx.state)
