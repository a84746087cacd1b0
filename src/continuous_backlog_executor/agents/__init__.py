"""Coding agents the engine can drive, one phase at a time (see ``base`` for the contract).

Every backend is chosen by the configuration's ``agent.type``, in one sorted registry:

- ``command``: any program, run in the worktree with the phase's details as ``{placeholders}``
  in its arguments and ``BACKLOG_*`` environment variables (``command``);
- ``scripted``: the stand-in agent shipped here, following a YAML script, for tests and demos
  (the backend and the script format in ``script``, the program in ``scripted``).

Backends that call a model's API or preset the command for a known agent CLI belong here too,
each a module with a builder in ``BUILDERS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from .base import Agent, AgentError
from .command import CommandAgent
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


BUILDERS: dict[str, Callable[[Mapping[str, object], Path], Agent]] = {
    "command": _command,
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
