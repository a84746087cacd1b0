"""Which GitHub repository a local repository belongs to (its ``origin`` remote, read as
``owner/name`` when it is a GitHub URL: https, ssh or scp-like; any host, for Enterprise), and
which one a backlog item came from."""

from __future__ import annotations

import re
from pathlib import Path

from .. import git
from ..model import BacklogItem

_GITHUB_REMOTE = re.compile(
    r"^(?:https?://[^/]+/|ssh://git@[^/]+/|git@[^:]+:)(?P<repo>[\w.-]+/[\w.-]+?)(?:\.git)?/?$"
)


def origin_repo(repo: Path) -> str | None:
    """``owner/name`` of ``repo``'s origin, or ``None`` when it has none or it is not GitHub's."""
    origin = git.git("remote", "get-url", "origin", cwd=repo, check=False)
    match = _GITHUB_REMOTE.match(origin.stdout.strip()) if origin.ok else None
    return match.group("repo") if match else None


_WEB_URL = re.compile(r"^https?://[^/]+/(?P<repo>[\w.-]+/[\w.-]+)/(?:issues|pull)/\d+")


def item_repository(item: BacklogItem) -> str | None:
    """``owner/name`` of the GitHub repository an item was found in (an issue or a review
    comment), or ``None`` for an item of this repository."""
    match = _WEB_URL.match(item.source.url or "") if item.source else None
    return match.group("repo") if match else None
