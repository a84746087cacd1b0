"""The HTTP layer both model API clients share: POST a JSON body, retry what retrying can fix
(429, 408/409, 5xx, lost connections, time-outs) with exponential backoff or the server's
``Retry-After`` (honoured up to ``MAX_WAIT``, 60 s), and turn every refusal into an
``ApiError`` that says what to fix.

The API key never appears in a message: text the server sends back is scrubbed of it as well,
since some servers echo what they were sent.
"""

from __future__ import annotations

import email.utils
import functools
import math
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import TypeVar

import httpx

from .chat import (
    ApiError,
    ChatSettings,
    Message,
    RateLimitedError,
    Reply,
    ToolSpec,
    UnavailableError,
)

Sleep = Callable[[float], None]
T = TypeVar("T")

# The longest Retry-After honoured: a longer one is cut to this, because a run that sits idle
# for an hour on one request is worse than one more 429 (which costs a retry, not the run).
MAX_WAIT = 60.0
DETAIL_CHARS = 300  # how much of a server's error text a message quotes
# Besides 429 and 5xx, the official OpenAI and Anthropic SDKs retry these two.
RETRY_STATUSES = frozenset({408, 409, 429})
REDACTED = "[API key]"
MIN_SECRET = 8  # shorter keys are placeholders for servers that want none
_JSON_TYPES: dict[type, str] = {
    bool: "true or false",
    dict: "an object",
    float: "a number",
    int: "a number",
    list: "a list",
    str: "text",
}


@dataclass(frozen=True, slots=True)
class _Retry:
    """A failure worth another try, with what to raise once no tries are left."""

    kind: type[ApiError]
    status: int | None
    what: str  # what failed, with the server's own words
    advice: str  # what to do about it
    wait: float | None = None  # the server's Retry-After; None means our own backoff
    cause: BaseException | None = None


def post_json(
    url: str,
    body: Mapping[str, object],
    *,
    headers: Mapping[str, str],
    settings: ChatSettings,
    key_hint: str,
    sleep: Sleep = time.sleep,
) -> dict[str, object]:
    """POST ``body`` to ``url`` and return the JSON object of its 2xx answer, retrying up to
    ``settings.max_retries`` times; raises ``ApiError`` (or one of its kinds) otherwise."""
    delay = settings.backoff
    # A client per call, shared by its retries: a model takes seconds to answer, so keeping
    # connections open across a tool loop would save little, and this way none is left open.
    with httpx.Client(timeout=settings.request_timeout, verify=_tls()) as client:
        outcome = _attempt(client, url, body, headers=headers, settings=settings, key_hint=key_hint)
        for _ in range(settings.max_retries):
            if not isinstance(outcome, _Retry):
                return outcome
            sleep(delay if outcome.wait is None else outcome.wait)
            delay *= 2
            outcome = _attempt(
                client, url, body, headers=headers, settings=settings, key_hint=key_hint
            )
    if not isinstance(outcome, _Retry):
        return outcome
    attempts = settings.max_retries + 1
    message = f"{outcome.what}, still after {attempts} attempts; {outcome.advice}"
    raise outcome.kind(message, status=outcome.status) from outcome.cause


def _attempt(
    client: httpx.Client,
    url: str,
    body: Mapping[str, object],
    *,
    headers: Mapping[str, str],
    settings: ChatSettings,
    key_hint: str,
) -> dict[str, object] | _Retry:
    key = settings.api_key
    try:
        response = client.post(url, json=body, headers=dict(headers))
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
        raise ApiError(f"{url} is not an http:// or https:// URL; check agent.base_url") from error
    except httpx.TimeoutException as error:
        what = f"{url} did not answer within {settings.request_timeout:g} s"
        advice = "try again later, or raise agent.request_timeout"
        return _Retry(UnavailableError, None, what, advice, cause=_safe_cause(error, key))
    except httpx.TransportError as error:
        what = f"cannot reach {url} ({scrub(f'{type(error).__name__}: {error}', key)})"
        advice = "check agent.base_url and that the server is running"
        return _Retry(UnavailableError, None, what, advice, cause=_safe_cause(error, key))
    return _judge(response, url, settings, key_hint)


def _judge(
    response: httpx.Response, url: str, settings: ChatSettings, key_hint: str
) -> dict[str, object] | _Retry:
    status = response.status_code
    if 200 <= status < 300:
        return _decode(response, url, settings.api_key)
    error = _error_object(response)
    detail = _detail(response, error, settings.api_key)
    if status == 429 and "insufficient_quota" in (error.get("type"), error.get("code")):
        # OpenAI's "out of credit" is a 429 too, but no amount of waiting fixes it.
        raise ApiError(
            f"{url} says the account's quota is used up (HTTP 429: {detail}); "
            "check the plan and billing of the account behind the key",
            status=status,
        )
    if status in RETRY_STATUSES or status >= 500:
        return _retry(status, detail, url, response.headers.get("retry-after"))
    raise _refusal(status, detail, url, settings, key_hint)


def _retry(status: int, detail: str, url: str, retry_after_header: str | None) -> _Retry:
    wait = retry_after(retry_after_header)
    if status == 429:
        what = f"{url} is rate limiting requests (HTTP 429: {detail})"
        advice = "wait a while and run again, or ask for a higher rate limit"
        return _Retry(RateLimitedError, status, what, advice, wait)
    what = f"{url} failed (HTTP {status}: {detail})"
    advice = "the service may be down or overloaded: try again later"
    return _Retry(UnavailableError, status, what, advice, wait)


def _refusal(status: int, detail: str, url: str, settings: ChatSettings, key_hint: str) -> ApiError:
    if status in (401, 403):
        return ApiError(_key_refused(status, detail, url, settings, key_hint), status=status)
    if status == 404:
        return ApiError(
            f"model {settings.model!r} or URL {url} not found (HTTP 404: {detail}); "
            "check agent.model and agent.base_url",
            status=status,
        )
    if status in (400, 422):
        return ApiError(
            f"{url} rejected the request (HTTP {status}: {detail}); check that model "
            f"{settings.model!r} accepts agent.max_tokens and agent.temperature as set",
            status=status,
        )
    return ApiError(f"{url} answered HTTP {status}: {detail}", status=status)


def _key_refused(status: int, detail: str, url: str, settings: ChatSettings, key_hint: str) -> str:
    where = f" in {key_hint}" if key_hint else ""
    if not settings.api_key:
        return (
            f"{url} wants an API key and none was sent (HTTP {status}: {detail}); "
            f"set {key_hint or 'the API key'}"
        )
    if status == 401:
        return (
            f"the API key{where} was refused by {url} (HTTP 401: {detail}); "
            "check that it is current and meant for this API"
        )
    return (
        f"the API key{where} may not use model {settings.model!r} at {url} "
        f"(HTTP 403: {detail}); check the key's permissions and agent.model"
    )


def _decode(response: httpx.Response, url: str, key: str | None) -> dict[str, object]:
    status = response.status_code
    try:
        data = response.json()
    except ValueError as error:
        shown = _truncate(scrub(response.text.strip(), key)) or "an empty body"
        raise ApiError(
            f"{url} answered HTTP {status} with something other than JSON ({shown}); "
            "check that agent.base_url points at the API",
            status=status,
        ) from error
    if not isinstance(data, dict):
        raise malformed(url, f"the answer is {json_type(data)}, not an object")
    return data


def _error_object(response: httpx.Response) -> Mapping[str, object]:
    """The ``error`` object both APIs put in an error body (``{}`` when there is none)."""
    try:
        data = response.json()
    except ValueError:
        return {}
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else {}


def _detail(response: httpx.Response, error: Mapping[str, object], key: str | None) -> str:
    """The server's explanation: its error message when it sent one, else its raw text."""
    message = error.get("message")
    if not isinstance(message, str):
        message = _loose_message(response)
    text = message if message is not None else response.text.strip()
    return _truncate(scrub(text, key)) or "no details given"


def _loose_message(response: httpx.Response) -> str | None:
    # Ollama sends {"error": "text"}; FastAPI-based servers such as vLLM {"detail": "text"}.
    try:
        data = response.json()
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    found = (data.get(name) for name in ("error", "message", "detail"))
    return next((value for value in found if isinstance(value, str)), None)


def retry_after(value: str | None) -> float | None:
    """The seconds a ``Retry-After`` header asks for (a number or an HTTP date), at most
    ``MAX_WAIT``; ``None`` when there is none or it cannot be read."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - time.time()
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_WAIT)


def check_key(key: str | None, key_hint: str) -> str | None:
    """The key to send (``None`` for none). One with spaces, line breaks or non-ASCII
    characters is refused here, since the HTTP library's own error would quote it."""
    if key and not (key.isascii() and key.isprintable() and " " not in key):
        where = f" in {key_hint}" if key_hint else ""
        raise ApiError(
            f"the API key{where} contains spaces, line breaks or non-ASCII characters; "
            "set it to the key alone"
        )
    return key or None


def endpoint(base_url: str, path: str) -> str:
    """``base_url`` with ``path`` added to its path, keeping any query (``?api-version=``)."""
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL as error:
        raise ApiError(f"agent.base_url {base_url!r} is not a valid URL ({error})") from error
    return str(url.copy_with(path=f"{url.path.rstrip('/')}/{path}"))


def expect(value: object, kind: type[T], what: str, url: str) -> T:
    """``value`` when it is a ``kind``, else the ``ApiError`` for a malformed answer."""
    if isinstance(value, kind):
        return value
    raise malformed(
        url, f"{what} is {json_type(value)}, not {_JSON_TYPES.get(kind, kind.__name__)}"
    )


def optional(value: object, kind: type[T], default: T, what: str, url: str) -> T:
    """Like ``expect``, with ``default`` for a missing (null) value."""
    return default if value is None else expect(value, kind, what, url)


def malformed(url: str, problem: str) -> ApiError:
    """The error for an answer that is JSON but not the shape the API promises."""
    return ApiError(
        f"{url} answered with a malformed response: {problem}; "
        "check that agent.base_url points at a compatible API"
    )


def json_type(value: object) -> str:
    """How a decoded JSON value reads in a message."""
    return "null" if value is None else _JSON_TYPES.get(type(value), type(value).__name__)


def scrub(text: str, key: str | None) -> str:
    """``text`` with the API key replaced."""
    # A placeholder as short as "ollama" or "x" is no secret, and replacing it would mangle
    # ordinary words of the message.
    return text.replace(key, REDACTED) if key and len(key) >= MIN_SECRET else text


@functools.cache
def _tls() -> ssl.SSLContext:
    # Loading the certificate store takes tens of milliseconds: once per process is enough.
    return httpx.create_ssl_context()


def _safe_cause(error: BaseException, key: str | None) -> BaseException | None:
    # A chained exception is printed in tracebacks and crash logs: drop one that quotes the key.
    return None if scrub(str(error), key) != str(error) else error


def _truncate(text: str) -> str:
    return text if len(text) <= DETAIL_CHARS else f"{text[:DETAIL_CHARS]}... (cut)"


# How an API writes a request body and reads a reply, in its own wire format.
Encode = Callable[[ChatSettings, str, Sequence[Message], Sequence[ToolSpec]], dict[str, object]]
Decode = Callable[[Mapping[str, object], str], Reply]


class JsonClient:
    """What both API clients share: one POST of the whole conversation, retried as
    ``post_json`` does, its answer parsed. A client says where (``url``), with which
    ``headers``, and how to write the body (``encode``) and read the answer (``decode``)."""

    def __init__(
        self,
        settings: ChatSettings,
        *,
        url: str,
        headers: Mapping[str, str],
        encode: Encode,
        decode: Decode,
        key_hint: str = "",
        sleep: Sleep = time.sleep,
    ) -> None:
        self._settings = settings
        self._url = url
        self._headers = dict(headers)
        self._encode = encode
        self._decode = decode
        self._key_hint = key_hint  # where the key came from, e.g. "$OPENAI_API_KEY"
        self._sleep = sleep

    def send(self, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> Reply:
        """One request for the whole conversation so far."""
        raw = post_json(
            self._url,
            self._encode(self._settings, system, messages, tools),
            headers=self._headers,
            settings=self._settings,
            key_hint=self._key_hint,
            sleep=self._sleep,
        )
        return self._decode(raw, self._url)
