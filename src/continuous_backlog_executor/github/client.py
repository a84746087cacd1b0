"""A GitHub REST client over httpx: conditional GETs (ETag, so unchanged answers cost no rate
limit), ``Link`` pagination, waits for primary and secondary rate limits up to a bound, retries
on 5xx and lost connections, and an error for every refusal that says what to fix.

::

    GitHubError                 GitHub refused a request or could not be reached
    ├── GitHubAuthError         the token is missing, malformed, refused (401) or lacks access (403)
    ├── GitHubNotFoundError          404: no such repository or object, or the token cannot see it
    └── GitHubRateLimitedError       a rate limit whose reset is further away than the run may wait

The token never appears in a message or a chained exception: server text is scrubbed of it too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from . import wire
from .errors import GitHubAuthError, GitHubError, GitHubNotFoundError, GitHubRateLimitedError
from .etags import Entry, ETagCache
from .wire import RateLimit, needs, number, truncate

__all__ = [
    "GitHubAuthError",
    "GitHubClient",
    "GitHubError",
    "GitHubNotFoundError",
    "GitHubRateLimitedError",
    "GitHubSettings",
    "RateLimit",
]

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
DEFAULT_TOKEN_ENV = "GITHUB_TOKEN"  # noqa: S105 - the name of a variable, not a token
MAX_PER_PAGE = 100  # GitHub's ceiling for per_page
# GitHub's advice for a secondary limit that names no wait: at least a minute.
SECONDARY_WAIT = 60.0
# Reset times are whole seconds and clocks differ: waiting one more avoids a second refusal.
RESET_SLACK = 1.0
REDACTED = "[token]"
Params = Mapping[str, str | int]


@dataclass(frozen=True, slots=True)
class GitHubSettings:
    """Where the API is and how the client behaves; ``token_env`` names where the token came
    from, for messages."""

    api_url: str = DEFAULT_API_URL
    token: str | None = field(default=None, repr=False)
    token_env: str = DEFAULT_TOKEN_ENV
    max_retries: int = 3
    timeout: float = 30.0
    max_wait: float = 60.0  # the longest sleep for a rate limit before giving up
    backoff: float = 1.0  # the first wait before retrying a 5xx; doubled each time

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        *,
        api_url: str = DEFAULT_API_URL,
        token_env: str = DEFAULT_TOKEN_ENV,
    ) -> GitHubSettings:
        """Settings with the token read from ``env[token_env]`` (none when unset or empty)."""
        return cls(api_url=api_url, token=env.get(token_env) or None, token_env=token_env)


@dataclass(frozen=True, slots=True)
class _Retry:
    """A failure worth another try, and what to raise once no tries are left."""

    kind: type[GitHubError]
    status: int | None
    what: str
    advice: str
    wait: float | None = None  # GitHub's wait; None means our own backoff
    cause: BaseException | None = None

    def error(self, attempts: int) -> GitHubError:
        message = f"{self.what}, still after {attempts} attempts; {self.advice}"
        if self.kind is GitHubRateLimitedError:
            return GitHubRateLimitedError(message, reset=None, status=self.status)
        return self.kind(message, status=self.status)


class GitHubClient:
    """Requests to one GitHub API (github.com or an Enterprise server); a context manager that
    closes its connections. ``cache`` is a folder for ETags and bodies kept between runs."""

    def __init__(
        self,
        settings: GitHubSettings,
        *,
        cache: Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.rate_limit: RateLimit | None = None
        self._token = _check_token(settings)
        self._root = settings.api_url.rstrip("/")
        self._cache = ETagCache(cache)
        self._sleep = sleep
        self._clock = clock
        # Redirects are followed for renamed repositories; httpx drops the Authorization
        # header when one leads to another host.
        self._http = httpx.Client(
            timeout=settings.timeout, headers=self._headers(), follow_redirects=True
        )

    @property
    def authenticated(self) -> bool:
        """Whether requests carry a token (without one only public data can be read)."""
        return self._token is not None

    def get(self, path: str, params: Params | None = None) -> Any:
        """The decoded answer to ``GET path``, from the cache when GitHub says it is unchanged."""
        return self._get(self._url(path, params)).body

    def paginate(
        self,
        path: str,
        params: Params | None = None,
        *,
        per_page: int = MAX_PER_PAGE,
        limit: int | None = None,
        key: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The items of a list endpoint, page by page (``rel="next"``), at most ``limit``.
        ``key`` names the list in endpoints that wrap it in an object (``check_runs``)."""
        query = {**(params or {}), "per_page": max(1, min(per_page, MAX_PER_PAGE))}
        url: str | None = self._url(path, query)
        count = 0
        while url is not None and (limit is None or count < limit):
            entry = self._get(url)
            for item in self._items(entry.body, key, url):
                yield item
                count += 1
                if limit is not None and count >= limit:
                    return
            url = None if entry.next_url is None else self._url(entry.next_url)

    def post(self, path: str, json: Mapping[str, object] | None = None) -> Any:
        """``POST path`` with a JSON body; its decoded answer (``None`` when empty)."""
        return self._write("POST", path, json)

    def graphql(self, query: str, variables: Mapping[str, object]) -> Any:
        """The ``data`` of a GraphQL query (``/graphql``, or Enterprise's ``/api/graphql``);
        a ``GitHubError`` quoting GitHub's message when it answers with errors instead."""
        api = self.settings.api_url.rstrip("/")
        # Built from the configured URL, never from a server's link: safe for the token.
        url = f"{api.removesuffix('/v3')}/graphql" if api.endswith("/api/v3") else f"{api}/graphql"
        response = self._send("POST", url, json={"query": query, "variables": dict(variables)})
        answer = self._decode(response, url) if response.content else None
        if not isinstance(answer, dict) or answer.get("data") is None:
            errors = answer.get("errors") if isinstance(answer, dict) else None
            raise GitHubError(f"GitHub's GraphQL API answered with errors: {errors!r}"[:500])
        return answer["data"]

    def patch(self, path: str, json: Mapping[str, object]) -> Any:
        """``PATCH path`` with a JSON body; its decoded answer."""
        return self._write("PATCH", path, json)

    def put(self, path: str, json: Mapping[str, object] | None = None) -> Any:
        """``PUT path`` with a JSON body; its decoded answer (``None`` when empty)."""
        return self._write("PUT", path, json)

    def delete(self, path: str) -> Any:
        """``DELETE path``; its decoded answer (usually ``None``: 204)."""
        return self._write("DELETE", path, None)

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _headers(self) -> dict[str, str]:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "continuous-backlog-executor",  # GitHub refuses requests without one
        }
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def _url(self, path: str, params: Params | None = None) -> str:
        if path.startswith(("http://", "https://")):
            # Links come from the server; the token must never go to another host.
            if not path.startswith(f"{self._root}/"):
                raise GitHubError(
                    f"GitHub sent a link outside {self._root} ({self._shown(path)}); "
                    "check github.apiUrl"
                )
            url = path
        else:
            url = f"{self._root}/{path.lstrip('/')}"
        try:
            return str(httpx.URL(url, params=params)) if params else url
        except httpx.InvalidURL as error:
            raise GitHubError(
                f"{self._shown(url)} is not a valid URL; check github.apiUrl"
            ) from self._safe(error)

    def _get(self, url: str) -> Entry:
        cached = self._cache.get(url)
        headers = {"If-None-Match": cached.etag} if cached is not None else {}
        response = self._send("GET", url, headers=headers)
        if response.status_code == 304:
            if cached is None:
                raise GitHubError(f"GET {self._shown(url)} answered 304 to an unconditional GET")
            return cached
        following = response.links.get("next", {}).get("url")
        etag = response.headers.get("etag")
        entry = Entry(etag or "", self._decode(response, url), following)
        if etag:
            self._cache.put(url, entry)
        return entry

    def _write(self, method: str, path: str, body: Mapping[str, object] | None) -> Any:
        url = self._url(path)
        response = self._send(method, url, json=body)
        return self._decode(response, url) if response.content else None

    def _send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: Mapping[str, object] | None = None,
    ) -> httpx.Response:
        """The 2xx or 304 answer, after retries and rate-limit waits; raises otherwise.
        Writes are retried too: GitHub refuses a duplicate (a second PR for a branch) with 422."""
        delay = self.settings.backoff
        outcome = self._attempt(method, url, headers, json)
        for _ in range(self.settings.max_retries):
            if not isinstance(outcome, _Retry):
                return outcome
            self._sleep(delay if outcome.wait is None else outcome.wait)
            delay *= 2
            outcome = self._attempt(method, url, headers, json)
        if not isinstance(outcome, _Retry):
            return outcome
        raise outcome.error(self.settings.max_retries + 1) from outcome.cause

    def _attempt(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        json: Mapping[str, object] | None,
    ) -> httpx.Response | _Retry:
        where = f"{method} {self._shown(url)}"
        try:
            response = self._http.request(method, url, headers=headers, json=json)
        except httpx.UnsupportedProtocol as error:
            raise GitHubError(
                f"{self._shown(url)} is not an http(s) URL; check github.apiUrl"
            ) from self._safe(error)
        except httpx.TimeoutException as error:
            what = f"{where} got no answer within {self.settings.timeout:g} s"
            return _Retry(GitHubError, None, what, "try again later", cause=self._safe(error))
        except httpx.TransportError as error:
            what = f"cannot reach {self._root} for {where} ({self._scrub(repr(error))})"
            advice = "check github.apiUrl and the network"
            return _Retry(GitHubError, None, what, advice, cause=self._safe(error))
        self.rate_limit = RateLimit.from_headers(response.headers) or self.rate_limit
        return self._judge(method, url, response)

    def _judge(self, method: str, url: str, response: httpx.Response) -> httpx.Response | _Retry:
        status = response.status_code
        if status < 300 or status == 304:
            return response
        detail = self._detail(response)
        where = f"{method} {self._shown(url)}"
        if status in (403, 429):
            wait = self._limit_wait(response, detail)
            if wait is not None:
                return self._limited(where, status, detail, wait)
        if status >= 500:
            what = f"{where} failed (HTTP {status}: {detail})"
            return _Retry(GitHubError, status, what, "GitHub may be having trouble: try later")
        raise self._refusal(where, status, detail, response.headers)

    def _limit_wait(self, response: httpx.Response, detail: str) -> float | None:
        """How long a 403/429 asks to wait, or ``None`` when it is no rate limit."""
        headers = response.headers
        retry_after = headers.get("retry-after")
        if retry_after is not None:  # a secondary limit
            seconds = number(retry_after)
            return SECONDARY_WAIT if seconds is None else max(seconds, 0.0)
        if headers.get("x-ratelimit-remaining") == "0":  # the primary limit
            reset = number(headers.get("x-ratelimit-reset"))
            return (
                SECONDARY_WAIT if reset is None else max(reset - self._clock(), 0.0) + RESET_SLACK
            )
        return SECONDARY_WAIT if "rate limit" in detail.lower() else None

    def _limited(self, where: str, status: int, detail: str, wait: float) -> _Retry:
        limit = "GitHub's rate limit" + (
            f" for the token in ${self.settings.token_env}"
            if self._token
            else f" for unauthenticated requests (set ${self.settings.token_env} for a higher one)"
        )
        what = f"{where} hit {limit} (HTTP {status}: {detail})"
        if wait > self.settings.max_wait:
            reset = self._clock() + wait
            when = datetime.fromtimestamp(reset, UTC).strftime("%H:%M:%S UTC")
            raise GitHubRateLimitedError(
                f"{what}; it resets at {when}, in {wait:.0f} s, longer than the "
                f"{self.settings.max_wait:g} s a run may wait, so the run stops here: "
                "run again after the reset",
                reset=reset,
                status=status,
            )
        advice = "run again after the limit resets"
        return _Retry(GitHubRateLimitedError, status, what, advice, wait=wait)

    def _refusal(self, where: str, status: int, detail: str, headers: httpx.Headers) -> GitHubError:
        env = f"${self.settings.token_env}"
        if status in (401, 403) and self._token is None:
            return GitHubAuthError(
                f"{where} needs a token (HTTP {status}: {detail}); set {env}", status=status
            )
        if status == 401:
            return GitHubAuthError(
                f"the token in {env} was refused by {self._root} (HTTP 401: {detail}); "
                f"set a valid token in {env}",
                status=status,
            )
        if status == 403:
            return GitHubAuthError(
                f"the token in {env} may not {where} (HTTP 403: {detail}){needs(headers)}; "
                "give the token that access, or leave this repository out",
                status=status,
            )
        if status == 404:
            return GitHubNotFoundError(
                f"{where}: not found at {self._root} (HTTP 404: {detail}); check "
                f"github.reposToScan / the repository name, or the access of the token in {env} "
                "(GitHub answers 404 for private repositories a token cannot see)",
                status=status,
            )
        return GitHubError(f"GitHub refused {where} (HTTP {status}: {detail})", status=status)

    def _decode(self, response: httpx.Response, url: str) -> Any:
        try:
            return response.json()
        except ValueError as error:
            shown = truncate(self._scrub(response.text.strip())) or "an empty body"
            raise GitHubError(
                f"{self._shown(url)} answered HTTP {response.status_code} with something other "
                f"than JSON ({shown}); check that github.apiUrl points at the REST API",
                status=response.status_code,
            ) from error

    def _items(self, body: Any, key: str | None, url: str) -> list[dict[str, Any]]:
        items = body.get(key) if key is not None and isinstance(body, dict) else body
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            wanted = f"an object with a list of objects in {key!r}" if key else "a list of objects"
            raise GitHubError(f"{self._shown(url)} answered with something other than {wanted}")
        return items

    def _detail(self, response: httpx.Response) -> str:
        return truncate(self._scrub(wire.detail(response))) or "no details given"

    def _shown(self, url: str) -> str:
        """``url`` as a message shows it: relative to the API root."""
        shown = url[len(self._root) :] if url.startswith(f"{self._root}/") else url
        return self._scrub(shown)  # a path or query could hold it, by mistake or by malice

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, REDACTED) if self._token else text

    def _safe(self, error: BaseException) -> BaseException | None:
        # A chained exception is printed in tracebacks and crash logs: drop one quoting the token.
        return error if self._scrub(str(error)) == str(error) else None


def _check_token(settings: GitHubSettings) -> str | None:
    """The token to send, or ``None``. One with inner spaces or non-ASCII characters is
    refused here, since the HTTP library's own error would quote it."""
    token = (settings.token or "").strip()
    if token and not (token.isascii() and token.isprintable() and " " not in token):
        raise GitHubAuthError(
            f"the token in ${settings.token_env} contains spaces, line breaks or non-ASCII "
            "characters; set it to the token alone"
        )
    return token or None
