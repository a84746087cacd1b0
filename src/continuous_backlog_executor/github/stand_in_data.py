"""The stand-in GitHub's data: repositories with issues, pull requests, reviews, comments, check
runs and collaborators, the helpers tests use to set them up, and their JSON in GitHub's shapes.

Each repository has a local bare git repository as its remote, so a forge can push to it and a
pull request can name a branch that really exists.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import git

DEFAULT_LOGIN = "backlog-bot"  # who the stand-in says the token belongs to
PERMISSIONS = frozenset({"admin", "maintain", "write", "triage", "read", "none"})
REVIEW_STATES = frozenset({"APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"})
Json = dict[str, Any]


@dataclass(slots=True)
class Pull:
    """What makes an issue a pull request."""

    head: str
    base: str
    head_sha: str
    draft: bool = False
    merged_at: str | None = None
    merge_sha: str | None = None


@dataclass(slots=True)
class Thread:
    """An issue, or the issue half of a pull request (they share numbers, as on GitHub)."""

    number: int
    title: str
    body: str
    user: str
    labels: list[str]
    created_at: str
    updated_at: str
    state: str = "open"
    closed_at: str | None = None
    comments: list[Json] = field(default_factory=list)
    pull: Pull | None = None


@dataclass(slots=True)
class Repo:
    """One repository and everything in it."""

    owner: str
    name: str
    git_dir: Path
    default_branch: str
    collaborators: dict[str, str]  # login -> permission
    threads: dict[int, Thread] = field(default_factory=dict)
    reviews: dict[int, list[Json]] = field(default_factory=dict)
    review_comments: dict[int, list[Json]] = field(default_factory=dict)
    check_runs: dict[str, list[Json]] = field(default_factory=dict)  # by head SHA

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def association(self, login: str) -> str:
        """How GitHub relates ``login`` to this repository (``author_association``)."""
        if login == self.owner:
            return "OWNER"
        return "COLLABORATOR" if login in self.collaborators else "NONE"

    def branch_sha(self, branch: str) -> str | None:
        """The commit ``branch`` points at in the bare remote, if it exists."""
        return git.resolve_commit(self.git_dir, f"refs/heads/{branch}")


class GitHubData:
    """Repositories by ``owner/name`` and the helpers that fill them; thread-safe."""

    def __init__(self, *, login: str = DEFAULT_LOGIN, clock: Callable[[], float] = time.time):
        self.login = login
        self.root = ""  # the server's URL, set once it listens
        self.repos: dict[str, Repo] = {}
        self.lock = threading.RLock()
        self._clock = clock
        self._ids = itertools.count(1001)
        self._folder = Path(tempfile.mkdtemp(prefix="github-stand-in-"))

    def now(self) -> str:
        """The current time as GitHub writes it."""
        return datetime.fromtimestamp(self._clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def next_id(self) -> int:
        return next(self._ids)

    def remove_folder(self) -> None:
        """Delete the bare repositories."""
        shutil.rmtree(self._folder, ignore_errors=True)

    def add_repo(
        self,
        owner: str,
        name: str,
        *,
        collaborators: Mapping[str, str] | None = None,
        default_branch: str = "main",
    ) -> Repo:
        """A new repository with an empty bare remote; ``collaborators`` maps login to
        permission (the stand-in's own login is an admin unless listed)."""
        people = {self.login: "admin", **(collaborators or {})}
        unknown = set(people.values()) - PERMISSIONS
        if unknown:
            raise ValueError(f"unknown permissions {sorted(unknown)}; valid: {sorted(PERMISSIONS)}")
        git_dir = self._folder / owner / f"{name}.git"
        git_dir.mkdir(parents=True)
        git.git("init", "--bare", "--quiet", f"--initial-branch={default_branch}", cwd=git_dir)
        repo = Repo(owner, name, git_dir, default_branch, people)
        with self.lock:
            self.repos[repo.full_name] = repo
        return repo

    def repo(self, owner: str, name: str) -> Repo:
        """The repository ``owner/name``; ``KeyError`` when there is none."""
        return self.repos[f"{owner}/{name}"]

    def git_url(self, owner: str, name: str) -> str:
        """The path of the repository's bare remote, for ``git push``."""
        return str(self.repo(owner, name).git_dir)

    def add_issue(
        self,
        owner: str,
        name: str,
        title: str,
        *,
        body: str = "",
        labels: Iterable[str] = (),
        user: str = "octocat",
        created_at: str | None = None,
    ) -> Json:
        """A new open issue; returns it as the API shows it."""
        repo = self.repo(owner, name)
        with self.lock:
            stamp = created_at or self.now()
            number = len(repo.threads) + 1
            thread = Thread(number, title, body, user, list(labels), stamp, stamp)
            repo.threads[number] = thread
            return self.issue_json(repo, thread)

    def add_comment(
        self, owner: str, name: str, number: int, body: str, *, user: str = "octocat"
    ) -> Json:
        """A comment on issue or pull request ``number``."""
        repo = self.repo(owner, name)
        with self.lock:
            thread = repo.threads[number]
            comment = self._note(user, body, f"{self.html(repo, thread)}#issuecomment")
            comment["author_association"] = repo.association(user)
            thread.comments.append(comment)
            thread.updated_at = comment["created_at"]
            return comment

    def add_review(
        self,
        owner: str,
        name: str,
        number: int,
        state: str,
        *,
        body: str = "",
        user: str = "reviewer",
    ) -> Json:
        """A submitted review of pull request ``number`` (APPROVED, CHANGES_REQUESTED, ...)."""
        if state not in REVIEW_STATES:
            raise ValueError(f"unknown review state {state!r}; valid: {sorted(REVIEW_STATES)}")
        repo = self.repo(owner, name)
        with self.lock:
            pull = self._pull(repo, number)
            review = self._note(user, body, f"{self.html(repo, repo.threads[number])}#review")
            review |= {"state": state, "submitted_at": review.pop("created_at")}
            review["commit_id"] = pull.head_sha
            review.pop("updated_at")
            repo.reviews.setdefault(number, []).append(review)
            return review

    def add_review_comment(
        self,
        owner: str,
        name: str,
        number: int,
        body: str,
        *,
        path: str,
        line: int,
        user: str = "reviewer",
        in_reply_to: int | None = None,
    ) -> Json:
        """A review comment on ``path`` at ``line`` of pull request ``number``."""
        repo = self.repo(owner, name)
        with self.lock:
            pull = self._pull(repo, number)
            comment = self._note(user, body, f"{self.html(repo, repo.threads[number])}#discussion")
            comment["author_association"] = repo.association(user)
            comment |= {"path": path, "line": line, "commit_id": pull.head_sha}
            if in_reply_to is not None:
                comment["in_reply_to_id"] = in_reply_to
            repo.review_comments.setdefault(number, []).append(comment)
            return comment

    def resolve_thread(self, owner: str, name: str, number: int, comment_id: int) -> None:
        """Mark the review thread that ``comment_id`` starts as resolved."""
        repo = self.repo(owner, name)
        with self.lock:
            for comment in repo.review_comments.get(number, []):
                if comment["id"] == comment_id:
                    comment["resolved"] = True

    def add_check_run(
        self,
        owner: str,
        name: str,
        sha: str,
        check: str,
        *,
        status: str = "completed",
        conclusion: str | None = "success",
        summary: str = "",
    ) -> Json:
        """A check run named ``check`` on commit ``sha``."""
        repo = self.repo(owner, name)
        with self.lock:
            run = {
                "id": self.next_id(),
                "name": check,
                "head_sha": sha,
                "status": status,
                "conclusion": conclusion if status == "completed" else None,
                "output": {"title": check, "summary": summary},
                "started_at": self.now(),
                "completed_at": self.now() if status == "completed" else None,
            }
            repo.check_runs.setdefault(sha, []).append(run)
            return run

    def open_pull(
        self, repo: Repo, *, head: str, base: str, title: str, body: str, draft: bool, sha: str
    ) -> Thread:
        """A new pull request (the server checked that ``head`` exists)."""
        with self.lock:
            stamp = self.now()
            number = len(repo.threads) + 1
            thread = Thread(number, title, body, self.login, [], stamp, stamp)
            thread.pull = Pull(head, base, sha, draft)
            repo.threads[number] = thread
            return thread

    def merge_pull(self, owner: str, name: str, number: int) -> Json:
        """Mark pull request ``number`` merged and closed (the base branch is not moved)."""
        repo = self.repo(owner, name)
        with self.lock:
            pull = self._pull(repo, number)
            pull.merged_at = self.now()
            pull.merge_sha = pull.head_sha
            self._close(repo.threads[number])
            return self.pull_json(repo, repo.threads[number])

    def close_pull(self, owner: str, name: str, number: int) -> Json:
        """Close pull request ``number`` without merging it."""
        repo = self.repo(owner, name)
        with self.lock:
            self._pull(repo, number)
            self._close(repo.threads[number])
            return self.pull_json(repo, repo.threads[number])

    def close_issue(self, owner: str, name: str, number: int) -> Json:
        """Close issue ``number``."""
        repo = self.repo(owner, name)
        with self.lock:
            self._close(repo.threads[number])
            return self.issue_json(repo, repo.threads[number])

    def html(self, repo: Repo, thread: Thread) -> str:
        kind = "pull" if thread.pull is not None else "issues"
        return f"{self.root}/{repo.full_name}/{kind}/{thread.number}"

    def issue_json(self, repo: Repo, thread: Thread) -> Json:
        """``thread`` as the issues API shows it (pull requests carry ``pull_request``)."""
        shown: Json = {
            "id": thread.number,
            "number": thread.number,
            "title": thread.title,
            "body": thread.body,
            "user": {"login": thread.user},
            "author_association": repo.association(thread.user),
            "labels": [{"name": label} for label in thread.labels],
            "state": thread.state,
            "comments": len(thread.comments),
            "created_at": thread.created_at,
            "updated_at": thread.updated_at,
            "closed_at": thread.closed_at,
            "html_url": self.html(repo, thread),
            "url": f"{self.root}/repos/{repo.full_name}/issues/{thread.number}",
        }
        if thread.pull is not None:
            shown["pull_request"] = {
                "url": f"{self.root}/repos/{repo.full_name}/pulls/{thread.number}",
                "html_url": self.html(repo, thread),
                "merged_at": thread.pull.merged_at,
            }
        return shown

    def pull_json(self, repo: Repo, thread: Thread) -> Json:
        """``thread`` as the pulls API shows it; the head SHA follows pushes to the branch."""
        pull = self._pull(repo, thread.number)
        if thread.state == "open":
            pull.head_sha = repo.branch_sha(pull.head) or pull.head_sha
        shown = self.issue_json(repo, thread)
        del shown["pull_request"], shown["comments"]
        return shown | {
            "head": {"ref": pull.head, "sha": pull.head_sha, "label": f"{repo.owner}:{pull.head}"},
            "base": {"ref": pull.base, "label": f"{repo.owner}:{pull.base}"},
            "draft": pull.draft,
            "merged": pull.merged_at is not None,
            "merged_at": pull.merged_at,
            "merge_commit_sha": pull.merge_sha,
            "url": f"{self.root}/repos/{repo.full_name}/pulls/{thread.number}",
        }

    def _pull(self, repo: Repo, number: int) -> Pull:
        pull = repo.threads[number].pull
        if pull is None:
            raise KeyError(f"#{number} of {repo.full_name} is an issue, not a pull request")
        return pull

    def _close(self, thread: Thread) -> None:
        thread.state = "closed"
        thread.closed_at = thread.updated_at = self.now()

    def _note(self, user: str, body: str, anchor: str) -> Json:
        """The fields every kind of comment shares."""
        number = self.next_id()
        stamp = self.now()
        return {
            "id": number,
            "user": {"login": user},
            "body": body,
            "created_at": stamp,
            "updated_at": stamp,
            "html_url": f"{anchor}-{number}",
        }
