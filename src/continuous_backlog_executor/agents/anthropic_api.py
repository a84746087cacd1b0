"""The Anthropic messages client: ``POST {base_url}/v1/messages``.

``base_url`` is the API's root without the version, as Anthropic's SDKs take it
(``https://api.anthropic.com``); a base URL already ending in ``/v1`` is accepted as well.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence

from .chat import ChatSettings, Message, Reply, Role, TokenUsage, ToolCall, ToolSpec
from .http import JsonClient, Sleep, check_key, endpoint, expect, optional

VERSION = "2023-06-01"  # the anthropic-version header: the wire format this module speaks
# An assistant's tool call whose arguments are not a JSON object is sent back as
# {UNPARSED: "<the text>"}: the API wants an object, and the model should still see what it
# wrote when it reads the error the loop answered that call with.
UNPARSED = "unparsed_arguments"

Block = dict[str, object]


class AnthropicClient(JsonClient):
    """A model behind Anthropic's messages API."""

    def __init__(
        self, settings: ChatSettings, *, key_hint: str = "", sleep: Sleep = time.sleep
    ) -> None:
        versioned = settings.base_url.split("?")[0].rstrip("/").endswith("/v1")
        key = check_key(settings.api_key, key_hint)
        super().__init__(
            settings,
            url=endpoint(settings.base_url, "messages" if versioned else "v1/messages"),
            headers={"anthropic-version": VERSION} | ({"x-api-key": key} if key else {}),
            encode=request_body,
            decode=parse_reply,
            key_hint=key_hint,
            sleep=sleep,
        )

    @property
    def name(self) -> str:
        """The backend's name."""
        return "anthropic"


def request_body(
    settings: ChatSettings, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]
) -> dict[str, object]:
    """The JSON body of one request."""
    # The API has no system role inside the conversation: such messages join the system text.
    extra = [message.text for message in messages if message.role is Role.SYSTEM]
    system_text = "\n\n".join(text for text in (system, *extra) if text)
    body: dict[str, object] = {
        "model": settings.model,
        "max_tokens": settings.max_tokens,
        "messages": _turns(messages),
    }
    if system_text:
        body["system"] = system_text
    if settings.temperature is not None:
        body["temperature"] = settings.temperature
    if tools:
        body["tools"] = [_tool(tool) for tool in tools]
    return body


def _turns(messages: Sequence[Message]) -> list[dict[str, object]]:
    """The conversation as alternating user and assistant turns: neighbours of one role, such as
    the results of several tool calls, are merged into one turn, as the API requires."""
    turns: list[tuple[str, list[Block]]] = []
    for message in messages:
        role, blocks = _blocks(message)
        if not blocks:  # the API refuses empty turns and empty text blocks
            continue
        if turns and turns[-1][0] == role:
            turns[-1][1].extend(blocks)
        else:
            turns.append((role, blocks))
    return [{"role": role, "content": blocks} for role, blocks in turns]


def _blocks(message: Message) -> tuple[str, list[Block]]:
    text: list[Block] = [{"type": "text", "text": message.text}] if message.text else []
    if message.role is Role.ASSISTANT:
        return "assistant", [*text, *(_tool_use(call) for call in message.tool_calls)]
    if message.role is Role.TOOL:
        return "user", [_tool_result(message)]
    if message.role is Role.USER:
        return "user", text
    return "user", []  # system messages went into the top-level system text


def _tool_use(call: ToolCall) -> Block:
    return {"type": "tool_use", "id": call.id, "name": call.name, "input": _input(call.arguments)}


def _input(arguments: str) -> dict[str, object]:
    if not arguments.strip():
        return {}
    try:
        value = json.loads(arguments)
    except ValueError:
        value = None
    return value if isinstance(value, dict) else {UNPARSED: arguments}


def _tool_result(message: Message) -> Block:
    if message.tool_call_id is None:
        raise ValueError("a tool message needs the tool_call_id of the call it answers")
    block: Block = {"type": "tool_result", "tool_use_id": message.tool_call_id}
    if message.text:
        block["content"] = message.text
    if message.is_error:
        block["is_error"] = True
    return block


def _tool(tool: ToolSpec) -> Block:
    return {
        "name": tool.name,
        "description": tool.description,
        "input_schema": dict(tool.parameters),
    }


def parse_reply(raw: Mapping[str, object], url: str) -> Reply:
    """The neutral reply in a messages answer; ``ApiError`` when it is not one."""
    content = expect(raw.get("content"), list, "content", url)
    texts: list[str] = []
    calls: list[ToolCall] = []
    for index, value in enumerate(content):
        block = expect(value, dict, f"content[{index}]", url)
        if block.get("type") == "text":
            texts.append(expect(block.get("text"), str, f"content[{index}].text", url))
        elif block.get("type") == "tool_use":
            calls.append(_tool_call(block, f"content[{index}]", url))
        # Other blocks (thinking, server tools) carry nothing the loop acts on.
    return Reply(
        text="\n".join(texts),
        tool_calls=tuple(calls),
        usage=_usage(raw.get("usage"), url),
        stop_reason=optional(raw.get("stop_reason"), str, "", "stop_reason", url),
        raw=raw,
    )


def _tool_call(block: Mapping[str, object], where: str, url: str) -> ToolCall:
    arguments = expect(block.get("input"), dict, f"{where}.input", url)
    return ToolCall(
        id=expect(block.get("id"), str, f"{where}.id", url),
        name=expect(block.get("name"), str, f"{where}.name", url),
        arguments=json.dumps(arguments),
    )


def _usage(value: object, url: str) -> TokenUsage:
    usage = optional(value, dict, {}, "usage", url)
    # Tokens read from or written to the prompt cache are counted apart from input_tokens;
    # all of them were input to this request.
    names = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    return TokenUsage(
        input_tokens=sum(optional(usage.get(name), int, 0, f"usage.{name}", url) for name in names),
        output_tokens=optional(usage.get("output_tokens"), int, 0, "usage.output_tokens", url),
    )
