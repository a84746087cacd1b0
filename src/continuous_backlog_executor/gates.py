"""The micro-cycle's gates: each looks at what is really in the item's worktree (the changed
files, a test run's JUnit report, a check's exit status) and says pass or fail, with evidence.

Nothing here asks the agent anything; a gate's verdict comes from the engine's own
observations only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from . import process
from .errors import ProcessError
from .evidence import excerpt
from .sources.junit import Case, Outcome, Report
from .testrun import TestRunError, TestRunner
from .worktree import ChangedFile

# A test that fails for one of these reasons is broken, not red: it would fail whatever the code.
BROKEN_CAUSES = ("SyntaxError", "IndentationError", "TabError", "fixture '")
_ERROR_NAME = re.compile(r"^E\s+(\w+(?:Error|Exception))\b", re.MULTILINE)
SHOWN = 10  # names listed in a reason before "and N more"


@dataclass(frozen=True)
class GateResult:
    """One gate's verdict and the facts behind it."""

    gate: str
    passed: bool
    reason: str
    details: dict[str, Any] = field(default_factory=dict)
    log: str = ""


def matches(path: str, patterns: Iterable[str]) -> bool:
    """True when ``path`` (relative, with ``/``) matches one of the globs."""
    return any(fnmatchcase(path, pattern) for pattern in patterns)


def _names(paths: Sequence[str]) -> str:
    shown = ", ".join(paths[:SHOWN])
    return shown + (f" and {len(paths) - SHOWN} more" if len(paths) > SHOWN else "")


def _fail(gate: str, reason: str, *, log: str = "", **details: Any) -> GateResult:
    return GateResult(gate, False, reason, details, log)


# -- red ------------------------------------------------------------------------------------------


def red(changes: Sequence[ChangedFile], runner: TestRunner, patterns: Sequence[str]) -> GateResult:
    """Tests only, at least one added or changed, and they fail on the unchanged code."""
    if not changes:
        return _fail("red", "no change: the agent changed no file")
    others = [c.path for c in changes if not matches(c.path, patterns)]
    if others:
        return _fail(
            "red", f"the red phase may change tests only; it changed {_names(others)}", paths=others
        )
    deleted = [c.path for c in changes if c.status == "D"]
    if deleted:
        return _fail("red", f"the red phase deleted tests: {_names(deleted)}", paths=deleted)
    modules = [c.path for c in changes if c.path.endswith(".py") and "conftest" not in c.path]
    if not modules:
        return _fail("red", "no test module was added or changed")
    try:
        report = runner.report("red", modules, lenient=True)
    except TestRunError as error:
        return _fail("red", f"the tests could not be run: {_first_line(error)}", log=str(error))
    return _judge_red(report, modules)


def _judge_red(report: Report, modules: Sequence[str]) -> GateResult:
    broken = [case for case in report.collection_errors if _is_broken(case)]
    if broken:
        names = [case.path or case.key for case in broken]
        return _fail(
            "red",
            f"the new tests do not load ({_cause(broken[0])}) in {_names(names)}",
            paths=names,
            log=broken[0].text,
        )
    failing = [*report.collection_errors, *report.failing]
    wrong = [case for case in report.failing if _is_broken(case)]
    if wrong:
        return _fail(
            "red", f"a new test is broken ({_cause(wrong[0])}): {wrong[0].key}", log=wrong[0].text
        )
    if not failing:
        ran = [case.key for case in report.cases]
        return _fail(
            "red",
            "the new tests pass on the unchanged code; a red test must fail first"
            if ran
            else f"no test ran from {_names(list(modules))}",
            tests=ran,
        )
    keys = [case.key for case in failing]
    return GateResult(
        "red",
        True,
        f"{len(keys)} new test(s) fail on the unchanged code",
        {"red_tests": keys, "causes": {case.key: _cause(case) for case in failing}},
    )


def _is_broken(case: Case) -> bool:
    text = f"{case.exception or ''}\n{case.message}\n{case.text}"
    return any(cause in text for cause in BROKEN_CAUSES)


def _cause(case: Case) -> str:
    if case.exception:
        return case.exception
    # A collection error's report says only "collection failure"; its traceback names the error.
    named = _ERROR_NAME.search(case.text)
    return named.group(1) if named else (case.message.splitlines() or ["failed"])[0][:200]


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0]


# -- green and refactor ---------------------------------------------------------------------------


def tests_untouched(
    changes: Sequence[ChangedFile], patterns: Sequence[str], gate: str
) -> GateResult:
    """No test file added, changed, renamed or deleted since the red commit."""
    touched = [
        c.path for c in changes if matches(c.path, patterns) or matches(c.old_path or "", patterns)
    ]
    if touched:
        return _fail(
            gate, f"tests may not change after the red phase: {_names(touched)}", paths=touched
        )
    return GateResult(gate, True, "tests unchanged")


def green(
    runner: TestRunner, red_tests: Sequence[str], base: Report | None, gate: str = "green"
) -> GateResult:
    """The red tests pass, and no test that passed on the base fails, is skipped or vanished."""
    try:
        report = runner.report(gate)
    except TestRunError as error:
        return _fail(gate, f"the test suite does not run: {_first_line(error)}", log=str(error))
    outcomes = {case.key: case.outcome for case in report.cases}
    missing = [key for key in red_tests if key not in outcomes]
    if missing:
        return _fail(gate, f"the red tests did not run: {_names(missing)}", tests=missing)
    skipped = [key for key in red_tests if outcomes[key] is Outcome.SKIPPED]
    if skipped:
        return _fail(gate, f"the red tests were skipped: {_names(skipped)}", tests=skipped)
    still = [key for key in red_tests if outcomes[key] is not Outcome.PASSED]
    if still:
        failed = next(c for c in report.cases if c.key == still[0])
        return _fail(gate, f"still failing: {_names(still)}", tests=still, log=failed.text)
    lost = _lost(base, outcomes)
    if lost:
        return _fail(
            gate, f"tests that passed on the base no longer pass: {_names(lost)}", tests=lost
        )
    passed = [key for key, outcome in outcomes.items() if outcome is Outcome.PASSED]
    return GateResult(
        gate,
        True,
        f"{len(red_tests)} red test(s) pass; {len(passed)} of {len(outcomes)} tests pass",
        {"green_tests": list(red_tests), "passed": len(passed), "total": len(outcomes)},
    )


def _lost(base: Report | None, outcomes: dict[str, Outcome]) -> list[str]:
    if base is None:
        return []
    passed = [case.key for case in base.cases if case.outcome is Outcome.PASSED]
    return [key for key in passed if outcomes.get(key) is not Outcome.PASSED]


# -- docs and ci ----------------------------------------------------------------------------------


def docs(changes: Sequence[ChangedFile], patterns: Sequence[str]) -> GateResult:
    """Documentation changed, and nothing but documentation."""
    if not changes:
        return _fail("docs", "no documentation was updated")
    others = [c.path for c in changes if not matches(c.path, patterns)]
    if others:
        return _fail("docs", f"the docs phase may change docs only; it changed {_names(others)}")
    return GateResult("docs", True, f"updated {_names([c.path for c in changes])}")


def ci(command: Sequence[str], workdir: Path, env: dict[str, str], timeout: float) -> GateResult:
    """The project's own check command passes in the worktree."""
    if not command:
        return GateResult("ci", True, "no check command configured (execution.check_command)")
    try:
        result = process.run(command, cwd=workdir, env=env, timeout=timeout)
    except ProcessError as error:
        return _fail("ci", f"the check command cannot start: {error}")
    log = excerpt(result.stdout + result.stderr)
    if result.timed_out:
        return GateResult("ci", False, f"the check command timed out after {timeout:g}s", log=log)
    if result.returncode != 0:
        return GateResult(
            "ci", False, f"the check command exited with {result.returncode}", log=log
        )
    return GateResult("ci", True, f"the check command passed in {result.duration:.1f}s", log=log)
