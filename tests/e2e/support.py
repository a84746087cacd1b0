"""Helpers shared by the end-to-end tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

Tree = dict[str, bytes | None]
MICRO_CYCLE = "red -> green -> refactor -> security -> docs -> ci -> pull request"


def utc_now() -> datetime:
    """The current UTC time to the second, the precision the tool keeps."""
    return datetime.now(UTC).replace(microsecond=0)


def stamp(moment: datetime) -> str:
    """``moment`` as the tool writes it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stamp(text: str) -> datetime:
    """The UTC time written as ``text``."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def backlog_path(repo: Path) -> Path:
    """Where the backlog lives by default."""
    return repo / "DOCS" / "backlog.yml"


def snapshot(root: Path) -> Tree:
    """Every file (with its bytes) and folder (``None``) of the work tree, outside ``.git``."""
    tree: Tree = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] != ".git":
            tree[relative.as_posix()] = path.read_bytes() if path.is_file() else None
    return tree
