"""The stand-in GitHub's endpoints: a table from method and path pattern to a handler that reads
or changes the data and answers with a status and JSON, or with a list the server pages."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .stand_in_data import GitHubData, Json, Repo, Thread

NOT_FOUND = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
_REPO_PATH = re.compile(r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)(?P<rest>/.*)?")


@dataclass(frozen=True, slots=True)
class Reply:
    """A whole answer."""

    status: int
    body: Any


@dataclass(frozen=True, slots=True)
class Listing:
    """A list answer, paged by the server; ``key`` wraps each page in an object
    (``{"total_count": n, key: [...]}``), as the check-runs endpoint does."""

    items: list[Json]
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Call:
    """One request as a handler sees it."""

    data: GitHubData
    repo: Repo
    args: tuple[str, ...]  # the pattern's groups: an issue number, a ref
    query: Mapping[str, str]
    body: Any

    @property
    def thread(self) -> Thread:
        return self.repo.threads[int(self.args[0])]


Handler = Callable[[Call], Reply | Listing]


def route(
    data: GitHubData, method: str, path: str, query: Mapping[str, str], body: Any
) -> Reply | Listing:
    """The answer to ``method path``: 404 for unknown paths, repositories and numbers."""
    if method == "POST" and path == "/graphql":
        return _graphql(data, body)
    found = _REPO_PATH.fullmatch(path)
    if found is None:
        return Reply(404, NOT_FOUND)
    repo = data.repos.get(f"{found['owner']}/{found['name']}")
    rest = found["rest"] or ""
    for verb, pattern, handler in ROUTES:
        match = pattern.fullmatch(rest)
        if verb == method and match is not None and repo is not None:
            try:
                return handler(Call(data, repo, match.groups(), query, body))
            except KeyError:  # no such issue, pull request or review
                return Reply(404, NOT_FOUND)
    return Reply(404, NOT_FOUND)


def _graphql(data: GitHubData, body: Any) -> Reply:
    """The one GraphQL query the engine asks: a pull request's review threads, each with
    whether it is resolved and its comments' ids. The variables say which pull request; the
    query text itself is not parsed."""
    variables = body.get("variables", {}) if isinstance(body, dict) else {}
    repo = data.repos.get(f"{variables.get('owner')}/{variables.get('name')}")
    number = variables.get("number")
    if repo is None or number not in repo.threads:
        return Reply(200, {"data": None, "errors": [{"type": "NOT_FOUND", "message": "none"}]})
    comments = repo.review_comments.get(number, [])
    threads = [
        {
            "isResolved": bool(top.get("resolved")),
            "comments": {
                "nodes": [
                    {"databaseId": c["id"]}
                    for c in comments
                    if c["id"] == top["id"] or c.get("in_reply_to_id") == top["id"]
                ]
            },
        }
        for top in comments
        if "in_reply_to_id" not in top
    ]
    pull = {"reviewThreads": {"nodes": threads}}
    return Reply(200, {"data": {"repository": {"pullRequest": pull}}})


def _invalid(message: str, *errors: Json) -> Reply:
    return Reply(422, {"message": message, "errors": list(errors)})


def _repo(call: Call) -> Reply:
    repo = call.repo
    return Reply(
        200,
        {
            "id": abs(hash(repo.full_name)) % 10**8,
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": {"login": repo.owner},
            "private": False,
            "default_branch": repo.default_branch,
            "html_url": f"{call.data.root}/{repo.full_name}",
            "clone_url": str(repo.git_dir),  # the bare remote a forge pushes to
        },
    )


def _issues(call: Call) -> Listing:
    state = call.query.get("state", "open")
    wanted = {label for label in call.query.get("labels", "").split(",") if label}
    since = call.query.get("since", "")
    threads = [
        thread
        for thread in call.repo.threads.values()
        if state in ("all", thread.state)
        and wanted <= set(thread.labels)
        and thread.updated_at >= since
    ]
    threads.sort(key=lambda thread: thread.number, reverse=call.query.get("direction") != "asc")
    return Listing([call.data.issue_json(call.repo, thread) for thread in threads])


def _issue(call: Call) -> Reply:
    return Reply(200, call.data.issue_json(call.repo, call.thread))


def _edit_issue(call: Call) -> Reply:
    thread, body = call.thread, call.body if isinstance(call.body, dict) else {}
    if body.get("state") not in (None, "open", "closed"):
        return _invalid("Validation Failed", {"field": "state", "code": "invalid"})
    thread.title = str(body.get("title", thread.title))
    thread.body = str(body.get("body", thread.body))
    if "labels" in body:
        thread.labels = [str(label) for label in body["labels"]]
    thread.updated_at = call.data.now()
    if body.get("state") == "closed" and thread.state == "open":
        thread.state, thread.closed_at = "closed", thread.updated_at
    elif body.get("state") == "open":
        thread.state, thread.closed_at = "open", None
    return Reply(200, call.data.issue_json(call.repo, thread))


def _comments(call: Call) -> Listing:
    return Listing(list(call.thread.comments))


def _comment(call: Call) -> Reply:
    body = call.body.get("body") if isinstance(call.body, dict) else None
    if not isinstance(body, str) or not body:
        return _invalid("Validation Failed", {"field": "body", "code": "missing_field"})
    number = call.thread.number
    return Reply(201, call.data.add_comment(call.repo.owner, call.repo.name, number, body))


def _labels(call: Call) -> Reply:
    given = call.body.get("labels") if isinstance(call.body, dict) else call.body
    if not isinstance(given, list):
        return _invalid("Invalid request", {"field": "labels", "code": "invalid"})
    thread = call.thread
    thread.labels += [str(label) for label in given if str(label) not in thread.labels]
    return Reply(200, [{"name": label} for label in thread.labels])


def _permission(call: Call) -> Reply:
    login = call.args[0]
    permission = call.repo.collaborators.get(login, "none")
    return Reply(200, {"permission": permission, "role_name": permission, "user": {"login": login}})


def _create_pull(call: Call) -> Reply:
    body = call.body if isinstance(call.body, dict) else {}
    missing = [name for name in ("title", "head", "base") if not body.get(name)]
    if missing:
        errors = [
            {"resource": "PullRequest", "field": name, "code": "missing_field"} for name in missing
        ]
        return _invalid("Validation Failed", *errors)
    head, base = str(body["head"]).split(":")[-1], str(body["base"])
    sha = call.repo.branch_sha(head)
    for field, branch in (("head", sha), ("base", call.repo.branch_sha(base))):
        if branch is None:
            error = {"resource": "PullRequest", "field": field, "code": "invalid"}
            return _invalid("Validation Failed", error)
    if any(_open_with_head(thread, head) for thread in call.repo.threads.values()):
        message = f"A pull request already exists for {call.repo.owner}:{head}."
        return _invalid("Validation Failed", {"resource": "PullRequest", "message": message})
    thread = call.data.open_pull(
        call.repo,
        head=head,
        base=base,
        title=str(body["title"]),
        body=str(body.get("body") or ""),
        draft=bool(body.get("draft", False)),
        sha=str(sha),
    )
    return Reply(201, call.data.pull_json(call.repo, thread))


def _open_with_head(thread: Thread, head: str) -> bool:
    return thread.pull is not None and thread.state == "open" and thread.pull.head == head


def _pulls(call: Call) -> Listing:
    state = call.query.get("state", "open")
    head = call.query.get("head", "").split(":")[-1]
    base = call.query.get("base", "")
    threads = [
        thread
        for thread in sorted(call.repo.threads.values(), key=lambda t: t.number, reverse=True)
        if thread.pull is not None
        and state in ("all", thread.state)
        and head in ("", thread.pull.head)
        and base in ("", thread.pull.base)
    ]
    return Listing([call.data.pull_json(call.repo, thread) for thread in threads])


def _pull(call: Call) -> Reply:
    return Reply(200, call.data.pull_json(call.repo, call.thread))


def _reviews(call: Call) -> Listing:
    return Listing(list(call.repo.reviews.get(_pull_number(call), [])))


def _review_comments(call: Call) -> Listing:
    return Listing(list(call.repo.review_comments.get(_pull_number(call), [])))


def _pull_number(call: Call) -> int:
    if call.thread.pull is None:
        raise KeyError(call.thread.number)  # GitHub answers 404 for an issue's number here
    return call.thread.number


def _check_runs(call: Call) -> Listing:
    ref = call.args[0]
    sha = call.repo.branch_sha(ref) or ref
    return Listing(list(call.repo.check_runs.get(sha, [])), key="check_runs")


def _merge(call: Call) -> Reply:
    thread = call.thread
    if thread.pull is None:
        raise KeyError(thread.number)
    if thread.state != "open" or thread.pull.draft:
        return Reply(405, {"message": "Pull Request is not mergeable"})
    pull = call.data.merge_pull(call.repo.owner, call.repo.name, thread.number)
    return Reply(
        200,
        {
            "sha": pull["merge_commit_sha"],
            "merged": True,
            "message": "Pull Request successfully merged",
        },
    )


def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text.replace("{n}", r"(\d+)").replace("{x}", r"([^/]+)"))


ROUTES: tuple[tuple[str, re.Pattern[str], Handler], ...] = (
    ("GET", _pattern(""), _repo),
    ("GET", _pattern("/issues"), _issues),
    ("GET", _pattern("/issues/{n}"), _issue),
    ("PATCH", _pattern("/issues/{n}"), _edit_issue),
    ("GET", _pattern("/issues/{n}/comments"), _comments),
    ("POST", _pattern("/issues/{n}/comments"), _comment),
    ("POST", _pattern("/issues/{n}/labels"), _labels),
    ("GET", _pattern("/collaborators/{x}/permission"), _permission),
    ("GET", _pattern("/pulls"), _pulls),
    ("POST", _pattern("/pulls"), _create_pull),
    ("GET", _pattern("/pulls/{n}"), _pull),
    ("GET", _pattern("/pulls/{n}/reviews"), _reviews),
    ("GET", _pattern("/pulls/{n}/comments"), _review_comments),
    ("PUT", _pattern("/pulls/{n}/merge"), _merge),
    ("GET", _pattern("/commits/{x}/check-runs"), _check_runs),
)
