"""What the coding CLIs print about a run, read back: tokens, cost and turns, and how the run
ended where the tool says so (turn cap, budget, an API's refusal). Each reader takes the run's
whole output and never raises: output it cannot read gives unknown usage. The formats follow
the tools' documentation and sources, cited in ``presets``.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .base import Ending, Usage

REASON_CHARS = 300  # a reason is a line of evidence, not the tool's whole error output


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the tool's own output said: its usage and, where it said so, how the run ended."""

    usage: Usage = field(default_factory=Usage)
    ending: Ending | None = None
    reason: str = ""


AIDER_TOKENS = re.compile(
    r"^Tokens: (?P<sent>[\d.]+k?) sent(?:, [\d.]+k? cache write)?(?:, [\d.]+k? cache hit)?, "
    r"(?P<received>[\d.]+k?) received\.",
    re.MULTILINE,
)
AIDER_COST = re.compile(r"Cost: \$[\d.]+ message, \$(?P<session>[\d.]+) session\.")
# Anthropic-style counts leave cached input out; these add it back (see the module docstring).
CLAUDE_TOTALS = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
CLAUDE_MODEL_TOTALS = ("inputTokens", "cacheReadInputTokens", "cacheCreationInputTokens")
CLAUDE_ENDINGS = {
    "error_max_turns": (Ending.MAX_TURNS, "claude reached its turn cap"),
    "error_max_budget_usd": (Ending.OVER_BUDGET, "cost: claude reached its budget cap"),
}


def parse_aider(output: str) -> Outcome:
    """Usage from aider's ``Tokens: ... Cost: ...`` lines, one pair per model reply."""
    replies = list(AIDER_TOKENS.finditer(output))
    costs = AIDER_COST.findall(output)
    return Outcome(
        Usage(
            sum(_rounded(reply["sent"]) for reply in replies),
            sum(_rounded(reply["received"]) for reply in replies),
            float(costs[-1]) if costs else None,  # the session's total so far
            len(replies),
        )
    )


def parse_claude(output: str) -> Outcome:
    """Usage and ending from the result object ``--output-format json`` prints."""
    results = [event for event in _objects(output) if event.get("type") == "result"]
    if not results:
        return Outcome()
    result = results[-1]
    models = result.get("modelUsage")
    if isinstance(models, dict) and models:
        counts = [
            (_sum(m, CLAUDE_MODEL_TOTALS), _count(m, "outputTokens")) for m in models.values()
        ]
    else:
        usage = result.get("usage")
        counts = [(_sum(usage, CLAUDE_TOTALS), _count(usage, "output_tokens"))]
    used = Usage(
        sum(read for read, _ in counts),
        sum(written for _, written in counts),
        _money(result.get("total_cost_usd")),
        _count(result, "num_turns"),
    )
    subtype = result.get("subtype")
    if isinstance(subtype, str) and subtype in CLAUDE_ENDINGS:
        return Outcome(used, *CLAUDE_ENDINGS[subtype])
    if result.get("is_error") is True:
        # Error subtypes list what went wrong in errors; an API error's words are the result.
        said = result.get("errors") or result.get("result") or subtype
        return Outcome(used, _status_ending(result.get("api_error_status")), _short(said))
    return Outcome(used)


def parse_codex(output: str) -> Outcome:
    """Usage from ``codex exec --json`` events; failures' messages as the reason."""
    total: object = None
    turns = 0
    reason = ""
    for event in _objects(output):
        kind = event.get("type")
        if kind == "turn.completed":
            total, turns = event.get("usage"), turns + 1
        elif kind == "turn.failed":
            turns, reason = turns + 1, _short(_get(event, "error", "message"))
        elif kind == "error":
            reason = _short(event.get("message"))
    used = Usage(_count(total, "input_tokens"), _count(total, "output_tokens"), None, turns)
    return Outcome(used, None, reason)


def parse_opencode(output: str) -> Outcome:
    """Usage summed over ``opencode run --format json`` step_finish events; errors' messages."""
    used = Usage()
    outcome = Outcome()
    for event in _objects(output):
        if event.get("type") == "step_finish":
            tokens = _get(event, "part", "tokens")
            read = _count(tokens, "input") + _sum(_get(tokens, "cache"), ("read", "write"))
            cost = _money(_get(event, "part", "cost"))
            used += Usage(read, _count(tokens, "output"), cost, 1)
        elif event.get("type") == "error":
            outcome = _opencode_error(event.get("error"))
    return Outcome(used, outcome.ending, outcome.reason)


def _opencode_error(error: object) -> Outcome:
    name = _get(error, "name")
    ending = Ending.API_ERROR if name == "ProviderAuthError" else None
    status = _status_ending(_get(error, "data", "statusCode"))
    return Outcome(Usage(), ending or status, _short(_get(error, "data", "message") or name))


def _objects(output: str) -> Iterator[dict[str, object]]:
    """Every line of ``output`` that is a JSON object; warnings and progress lines are skipped."""
    for line in output.splitlines():
        value = _json(line) if line.lstrip().startswith("{") else None
        if value is not None:
            yield value


def _json(text: str) -> dict[str, object] | None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _get(value: object, *keys: str) -> object:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _count(value: object, key: str) -> int:
    number = _get(value, key)
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        return 0
    return int(number) if math.isfinite(number) and number > 0 else 0


def _sum(value: object, keys: Iterable[str]) -> int:
    return sum(_count(value, key) for key in keys)


def _money(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


def _rounded(text: str) -> int:
    # aider rounds: 950, 2.3k, 12k.
    with contextlib.suppress(ValueError):
        return round(float(text.removesuffix("k")) * (1000 if text.endswith("k") else 1))
    return 0


def _status_ending(status: object) -> Ending | None:
    if status == 429:
        return Ending.RATE_LIMITED
    return Ending.API_ERROR if status in (401, 403, 404) else None


def _short(said: object) -> str:
    if isinstance(said, list):
        said = "; ".join(str(part) for part in said)
    text = " ".join(str(said or "").split())
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 3] + "..."
