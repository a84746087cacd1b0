"""Coding CLIs as presets: ``agent.type`` aider, claude, codex or opencode runs that tool without
questions in the worktree, hands it the item's remaining budget where the tool has caps, and
records the tokens, cost and ending the tool reports about itself.

What each preset runs (P is the prompt text; [..] only when set; ``extra_args`` go before P):

- aider: ``aider --message-file <prompt_file> --yes-always --no-auto-commits --no-dirty-commits
  --no-gitignore --no-detect-urls --no-check-update --no-show-release-notes --no-analytics
  --no-pretty --no-stream --no-fancy-input --input-history-file <log> --chat-history-file <log>
  [--model M]``. The engine commits, so aider must not; it must not edit .gitignore, fetch URLs
  found in untrusted item text, or ask anything. ``--no-analytics`` (this run) rather than
  ``--analytics-disable``, which writes to ~/.aider. aider has no structured output: usage comes
  from its ``Tokens: 2.3k sent, 150 received. Cost: $0.01 message, $0.02 session.`` lines
  (rounded; cost only without streaming). No turn or cost cap. Its repo-map cache
  ``.aider.tags.cache.v4/`` lands in the worktree: list ``.aider*`` in the project's .gitignore.
  Source: aider/args.py and coders/base_coder.py at Aider-AI/aider 5dc9490 (0.86.3.dev);
  https://aider.chat/docs/config/options.html, https://aider.chat/docs/scripting.html.
- claude: ``claude -p P --output-format json --permission-mode acceptEdits [--max-turns N]
  [--max-budget-usd X] [--model M] [--add-dir <answer folder>]``: N is the smaller of
  ``max_turns`` and the budget's turns, X the budget's cost. The result object gives
  total_cost_usd, num_turns and usage (modelUsage when present, which includes helper models);
  subtype error_max_turns is MAX_TURNS, error_max_budget_usd OVER_BUDGET, api_error_status 429
  RATE_LIMITED and 401/403/404 API_ERROR. acceptEdits approves edits only: shell commands stay
  denied unless ``extra_args`` allow them (``--allowedTools``). CLAUDECODE is removed from its
  environment so a nested run is not refused. Source: https://code.claude.com/docs/en/cli-reference;
  claude-agent-sdk-python e8bde60 (transport/subprocess_cli.py builds these flags,
  types.ResultMessage); claude-code CHANGELOG 2.0.28 (--max-budget-usd, print mode only).
- codex: ``codex exec --json --sandbox workspace-write --skip-git-repo-check --cd <workdir>
  [--model M] [--add-dir <answer folder>] -- P``. In the JSONL events, turn.completed's
  usage is the thread's running total (its input_tokens include cached_input_tokens), so the last
  one counts; codex reports no cost and has no turn or cost cap; turn.failed and error messages
  become the reason. Source: https://developers.openai.com/codex/noninteractive; codex-rs/exec/src
  cli.rs, exec_events.rs, event_processor_with_jsonl_output.rs (openai/codex).
- opencode: ``opencode run --format json --dir <workdir> [--model provider/model] -- P``.
  step_finish events carry each model step's tokens and cost (summed); an error event's message
  is the reason, ProviderAuthError or an HTTP status as for claude sets the ending. ``run``
  rejects permission requests (a write outside the worktree, such as the answer file, needs
  opencode permission config or ``extra_args: [--auto]``); no turn or cost cap; the last
  step_finish can be missing (anomalyco/opencode#26855). Source: https://opencode.ai/docs/cli/;
  packages/opencode/src/cli/cmd/run.ts and session/message-v2.ts (anomalyco/opencode).

<answer folder> is the answer file's folder, given in the criteria and slice phases only (they
write their answer there). Settings: ``model``; ``max_turns`` (claude; the other tools have no
turn cap and ignore it); ``extra_args``; ``command``, the program, or the program and leading
arguments such as ``[npx, -y, "@openai/codex"]``. Input tokens count every token the model read,
cached or not (the OpenAI-style total), so budgets mean the same for every tool; output tokens
leave out separately reported reasoning tokens. The prompt is one argument (opencode wraps one
with spaces in quotes before sending it; harmless), so one over 128 KiB, Linux's limit for an
argument, cannot start: the run ends as crashed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .. import process
from ..errors import ProcessError
from .base import Agent, AgentError, AgentRequest, AgentRun, Ending, Phase, Usage
from .cli_reports import Outcome, parse_aider, parse_claude, parse_codex, parse_opencode
from .command import environment, tail

ANSWERING = (Phase.CRITERIA, Phase.SLICE)  # the phases that write an answer file


@dataclass(frozen=True, slots=True)
class Options:
    """A preset's settings, checked when the agent is built."""

    program: tuple[str, ...]  # the program, possibly with leading arguments (npx and a package)
    model: str | None = None
    max_turns: int | None = None
    extra_args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Preset:
    """One CLI: how to call it for a request, and how to read what it printed."""

    name: str
    program: str
    install: str  # the commands that install it, for the "not installed" message
    arguments: Callable[[Options, AgentRequest, str], list[str]]  # after the program; str: prompt
    parse: Callable[[str], Outcome]  # this run's output -> usage and ending; never raises
    caps_turns: bool = False  # has a turn cap, so ``max_turns`` means something
    model_needs_provider: bool = False  # models are written provider/model
    drop_env: tuple[str, ...] = ()
    # The variables (globs) it needs from the engine's environment: its keys and settings.
    env_needs: tuple[str, ...] = ()


class PresetAgent:
    """Runs a preset's CLI in the worktree for each phase and reads its report."""

    def __init__(self, preset: Preset, options: Options) -> None:
        self.preset = preset
        self.options = options

    @property
    def name(self) -> str:
        """The backend's name, as in the configuration's ``agent.type``."""
        return self.preset.name

    @property
    def env_needs(self) -> tuple[str, ...]:
        """The variables (globs) the tool needs from the engine's environment."""
        return self.preset.env_needs

    def check(self) -> None:
        """Raise ``AgentError``, saying how to install it, unless the program can be found."""
        program = self.options.program[0]
        if process.find_program(program, program) is None:
            raise AgentError(f"agent {self.name!r}: {self._missing(program)}")

    def argv(self, request: AgentRequest, prompt: str | None = None) -> tuple[str, ...]:
        """What runs for ``request``; ``prompt`` stands in for the prompt text when given."""
        text = request.prompt if prompt is None else prompt
        return (*self.options.program, *self.preset.arguments(self.options, request, text))

    def run(self, request: AgentRequest) -> AgentRun:
        """Do ``request.phase`` in ``request.workdir``; never raise for a misbehaving agent."""
        # The receipt shows where the prompt is, not kilobytes of it in every step's command.
        shown = self.argv(request, f"<the prompt in {request.prompt_file}>")
        spent = request.budget.exceeded(Usage())
        if spent is not None:
            return self._not_started(shown, request, Ending.OVER_BUDGET, f"no budget left: {spent}")
        start = _size(request.transcript)
        try:
            result = process.run_logged(
                self.argv(request),
                cwd=request.workdir,
                env=self._environment(request),
                timeout=request.timeout,
                log=request.transcript,
            )
        except ProcessError as error:
            program = self.options.program[0]
            found = process.find_program(program, program) is not None
            reason = str(error) if found else f"{error}; {self._missing(program)}"
            return self._not_started(shown, request, Ending.CRASHED, reason)
        outcome = self.preset.parse(_output(request.transcript, start))
        return AgentRun(
            agent=self.name,
            command=shown,
            ending=_ending(result, outcome),
            exit_code=result.returncode,
            duration=result.duration,
            output_tail=tail(request.transcript, start),
            transcript=request.transcript,
            usage=outcome.usage,
            reason=outcome.reason,
        )

    def _environment(self, request: AgentRequest) -> dict[str, str]:
        env = dict(environment(request))
        # opencode takes its folder from PWD, which would otherwise name the engine's checkout.
        env["PWD"] = str(request.workdir)
        for name in self.preset.drop_env:
            env.pop(name, None)
        return env

    def _missing(self, program: str) -> str:
        hint = f"install it with: {self.preset.install}; or set agent.command to its path"
        return process.missing_program(program, program, hint)

    def _not_started(
        self, argv: tuple[str, ...], request: AgentRequest, ending: Ending, reason: str
    ) -> AgentRun:
        # The reason goes into the transcript too, so the evidence reads the same either way.
        with contextlib.suppress(OSError):
            request.transcript.parent.mkdir(parents=True, exist_ok=True)
            with request.transcript.open("a", encoding="utf-8") as out:
                out.write(reason + "\n")
        return AgentRun(
            self.name, argv, ending, None, 0.0, reason, request.transcript, reason=reason
        )


# --- argument lists ---------------------------------------------------------------------------


def _aider_arguments(options: Options, request: AgentRequest, prompt: str) -> list[str]:
    del prompt  # aider reads the same text from the prompt file
    logs, stem = request.transcript.parent, request.transcript.stem
    return [
        *("--message-file", str(request.prompt_file), "--yes-always"),
        *("--no-auto-commits", "--no-dirty-commits", "--no-gitignore", "--no-detect-urls"),
        *("--no-check-update", "--no-show-release-notes", "--no-analytics"),
        # Without streaming aider can price the reply (see the module docstring).
        *("--no-pretty", "--no-stream", "--no-fancy-input"),
        # Its history files go beside the transcript, not into the worktree.
        *("--input-history-file", str(logs / f"{stem}.aider-input.txt")),
        *("--chat-history-file", str(logs / f"{stem}.aider-chat.md")),
        *_flag("--model", options.model),
        *options.extra_args,
    ]


def _claude_arguments(options: Options, request: AgentRequest, prompt: str) -> list[str]:
    cost = request.budget.cost_usd
    # The prompt right after -p, as documented: --add-dir takes several values and would swallow
    # a prompt that came after it. A leading space keeps a prompt starting with "-" from being
    # read as an option.
    return [
        *("-p", f" {prompt}" if prompt.startswith("-") else prompt),
        *("--output-format", "json", "--permission-mode", "acceptEdits"),
        *_flag("--max-turns", _least(options.max_turns, request.budget.turns)),
        *_flag("--max-budget-usd", None if cost is None else f"{cost:.6f}"),
        *_flag("--model", options.model),
        *_flag("--add-dir", _answer_folder(request)),
        *options.extra_args,
    ]


def _codex_arguments(options: Options, request: AgentRequest, prompt: str) -> list[str]:
    return [
        *("exec", "--json", "--sandbox", "workspace-write"),
        # Harmless (the worktree is under git); spares the run codex's own repository check.
        *("--skip-git-repo-check", "--cd", str(request.workdir)),
        *_flag("--model", options.model),
        *_flag("--add-dir", _answer_folder(request)),
        *options.extra_args,
        *("--", prompt),
    ]


def _opencode_arguments(options: Options, request: AgentRequest, prompt: str) -> list[str]:
    return [
        *("run", "--format", "json", "--dir", str(request.workdir)),
        *_flag("--model", options.model),
        *options.extra_args,
        *("--", prompt),
    ]


def _flag(name: str, value: object) -> list[str]:
    return [] if value is None else [name, str(value)]


def _least(*limits: int | None) -> int | None:
    given = [limit for limit in limits if limit is not None]
    return min(given) if given else None


def _answer_folder(request: AgentRequest) -> str | None:
    # Only the phases that answer may write outside the worktree, and only into that folder.
    if request.answer_file is None or request.phase not in ANSWERING:
        return None
    return str(request.answer_file.parent)


def _ending(result: process.Result, outcome: Outcome) -> Ending:
    if result.timed_out:
        return Ending.TIMED_OUT
    if result.returncode < 0:  # the signal that killed it
        return Ending.CRASHED
    return outcome.ending or Ending.EXITED


def _output(transcript: Path, start: int) -> str:
    try:
        with transcript.open("rb") as file:
            file.seek(start)
            return file.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


# --- the presets and their builders -----------------------------------------------------------

# The keys of the model providers aider and opencode can use.
_PROVIDER_KEYS = (
    "OPENAI_API_KEY", "OPENAI_API_BASE", "ANTHROPIC_API_KEY", "GEMINI_API_KEY",
    "OPENROUTER_API_KEY", "DEEPSEEK_API_KEY", "MISTRAL_API_KEY", "GROQ_API_KEY",
)  # fmt: skip

AIDER = Preset(
    "aider",
    "aider",
    "python -m pip install aider-install && aider-install (or: pip install aider-chat)",
    _aider_arguments,
    parse_aider,
    env_needs=(*_PROVIDER_KEYS, "AIDER_*"),
)
CLAUDE = Preset(
    "claude",
    "claude",
    "curl -fsSL https://claude.ai/install.sh | bash (or: npm install -g @anthropic-ai/claude-code)",
    _claude_arguments,
    parse_claude,
    caps_turns=True,
    drop_env=("CLAUDECODE",),
    env_needs=(
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_MODEL",
        "CLAUDE_CODE_OAUTH_TOKEN",
        "CLAUDE_CONFIG_DIR",
    ),
)
CODEX = Preset(
    "codex",
    "codex",
    "npm install -g @openai/codex",
    _codex_arguments,
    parse_codex,
    env_needs=("OPENAI_API_KEY", "OPENAI_BASE_URL", "CODEX_API_KEY", "CODEX_HOME"),
)
OPENCODE = Preset(
    "opencode",
    "opencode",
    "npm install -g opencode-ai (or: curl -fsSL https://opencode.ai/install | bash)",
    _opencode_arguments,
    parse_opencode,
    model_needs_provider=True,
    env_needs=(*_PROVIDER_KEYS, "OPENCODE_*"),
)


def options(preset: Preset, settings: Mapping[str, object], base: Path) -> Options:
    """The preset's settings from the configuration's ``agent`` section; relative program paths
    are relative to ``base``. Raises ``AgentError`` saying which setting to fix."""
    where = f"agent.{{}} for agent.type {preset.name}"
    model = settings.get("model")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise AgentError(f"{where.format('model')} must be a model name, not {model!r}")
    if preset.model_needs_provider and isinstance(model, str) and "/" not in model:
        raise AgentError(f"{where.format('model')} must be written provider/model, not {model!r}")
    # agent.max_turns always arrives (it has a default, shared with the model APIs); a tool
    # without a turn cap has nothing to apply it to.
    turns = settings.get("max_turns") if preset.caps_turns else None
    if turns is not None and (isinstance(turns, bool) or not isinstance(turns, int) or turns < 1):
        raise AgentError(f"{where.format('max_turns')} must be a whole number >= 1, not {turns!r}")
    extra = settings.get("extra_args") or []
    if not isinstance(extra, (list, tuple)) or not all(isinstance(arg, str) for arg in extra):
        raise AgentError(f"{where.format('extra_args')} must be a list of text, not {extra!r}")
    return Options(_program(preset, settings.get("command"), base), model, turns, tuple(extra))


def _program(preset: Preset, command: object, base: Path) -> tuple[str, ...]:
    if not command:
        return (preset.program,)
    words = [command] if isinstance(command, str) else command
    if not isinstance(words, (list, tuple)) or not all(isinstance(word, str) for word in words):
        raise AgentError(
            f"agent.command for agent.type {preset.name} must be the program (text) or a list "
            f"of the program and its leading arguments, not {command!r}"
        )
    program = Path(words[0]).expanduser()
    # A relative program path is the configuration's, like every other path in it.
    first = str(base / program) if "/" in words[0] and not program.is_absolute() else str(program)
    return (first, *words[1:])


def _builder(preset: Preset) -> Callable[[Mapping[str, object], Path], Agent]:
    def build(settings: Mapping[str, object], base: Path) -> Agent:
        return PresetAgent(preset, options(preset, settings, base))

    return build


BUILDERS: dict[str, Callable[[Mapping[str, object], Path], Agent]] = {
    "aider": _builder(AIDER),
    "claude": _builder(CLAUDE),
    "codex": _builder(CODEX),
    "opencode": _builder(OPENCODE),
}
