"""The scripted agent's backend and its script: for each item and phase a list of tries, each a
list of actions, read from YAML and checked once into steps, so a bad script fails before it does
anything. The program that performs them is ``scripted``.

::

    INV-3:                  # an item id; "*" stands for every item without its own entry
      red:                  # a phase
        - - write: {path: tests/test_x.py, content: "..."}    # try 1
        - - replace: {path: tests/test_x.py, old: "...", new: "..."}  # try 2, and every later try
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .base import AgentError, Phase
from .command import CommandAgent

ANY_ITEM = "*"
# The program that follows a script; see ``scripted``.
MODULE = "continuous_backlog_executor.agents.scripted"

# Actions whose argument is a mapping: its required keys, then its optional ones.
MAPPING_ACTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "append": (("path", "content"), ()),
    "replace": (("path", "old", "new"), ()),
    "symlink": (("path", "target"), ()),
    "write": (("path",), ("content", "from")),
    "write_env": (("path", "var"), ()),
}
TEXT_ACTIONS = ("commit", "delete", "mkdir", "print", "syntax_error")
SECONDS_ACTIONS = ("sleep", "spawn_sleeper")
ACTIONS = tuple(sorted((*MAPPING_ACTIONS, *TEXT_ACTIONS, *SECONDS_ACTIONS, "answer", "exit")))


class ScriptError(AgentError):
    """The script cannot be read, is malformed, or one of its actions failed."""


@dataclass(frozen=True, slots=True)
class Step:
    """One checked action; only the argument fitting its kind is set."""

    action: str
    where: str  # script file, item, phase, try, action: for messages
    fields: Mapping[str, str] = field(default_factory=dict)  # mapping actions
    text: str = ""  # text actions
    number: float = 0  # sleep and spawn_sleeper seconds, the exit code
    data: object = None  # what ``answer`` writes


Tries = tuple[tuple[Step, ...], ...]


@dataclass(frozen=True, slots=True)
class Script:
    """A loaded script: per item id, per phase, the tries."""

    path: Path
    entries: Mapping[str, Mapping[Phase, Tries]]

    def steps(self, item_id: str, phase: Phase, try_number: int) -> tuple[Step, ...]:
        """The actions for this try; the last try repeats, and an unknown item does nothing."""
        entry = self.entries.get(item_id, self.entries.get(ANY_ITEM, {}))
        tries = entry.get(phase, ())
        return tries[min(max(try_number, 1), len(tries)) - 1] if tries else ()


class ScriptedAgent(CommandAgent):
    """The scripted agent as a backend: a ``CommandAgent`` running ``scripted`` on ``script``."""

    def __init__(self, script: Path) -> None:
        # Absolute, because the program runs in the worktree, not here.
        self.script = script.absolute()
        argv = [sys.executable, "-m", MODULE, "--script", str(self.script)]
        super().__init__(argv, name="scripted")

    def check(self) -> None:
        """Raise ``AgentError`` unless the script exists and is well formed."""
        if not self.script.is_file():
            raise AgentError(
                f"agent script {self.script} does not exist; "
                "set agent.script in the configuration to a script file"
            )
        load(self.script)
        super().check()


def load(path: Path) -> Script:
    """Read and check the script at ``path``; raise ``ScriptError`` saying what is wrong where."""
    try:
        with path.open(encoding="utf-8") as stream:  # a stream, so parse errors name the file
            document = YAML(typ="safe", pure=True).load(stream)
    except OSError as error:
        raise ScriptError(f"{path}: cannot read the agent script: {error.strerror}") from error
    except YAMLError as error:
        raise ScriptError(f"{path}: the agent script is not valid YAML: {error}") from error
    document = {} if document is None else document
    if not isinstance(document, dict):
        raise ScriptError(f"{path}: the agent script must map item ids to phases")
    return Script(path, {str(item): _entry(path, str(item), v) for item, v in document.items()})


def _entry(path: Path, item: str, value: object) -> dict[Phase, Tries]:
    where = f"{path}: item {item!r}"
    if not isinstance(value, dict):
        raise ScriptError(f"{where}: must map phases to lists of tries")
    return {
        _phase(where, key): _tries(f"{where}, phase {key}", path, v) for key, v in value.items()
    }


def _phase(where: str, key: object) -> Phase:
    try:
        return Phase(str(key))
    except ValueError:
        valid = ", ".join(Phase)
        raise ScriptError(f"{where}: unknown phase {key!r}; valid phases: {valid}") from None


def _tries(where: str, path: Path, value: object) -> Tries:
    if not isinstance(value, list):
        raise ScriptError(f"{where}: must be a list of tries, each a list of actions")
    return tuple(_try(f"{where}, try {n}", path, v) for n, v in enumerate(value, 1))


def _try(where: str, path: Path, value: object) -> tuple[Step, ...]:
    value = [] if value is None else value
    if not isinstance(value, list):
        raise ScriptError(f"{where}: a try must be a list of actions")
    return tuple(_step(f"{where}, action {n}", path, v) for n, v in enumerate(value, 1))


def _step(where: str, path: Path, value: object) -> Step:
    if not isinstance(value, dict) or len(value) != 1:
        raise ScriptError(f"{where}: an action is a mapping with one key, its name; got {value!r}")
    [(action, argument)] = value.items()
    where = f"{where} ({action})"
    if action in MAPPING_ACTIONS:
        return Step(action, where, fields=_fields(where, path, action, argument))
    if action in TEXT_ACTIONS:
        return Step(action, where, text=_text(where, argument))
    if action in SECONDS_ACTIONS:
        return Step(action, where, number=_seconds(where, argument))
    if action == "exit":
        return Step(action, where, number=_exit_code(where, argument))
    if action == "answer":
        return Step(action, where, data=argument)
    raise ScriptError(f"{where}: unknown action; valid actions: {', '.join(ACTIONS)}")


def _fields(where: str, path: Path, action: str, argument: object) -> dict[str, str]:
    required, optional = MAPPING_ACTIONS[action]
    keys = ", ".join((*required, *optional))
    if not isinstance(argument, dict) or not all(isinstance(v, str) for v in argument.values()):
        raise ScriptError(f"{where}: needs a mapping of text values with keys {keys}")
    fields = {str(key): value for key, value in argument.items()}
    missing = [key for key in required if key not in fields]
    unknown = [key for key in fields if key not in (*required, *optional)]
    if missing or unknown:
        problem = f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(unknown)}"
        raise ScriptError(f"{where}: {problem}; the keys are {keys}")
    return _with_content(where, path, fields) if action == "write" else fields


def _with_content(where: str, path: Path, fields: dict[str, str]) -> dict[str, str]:
    # ``from`` names a file beside the script; reading it now makes the step self-contained.
    if ("content" in fields) == ("from" in fields):
        raise ScriptError(f"{where}: needs exactly one of content and from")
    if "from" not in fields:
        return fields
    source = path.parent / fields["from"]
    try:
        content = source.read_text(encoding="utf-8")
    except OSError as error:
        raise ScriptError(f"{where}: cannot read {source}: {error.strerror}") from error
    return {"path": fields["path"], "content": content}


def _text(where: str, argument: object) -> str:
    if not isinstance(argument, str) or not argument:
        raise ScriptError(f"{where}: needs text, not {argument!r}")
    return argument


def _seconds(where: str, argument: object) -> float:
    if isinstance(argument, bool) or not isinstance(argument, (int, float)) or argument < 0:
        raise ScriptError(f"{where}: needs a number of seconds, not {argument!r}")
    return float(argument)


def _exit_code(where: str, argument: object) -> int:
    if isinstance(argument, bool) or not isinstance(argument, int) or not 0 <= argument <= 255:
        raise ScriptError(f"{where}: needs an exit code from 0 to 255, not {argument!r}")
    return argument
