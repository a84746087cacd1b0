"""The user-facing exception tree; anything raised that is not a ``BacklogError`` is a bug.

::

    BacklogError                      every failure a user can act on (exit code 1)
    ├── InvalidValueError             a value outside its allowed range or of the wrong kind
    ├── ConfigError                   configuration file, environment or option problems
    ├── BacklogFileError              DOCS/backlog.yml cannot be read, parsed or validated
    ├── BacklogBusyError              another process holds the backlog lock for too long
    ├── ConcurrentEditError           the backlog file changed on disk under a transaction
    ├── ItemNotFoundError             no item has the given id
    ├── TransitionError               a status change the lifecycle table does not allow
    └── ProcessError                  a child process (git, a tool) failed or timed out
        └── GitError                  ... and that child was git

Messages say what failed, where (file, line, key, item) and what to do next.
"""

from __future__ import annotations

from pathlib import Path


class BacklogError(Exception):
    """Root of every expected, user-actionable failure."""


class InvalidValueError(BacklogError, ValueError):
    """A field value is out of range or of the wrong type."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message


class ConfigError(BacklogError):
    """The configuration is missing, malformed or has a bad key or value."""


class BacklogFileError(BacklogError):
    """The backlog file cannot be used; the file itself is left untouched."""

    def __init__(
        self,
        path: Path,
        message: str,
        *,
        line: int | None = None,
        item: str | None = None,
    ) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        about = f"item {item!r}: " if item is not None else ""
        super().__init__(f"{where}: {about}{message}")
        self.path = path
        self.line = line
        self.item = item


class BacklogBusyError(BacklogError):
    """Another process kept the backlog lock longer than the configured wait."""


class ConcurrentEditError(BacklogError):
    """The backlog file changed on disk between reading and writing it."""


class ItemNotFoundError(BacklogError):
    """No item with the requested id exists."""


class TransitionError(BacklogError):
    """The lifecycle does not allow the requested status change."""


class ProcessError(BacklogError):
    """A child process failed, could not start, or ran out of time."""


class GitError(ProcessError):
    """A git command failed."""
