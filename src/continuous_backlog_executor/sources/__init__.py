"""Discovery sources: one module each, in one sorted registry (see ``base`` for the contract)."""

from __future__ import annotations

from . import comments
from .base import DiscoverySource

SOURCES: dict[str, DiscoverySource] = {
    "comments": comments.SOURCE,
}
