"""Coding agents the engine can drive, one phase at a time (see ``base`` for the contract).

Every backend is chosen by the configuration's ``agent.type``, in one sorted registry:

- ``command``: any program, run in the worktree with the phase's details as ``{placeholders}``
  in its arguments and ``BACKLOG_*`` environment variables (``command``);
- ``scripted``: the stand-in agent shipped here, following a YAML script, for tests and demos
  (the backend and the script format in ``script``, the program in ``scripted``);
- ``openai`` and ``anthropic``: a model behind an OpenAI-compatible chat completions API or
  Anthropic's messages API, driven by the engine's own tool loop (``model``, ``tools``, the
  clients in ``openai_api`` and ``anthropic_api``; ``stand_in`` serves scripted turns in their
  wire formats for tests and demos);
- ``aider``, ``claude``, ``codex`` and ``opencode``: those coding CLIs, each run the way its own
  documentation gives for a non-interactive run, their reports of tokens and cost parsed
  (``presets``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from . import model, presets
from .anthropic_api import AnthropicClient
from .base import Agent, AgentError
from .chat import ChatClient
from .command import CommandAgent
from .openai_api import OpenAIClient
from .script import ScriptedAgent

__all__ = ["AGENT_TYPES", "BUILDERS", "make_agent"]


def _command(settings: Mapping[str, object], base: Path) -> Agent:
    command = settings.get("command") or []
    if not isinstance(command, (list, tuple)) or not all(isinstance(arg, str) for arg in command):
        raise AgentError(
            f"agent.command must be a list of text (a program and its arguments), not {command!r}"
        )
    # A relative program path is the configuration's, like every other path in it.
    if command and "/" in command[0] and not Path(command[0]).expanduser().is_absolute():
        command = [str(base / command[0]), *command[1:]]
    return CommandAgent(command)


def _scripted(settings: Mapping[str, object], base: Path) -> Agent:
    script = settings.get("script")
    if not isinstance(script, str) or not script:
        raise AgentError(
            "the scripted agent needs agent.script: set it in the configuration to the path "
            f"of its YAML script (relative to {base}), not {script!r}"
        )
    return ScriptedAgent(base / Path(script).expanduser())


# The model APIs: their public URL and where their key usually is.
_APIS = {
    "openai": ("https://api.openai.com/v1", "OPENAI_API_KEY"),
    "anthropic": ("https://api.anthropic.com", "ANTHROPIC_API_KEY"),
}


def _model(kind: str) -> Callable[[Mapping[str, object], Path], Agent]:
    def build(settings: Mapping[str, object], base: Path) -> Agent:
        default_url, default_env = _APIS[kind]
        variable = str(settings.get("api_key_env") or default_env)
        key = os.environ.get(variable) or None
        if key is None and not settings.get("base_url"):
            raise AgentError(
                f"agent.type {kind} needs an API key: set the environment variable {variable} "
                "(or name another one in agent.api_key_env); the key is never read from files"
            )
        chat = model.chat_settings(settings, default_url=default_url, key=key)
        hint = f"${variable}"
        client: ChatClient = (
            OpenAIClient(chat, key_hint=hint)
            if kind == "openai"
            else AnthropicClient(chat, key_hint=hint)
        )
        turns = settings.get("max_turns")
        return model.ModelAgent(
            client,
            max_turns=turns if isinstance(turns, int) else 40,
            prices=model.prices(settings),
        )

    return build


BUILDERS: dict[str, Callable[[Mapping[str, object], Path], Agent]] = {
    "aider": presets.BUILDERS["aider"],
    "anthropic": _model("anthropic"),
    "claude": presets.BUILDERS["claude"],
    "codex": presets.BUILDERS["codex"],
    "command": _command,
    "openai": _model("openai"),
    "opencode": presets.BUILDERS["opencode"],
    "scripted": _scripted,
}
AGENT_TYPES = tuple(BUILDERS)


def make_agent(settings: Mapping[str, object], *, base: Path) -> Agent:
    """The agent ``settings["type"]`` names, built from the other settings; paths in them are
    relative to ``base``. Raises ``AgentError`` for an unknown type or a malformed setting."""
    kind = settings.get("type")
    builder = BUILDERS.get(kind) if isinstance(kind, str) else None
    if builder is None:
        raise AgentError(
            f"unknown agent.type {kind!r}; valid types: {', '.join(AGENT_TYPES)}. "
            "Set agent.type in the configuration to one of them"
        )
    return builder(settings, base)
