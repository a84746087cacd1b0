"""Which GitHub repository a local repository belongs to (its ``origin`` remote, read as
``owner/name`` when it is a GitHub URL: https, ssh or scp-like; any host, for Enterprise)."""

from __future__ import annotations

import re
from pathlib import Path

from .. import git

_GITHUB_REMOTE = re.compile(
    r"^(?:https?://[^/]+/|ssh://git@[^/]+/|git@[^:]+:)(?P<repo>[\w.-]+/[\w.-]+?)(?:\.git)?/?$"
)


def origin_repo(repo: Path) -> str | None:
    """``owner/name`` of ``repo``'s origin, or ``None`` when it has none or it is not GitHub's."""
    origin = git.git("remote", "get-url", "origin", cwd=repo, check=False)
    match = _GITHUB_REMOTE.match(origin.stdout.strip()) if origin.ok else None
    return match.group("repo") if match else None
