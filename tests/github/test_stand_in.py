"""Tests for the GitHub stand-in through the real client: issues with pull requests among them,
comments, labels, permissions, pull requests on branches pushed to the bare remote, reviews,
review comments, check runs and merging."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from continuous_backlog_executor.git import git
from continuous_backlog_executor.github.client import (
    GitHubClient,
    GitHubError,
    GitHubNotFoundError,
    GitHubSettings,
)
from continuous_backlog_executor.github.stand_in import GitHubStandIn

REPO = "/repos/acme/widgets"


@pytest.fixture
def server() -> Iterator[GitHubStandIn]:
    with GitHubStandIn() as stand_in:
        stand_in.add_repo("acme", "widgets", collaborators={"alice": "write"})
        yield stand_in


@pytest.fixture
def client(server: GitHubStandIn) -> Iterator[GitHubClient]:
    with GitHubClient(GitHubSettings(api_url=server.api_url, token="ghp_stand_in_token")) as made:
        yield made


def _push(server: GitHubStandIn, tmp_path: Path, *branches: str) -> str:
    """Commit once in a fresh clone and push it as ``main`` and ``branches``; the commit."""
    work = tmp_path / "work"
    work.mkdir()
    git("init", "--quiet", cwd=work)
    (work / "README.md").write_text("hello\n")
    git("add", "README.md", cwd=work)
    git("commit", "--quiet", "-m", "first", cwd=work)
    remote = server.git_url("acme", "widgets")
    for branch in ("main", *branches):
        git("push", "--quiet", remote, f"HEAD:refs/heads/{branch}", cwd=work)
    return git("rev-parse", "HEAD", cwd=work).stdout.strip()


def test_issues_list_filters_and_marks_pull_requests(
    server: GitHubStandIn, client: GitHubClient, tmp_path: Path
) -> None:
    server.add_issue("acme", "widgets", "bug", labels=["bug", "backlog"], body="It breaks.")
    server.add_issue("acme", "widgets", "idea", labels=["idea"])
    _push(server, tmp_path, "fix")
    client.post(f"{REPO}/pulls", {"title": "Fix", "head": "fix", "base": "main"})
    listed = list(client.paginate(f"{REPO}/issues"))
    assert [(item["number"], "pull_request" in item) for item in listed] == [
        (3, True),
        (2, False),
        (1, False),
    ]
    labelled = list(client.paginate(f"{REPO}/issues", {"labels": "bug,backlog"}))
    assert [item["title"] for item in labelled] == ["bug"]
    assert labelled[0]["user"] == {"login": "octocat"}
    assert labelled[0]["html_url"].endswith("/acme/widgets/issues/1")


def test_comments_labels_and_closing_an_issue(server: GitHubStandIn, client: GitHubClient) -> None:
    server.add_issue("acme", "widgets", "bug")
    server.add_comment("acme", "widgets", 1, "Seen it too.", user="alice")
    client.post(f"{REPO}/issues/1/comments", {"body": "On it."})
    bodies = [item["body"] for item in client.paginate(f"{REPO}/issues/1/comments")]
    assert bodies == ["Seen it too.", "On it."]
    labels = client.post(f"{REPO}/issues/1/labels", {"labels": ["in-progress"]})
    assert labels == [{"name": "in-progress"}]
    closed = client.patch(f"{REPO}/issues/1", {"state": "closed"})
    assert closed["state"] == "closed"
    assert closed["closed_at"] is not None
    assert list(client.paginate(f"{REPO}/issues")) == []
    assert len(list(client.paginate(f"{REPO}/issues", {"state": "closed"}))) == 1


def test_collaborator_permissions(client: GitHubClient) -> None:
    assert client.get(f"{REPO}/collaborators/alice/permission")["permission"] == "write"
    assert client.get(f"{REPO}/collaborators/mallory/permission")["permission"] == "none"


def test_pull_request_on_a_pushed_branch_then_merged(
    server: GitHubStandIn, client: GitHubClient, tmp_path: Path
) -> None:
    sha = _push(server, tmp_path, "backlog/item-1")
    body = {"title": "Do it", "head": "acme:backlog/item-1", "base": "main", "draft": True}
    created = client.post(f"{REPO}/pulls", body)
    assert created["head"] == {"ref": "backlog/item-1", "sha": sha, "label": "acme:backlog/item-1"}
    assert created["draft"] is True
    assert created["user"] == {"login": "backlog-bot"}
    found = list(client.paginate(f"{REPO}/pulls", {"head": "acme:backlog/item-1"}))
    assert [item["number"] for item in found] == [1]
    with pytest.raises(GitHubError, match="HTTP 405: Pull Request is not mergeable"):
        client.put(f"{REPO}/pulls/1/merge")  # a draft
    server.repo("acme", "widgets").threads[1].pull.draft = False  # type: ignore[union-attr]
    merged = client.put(f"{REPO}/pulls/1/merge")
    assert merged == {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}
    pull = client.get(f"{REPO}/pulls/1")
    assert (pull["state"], pull["merged"]) == ("closed", True)
    assert list(client.paginate(f"{REPO}/pulls")) == []


def test_pull_request_needs_an_existing_head_branch(
    server: GitHubStandIn, client: GitHubClient, tmp_path: Path
) -> None:
    _push(server, tmp_path)
    with pytest.raises(GitHubError, match="HTTP 422: Validation Failed; PullRequest head invalid"):
        client.post(f"{REPO}/pulls", {"title": "t", "head": "nowhere", "base": "main"})


def test_reviews_review_comments_and_check_runs(
    server: GitHubStandIn, client: GitHubClient, tmp_path: Path
) -> None:
    sha = _push(server, tmp_path, "topic")
    client.post(f"{REPO}/pulls", {"title": "Topic", "head": "topic", "base": "main"})
    server.add_review("acme", "widgets", 1, "CHANGES_REQUESTED", body="Not yet.", user="alice")
    first = server.add_review_comment("acme", "widgets", 1, "Rename.", path="a.py", line=3)
    server.add_review_comment(
        "acme", "widgets", 1, "Done.", path="a.py", line=3, in_reply_to=first["id"]
    )
    server.add_check_run("acme", "widgets", sha, "tests", conclusion="failure", summary="2 failed")
    reviews = list(client.paginate(f"{REPO}/pulls/1/reviews"))
    assert [(r["state"], r["user"]["login"], r["commit_id"]) for r in reviews] == [
        ("CHANGES_REQUESTED", "alice", sha)
    ]
    comments = list(client.paginate(f"{REPO}/pulls/1/comments"))
    assert [(c["path"], c["line"], c.get("in_reply_to_id")) for c in comments] == [
        ("a.py", 3, None),
        ("a.py", 3, first["id"]),
    ]
    runs = list(client.paginate(f"{REPO}/commits/topic/check-runs", key="check_runs"))
    assert [(run["name"], run["conclusion"]) for run in runs] == [("tests", "failure")]
    assert client.get(f"{REPO}/commits/{sha}/check-runs")["total_count"] == 1


def test_unknown_paths_numbers_and_issues_as_pulls_are_404(
    server: GitHubStandIn, client: GitHubClient
) -> None:
    server.add_issue("acme", "widgets", "bug")
    for path in ("/repos/acme/nothing", f"{REPO}/issues/9", f"{REPO}/pulls/1", "/user/repos"):
        with pytest.raises(GitHubNotFoundError):
            client.get(path)


def test_bare_repositories_are_removed_on_close() -> None:
    with GitHubStandIn() as stand_in:
        stand_in.add_repo("acme", "widgets")
        remote = Path(stand_in.git_url("acme", "widgets"))
        assert (remote / "HEAD").is_file()
    assert not remote.exists()
