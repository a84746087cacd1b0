"""Forges: where an item's branch becomes a pull request (see ``base`` for the contract)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..github.client import GitHubClient, GitHubSettings
from ..github.remote import origin_repo
from ..store import StateStore
from .base import Forge, ForgeError
from .github import GitHubForge
from .local import LocalForge

if TYPE_CHECKING:
    from ..context import Context

FORGE_TYPES = ("github", "local")


def make_forge(name: str, *, repo: Path, state: StateStore) -> Forge:
    """The forge called ``name`` for the repository at ``repo``."""
    if name == "local":
        return LocalForge(repo, state)
    raise ForgeError(f"unknown forge {name!r}; use one of: {', '.join(FORGE_TYPES)}")


@contextlib.contextmanager
def configured(ctx: Context) -> Iterator[Forge]:
    """The forge the configuration names (``execution.forge``) for the context's repository,
    open for the block (a GitHub forge's connections are closed after it)."""
    name = ctx.config.value("execution.forge")
    if name != "github":
        yield make_forge(name, repo=ctx.repo, state=ctx.state)
        return
    forge = _github(ctx)
    try:
        yield forge
    finally:
        forge.client.close()


def _github(ctx: Context) -> GitHubForge:
    """The GitHub forge: pull requests on ``github.repo`` (default: origin's repository)."""
    value = ctx.config.value
    token_env = str(value("github.tokenEnv"))
    if not os.environ.get(token_env):
        raise ForgeError(
            f"execution.forge is github, which needs a token: set ${token_env} (or name "
            "another variable in github.tokenEnv), or use execution.forge local"
        )
    target = value("github.repo") or origin_repo(ctx.repo)
    if not target:
        raise ForgeError(
            "execution.forge is github, but origin is not a GitHub repository; set github.repo "
            "to the owner/name pull requests go to"
        )
    fork = value("github.fork")
    push_url = value("github.pushUrl") or https_url(value("github.apiUrl"), fork or target)
    settings = GitHubSettings.from_env(
        os.environ, api_url=str(value("github.apiUrl")), token_env=token_env
    )
    client = GitHubClient(settings, cache=ctx.state.folder("github-cache"))
    return GitHubForge(
        ctx.repo,
        ctx.state,
        client,
        target=str(target),
        push_url=str(push_url),
        head_owner=str(fork).split("/")[0] if fork else None,
        draft=bool(value("github.draft")),
        labels=tuple(value("github.labels")),
        token_env=token_env,
    )


def https_url(api_url: str, repo: str) -> str:
    """``https://github.com/owner/name.git``, or the Enterprise host's."""
    host = "github.com" if "api.github.com" in api_url else api_url.split("/")[2]
    return f"https://{host}/{repo}.git"
