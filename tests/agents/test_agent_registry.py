"""Tests for choosing and building an agent from the configuration's ``agent`` settings."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from continuous_backlog_executor.agents import AGENT_TYPES, make_agent
from continuous_backlog_executor.agents.base import AgentError
from continuous_backlog_executor.agents.command import CommandAgent
from continuous_backlog_executor.agents.script import ScriptedAgent


def test_the_types_are_listed_in_order() -> None:
    assert AGENT_TYPES == (
        "aider",
        "anthropic",
        "claude",
        "codex",
        "command",
        "openai",
        "opencode",
        "scripted",
    )


def test_a_command_agent_runs_the_configured_command(tmp_path: Path) -> None:
    agent = make_agent({"type": "command", "command": ["my-agent", "{prompt_file}"]}, base=tmp_path)

    assert isinstance(agent, CommandAgent)
    assert (agent.name, agent.command) == ("command", ("my-agent", "{prompt_file}"))


def test_a_relative_program_path_is_relative_to_the_base(tmp_path: Path) -> None:
    agent = make_agent({"type": "command", "command": ["tools/agent.sh", "-v"]}, base=tmp_path)

    assert isinstance(agent, CommandAgent)
    assert agent.command == (str(tmp_path / "tools/agent.sh"), "-v")


def test_a_scripted_agent_follows_the_script_relative_to_the_base(tmp_path: Path) -> None:
    agent = make_agent({"type": "scripted", "script": "agent/script.yml"}, base=tmp_path)

    assert isinstance(agent, ScriptedAgent)
    assert agent.name == "scripted"
    assert agent.script == tmp_path / "agent" / "script.yml"
    assert agent.command[0] == sys.executable


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        (
            {"type": "magic"},
            r"unknown agent.type 'magic'; valid types: aider, anthropic, claude, codex, command, "
            r"openai, opencode, scripted",
        ),
        (
            {},
            r"unknown agent.type None; valid types: aider, anthropic, claude, codex, command, "
            r"openai, opencode, scripted",
        ),
        ({"type": "command", "command": "my-agent --go"}, r"agent.command must be a list"),
        ({"type": "command", "command": ["a", 1]}, r"agent.command must be a list"),
        ({"type": "scripted"}, r"the scripted agent needs agent.script"),
    ],
)
def test_bad_settings_say_what_to_set(settings: dict[str, object], problem: str) -> None:
    with pytest.raises(AgentError, match=problem):
        make_agent(settings, base=Path())


def test_a_command_agent_without_a_command_is_reported_by_check(tmp_path: Path) -> None:
    agent = make_agent({"type": "command"}, base=tmp_path)

    assert isinstance(agent, CommandAgent)
    with pytest.raises(AgentError, match=r"set agent\.command in the configuration"):
        agent.check()
