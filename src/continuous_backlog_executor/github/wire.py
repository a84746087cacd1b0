"""Reading GitHub's answers: rate-limit headers, error details, the permissions a refusal names."""

from __future__ import annotations

import math
from dataclasses import dataclass

import httpx

DETAIL_CHARS = 300  # how much of GitHub's error text a message quotes


@dataclass(frozen=True, slots=True)
class RateLimit:
    """The rate-limit state GitHub reported with its last answer."""

    limit: int | None
    remaining: int | None
    reset: float | None  # Unix time
    resource: str | None  # "core", "search", ...

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> RateLimit | None:
        """The state in ``headers``, or ``None`` when they carry none."""
        if "x-ratelimit-remaining" not in headers:
            return None
        return cls(
            _whole(headers.get("x-ratelimit-limit")),
            _whole(headers.get("x-ratelimit-remaining")),
            number(headers.get("x-ratelimit-reset")),
            headers.get("x-ratelimit-resource"),
        )


def detail(response: httpx.Response) -> str:
    """GitHub's explanation of a refusal: its ``message`` and the ``errors`` it lists, else the
    raw text (not yet scrubbed of the token nor shortened)."""
    try:
        data = response.json()
    except ValueError:
        return response.text.strip()
    if not isinstance(data, dict) or not isinstance(data.get("message"), str):
        return response.text.strip()
    errors = data.get("errors")
    extra = [error_text(item) for item in errors] if isinstance(errors, list) else []
    return "; ".join([data["message"], *filter(None, extra)])


def needs(headers: httpx.Headers) -> str:
    """What GitHub says the request needed: fine-grained permissions or classic scopes."""
    permissions = headers.get("x-accepted-github-permissions")
    if permissions:
        return f"; it needs the permissions {permissions}"
    scopes = headers.get("x-accepted-oauth-scopes")
    if scopes:
        held = headers.get("x-oauth-scopes") or "none"
        return f"; it needs one of the scopes {scopes} (it has {held})"
    return ""


def error_text(item: object) -> str:
    if isinstance(item, str):
        return item
    if not isinstance(item, dict):
        return ""
    message = item.get("message")
    if isinstance(message, str):
        return message
    return " ".join(str(item[name]) for name in ("resource", "field", "code") if name in item)


def number(value: str | None) -> float | None:
    """``value`` as a finite number, or ``None`` when it is none."""
    try:
        number = float(value) if value is not None else math.nan
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _whole(value: str | None) -> int | None:
    found = number(value)
    return None if found is None else int(found)


def truncate(text: str) -> str:
    return text if len(text) <= DETAIL_CHARS else f"{text[:DETAIL_CHARS]}... (cut)"
