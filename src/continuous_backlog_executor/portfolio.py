"""The other repositories of a portfolio (``github.reposToScan``): each one cloned into the state
store on first use and fetched afterwards, and the workspace an item of it is worked on in: its
own worktrees, base branch, test command and forge.

The clones are the engine's own, so their checked-out default branch is simply reset to
origin's. A token reaches git as ``forges.github_push`` hands it over for a push: through a
credential helper reading the environment of that one git process, and scrubbed from messages.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import threading
from collections.abc import Callable, Set
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import worktree
from .errors import BacklogError, ProcessError
from .execution import Tools
from .forges import https_url
from .forges.base import Forge
from .forges.github import GitHubForge
from .forges.github_push import Remote, authenticated, check_token
from .forges.local import LocalForge
from .model import BacklogItem
from .policy import item_repository
from .process import run
from .store import StateStore
from .testrun import detected_command
from .worktree import Worktrees

if TYPE_CHECKING:
    from .context import Context

GIT_TIMEOUT = 600.0  # a first clone of a large repository takes a while
_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*/[\w.-]+")


class PortfolioError(BacklogError):
    """A repository of the portfolio could not be cloned or fetched."""


@dataclass(frozen=True)
class Workspace:
    """Where an item is worked on: its repository's worktrees, base branch and tools."""

    worktrees: Worktrees
    base: str
    tools: Tools


class Portfolio:
    """The clones of ``repos`` kept in ``state``'s ``repos`` folder, fetched from
    ``url_for(owner/name)`` with ``token`` (read from ``$token_env``) when it is https."""

    def __init__(
        self,
        state: StateStore,
        *,
        url_for: Callable[[str], str],
        token: str | None,
        token_env: str,
        repos: Set[str] = frozenset(),
        test_command: tuple[str, ...] = (),
    ) -> None:
        self.state = state
        self.url_for = url_for
        self.token = token
        self.token_env = token_env
        self.repos = frozenset(repos)
        self.test_command = test_command  # configured for every repository, else detected
        self._lock = threading.Lock()  # workers share the clones
        self._spaces: dict[str, Workspace] = {}

    def path_for(self, repo: str) -> Path:
        """Where the clone of ``repo`` (``owner/name``) lives."""
        if not _REPO.fullmatch(repo) or repo.split("/")[1] in (".", ".."):
            raise PortfolioError(f"{repo!r} is not a GitHub repository; write it as owner/name")
        return self.state.root / "repos" / repo

    def checkout(self, repo: str) -> Path:
        """The clone of ``repo``, made on first use, else fetched with its default branch reset
        to origin's."""
        path = self.path_for(repo)
        remote = Remote(self.url_for(repo), check_token(self.token, self.token_env), self.token_env)
        if not (path / ".git").is_dir():
            if path.exists():
                shutil.rmtree(path)  # what a clone that was killed half-way left
            self.state.folder("repos", repo.partition("/")[0])
            self._git(repo, remote, "clone", "--quiet", "--", remote.url, str(path), cwd=None)
            return path
        self._git(repo, remote, "remote", "set-url", "origin", remote.url, cwd=path)
        self._git(repo, remote, "fetch", "--quiet", "origin", cwd=path)
        head = self._git(repo, remote, "symbolic-ref", "--short", "refs/remotes/origin/HEAD",
                         cwd=path).strip()  # fmt: skip
        branch = head.removeprefix("origin/")
        self._git(repo, remote, "checkout", "--quiet", "--force", "-B", branch, head, cwd=path)
        return path

    def clean_stale(self, active: Set[str]) -> None:
        """Remove the worktrees a dead run left in the clones (see ``Worktrees.clean_stale``)."""
        for repo in sorted(self.repos):
            clone = self.path_for(repo)
            if (clone / ".git").is_dir():
                self._worktrees(repo, clone).clean_stale(active)

    def workspace(self, item: BacklogItem, home: Workspace, home_repo: str | None) -> Workspace:
        """``home`` for an item of this repository, else the workspace in its repository's clone
        (set up once per run)."""
        repo = item_repository(item)
        if repo is None or repo.lower() == (home_repo or "").lower():
            return home
        with self._lock:
            if repo not in self._spaces:
                self._spaces[repo] = self._workspace(repo, home.tools)
            return self._spaces[repo]

    def _workspace(self, repo: str, home: Tools) -> Workspace:
        clone = self.checkout(repo)
        command = self.test_command or detected_command(clone) or ()
        settings = dataclasses.replace(home.settings, test_command=command, base_branch=None)
        forge = self._forge(repo, clone, home.forge)
        tools = dataclasses.replace(home, repo=clone, forge=forge, settings=settings)
        return Workspace(self._worktrees(repo, clone), worktree.base_branch(clone), tools)

    def _worktrees(self, repo: str, clone: Path) -> Worktrees:
        return Worktrees(clone, self.state, under=("repo-worktrees", *repo.split("/")))

    def _forge(self, repo: str, clone: Path, home: Forge) -> Forge:
        """The home forge's kind, for ``repo``: pushed to its clone URL."""
        if isinstance(home, GitHubForge):
            return GitHubForge(
                clone, self.state, home.client, target=repo, push_url=self.url_for(repo),
                draft=home.draft, labels=home.labels, token=self.token, token_env=self.token_env,
            )  # fmt: skip
        return LocalForge(clone, self.state, under=("prs", *repo.split("/")))

    def _git(self, repo: str, remote: Remote, *args: str, cwd: Path | None) -> str:
        """Run git in the clone (or, for ``cwd=None``, the state folder) for ``repo``."""
        auth, env = authenticated(remote)
        where = cwd or self.state.root
        try:
            result = run(["git", *auth, *args], cwd=where, env=env, timeout=GIT_TIMEOUT)
        except ProcessError as error:
            raise PortfolioError(f"{repo}: {remote.scrub(str(error))}") from None
        if not result.ok:
            raise PortfolioError(
                f"git could not {args[0]} {repo} from {remote.shown}:\n"
                f"{remote.scrub(result.describe())}\nCheck github.cloneUrl and that the token "
                f"in ${self.token_env} may read {repo}"
            )
        return result.stdout


def configured(ctx: Context) -> Portfolio:
    """The portfolio the configuration describes: ``github.reposToScan`` cloned from
    ``github.cloneUrl`` (default: the GitHub host's https URL)."""
    value = ctx.config.value
    template, api = value("github.cloneUrl"), str(value("github.apiUrl"))
    token_env = str(value("github.tokenEnv"))

    def url_for(repo: str) -> str:
        return str(template).replace("{repo}", repo) if template else https_url(api, repo)

    return Portfolio(
        ctx.state, url_for=url_for, token=os.environ.get(token_env), token_env=token_env,
        repos=frozenset(value("github.reposToScan")),
        test_command=tuple(value("execution.test_command")),
    )  # fmt: skip
