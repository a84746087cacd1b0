"""Tests for the GitHub forge against the GitHub stand-in over loopback HTTP and real git: the
branch pushed to the stand-in's bare remote, pull requests opened, updated, followed and merged,
and the token kept out of argv, URLs and every message."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from conftest import git
from continuous_backlog_executor import process
from continuous_backlog_executor.forges import github_push
from continuous_backlog_executor.forges.base import ForgeError, PullState
from continuous_backlog_executor.forges.github import GitHubForge
from continuous_backlog_executor.github.client import GitHubClient, GitHubSettings
from continuous_backlog_executor.github.stand_in import GitHubStandIn
from continuous_backlog_executor.store import StateStore

TOKEN = "ghp_forge0123456789abcdefSECRET"
NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
BRANCH = "backlog/BL-1"
RECEIPT = "## Evidence\n\n- tests: 12 passed\n"


class Hub:
    """A stand-in with ``acme/widgets`` (main pushed to it), and forges for ``repo`` on it."""

    def __init__(self, server: GitHubStandIn, repo: Path) -> None:
        self.server = server
        self.repo = repo
        self.url = server.git_url("acme", "widgets")
        self.clients: list[GitHubClient] = []
        git(repo, "push", "-q", self.url, "main")

    def forge(self, *, api_token: str = TOKEN, **options: Any) -> GitHubForge:
        settings = GitHubSettings(api_url=self.server.api_url, token=api_token, max_retries=0)
        client = GitHubClient(settings)
        self.clients.append(client)
        values: dict[str, Any] = {"target": "acme/widgets", "push_url": self.url, "clock": _now}
        state = StateStore(self.repo.parent / "state")
        return GitHubForge(self.repo, state, client, **(values | options))

    def open(self, forge: GitHubForge, body: str = RECEIPT, branch: str = BRANCH) -> int:
        pr = forge.open(item_id="BL-1", branch=branch, base="main", title="Fix BL-1", body=body)
        return pr.number

    def remote_tip(self, branch: str = BRANCH) -> str:
        return git(Path(self.url), "rev-parse", f"refs/heads/{branch}").strip()

    def thread(self, number: int) -> Any:
        return self.server.repo("acme", "widgets").threads[number]


def _now() -> datetime:
    return NOW


@pytest.fixture
def hub(repo: Path) -> Iterator[Hub]:
    with GitHubStandIn() as server:
        server.add_repo("acme", "widgets")
        harness = Hub(server, repo)
        yield harness
        for client in harness.clients:
            client.close()


def commit_on(repo: Path, branch: str, name: str, *, amend: bool = False) -> str:
    """Commit a file on ``branch`` (made from main if new), back on main after; the new tip."""
    exists = git(repo, "branch", "--list", branch).strip()
    git(repo, "checkout", "-q", *([branch] if exists else ["-b", branch, "main"]))
    (repo / name).write_text(f"{name}\n")
    git(repo, "add", name)
    git(repo, "commit", "-q", *(["--amend"] if amend else []), "-m", f"add {name}")
    git(repo, "checkout", "-q", "main")
    return git(repo, "rev-parse", f"refs/heads/{branch}").strip()


def test_open_pushes_the_branch_and_opens_a_labelled_draft(hub: Hub) -> None:
    tip = commit_on(hub.repo, BRANCH, "fix.txt")
    forge = hub.forge()
    pr = forge.open(item_id="BL-1", branch=BRANCH, base="main", title="Fix BL-1", body=RECEIPT)
    assert hub.remote_tip() == tip
    thread = hub.thread(pr.number)
    assert (thread.title, thread.body, thread.labels) == ("Fix BL-1", RECEIPT, ["backlog"])
    assert thread.pull.draft is True
    assert hub.server.requests[0].json["head"] == BRANCH
    assert (pr.state, pr.head, pr.branch, pr.item_id) == (PullState.OPEN, tip, BRANCH, "BL-1")
    assert pr.url == f"{hub.server.api_url}/acme/widgets/pull/{pr.number}"
    assert forge.name == "github"
    assert forge.find(str(pr.number)) == forge.find(f"#{pr.number}") == forge.find("bl-1") == pr
    assert forge.list() == [pr]
    assert forge.find("BL-9") is None
    assert forge.find("99") is None


def test_open_again_pushes_new_commits_to_the_same_pull_request(hub: Hub) -> None:
    commit_on(hub.repo, BRANCH, "fix.txt")
    forge = hub.forge(draft=False, labels=["backlog", "bot"])
    number = hub.open(forge)
    # The engine may rewrite the branch before opening again: the lease lets that through.
    rewritten = commit_on(hub.repo, BRANCH, "more.txt", amend=True)
    assert hub.open(forge, body="second receipt") == number
    assert hub.remote_tip() == rewritten
    thread = hub.thread(number)
    assert (thread.body, thread.labels, thread.pull.draft) == (
        "second receipt",
        ["backlog", "bot"],
        False,
    )
    assert len(hub.server.repo("acme", "widgets").threads) == 1
    assert [pr.body for pr in forge.list()] == ["second receipt"]
    assert forge.list()[0].head == rewritten


def test_open_refuses_to_overwrite_commits_someone_else_pushed(hub: Hub, tmp_path: Path) -> None:
    commit_on(hub.repo, BRANCH, "fix.txt")
    forge = hub.forge()
    hub.open(forge)
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", "--branch", BRANCH, hub.url, str(other))
    (other / "theirs.txt").write_text("theirs\n")
    git(other, "add", "theirs.txt")
    git(other, "commit", "-q", "-m", "a reviewer's fix")
    git(other, "push", "-q", "origin", BRANCH)
    theirs = hub.remote_tip()
    commit_on(hub.repo, BRANCH, "mine.txt", amend=True)
    with pytest.raises(ForgeError, match="someone else pushed") as caught:
        hub.open(forge)
    assert f"git could not push {BRANCH} to {hub.url}" in str(caught.value)
    assert hub.remote_tip() == theirs


def test_status_reports_changes_requested_and_failing_checks(hub: Hub) -> None:
    tip = commit_on(hub.repo, BRANCH, "fix.txt")
    forge = hub.forge()
    number = hub.open(forge)
    hub.server.add_review("acme", "widgets", number, "COMMENTED", body="hm", user="ann")
    hub.server.add_review("acme", "widgets", number, "CHANGES_REQUESTED", body="no", user="bob")
    hub.server.add_review("acme", "widgets", number, "PENDING", user="cid")
    hub.server.add_check_run("acme", "widgets", tip, "lint")
    hub.server.add_check_run(
        "acme", "widgets", tip, "tests", conclusion="failure", summary="2 failed"
    )
    status = forge.status("BL-1")
    assert [(r.author, r.state, r.body) for r in status.reviews] == [
        ("ann", "commented", "hm"),
        ("bob", "changes_requested", "no"),
    ]
    assert [review.author for review in status.changes_requested] == ["bob"]
    assert [(c.name, c.summary) for c in status.failing_checks] == [("tests", "2 failed")]
    assert len(status.checks) == 2
    assert status.pull.state is PullState.OPEN
    assert status.pull.head == tip


def test_merge_records_the_merge(hub: Hub) -> None:
    tip = commit_on(hub.repo, BRANCH, "fix.txt")
    forge = hub.forge(draft=False)
    number = hub.open(forge)
    merged = forge.merge(str(number))
    assert (merged.state, merged.merged_at, merged.merge_commit) == (PullState.MERGED, NOW, tip)
    assert forge.find("BL-1") == merged
    assert forge.status("BL-1").pull.state is PullState.MERGED
    assert hub.thread(number).pull.merged_at is not None
    with pytest.raises(ForgeError, match="already merged"):
        forge.merge("BL-1")


def test_merge_of_a_draft_says_to_mark_it_ready(hub: Hub) -> None:
    commit_on(hub.repo, BRANCH, "fix.txt")
    forge = hub.forge()
    number = hub.open(forge)
    with pytest.raises(ForgeError, match=r"not mergeable: .*HTTP 405.*it is a draft"):
        forge.merge("BL-1")
    assert forge.find(str(number)).state is PullState.OPEN  # type: ignore[union-attr]


def test_merge_of_a_closed_pull_request_changes_nothing(hub: Hub) -> None:
    commit_on(hub.repo, BRANCH, "fix.txt")
    forge = hub.forge(draft=False)
    number = hub.open(forge)
    hub.server.close_pull("acme", "widgets", number)
    before = forge.find("BL-1")
    with pytest.raises(ForgeError, match=r"not mergeable: .* \(it is closed on GitHub\)"):
        forge.merge("BL-1")
    assert forge.find("BL-1") == before


def test_status_follows_a_pull_request_closed_on_github(hub: Hub) -> None:
    commit_on(hub.repo, BRANCH, "fix.txt")
    forge = hub.forge()
    number = hub.open(forge)
    hub.server.close_pull("acme", "widgets", number)
    assert forge.status(f"#{number}").pull.state is PullState.CLOSED
    assert forge.list()[0].state is PullState.CLOSED
    # A closed request is not reopened: opening again makes a new one.
    assert hub.open(forge) == number + 1
    assert forge.find("BL-1").number == number + 1  # type: ignore[union-attr]


def test_fork_mode_names_the_fork_in_the_head(hub: Hub) -> None:
    # The stand-in keeps no forks: the branch goes to the target's remote, the head names the fork.
    commit_on(hub.repo, BRANCH, "fix.txt")
    forge = hub.forge(head_owner="octo-fork")
    number = hub.open(forge)
    assert hub.open(forge, body="again") == number
    posts = [r.json for r in hub.server.requests if r.method == "POST" and r.path.endswith("pulls")]
    assert [post["head"] for post in posts] == [f"octo-fork:{BRANCH}"] * 2
    lookups = [
        r.query for r in hub.server.requests if r.method == "GET" and r.path.endswith("pulls")
    ]
    assert lookups[0]["head"] == f"octo-fork:{BRANCH}"
    assert hub.thread(number).body == "again"


def test_a_refused_token_names_its_variable_not_the_token(hub: Hub) -> None:
    commit_on(hub.repo, BRANCH, "fix.txt")
    hub.server.require_token("the-right-one")
    forge = hub.forge()
    with pytest.raises(ForgeError, match=r"token in \$GITHUB_TOKEN was refused") as caught:
        hub.open(forge)
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value.__cause__)
    assert forge.list() == []


def test_failed_pushes_and_unknown_names_say_what_to_fix(hub: Hub, tmp_path: Path) -> None:
    commit_on(hub.repo, BRANCH, "fix.txt")
    with pytest.raises(ForgeError, match=r"'backlog/none', does not exist"):
        hub.open(hub.forge(), branch="backlog/none")
    missing = str(tmp_path / "nowhere.git")
    with pytest.raises(ForgeError, match=r"(?s)could not push .*nowhere\.git.*Check that"):
        hub.open(hub.forge(push_url=missing))
    with pytest.raises(ForgeError, match="no pull request '7' on acme/widgets"):
        hub.forge().status("7")
    with pytest.raises(ForgeError, match="write it as owner/name"):
        hub.forge(target="acme/../etc")
    with pytest.raises(ForgeError, match=r"token in \$CUSTOM contains spaces"):
        hub.forge(token="two words", token_env="CUSTOM")


class _AuthProbe(BaseHTTPRequestHandler):
    """A git http remote that asks for Basic credentials, records them, then refuses."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:  # http.server dispatches on this name
        given = self.headers.get("Authorization")
        if given is None:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="probe"')
        else:
            self.seen.append(given)
            self.send_response(403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base's name
        """Quiet."""


@pytest.fixture
def probe() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AuthProbe)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    _AuthProbe.seen.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}/acme/widgets.git"
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
def argv_seen(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """Every argv the forge's pushes run (the real runner still runs them)."""
    seen: list[tuple[str, ...]] = []
    real: Callable[..., process.Result] = process.run

    def spy(argv: list[str], **options: Any) -> process.Result:
        seen.append(tuple(argv))
        return real(argv, **options)

    monkeypatch.setattr(github_push, "run", spy)
    return seen


def test_https_push_gets_the_token_from_the_environment_only(
    hub: Hub, probe: str, argv_seen: list[tuple[str, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    commit_on(hub.repo, BRANCH, "fix.txt")
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    with pytest.raises(ForgeError, match=r"(?s)could not push.*token in \$GITHUB_TOKEN") as caught:
        hub.open(hub.forge(push_url=probe))
    expected = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    assert _AuthProbe.seen == [f"Basic {expected}"]
    assert TOKEN not in str(caught.value)
    assert probe in str(caught.value)
    assert argv_seen
    assert all(TOKEN not in arg for argv in argv_seen for arg in argv)
    assert "credential.helper=" in argv_seen[0]


def test_push_messages_leave_out_a_password_written_into_the_url(hub: Hub, probe: str) -> None:
    commit_on(hub.repo, BRANCH, "fix.txt")
    forge = hub.forge(push_url=probe.replace("//", "//someone:pw@"), token_env="UNSET_TOKEN")
    with pytest.raises(ForgeError, match=r"Set \$UNSET_TOKEN to a token") as caught:
        hub.open(forge)
    assert _AuthProbe.seen == ["Basic " + base64.b64encode(b"someone:pw").decode()]
    assert "pw@" not in str(caught.value)
    assert probe in str(caught.value)


def test_the_token_never_leaves_in_a_request_body_or_argv(
    hub: Hub, argv_seen: list[tuple[str, ...]]
) -> None:
    commit_on(hub.repo, BRANCH, "fix.txt")
    forge = hub.forge(token=TOKEN, draft=False)
    number = hub.open(forge)
    forge.status(str(number))
    forge.merge(str(number))
    for request in hub.server.requests:
        shown = {k: v for k, v in request.headers.items() if k != "authorization"}
        assert TOKEN not in f"{request.path} {request.query} {shown} {request.json}"
    assert all(TOKEN not in arg for argv in argv_seen for arg in argv)
    # A local path is no http remote: no credentials are offered to it at all.
    assert not any("credential.helper=" in argv for argv in argv_seen)
    assert TOKEN not in repr(forge.remote)
    assert TOKEN not in "".join(path.read_text() for path in forge.records.folder.glob("*.json"))
