"""The OpenAI-style chat completions client: ``POST {base_url}/chat/completions``, which OpenAI
and most compatible servers speak (Azure OpenAI's v1 endpoint, vLLM, Ollama, OpenRouter).

``base_url`` is the API's root including its version, as those servers document it:
``https://api.openai.com/v1``, ``http://localhost:11434/v1``,
``https://RESOURCE.openai.azure.com/openai/v1``; a query in it (``?api-version=``) is kept.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence

from .chat import ChatSettings, Message, Reply, Role, TokenUsage, ToolCall, ToolSpec
from .http import JsonClient, Sleep, check_key, endpoint, expect, malformed, optional

# The format has no error flag on a tool's result, so a failed tool's text says so itself.
ERROR_PREFIX = "Error: "


class OpenAIClient(JsonClient):
    """A model behind an OpenAI-compatible chat completions API."""

    def __init__(
        self, settings: ChatSettings, *, key_hint: str = "", sleep: Sleep = time.sleep
    ) -> None:
        key = check_key(settings.api_key, key_hint)
        super().__init__(
            settings,
            url=endpoint(settings.base_url, "chat/completions"),
            # Local servers (Ollama, vLLM) often need no key: then no Authorization header.
            headers={"Authorization": f"Bearer {key}"} if key else {},
            encode=request_body,
            decode=parse_reply,
            key_hint=key_hint,
            sleep=sleep,
        )

    @property
    def name(self) -> str:
        """The backend's name."""
        return "openai"


def request_body(
    settings: ChatSettings, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]
) -> dict[str, object]:
    """The JSON body of one request."""
    wire = [{"role": "system", "content": system}] if system else []
    body: dict[str, object] = {
        "model": settings.model,
        "messages": [*wire, *(_message(message) for message in messages)],
        "max_tokens": settings.max_tokens,
    }
    if settings.temperature is not None:
        body["temperature"] = settings.temperature
    if tools:  # OpenAI refuses an empty list
        body["tools"] = [_tool(tool) for tool in tools]
    return body


def _message(message: Message) -> dict[str, object]:
    if message.role is Role.ASSISTANT:
        wire: dict[str, object] = {"role": "assistant", "content": message.text or None}
        if message.tool_calls:
            wire["tool_calls"] = [_call(call) for call in message.tool_calls]
        elif not message.text:
            wire["content"] = ""  # null content is only allowed beside tool calls
        return wire
    if message.role is Role.TOOL:
        if message.tool_call_id is None:
            raise ValueError("a tool message needs the tool_call_id of the call it answers")
        text = f"{ERROR_PREFIX}{message.text}" if message.is_error else message.text
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": text}
    return {"role": message.role.value, "content": message.text}


def _call(call: ToolCall) -> dict[str, object]:
    function = {"name": call.name, "arguments": call.arguments}
    return {"id": call.id, "type": "function", "function": function}


def _tool(tool: ToolSpec) -> dict[str, object]:
    function = {
        "name": tool.name,
        "description": tool.description,
        "parameters": dict(tool.parameters),
    }
    return {"type": "function", "function": function}


def parse_reply(raw: Mapping[str, object], url: str) -> Reply:
    """The neutral reply in a chat completion; ``ApiError`` when it is not one."""
    choices = expect(raw.get("choices"), list, "choices", url)
    if not choices:
        raise malformed(url, "choices is empty")
    choice = expect(choices[0], dict, "choices[0]", url)
    message = expect(choice.get("message"), dict, "choices[0].message", url)
    calls = optional(message.get("tool_calls"), list, [], "message.tool_calls", url)
    return Reply(
        text=_text(message, url),
        tool_calls=tuple(_tool_call(call, index, url) for index, call in enumerate(calls)),
        usage=_usage(raw.get("usage"), url),
        stop_reason=optional(choice.get("finish_reason"), str, "", "finish_reason", url),
        raw=raw,
    )


def _text(message: Mapping[str, object], url: str) -> str:
    content = message.get("content")
    if content is None:
        # A model that declines says why in ``refusal`` and leaves the content empty.
        return optional(message.get("refusal"), str, "", "message.refusal", url)
    return expect(content, str, "message.content", url)


def _tool_call(value: object, index: int, url: str) -> ToolCall:
    where = f"message.tool_calls[{index}]"
    call = expect(value, dict, where, url)
    function = expect(call.get("function"), dict, f"{where}.function", url)
    arguments = function.get("arguments")
    if isinstance(arguments, dict):
        # Some compatible servers send the arguments decoded; the loop wants the text.
        arguments = json.dumps(arguments)
    # Some servers leave the id out; the loop still needs one to answer the call.
    call_id = optional(call.get("id"), str, "", f"{where}.id", url) or f"call_{index}"
    return ToolCall(
        id=call_id,
        name=expect(function.get("name"), str, f"{where}.function.name", url),
        arguments=optional(arguments, str, "", f"{where}.function.arguments", url),
    )


def _usage(value: object, url: str) -> TokenUsage:
    usage = optional(value, dict, {}, "usage", url)
    return TokenUsage(
        input_tokens=optional(usage.get("prompt_tokens"), int, 0, "usage.prompt_tokens", url),
        output_tokens=optional(
            usage.get("completion_tokens"), int, 0, "usage.completion_tokens", url
        ),
    )
