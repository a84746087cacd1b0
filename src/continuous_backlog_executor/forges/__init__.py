"""Forges: where an item's branch becomes a pull request (see ``base`` for the contract)."""

from __future__ import annotations

from pathlib import Path

from ..store import StateStore
from .base import Forge, ForgeError
from .local import LocalForge

FORGE_TYPES = ("local",)


def make_forge(name: str, *, repo: Path, state: StateStore) -> Forge:
    """The forge called ``name`` for the repository at ``repo``."""
    if name == "local":
        return LocalForge(repo, state)
    raise ForgeError(f"unknown forge {name!r}; use one of: {', '.join(FORGE_TYPES)}")
