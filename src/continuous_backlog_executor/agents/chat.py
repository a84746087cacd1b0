"""The conversation with a model, in one neutral form the engine's tool loop speaks: messages,
tool calls, tool specs and a model's reply with its token usage. Each API client (OpenAI-style
chat completions, Anthropic messages) turns these into its wire format and back; the loop never
sees a vendor's JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from ..errors import BacklogError


class Role(StrEnum):
    """Who a message is from."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"  # a tool's result, answering one tool call


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One call the model asked for. ``arguments`` is the raw JSON text the model wrote: it
    may be malformed, and the loop answers that with an error rather than trusting it."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class Message:
    """One message of the conversation."""

    role: Role
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()  # assistant messages only
    tool_call_id: str | None = None  # tool messages only: the call this answers
    is_error: bool = False  # tool messages only: the tool refused or failed


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool offered to the model: its name, what it does, and a JSON schema of its
    arguments (an ``object`` schema)."""

    name: str
    description: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Tokens one request used, as the API reported them (0 when it did not say)."""

    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True, slots=True)
class Reply:
    """The model's answer to one request."""

    text: str
    tool_calls: tuple[ToolCall, ...]
    usage: TokenUsage
    stop_reason: str = ""  # the API's own word for why it stopped (end_turn, tool_calls, ...)
    raw: Mapping[str, Any] = field(default_factory=dict)  # the decoded response, for transcripts


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """How to reach a model and how it should answer."""

    model: str
    base_url: str
    # Read from the named environment variable; never stored, logged or shown (not in repr).
    api_key: str | None = field(repr=False)
    temperature: float | None = None
    max_tokens: int = 4096
    request_timeout: float = 120.0
    max_retries: int = 5  # on 429, 5xx and connection errors
    backoff: float = 1.0  # seconds before the first retry, doubled each time (Retry-After wins)


class ApiError(BacklogError):
    """The API refused in a way retrying will not fix (401, 403, 404, a bad request): the run
    stops with this message, which says what to fix."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RateLimitedError(ApiError):
    """Still rate limited (429) after every retry."""


class UnavailableError(ApiError):
    """Server errors (5xx) or connection failures after every retry."""


class ChatClient(Protocol):
    """One model API, spoken in the neutral form."""

    @property
    def name(self) -> str:
        """The backend's name (``openai``, ``anthropic``)."""

    def send(self, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> Reply:
        """One request with the whole conversation so far; raises ``ApiError`` (or one of its
        kinds) when the API cannot answer after the retries it allows."""
