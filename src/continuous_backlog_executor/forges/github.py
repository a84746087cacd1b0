"""The GitHub forge: pushes an item's branch (to the repository or a fork) and opens a pull
request on GitHub, draft and labelled by default, then follows its reviews, checks and state.

A JSON record per pull request in the state folder (as the local forge keeps) maps its number to
the item, branch and URL, so ``find`` and ``list`` work offline; ``status`` refreshes it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from ..git import resolve_commit
from ..github.client import GitHubClient
from ..github.errors import GitHubError, GitHubNotFoundError
from ..model import utcnow
from ..store import StateStore
from .base import Check, ForgeError, PullRequest, PullState, PullStatus, Review
from .github_push import Remote, check_token, push
from .records import Records

# GitHub's rules for owners and repository names; checked once, since both become paths.
_TARGET = re.compile(r"(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)/(?P<name>[\w.-]+)")
_UNMERGEABLE = (405, 409)  # GitHub's answers to a merge it refuses: not mergeable, head moved
T = TypeVar("T")


@dataclasses.dataclass(frozen=True, slots=True)
class _Pull:
    """What the forge reads from GitHub's account of a pull request."""

    number: int
    url: str
    state: PullState
    created_at: datetime
    head: str | None = None
    draft: bool = False
    merged_at: datetime | None = None
    merge_commit: str | None = None


class GitHubForge:
    """Pull requests on ``target`` (``owner/name``) for branches of the repository at ``repo``,
    pushed to ``push_url``; ``head_owner`` names the fork when that is where they are pushed."""

    name = "github"

    def __init__(
        self,
        repo: Path,
        state: StateStore,
        client: GitHubClient,
        *,
        target: str,
        push_url: str,
        head_owner: str | None = None,
        draft: bool = True,
        labels: Sequence[str] = ("backlog",),
        token: str | None = None,
        token_env: str = "GITHUB_TOKEN",  # noqa: S107 - a variable's name, not a token
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        found = _TARGET.fullmatch(target)
        if found is None or found["name"] in (".", ".."):
            raise ForgeError(f"{target!r} is not a GitHub repository; write it as owner/name")
        self.repo = repo
        self.client = client
        self.target = target
        self.owner = found["owner"]
        self.head_owner = head_owner
        self.draft = draft
        self.labels = tuple(labels)
        token = token if token is not None else os.environ.get(token_env)
        self.remote = Remote(push_url, check_token(token, token_env), token_env)
        self.records = Records(state, state.folder("github-prs", found["owner"], found["name"]))
        self.clock = clock
        self._api = f"/repos/{target}"

    def open(self, *, item_id: str, branch: str, base: str, title: str, body: str) -> PullRequest:
        """Push ``branch`` and open its pull request, or update the open one it already has."""
        head = resolve_commit(self.repo, f"refs/heads/{branch}")
        if head is None:
            raise ForgeError(
                f"the pull request's branch, {branch!r}, does not exist in {self.repo}; "
                "`git branch --list` shows the branches"
            )
        with self.records.locked():
            before = next((pr for pr in reversed(self.list()) if _open_on(pr, branch)), None)
            # The lease lets a rewritten branch replace the one we pushed, and nobody else's.
            push(self.repo, self.remote, branch, lease=before.head if before else None)
            pull = self._publish(branch, base, title, body)
            self._label(pull.number)
            created = PullRequest(
                pull.number, item_id, branch, base, title, body, pull.url,
                PullState.OPEN, head, pull.created_at,
            )  # fmt: skip
            return self.records.save(created)

    def find(self, key: str) -> PullRequest | None:
        """The pull request with this number (``7`` or ``#7``), or the latest of this item id."""
        return self.records.find(key)

    def list(self) -> list[PullRequest]:
        """Every pull request this forge opened on ``target``, oldest first."""
        return self.records.list()

    def merge(self, key: str) -> PullRequest:
        """Merge the pull request ``key`` on GitHub (a merge commit), then record it."""
        with self.records.locked():
            pr = self._known(key)
            if pr.state is PullState.MERGED:
                raise ForgeError(f"pull request #{pr.number} ({pr.branch}) is already merged")
            path = f"{self._api}/pulls/{pr.number}/merge"
            try:
                answer = self.client.put(path, {"merge_method": "merge"})
            except GitHubError as error:
                if error.status not in _UNMERGEABLE:
                    raise self._failed(f"merge pull request #{pr.number}", error) from error
                raise ForgeError(
                    f"pull request #{pr.number} ({pr.branch}) is not mergeable: "
                    f"{self.remote.scrub(str(error))}{self._why_not(pr.number)}; nothing was "
                    f"changed. Settle that on {pr.url}, then run `backlog merge {pr.number}` again"
                ) from error
            commit = answer.get("sha") if isinstance(answer, dict) else None
            merged = dataclasses.replace(
                pr,
                state=PullState.MERGED,
                merged_at=self.clock(),
                merge_commit=commit if isinstance(commit, str) else None,
            )
            return self.records.save(merged)

    def status(self, key: str) -> PullStatus:
        """The pull request ``key`` as GitHub has it now, with its reviews and the check runs
        of its head commit; the local record takes on its state."""
        pr = self._known(key)
        pulls = f"{self._api}/pulls/{pr.number}"
        with self._calling(f"read pull request #{pr.number}"):
            pull = _pull(self.client.get(pulls), f"GET {pulls}")
            head = pull.head or pr.head
            # A pending review is a draft only its author sees: not yet a verdict.
            reviews = self.client.paginate(f"{pulls}/reviews")
            found = tuple(_review(r) for r in reviews if r.get("state") != "PENDING")
            runs = self.client.paginate(f"{self._api}/commits/{head}/check-runs", key="check_runs")
            checks = tuple(_check(run) for run in runs)
        with self.records.locked():
            current = self.find(str(pr.number)) or pr
            refreshed = dataclasses.replace(
                current,
                state=pull.state,
                head=head,
                merged_at=pull.merged_at or current.merged_at,
                merge_commit=pull.merge_commit or current.merge_commit,
            )
            return PullStatus(self.records.save(refreshed), found, checks)

    # --- GitHub --------------------------------------------------------------------------------

    def _publish(self, branch: str, base: str, title: str, body: str) -> _Pull:
        """A new pull request for ``branch``, or the open one, with this title and body."""
        # A fork's branch is named "owner:branch" in the target; ours needs no owner.
        head = f"{self.head_owner}:{branch}" if self.head_owner else branch
        fields = {"title": title, "body": body, "head": head, "base": base, "draft": self.draft}
        with self._calling(f"open a pull request for {branch} into {base}"):
            try:
                return _pull(self.client.post(f"{self._api}/pulls", fields), "the new pull request")
            except GitHubError as error:
                # GitHub refuses a second open pull request for a head with 422.
                if error.status != 422 or "already exists" not in str(error):
                    raise
            number = self._open_number(branch)
            return self._edit(number, {"title": title, "body": body})

    def _open_number(self, branch: str) -> int:
        """The number of the open pull request GitHub has for ``branch``."""
        label = f"{self.head_owner or self.owner}:{branch}"
        query = {"head": label, "state": "open"}
        for found in self.client.paginate(f"{self._api}/pulls", query, limit=1):
            return _pull(found, f"the open pull request for {label}").number
        raise ForgeError(
            f"GitHub says a pull request for {label} is open on {self.target} but lists none; "
            "run again in a minute (its lists can lag behind)"
        )

    def _edit(self, number: int, fields: dict[str, object]) -> _Pull:
        """Give pull request ``number`` this title and body."""
        try:
            answer = self.client.patch(f"{self._api}/pulls/{number}", fields)
        except GitHubNotFoundError:
            # The issues endpoint edits a pull request's title and body on GitHub too; a server
            # without the pulls one (the stand-in) needs it.
            answer = self.client.patch(f"{self._api}/issues/{number}", fields)
        return _pull(answer, f"pull request #{number}")

    def _label(self, number: int) -> None:
        if self.labels:
            with self._calling(f"label pull request #{number}"):
                self.client.post(f"{self._api}/issues/{number}/labels", {"labels": self.labels})

    def _why_not(self, number: int) -> str:
        """What GitHub's state of pull request ``number`` adds to a refused merge."""
        try:
            pull = _pull(self.client.get(f"{self._api}/pulls/{number}"), f"#{number}")
        except (GitHubError, ForgeError):
            return ""  # only a hint: the refusal itself is the news
        if pull.state is not PullState.OPEN:
            return f" (it is {pull.state} on GitHub)"
        if pull.draft:
            return " (it is a draft: mark it ready for review on GitHub first)"
        return ""

    @contextlib.contextmanager
    def _calling(self, what: str) -> Iterator[None]:
        try:
            yield
        except GitHubError as error:
            raise self._failed(what, error) from error

    def _failed(self, what: str, error: GitHubError) -> ForgeError:
        return ForgeError(f"could not {what} on {self.target}: {self.remote.scrub(str(error))}")

    # --- records -------------------------------------------------------------------------------

    def _known(self, key: str) -> PullRequest:
        pr = self.find(key)
        if pr is None:
            raise ForgeError(f"no pull request {key!r} on {self.target}; `backlog prs` lists them")
        return pr


def _open_on(pr: PullRequest, branch: str) -> bool:
    return pr.branch == branch and pr.state is PullState.OPEN


# --- GitHub's answers --------------------------------------------------------------------------


def _pull(data: Any, what: str) -> _Pull:
    """GitHub's pull request (or its issue half) as the forge needs it."""
    if not isinstance(data, dict):
        raise ForgeError(f"GitHub answered {what} with something other than an object")
    head = data.get("head")
    sha = head.get("sha") if isinstance(head, dict) else None
    merged_at = _stamp(data.get("merged_at"), what)
    state = PullState.MERGED if merged_at or data.get("merged") is True else PullState.OPEN
    if state is PullState.OPEN and _field(data, "state", str, what) == "closed":
        state = PullState.CLOSED
    commit = data.get("merge_commit_sha")
    return _Pull(
        number=_field(data, "number", int, what),
        url=_field(data, "html_url", str, what),
        state=state,
        created_at=_stamp(data.get("created_at"), what) or utcnow(),
        head=sha if isinstance(sha, str) else None,
        draft=data.get("draft") is True,
        merged_at=merged_at,
        merge_commit=commit if state is PullState.MERGED and isinstance(commit, str) else None,
    )


def _review(data: dict[str, Any]) -> Review:
    user = data.get("user")
    login = user.get("login") if isinstance(user, dict) else None
    return Review(
        author=login if isinstance(login, str) else "(deleted user)",
        state=_field(data, "state", str, "a review").lower(),
        body=data.get("body") or "",
        submitted_at=_stamp(data.get("submitted_at"), "a review"),
    )


def _check(data: dict[str, Any]) -> Check:
    output = data.get("output")
    summary = output.get("summary") if isinstance(output, dict) else None
    conclusion = data.get("conclusion")
    return Check(
        name=_field(data, "name", str, "a check run"),
        status=_field(data, "status", str, "a check run"),
        conclusion=conclusion if isinstance(conclusion, str) else None,
        summary=summary if isinstance(summary, str) else "",
    )


def _stamp(value: object, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError as error:
        raise ForgeError(f"GitHub answered {what} with {value!r}, which is no time") from error


def _field(data: dict[str, Any], key: str, kind: type[T], what: str) -> T:
    value = data.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ForgeError(
            f"GitHub answered {what} without a valid {key!r}; check that github.apiUrl points "
            "at the REST API"
        )
    return value
