"""The exceptions of GitHub access, rooted in the package's ``BacklogError``.

::

    GitHubError                   GitHub refused a request or could not be reached
    ├── GitHubAuthError           missing, malformed or refused token (401), or no access (403)
    ├── GitHubNotFoundError       404: no such repository or object, or the token cannot see it
    └── GitHubRateLimitedError    a rate limit resetting later than the run may wait
"""

from __future__ import annotations

from ..errors import BacklogError


class GitHubError(BacklogError):
    """GitHub refused a request, answered nonsense, or could not be reached."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class GitHubAuthError(GitHubError):
    """The token is missing, malformed, refused, or lacks a permission."""


class GitHubNotFoundError(GitHubError):
    """The repository or object does not exist, or the token cannot see it."""


class GitHubRateLimitedError(GitHubError):
    """A rate limit that resets later than the run may wait; ``reset`` is a Unix time."""

    def __init__(self, message: str, *, reset: float | None, status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.reset = reset
