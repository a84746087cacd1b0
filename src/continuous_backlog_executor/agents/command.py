"""The command agent: any program that works in the current folder, run once per phase with the
phase's details as placeholders in its arguments and as ``BACKLOG_*`` environment variables."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from .. import process
from ..errors import ProcessError
from .base import AgentError, AgentRequest, AgentRun, Ending

TAIL_LINES = 40
# Enough bytes for TAIL_LINES ordinary lines without reading a huge transcript whole.
TAIL_BYTES = 64 * 1024

# Only these names are filled in; any other brace text in an argument is passed on as written.
PLACEHOLDER = re.compile(r"\{(prompt_file|workdir|phase|item_id|answer_file)\}")

HOW_TO_CONFIGURE = (
    "set agent.command in the configuration to the program that runs your coding agent and "
    "its arguments, e.g. [my-agent, --prompt-file, '{prompt_file}']"
)


class CommandAgent:
    """Runs ``command`` in the worktree for each phase and reports how it ended."""

    def __init__(self, command: Sequence[str], *, name: str = "command") -> None:
        self.command = tuple(command)
        self._name = name

    @property
    def name(self) -> str:
        """The backend's name, as in the configuration's ``agent.type``."""
        return self._name

    def check(self) -> None:
        """Raise ``AgentError`` unless the command is set and its program can be found."""
        if not self.command:
            raise AgentError(f"agent {self.name!r} has no command; {HOW_TO_CONFIGURE}")
        program = self.command[0]
        if process.find_program(program, program) is None:
            raise AgentError(
                f"agent {self.name!r}: program {program!r} not found "
                f"({'no such executable file' if '/' in program else 'not on PATH'}); "
                f"install it or {HOW_TO_CONFIGURE}"
            )

    def run(self, request: AgentRequest) -> AgentRun:
        """Do ``request.phase`` in ``request.workdir``; never raise for a misbehaving agent."""
        argv = fill(self.command, request)
        if not argv:
            return self._not_started(argv, request, f"agent {self.name!r} has no command")
        start = _size(request.transcript)
        try:
            result = process.run_logged(
                argv,
                cwd=request.workdir,
                env=environment(request),
                timeout=request.timeout,
                log=request.transcript,
            )
        except ProcessError as error:
            return self._not_started(argv, request, str(error))
        return AgentRun(
            agent=self.name,
            command=argv,
            ending=_ending(result),
            exit_code=result.returncode,  # negative: the signal that ended it
            duration=result.duration,
            output_tail=tail(request.transcript, start),
            transcript=request.transcript,
        )

    def _not_started(self, argv: tuple[str, ...], request: AgentRequest, reason: str) -> AgentRun:
        # The reason goes into the transcript too, so the evidence reads the same either way.
        with contextlib.suppress(OSError), request.transcript.open("a", encoding="utf-8") as out:
            out.write(reason + "\n")
        return AgentRun(self.name, argv, Ending.CRASHED, None, 0.0, reason, request.transcript)


def fill(command: Sequence[str], request: AgentRequest) -> tuple[str, ...]:
    """``command`` with the request's placeholders filled in, each argument in a single pass."""
    values = {
        "prompt_file": str(request.prompt_file),
        "workdir": str(request.workdir),
        "phase": str(request.phase),
        "item_id": request.item_id,
        "answer_file": str(request.answer_file) if request.answer_file else "",
    }
    return tuple(PLACEHOLDER.sub(lambda match: values[match[1]], arg) for arg in command)


def environment(request: AgentRequest) -> Mapping[str, str]:
    """The request's environment plus the ``BACKLOG_*`` variables describing the phase."""
    env = dict(request.env)
    env.update(
        BACKLOG_PHASE=str(request.phase),
        BACKLOG_ITEM_ID=request.item_id,
        BACKLOG_PROMPT_FILE=str(request.prompt_file),
        BACKLOG_WORKDIR=str(request.workdir),
        BACKLOG_TRY=str(request.try_number),
    )
    if request.answer_file is not None:
        env["BACKLOG_ANSWER_FILE"] = str(request.answer_file)
    return env


def tail(transcript: Path, start: int, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` lines written to ``transcript`` after byte ``start``."""
    try:
        with transcript.open("rb") as file:
            file.seek(max(start, file.seek(0, 2) - TAIL_BYTES))
            text = file.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _ending(result: process.Result) -> Ending:
    if result.timed_out:
        return Ending.TIMED_OUT
    # A negative status is the signal that killed it.
    return Ending.CRASHED if result.returncode < 0 else Ending.EXITED
