"""Pushing an item's branch to a GitHub remote, with the token handed to git by a credential
helper that reads it from the environment of that one git process: never in argv, a URL, the
repository's config or a file, and scrubbed from every message."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ..errors import ProcessError
from ..git import git_env
from ..process import run
from .base import ForgeError

PUSH_TIMEOUT = 120.0
REDACTED = "[token]"
# The variable the helper reads, set only for the push (its name, not a token).
TOKEN_VAR = "BACKLOG_GIT_TOKEN"  # noqa: S105
# GitHub takes any user name with a token as the password; this one is what its docs show.
USER = "x-access-token"
# A constant shell snippet (git runs "!" helpers with sh): it names the variable, never the
# token. Only "get" is answered, so git's "store" and "erase" calls do nothing.
HELPER = (
    f'!f() {{ test "$1" = get && printf "username={USER}\\npassword=%s\\n" "${TOKEN_VAR}"; }}; f'
)
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True, slots=True)
class Remote:
    """Where branches are pushed, and the token (if any) that pushes over http(s)."""

    url: str
    token: str | None = field(default=None, repr=False)
    token_env: str = "GITHUB_TOKEN"  # noqa: S105 - a variable's name, not a token

    @property
    def shown(self) -> str:
        """The URL as messages show it: without any user or password written into it."""
        parts = urlsplit(self.url)
        if not parts.scheme or "@" not in parts.netloc:
            return self.url
        return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))

    def scrub(self, text: str) -> str:
        """``text`` with the token and the URL's credentials taken out."""
        text = text.replace(self.url, self.shown)
        return text.replace(self.token, REDACTED) if self.token else text

    def sends_token(self) -> bool:
        """Whether a push offers the token: https, or plain http to this machine (a test or
        stand-in server); never plain http elsewhere, where it would cross the network bare."""
        parts = urlsplit(self.url)
        return self.token is not None and (
            parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK)
        )


def check_token(token: str | None, token_env: str) -> str | None:
    """``token`` stripped, or ``None`` when empty; one git could not be handed intact (spaces,
    line breaks, non-ASCII) is refused with a message naming the variable, not the token."""
    token = (token or "").strip()
    if token and not (token.isascii() and token.isprintable() and " " not in token):
        raise ForgeError(
            f"the token in ${token_env} contains spaces, line breaks or non-ASCII characters; "
            "set it to the token alone"
        )
    return token or None


def push(repo: Path, remote: Remote, branch: str, *, lease: str | None) -> None:
    """Push ``branch`` of ``repo`` to the same name on ``remote``. With ``lease`` (the commit
    last pushed there) the branch may be rewritten, but only if nobody has pushed since."""
    ref = f"refs/heads/{branch}"
    options = [f"--force-with-lease={ref}:{lease}"] if lease else []
    # The refspec starts with "refs/" and the URL follows "--": neither can pass for an option.
    auth, env = authenticated(remote)
    argv = ["git", *auth, "push", "--porcelain", *options, "--", remote.url]
    try:
        result = run([*argv, f"{ref}:{ref}"], cwd=repo, env=env, timeout=PUSH_TIMEOUT)
    except ProcessError as error:
        raise ForgeError(f"{remote.scrub(str(error))}; is git installed and on PATH?") from None
    if not result.ok:
        detail = remote.scrub(result.describe())
        raise ForgeError(
            f"git could not push {branch} to {remote.shown}:\n{detail}\n{_advice(remote, detail)}"
        )


def authenticated(remote: Remote) -> tuple[list[str], dict[str, str]]:
    """The ``-c`` options and environment for a git command talking to ``remote``: our helper
    alone (the empty value drops the user's helpers first, so none of them offers another
    identity or stores our token on disk), with the token only in that process's environment."""
    env = git_env()
    if not remote.sends_token():
        return [], env
    env[TOKEN_VAR] = remote.token or ""
    return ["-c", "credential.helper=", "-c", f"credential.helper={HELPER}"], env


def _advice(remote: Remote, output: str) -> str:
    """What to do about a refused push, judged from git's output."""
    text = output
    if "stale info" in text or "fetch first" in text or "non-fast-forward" in text:
        return (
            "The remote branch is not where this tool last pushed it (someone else pushed to "
            "it, or it was deleted): fetch and merge their commits into the local branch, or "
            "delete the remote branch, then open the pull request again"
        )
    if remote.sends_token():
        return (
            f"Check that the token in ${remote.token_env} may push to {remote.shown} "
            "(contents: write on that repository)"
        )
    if urlsplit(remote.url).scheme in ("http", "https"):
        return f"Set ${remote.token_env} to a token that may push to {remote.shown}"
    return f"Check that {remote.shown} exists and accepts pushes"
