"""A stand-in GitHub API for tests and demos: a small HTTP server on 127.0.0.1 with
repositories in memory (``stand_in_data``), the endpoints in ``stand_in_routes``, and here what
every answer shares: token checks, rate-limit headers, ETags and 304s, ``Link`` pagination, and
faults a test can inject (401, 5xx, primary and secondary rate limits).

    python -m continuous_backlog_executor.github.stand_in --repo owner/name [--port N]

prints the API URL and each repository's bare remote, and serves until interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..loopback import Answer, LoopbackServer, decode_json
from .stand_in_data import DEFAULT_LOGIN, GitHubData
from .stand_in_routes import Listing, route

DEFAULT_PER_PAGE = 30  # GitHub's defaults and ceiling
MAX_PER_PAGE = 100
RATE_LIMIT = 5000  # requests an hour, as for a personal token
SECONDARY_MESSAGE = "You have exceeded a secondary rate limit. Please wait and try again."
JSON_UTF8 = "application/json; charset=utf-8"


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One request as the stand-in received it."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # names in lower case; a test server, so the token is kept
    json: Any  # the decoded body; None when there was none or it was not JSON


@dataclass(slots=True)
class _Fault:
    """The next ``count`` requests get ``status`` (with ``wait`` for rate limits)."""

    kind: str  # "fail", "primary" or "secondary"
    count: int
    status: int
    wait: float = 0.0


class GitHubStandIn(GitHubData, LoopbackServer):
    """The stand-in server and its data; a context manager that serves in a background thread
    and deletes its bare repositories when done."""

    noun = "the GitHub stand-in"
    methods = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})
    keep_alive = True  # HTTP/1.1, as httpx's connection pool expects

    def __init__(
        self, *, login: str = DEFAULT_LOGIN, port: int = 0, clock: Callable[[], float] = time.time
    ) -> None:
        # Two bases that each keep their own state, so each is initialised by name.
        GitHubData.__init__(self, login=login, clock=clock)
        LoopbackServer.__init__(self, port=port)
        self.requests: list[ReceivedRequest] = []
        self.remaining = RATE_LIMIT  # 304s leave it alone, as on GitHub
        self._reset = int(clock()) + 3600
        self._token: str | None = None
        self._faults: list[_Fault] = []

    @property
    def api_url(self) -> str:
        """The URL a client takes as ``github.apiUrl``."""
        return self.root_url

    def require_token(self, token: str) -> None:
        """Answer 401 to every request without this token from now on."""
        self._token = token

    def fail_next(self, count: int, *, status: int = 502) -> None:
        """The next ``count`` requests fail with ``status``."""
        self._faults.append(_Fault("fail", count, status))

    def rate_limit_next(self, count: int, *, reset_in: float = 1.0, status: int = 403) -> None:
        """The next ``count`` requests hit the primary limit, which resets in ``reset_in`` s."""
        self._faults.append(_Fault("primary", count, status, reset_in))

    def secondary_limit_next(self, count: int, *, retry_after: int = 1, status: int = 403) -> None:
        """The next ``count`` requests hit a secondary limit asking to wait ``retry_after`` s."""
        self._faults.append(_Fault("secondary", count, status, retry_after))

    def start(self) -> Self:
        """Listen and serve in a background thread."""
        super().start()
        self.root = self.root_url  # the data's URLs name the server, known once it listens
        return self

    def close(self) -> None:
        """Stop serving, free the port and delete the bare repositories."""
        super().close()
        self.remove_folder()

    def answer(self, method: str, target: str, headers: Mapping[str, str], raw: bytes) -> Answer:
        """The answer to one request."""
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query))
        body = decode_json(raw)
        with self.lock:
            self.requests.append(ReceivedRequest(method, parts.path, query, dict(headers), body))
            refused = self._refusal(method, headers)
            if refused is not None:
                return refused
            result = route(self, method, parts.path, query, body)
            if isinstance(result, Listing):
                return self._page(result, parts.path, query, headers)
            return self._finish(result.status, result.body, headers, method=method)

    def _refusal(self, method: str, headers: Mapping[str, str]) -> Answer | None:
        token = _token(headers.get("authorization", ""))
        if (self._token is not None and token != self._token) or (
            token is None and method != "GET"
        ):
            message = "Bad credentials" if token else "Requires authentication"
            return self._finish(401, {"message": message}, headers)
        fault = next((fault for fault in self._faults if fault.count > 0), None)
        if fault is None:
            return None
        fault.count -= 1
        if fault.kind == "fail":
            return self._finish(fault.status, {"message": "Server Error"}, headers)
        if fault.kind == "secondary":
            extra = {"Retry-After": str(math.ceil(fault.wait))}
            return self._finish(fault.status, {"message": SECONDARY_MESSAGE}, headers, extra)
        reset = math.ceil(self._clock() + fault.wait)
        limits = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
        exceeded = {"message": "API rate limit exceeded for user ID 1."}
        return self._finish(fault.status, exceeded, headers, limits)

    def _page(
        self, listing: Listing, path: str, query: Mapping[str, str], headers: Mapping[str, str]
    ) -> Answer:
        per_page = min(max(_int(query.get("per_page"), DEFAULT_PER_PAGE), 1), MAX_PER_PAGE)
        page = max(_int(query.get("page"), 1), 1)
        last = max(math.ceil(len(listing.items) / per_page), 1)
        chosen = listing.items[(page - 1) * per_page : page * per_page]
        body: Any = chosen
        if listing.key is not None:
            body = {"total_count": len(listing.items), listing.key: chosen}
        links = [
            f"<{self.root}{path}?{urlencode({**query, 'per_page': per_page, 'page': number})}>; "
            f'rel="{rel}"'
            for rel, number in (
                ("prev", page - 1),
                ("next", page + 1),
                ("first", 1),
                ("last", last),
            )
            if 1 <= number <= last and (rel in ("first", "last") or number != page)
        ]
        extra = {"Link": ", ".join(links)} if last > 1 else {}
        return self._finish(200, body, headers, extra, method="GET")

    def _finish(
        self,
        status: int,
        body: Any,
        headers: Mapping[str, str],
        extra: Mapping[str, str] | None = None,
        *,
        method: str = "",
    ) -> Answer:
        """The answer with the headers every one carries; a GET's 200 gets an ETag, and a 304
        when the client already holds it (which, as on GitHub, costs no rate limit)."""
        raw = b"" if body is None else json.dumps(body).encode()
        out = dict(extra or {})
        if method == "GET" and status == 200:
            out["ETag"] = f'"{hashlib.sha256(raw).hexdigest()[:40]}"'
            if headers.get("if-none-match") == out["ETag"]:
                return _answer(304, b"", self._limits(out, spend=False))
        return _answer(status, raw, self._limits(out, spend=True))

    def _limits(self, out: dict[str, str], *, spend: bool) -> dict[str, str]:
        if spend and self.remaining > 0:
            self.remaining -= 1
        limits = {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self._reset),
            "X-RateLimit-Used": str(RATE_LIMIT - self.remaining),
            "X-RateLimit-Resource": "core",
        }
        return limits | out  # a rate-limit fault's own figures win


def _answer(status: int, raw: bytes, headers: Mapping[str, str]) -> Answer:
    # As on GitHub, an empty body (a 204 or a 304) comes with no Content-Type.
    return Answer(status, raw, headers, JSON_UTF8 if raw else None)


def _token(authorization: str) -> str | None:
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() in ("bearer", "token") else None


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def main(argv: Sequence[str] | None = None) -> int:
    """Serve empty repositories until interrupted; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m continuous_backlog_executor.github.stand_in",
        description="A stand-in GitHub API with local bare repositories, for tests and demos.",
    )
    parser.add_argument("--repo", action="append", default=[], help="owner/name (repeatable)")
    parser.add_argument("--port", type=int, default=0, help="the port (default: any free one)")
    options = parser.parse_args(argv)
    try:
        server = GitHubStandIn(port=options.port).start()
    except OSError as error:  # the port is taken
        print(f"github stand-in: {error}", file=sys.stderr)
        return 2
    # Ctrl-C is how a demo server stops.
    with contextlib.closing(server), contextlib.suppress(KeyboardInterrupt):
        print(server.api_url, flush=True)
        for full_name in options.repo:
            owner, _, name = str(full_name).partition("/")
            server.add_repo(owner, name)
            print(f"{full_name} {server.git_url(owner, name)}", flush=True)
        threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
