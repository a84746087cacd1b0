"""Tests for the GitHub REST client against the stand-in over real loopback HTTP: pagination,
ETag 304s from the cache, rate-limit waits and stops, retries, refusals naming what to fix, and
the token kept out of every message."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from continuous_backlog_executor.github.client import (
    GitHubAuthError,
    GitHubClient,
    GitHubError,
    GitHubNotFoundError,
    GitHubRateLimitedError,
    GitHubSettings,
)
from continuous_backlog_executor.github.stand_in import GitHubStandIn

TOKEN = "ghp_test0123456789abcdefSECRET"
ISSUES = "/repos/acme/widgets/issues"


class Harness:
    """A stand-in with one repository, and clients pointed at it that record their sleeps."""

    def __init__(self, server: GitHubStandIn, cache: Path) -> None:
        self.server = server
        self.cache = cache
        self.sleeps: list[float] = []
        self.clients: list[GitHubClient] = []

    def client(self, **overrides: Any) -> GitHubClient:
        values: dict[str, Any] = {"api_url": self.server.api_url, "token": TOKEN, "backoff": 0.5}
        settings = GitHubSettings(**(values | overrides))
        client = GitHubClient(settings, cache=self.cache, sleep=self.sleeps.append, clock=_clock)
        self.clients.append(client)
        return client

    def paths(self) -> list[str]:
        return [request.path for request in self.server.requests]


def _clock() -> float:
    return 1_700_000_000.0


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Harness]:
    with GitHubStandIn(clock=_clock) as server:
        server.add_repo("acme", "widgets")
        harness = Harness(server, tmp_path / "cache")
        yield harness
        for client in harness.clients:
            client.close()


def test_get_sends_github_headers(hub: Harness) -> None:
    repo = hub.client().get("/repos/acme/widgets")
    assert repo["full_name"] == "acme/widgets"
    headers = hub.server.requests[-1].headers
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == "2022-11-28"


def test_paginate_follows_links_over_three_pages(hub: Harness) -> None:
    for number in range(1, 8):
        hub.server.add_issue("acme", "widgets", f"issue {number}")
    client = hub.client()
    titles = [item["title"] for item in client.paginate(ISSUES, {"state": "all"}, per_page=3)]
    assert titles == [f"issue {number}" for number in range(7, 0, -1)]
    pages = [request.query.get("page") for request in hub.server.requests]
    assert pages == [None, "2", "3"]
    assert all(request.query["per_page"] == "3" for request in hub.server.requests)
    assert client.rate_limit is not None
    assert client.rate_limit.remaining == 4997


def test_paginate_stops_at_limit_without_fetching_more(hub: Harness) -> None:
    for number in range(1, 8):
        hub.server.add_issue("acme", "widgets", f"issue {number}")
    items = list(hub.client().paginate(ISSUES, per_page=3, limit=3))
    assert len(items) == 3
    assert len(hub.server.requests) == 1


def test_unchanged_answer_is_a_304_served_from_the_cache(hub: Harness) -> None:
    hub.server.add_issue("acme", "widgets", "first")
    first = list(hub.client().paginate(ISSUES))
    remaining = hub.server.remaining
    # A new client reads the ETags the first one wrote to disk.
    again = list(hub.client().paginate(ISSUES))
    assert again == first
    assert hub.server.requests[-1].headers["if-none-match"].startswith('"')
    assert hub.server.remaining == remaining  # a 304 costs no rate limit
    hub.server.add_issue("acme", "widgets", "second")
    assert [item["title"] for item in hub.client().paginate(ISSUES)] == ["second", "first"]
    assert hub.server.remaining == remaining - 1


def test_primary_rate_limit_waits_for_the_reset(hub: Harness) -> None:
    hub.server.rate_limit_next(1, reset_in=1)
    assert hub.client().get("/repos/acme/widgets")["name"] == "widgets"
    assert hub.sleeps == [2.0]  # one second to the reset and one of slack
    assert len(hub.server.requests) == 2


def test_rate_limit_resetting_too_late_stops_with_a_clear_message(hub: Harness) -> None:
    hub.server.rate_limit_next(1, reset_in=1800)
    with pytest.raises(GitHubRateLimitedError) as caught:
        hub.client(max_wait=60.0).get("/repos/acme/widgets")
    message = str(caught.value)
    assert "resets at 22:43:21 UTC" in message  # with a second of slack
    assert "the run stops here" in message
    assert "$GITHUB_TOKEN" in message
    assert caught.value.reset == 1_700_000_000 + 1801
    assert hub.sleeps == []


def test_secondary_limit_honours_retry_after(hub: Harness) -> None:
    hub.server.secondary_limit_next(2, retry_after=3, status=429)
    assert hub.client().get("/repos/acme/widgets")["name"] == "widgets"
    assert hub.sleeps == [3.0, 3.0]


def test_server_errors_are_retried_with_backoff(hub: Harness) -> None:
    hub.server.fail_next(2, status=502)
    assert hub.client().get("/repos/acme/widgets")["name"] == "widgets"
    assert hub.sleeps == [0.5, 1.0]


def test_server_errors_give_up_after_the_retries(hub: Harness) -> None:
    hub.server.fail_next(5, status=503)
    with pytest.raises(GitHubError, match=r"HTTP 503.*still after 3 attempts"):
        hub.client(max_retries=2).get("/repos/acme/widgets")


def test_refused_token_names_the_variable_not_the_token(hub: Harness) -> None:
    hub.server.require_token("ghp_the_right_one_0000000000")
    with pytest.raises(GitHubAuthError) as caught:
        hub.client(token_env="BACKLOG_GH_TOKEN").get("/repos/acme/widgets")
    message = str(caught.value)
    assert "the token in $BACKLOG_GH_TOKEN was refused" in message
    assert "Bad credentials" in message
    assert TOKEN not in message
    assert caught.value.status == 401


def test_missing_repository_is_not_found_with_advice(hub: Harness) -> None:
    with pytest.raises(GitHubNotFoundError, match=r"/repos/acme/gadgets.*github.reposToScan"):
        hub.client().get("/repos/acme/gadgets")


def test_validation_failure_quotes_githubs_errors(hub: Harness) -> None:
    with pytest.raises(GitHubError, match=r"HTTP 422: Validation Failed; PullRequest head"):
        hub.client().post("/repos/acme/widgets/pulls", {"title": "t", "head": "x", "base": "y"})


def test_without_a_token_reads_work_and_writes_ask_for_one(hub: Harness) -> None:
    client = hub.client(token=None)
    assert not client.authenticated
    assert client.get("/repos/acme/widgets")["name"] == "widgets"
    assert "authorization" not in hub.server.requests[-1].headers
    with pytest.raises(GitHubAuthError, match=r"needs a token .*set \$GITHUB_TOKEN"):
        client.patch(f"{ISSUES}/1", {"state": "closed"})


def test_token_never_appears_in_errors_even_when_echoed(hub: Harness) -> None:
    unreachable = GitHubSettings(api_url="http://127.0.0.1:9", token=TOKEN, max_retries=0)
    errors: list[BaseException] = []
    with (
        GitHubClient(unreachable, sleep=hub.sleeps.append) as client,
        pytest.raises(GitHubError) as caught,
    ):
        client.get(f"/repos/{TOKEN}")
    errors.append(caught.value)
    hub.server.require_token("another")
    with pytest.raises(GitHubError) as caught:
        hub.client().get(f"/repos/acme/{TOKEN}")
    errors.append(caught.value)
    for error in errors:
        chain = [error, error.__cause__, error.__context__]
        assert all(TOKEN not in repr(item) for item in chain)
    assert TOKEN not in repr(GitHubSettings(token=TOKEN))


def test_malformed_token_is_refused_before_sending() -> None:
    with pytest.raises(GitHubAuthError, match="line breaks") as caught:
        GitHubClient(GitHubSettings(token="ghp_ab\ncd ef"))
    assert "ghp_ab" not in str(caught.value)


def test_links_to_another_host_are_not_followed(hub: Harness) -> None:
    with pytest.raises(GitHubError, match="outside"):
        hub.client().get("https://elsewhere.example/repos/acme/widgets")
    assert hub.server.requests == []
