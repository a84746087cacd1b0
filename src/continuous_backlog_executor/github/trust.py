"""Whose GitHub issues and comments the engine turns into work. Pure.

Modes (``TrustRules.mode``):

- ``collaborators`` (the default): the author's ``author_association`` is OWNER, MEMBER or
  COLLABORATOR, or the login is in ``collaborators`` (a list the caller fetched from the API);
- ``allow-list``: only the logins in ``allow_users``;
- ``label``: any author's issue that carries ``required_label``; comments still need an author
  the ``collaborators`` rule trusts, since a label vouches for the issue, not for its thread.

``allow_users`` are trusted in every mode. A ``required_label`` set in another mode is required
as well: an issue without it is untrusted whoever wrote it. Only people with triage access can
label an issue, so the label is a maintainer's go-ahead; do not pick a label an issue template
applies by itself, or anyone can set it. Logins and labels compare ignoring case.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..errors import ConfigError
from .labels import normal

TRUSTED_ASSOCIATIONS = frozenset({"COLLABORATOR", "MEMBER", "OWNER"})
MODES = ("allow-list", "collaborators", "label")
OPTIONS = ("allow_users", "mode", "required_label")


@dataclass(frozen=True, slots=True)
class TrustRules:
    """Who may give the engine work; see the module docstring."""

    mode: str = "collaborators"
    allow_users: frozenset[str] = frozenset()
    collaborators: frozenset[str] = frozenset()
    required_label: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"trust.mode: {self.mode!r} is not a mode; use {', '.join(MODES)}")
        if self.mode == "label" and not self.required_label:
            raise ConfigError("trust.required_label: the label mode needs a label to require")
        object.__setattr__(self, "allow_users", frozenset(u.lower() for u in self.allow_users))
        object.__setattr__(self, "collaborators", frozenset(u.lower() for u in self.collaborators))

    def trusted(
        self,
        author_login: str | None,
        author_association: str | None,
        labels: Iterable[str] | None = None,
    ) -> tuple[bool, str]:
        """Whether to take work from this author, and why; ``labels`` None means a comment."""
        if labels is not None and self.required_label:
            if normal(self.required_label) not in {normal(label) for label in labels}:
                return False, f"the issue lacks the required label {self.required_label!r}"
            if self.mode == "label":
                return True, f"the issue carries the required label {self.required_label!r}"
        return self._author(author_login, author_association)

    def _author(self, login: str | None, association: str | None) -> tuple[bool, str]:
        if not login:
            return False, "the author is unknown (a deleted account)"
        if login.lower() in self.allow_users:
            return True, f"{login} is on the allow list"
        if self.mode == "allow-list":
            return False, f"{login} is not on the allow list"
        role = (association or "NONE").upper()
        if role in TRUSTED_ASSOCIATIONS or login.lower() in self.collaborators:
            return True, f"{login} is a collaborator ({role})"
        return False, f"{login} ({role}) is neither a collaborator nor on the allow list"

    @classmethod
    def from_config(
        cls, config: Mapping[str, object], *, collaborators: Iterable[str] = ()
    ) -> TrustRules:
        """Rules from ``{"mode": ..., "allow_users": [...], "required_label": ...}``."""
        unknown = sorted(set(config) - set(OPTIONS))
        if unknown:
            raise ConfigError(f"trust.{unknown[0]}: unknown option; use {', '.join(OPTIONS)}")
        mode = config.get("mode", "collaborators")
        users = config.get("allow_users", ())
        label = config.get("required_label")
        if not isinstance(mode, str):
            raise ConfigError(f"trust.mode: must be text, not {mode!r}")
        if isinstance(users, str) or not isinstance(users, Iterable):
            raise ConfigError(f"trust.allow_users: must be a list of logins, not {users!r}")
        if label is not None and not isinstance(label, str):
            raise ConfigError(f"trust.required_label: must be text, not {label!r}")
        logins = frozenset(str(user) for user in users)
        return cls(mode, logins, frozenset(collaborators), label or None)
