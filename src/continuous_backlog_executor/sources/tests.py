"""The failing-tests source: runs the project's tests and reports each failing test as an item.

Results come from the JUnit XML report pytest writes, never from its printed output. The
command is ``sources.tests.command`` (pytest, or anything that passes pytest's options on, such
as ``tox -e py --``) or, when the repository looks like a Python project with tests,
``<this interpreter> -m pytest``. The source appends the options that write the report (and
pytest's cache) into the state folder and fix the rootdir at the repository, and runs it
without our ``BACKLOG_*`` variables and without writing bytecode, so the repository is left
as it was. Instead of running anything, ``sources.tests.junit`` may name a report to read.

Each failing or erroring test (setup and teardown errors included) is one finding whose
fingerprint is the test's JUnit identity, ``classname::name``: it survives the test moving to
another line, and is the same for our runs and for a report given.

Skipped tests, xfails included (pytest reports both as ``<skipped>``, typed ``pytest.skip`` or
``pytest.xfail``), are debt: a test that does not run checks nothing. With ``skipped`` on (the
default), each is a low-impact Test item labelled ``skipped-test``, fingerprinted
``skipped:classname::name`` so it never meets the same test's failure. The report does not say
whether a skip is a lasting one or only holds on this platform, so every skip is reported.

Flaky tests: with ``rerun`` on, the failures are run once more, by node id (appended to the
command). A test that fails and then passes is still reported, as a Test item labelled
``flaky`` whose title says so, because flakiness is a real problem that a retry would only
hide; one that fails both times is a Bug labelled ``test-failure``. Both share the
fingerprint, so a test flaky in one discovery and failing in the next stays one item. If the
rerun cannot run, or over ``MAX_RERUN`` tests failed, the failures are reported as failing,
with a warning. A given report is never rerun.

Skipped or failed, one rule: the scan is *skipped* only when there is nothing to ask, which is
decided before running anything (no command configured and no Python tests detected). Once a
command runs or a report is named, anything short of a trustworthy report raises a
``SourceError`` naming the command or the file and the cause: ``BrokenTestsError`` for a
program that will not start, a timeout, pytest exit codes 2 to 5 (interrupted, internal
error, usage error, no tests collected), tests that could not be collected, or a run that
left no readable report; ``junit.ReportError`` for a named report that is missing, oversized,
malformed or declares a DOCTYPE. Either way the engine leaves this source's items alone; only
the error is reported as a failure.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

# The module, not its names: testrun reads JUnit reports from this package, so importing it
# first must not need this module finished.
from .. import testrun
from ..model import Source, TaskType
from ..settings import Setting, flag, number, optional_text, text_list
from .base import DiscoveryContext, Finding, Scan, SourceError
from .junit import Case, Outcome, Report, ReportError, read_report

NAME = "tests"
TAIL_LINES = 20  # of the failure text: the assertion and the frames nearest to it
MESSAGE_CHARS = 1000
MAX_RERUN = 100  # more failures than this point at a broken environment, not flaky tests
ERROR_LABELS = ("test-failure", "test-error")  # an error in setup or teardown
TITLE_REASON_CHARS = 60  # a longer skip reason is left to the description
SKIPPED_IMPACT = 2  # below any failure: the test is known not to run, nothing is broken yet
XFAIL = "pytest.xfail"
# A module skipped as a whole (importorskip...) has only this as its message; the reason is in
# the element's text, ``('path', line, 'Skipped: the reason')``.
COLLECTION_SKIPPED = "collection skipped"
_COLLECTION_SKIP_REASON = re.compile(r"""Skipped: (?P<reason>.*?)['"]\)\s*\Z""", re.DOTALL)
NOTHING_TO_RUN = (
    "no Python tests found (no pytest in pyproject.toml, setup.cfg, tox.ini or pytest.ini, and "
    "no test_*.py, *_test.py or conftest.py files); set sources.tests.command to run the tests"
)
OPTIONS: Mapping[str, Setting] = {
    "command": Setting(
        text_list, (), "Test command, run with pytest's options added (default: pytest if found)."
    ),
    "junit": Setting(optional_text, None, "Read this JUnit XML report instead of running tests."),
    "rerun": Setting(flag, True, "Run failing tests again to tell flaky ones from failing ones."),
    "skipped": Setting(flag, True, "Report skipped and xfailed tests as debt (skipped-test)."),
    "timeout": Setting(number(1), 900.0, "Seconds one run of the tests may take."),
}


class BrokenTestsError(SourceError):
    """The test command could not start, or ended without a trustworthy report."""


def _report(runner: testrun.TestRunner, name: str, nodes: Sequence[str] = ()) -> Report:
    try:
        return runner.report(name, nodes)
    except testrun.TestRunError as error:
        raise BrokenTestsError(str(error)) from error


# Findings


def _finding(case: Case, *, flaky: bool) -> Finding:
    shown = case.node or case.key
    labels = ("test-failure",) if case.outcome is Outcome.FAILURE else ERROR_LABELS
    return Finding(
        fingerprint=case.key,
        title=f"Flaky test: {shown}" if flaky else f"Failing test: {shown}",
        description=_description(case, flaky=flaky),
        task_type=TaskType.TEST if flaky else TaskType.BUG,
        origin=Source(kind=NAME, path=case.path, line=case.line, tag="TEST", rule=case.exception),
        labels=("flaky",) if flaky else labels,
    )


def _description(case: Case, *, flaky: bool) -> str:
    intro = "It failed, then passed when run again." if flaky else ""
    message = case.message[:MESSAGE_CHARS] + (" ..." if len(case.message) > MESSAGE_CHARS else "")
    tail = "\n".join(case.text.rstrip().splitlines()[-TAIL_LINES:])
    block = f"```\n{tail}\n```" if tail else ""
    return "\n\n".join(part for part in (intro, message, block) if part)


def _skip_finding(case: Case) -> Finding:
    shown = case.node or case.key
    reason = _skip_reason(case)
    short = len(reason) <= TITLE_REASON_CHARS and "\n" not in reason
    return Finding(
        fingerprint=f"skipped:{case.key}",
        title=f"Skipped test: {shown}" + (f": {reason}" if reason and short else ""),
        description=_skip_description(case, reason),
        task_type=TaskType.TEST,
        origin=Source(kind=NAME, path=case.path, line=case.line, tag="TEST", rule=case.exception),
        labels=("skipped-test",),
        impact=SKIPPED_IMPACT,
    )


def _skip_reason(case: Case) -> str:
    module = case.message == COLLECTION_SKIPPED
    found = _COLLECTION_SKIP_REASON.search(case.text) if module else None
    return (found["reason"] if found else case.message).strip()


def _skip_description(case: Case, reason: str) -> str:
    how = "marked as an expected failure (xfail)" if case.exception == XFAIL else "skipped"
    if not reason:
        return f"The test is {how}; no reason is given."
    clipped = reason[:MESSAGE_CHARS] + (" ..." if len(reason) > MESSAGE_CHARS else "")
    return f"The test is {how}: {clipped}"


def _skips(report: Report, context: DiscoveryContext) -> tuple[Finding, ...]:
    wanted = _option(context, "skipped")
    return tuple(_skip_finding(case) for case in report.skipped) if wanted else ()


def _passed_again(
    runner: testrun.TestRunner, failing: Sequence[Case]
) -> tuple[set[str], tuple[str, ...]]:
    """The keys of the failing tests that pass when run again, and any warning."""
    nodes = [case.node for case in failing if case.node]
    if not nodes:
        return set(), ()
    if len(nodes) > MAX_RERUN:
        return set(), (
            f"{len(nodes)} tests failed; not running so many again to look for flaky ones",
        )
    try:
        again = _report(runner, "rerun", nodes)
    except BrokenTestsError as error:
        return set(), (f"could not run the failing tests again, so none is called flaky: {error}",)
    failed = {case.key for case in again.cases if case.outcome is not Outcome.PASSED}
    return {case.key for case in again.cases} - failed, ()


class FailingTests:
    """The ``tests`` source: one finding per failing test, and one per skipped test."""

    name = NAME
    description = "Failing, flaky and skipped tests, from a pytest run's JUnit XML report."
    options = OPTIONS

    def discover(self, context: DiscoveryContext) -> Scan:
        """Run the tests (or read the given report) and report every failing and skipped test."""
        started = time.monotonic()
        junit = _option(context, "junit")
        if junit is not None:
            findings = _from_report(context.repo / Path(junit).expanduser(), context)
            return Scan(NAME, findings, seconds=time.monotonic() - started)
        command = tuple(_option(context, "command")) or testrun.detected_command(context.repo)
        if command is None:
            return Scan(NAME, skipped=NOTHING_TO_RUN, seconds=time.monotonic() - started)
        findings, warnings = _from_run(context, command)
        return Scan(NAME, findings, warnings, seconds=time.monotonic() - started)


def _option(context: DiscoveryContext, name: str) -> Any:
    return context.options.get(name, OPTIONS[name].default)


def _from_report(path: Path, context: DiscoveryContext) -> tuple[Finding, ...]:
    try:
        report = read_report(path, context.repo)
    except ReportError as error:
        raise ReportError(f"sources.tests.junit: {error}") from error
    if report.uncollected:
        raise ReportError(
            f"sources.tests.junit: {path}: the report says {', '.join(report.uncollected)} "
            "could not be collected; fix that and run the tests again to write a new report"
        )
    return tuple(_finding(case, flaky=False) for case in report.failing) + _skips(report, context)


def _from_run(
    context: DiscoveryContext, command: tuple[str, ...]
) -> tuple[tuple[Finding, ...], tuple[str, ...]]:
    with _scratch(context) as scratch:
        runner = testrun.TestRunner(
            command, context.repo, scratch, float(_option(context, "timeout"))
        )
        context.observer.progress(NAME, 0, None, "running the tests")
        first = _report(runner, "first")
        failing = first.failing
        flaky: set[str] = set()
        warnings: tuple[str, ...] = ()
        if failing and _option(context, "rerun"):
            context.observer.progress(NAME, 1, None, "running the failing tests again")
            flaky, warnings = _passed_again(runner, failing)
    findings = tuple(_finding(case, flaky=case.key in flaky) for case in failing)
    return findings + _skips(first, context), warnings


@contextlib.contextmanager
def _scratch(context: DiscoveryContext) -> Iterator[Path]:
    """A folder in the state folder for reports and pytest's cache, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="run-", dir=context.state.folder(NAME)) as folder:
        yield Path(folder)


SOURCE = FailingTests()
