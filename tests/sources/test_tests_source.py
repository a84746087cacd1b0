"""Tests for the failing-tests source: real temporary projects, run by a real pytest."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from continuous_backlog_executor.backlog import BacklogStore
from continuous_backlog_executor.discovery import ChangeKind, merge
from continuous_backlog_executor.journal import Journal
from continuous_backlog_executor.model import Source, TaskStatus, TaskType
from continuous_backlog_executor.sources.base import (
    DiscoveryContext,
    DiscoverySource,
    Finding,
    Scan,
    SourceError,
)
from continuous_backlog_executor.sources.junit import ReportError
from continuous_backlog_executor.sources.tests import NOTHING_TO_RUN, SOURCE, BrokenTestsError
from continuous_backlog_executor.store import StateStore

PYTEST = (sys.executable, "-m", "pytest")
PYPROJECT = "[tool.pytest.ini_options]\nxfail_strict = true\n"
MIXED = """\
import os
from pathlib import Path

import pytest

COUNTER = Path({counter!r})


def test_passes():
    assert True


def test_fails():
    total = 1 + 1
    assert total == 3, "arithmetic is broken"


@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")


def test_errors(broken):
    pass


def test_skipped():
    pytest.skip("not today")


def test_flaky():
    runs = int(COUNTER.read_text()) if COUNTER.exists() else 0
    COUNTER.write_text(str(runs + 1))
    assert runs > 0, "fails the first time only"


def test_sees_none_of_our_settings():
    assert [name for name in os.environ if name.startswith("BACKLOG_")] == []
"""
FAILS_DESCRIPTION = """\
AssertionError: arithmetic is broken
assert 2 == 3

```
def test_fails():
        total = 1 + 1
>       assert total == 3, "arithmetic is broken"
E       AssertionError: arithmetic is broken
E       assert 2 == 3

tests/test_mixed.py:15: AssertionError
```"""
ERRORS_DESCRIPTION = """\
failed on setup with "RuntimeError: fixture broke"

```
@pytest.fixture
    def broken():
>       raise RuntimeError("fixture broke")
E       RuntimeError: fixture broke

tests/test_mixed.py:20: RuntimeError
```"""
FLAKY_DESCRIPTION = """\
It failed, then passed when run again.

AssertionError: fails the first time only
assert 0 > 0

```
def test_flaky():
        runs = int(COUNTER.read_text()) if COUNTER.exists() else 0
        COUNTER.write_text(str(runs + 1))
>       assert runs > 0, "fails the first time only"
E       AssertionError: fails the first time only
E       assert 0 > 0

tests/test_mixed.py:34: AssertionError
```"""


def context(repo: Path, **options: object) -> DiscoveryContext:
    """What the discovery engine would hand the source for ``repo``."""
    return DiscoveryContext(
        repo=repo, options=options, state=StateStore.locate(repo), now=datetime.now(UTC)
    )


def write(repo: Path, files: dict[str, str]) -> None:
    """Create ``files`` (path -> text) under ``repo``."""
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)


def tree(repo: Path) -> dict[str, bytes]:
    """Every file in the work tree, outside ``.git``, with its content."""
    return {
        str(path.relative_to(repo)): path.read_bytes()
        for path in sorted(repo.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(repo).parts
    }


def finding(name: str, path: str, line: int, rule: str, description: str) -> Finding:
    """The finding for a test that failed both times in ``tests/test_mixed.py``."""
    return Finding(
        fingerprint=f"tests.test_mixed::{name}",
        title=f"Failing test: {path}::{name}",
        description=description,
        task_type=TaskType.BUG,
        origin=Source(kind="tests", path=path, line=line, tag="TEST", rule=rule),
        labels=("test-failure",) if name != "test_errors" else ("test-failure", "test-error"),
    )


@pytest.fixture
def mixed(repo: Path, tmp_path: Path) -> Path:
    """``repo`` with passing, failing, erroring, skipped and flaky tests."""
    counter = tmp_path / "flaky-runs"
    write(
        repo,
        {"pyproject.toml": PYPROJECT, "tests/test_mixed.py": MIXED.format(counter=str(counter))},
    )
    return counter


@pytest.mark.slow
def test_reports_failing_erroring_and_flaky_tests(
    repo: Path, mixed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKLOG_SOURCES__TESTS__TIMEOUT", "60")  # must not reach the tests
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)  # the source sets it itself
    before = tree(repo)

    scan = SOURCE.discover(context(repo))

    fails = finding("test_fails", "tests/test_mixed.py", 13, "AssertionError", FAILS_DESCRIPTION)
    errors = finding("test_errors", "tests/test_mixed.py", 23, "RuntimeError", ERRORS_DESCRIPTION)
    flaky = Finding(
        fingerprint="tests.test_mixed::test_flaky",
        title="Flaky test: tests/test_mixed.py::test_flaky",
        description=FLAKY_DESCRIPTION,
        task_type=TaskType.TEST,
        origin=Source(
            kind="tests", path="tests/test_mixed.py", line=31, tag="TEST", rule="AssertionError"
        ),
        labels=("flaky",),
    )
    skipped = Finding(
        fingerprint="skipped:tests.test_mixed::test_skipped",
        title="Skipped test: tests/test_mixed.py::test_skipped: not today",
        description="The test is skipped: not today",
        task_type=TaskType.TEST,
        origin=Source(
            kind="tests", path="tests/test_mixed.py", line=27, tag="TEST", rule="pytest.skip"
        ),
        labels=("skipped-test",),
        impact=2,
    )
    assert scan.findings == (fails, errors, flaky, skipped)
    assert (scan.source, scan.warnings, scan.skipped) == ("tests", (), None)
    assert mixed.read_text() == "2"  # the first run and one rerun of the failures
    assert tree(repo) == before  # no report, cache or bytecode left in the repository
    assert list((repo / ".git" / "backlog-executor" / "tests").iterdir()) == []


@pytest.mark.slow
def test_without_rerun_a_flaky_test_is_a_plain_failure(repo: Path, mixed: Path) -> None:
    scan = SOURCE.discover(context(repo, rerun=False))

    assert [(f.title, f.task_type, f.labels) for f in scan.findings] == [
        ("Failing test: tests/test_mixed.py::test_fails", TaskType.BUG, ("test-failure",)),
        (
            "Failing test: tests/test_mixed.py::test_errors",
            TaskType.BUG,
            ("test-failure", "test-error"),
        ),
        ("Failing test: tests/test_mixed.py::test_flaky", TaskType.BUG, ("test-failure",)),
        (
            "Skipped test: tests/test_mixed.py::test_skipped: not today",
            TaskType.TEST,
            ("skipped-test",),
        ),
    ]
    assert mixed.read_text() == "1"


ONE_FAILURE = (
    "import pytest\n\n\nclass TestMaths:\n    def test_sum(self):\n        assert 1 + 1 == 3\n"
)


@pytest.mark.slow
def test_the_fingerprint_stays_when_the_test_moves(repo: Path) -> None:
    write(repo, {"tests/test_maths.py": ONE_FAILURE})
    first = SOURCE.discover(context(repo, rerun=False)).findings

    write(repo, {"tests/test_maths.py": ONE_FAILURE.replace("import pytest\n", "import os\n\n\n")})
    second = SOURCE.discover(context(repo, rerun=False)).findings

    assert [(f.fingerprint, f.title, f.origin.line) for f in first + second] == [
        (
            "tests.test_maths.TestMaths::test_sum",
            "Failing test: tests/test_maths.py::TestMaths::test_sum",
            5,
        ),
        (
            "tests.test_maths.TestMaths::test_sum",
            "Failing test: tests/test_maths.py::TestMaths::test_sum",
            7,
        ),
    ]


@pytest.mark.slow
def test_a_collection_error_fails_the_scan_naming_the_file(repo: Path) -> None:
    write(
        repo,
        {
            "tests/test_fine.py": "def test_fails():\n    assert False\n",
            "tests/test_broken.py": "def test_broken(:\n    pass\n",
        },
    )

    with pytest.raises(BrokenTestsError) as caught:
        SOURCE.discover(context(repo))

    first, command, *output = str(caught.value).splitlines()
    assert (
        first
        == "the test command could not collect tests/test_broken.py; fix the errors shown below."
    )
    assert command.startswith(f"$ {' '.join(PYTEST)} --junitxml=")
    assert " (exited with 2 after " in command
    assert "E   SyntaxError: invalid syntax" in output
    assert isinstance(caught.value, SourceError)


def test_a_project_without_tests_is_skipped(repo: Path) -> None:
    write(
        repo,
        {
            "src/app.py": "print('hello')\n",
            ".venv/lib/test_vendored.py": "def test_theirs():\n    pass\n",
            "node_modules/pkg/test_pkg.py": "def test_theirs():\n    pass\n",
            "setup.cfg": "[metadata]\nname = app\n",
        },
    )

    scan = SOURCE.discover(context(repo))

    assert (scan.source, scan.findings, scan.skipped) == ("tests", (), NOTHING_TO_RUN)
    assert NOTHING_TO_RUN == (
        "no Python tests found (no pytest in pyproject.toml, setup.cfg, tox.ini or pytest.ini, "
        "and no test_*.py, *_test.py or conftest.py files); set sources.tests.command to run "
        "the tests"
    )


@pytest.mark.slow
def test_pytest_configured_but_no_tests_collected_fails_the_scan(repo: Path) -> None:
    write(repo, {"pytest.ini": "[pytest]\n"})

    with pytest.raises(BrokenTestsError) as caught:
        SOURCE.discover(context(repo))

    assert str(caught.value).splitlines()[0] == (
        "the test command collected no tests (pytest exit code 5); check pytest's testpaths "
        "and python_files, or set sources.tests.command."
    )


SLEEPER = """\
import os, time
from pathlib import Path


def test_sleeps():
    Path({pid_file!r}).write_text(str(os.getpid()))
    time.sleep(60)
"""


def running(pid: int) -> bool:
    """True while ``pid`` is a live process (a zombie waiting to be reaped has ended)."""
    try:
        os.kill(pid, 0)
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (ProcessLookupError, FileNotFoundError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.slow
def test_a_timeout_fails_the_scan_and_leaves_no_process(repo: Path, tmp_path: Path) -> None:
    pid_file = tmp_path / "sleeper.pid"
    write(repo, {"tests/test_slow.py": SLEEPER.format(pid_file=str(pid_file))})

    pid: int | None = None
    try:
        with pytest.raises(BrokenTestsError) as caught:
            SOURCE.discover(context(repo, timeout=2.0))
        pid = int(pid_file.read_text())
        deadline = time.monotonic() + 5
        while running(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        alive = running(pid)
    finally:
        if pid is not None and running(pid):  # never leave a sleeper behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    first, command, *_ = str(caught.value).splitlines()
    assert first == "the test command did not finish within 2 seconds; raise sources.tests.timeout."
    assert re.fullmatch(
        rf"\$ {re.escape(' '.join(PYTEST))} .* \(timed out after \d+\.\ds\)", command
    )
    assert not alive, f"the test process {pid} outlived the timeout"
    assert list((repo / ".git" / "backlog-executor" / "tests").iterdir()) == []


@pytest.mark.slow
def test_a_configured_command_is_run_instead_of_detection(repo: Path) -> None:
    write(
        repo,
        {
            "checks/check_numbers.py": "def test_wrong():\n    assert 1 == 2\n",
            "tests/test_other.py": "def test_not_run():\n    assert False\n",
        },
    )

    scan = SOURCE.discover(context(repo, command=(*PYTEST, "checks/check_numbers.py")))

    assert scan.findings == (
        Finding(
            fingerprint="checks.check_numbers::test_wrong",
            title="Failing test: checks/check_numbers.py::test_wrong",
            description=(
                "assert 1 == 2\n\n```\ndef test_wrong():\n>       assert 1 == 2\n"
                "E       assert 1 == 2\n\nchecks/check_numbers.py:2: AssertionError\n```"
            ),
            task_type=TaskType.BUG,
            origin=Source(
                kind="tests",
                path="checks/check_numbers.py",
                line=1,
                tag="TEST",
                rule="AssertionError",
            ),
            labels=("test-failure",),
        ),
    )


def test_a_command_that_is_not_installed_fails_the_scan(repo: Path) -> None:
    with pytest.raises(BrokenTestsError) as caught:
        SOURCE.discover(context(repo, command=("no-such-test-runner", "-q")))

    assert str(caught.value) == (
        "cannot start the test command no-such-test-runner -q: cannot run "
        "'no-such-test-runner': No such file or directory; install it, or set "
        "sources.tests.command to a command that runs the tests"
    )


@pytest.mark.slow
def test_a_usage_error_fails_the_scan(repo: Path) -> None:
    with pytest.raises(BrokenTestsError) as caught:
        SOURCE.discover(context(repo, command=(*PYTEST, "--no-such-option")))

    first, command, *output = str(caught.value).splitlines()
    assert first == (
        "the test command was given an unknown option or a missing path (pytest exit code 4); "
        "check sources.tests.command and pytest's addopts."
    )
    assert "(exited with 4 after " in command
    assert "python -m pytest: error: unrecognized arguments: --no-such-option" in output


def test_a_command_that_writes_no_report_fails_the_scan_naming_the_report(repo: Path) -> None:
    command = (sys.executable, "-c", "raise SystemExit(1)")

    with pytest.raises(BrokenTestsError) as caught:
        SOURCE.discover(context(repo, command=command))

    first = str(caught.value).splitlines()[0]
    scratch = re.escape(str(repo / ".git" / "backlog-executor" / "tests"))
    assert re.fullmatch(
        rf"the test command left no usable report \({scratch}/run-\w+/first\.xml: the JUnit "
        r"report does not exist\); fix the test command, or set sources\.tests\.command to one "
        r"that works\.",
        first,
    )


ONCE = """\
from pathlib import Path

COUNTER = Path({counter!r})
if COUNTER.exists():
    raise ImportError("only importable once")


def test_once():
    COUNTER.write_text("ran")
    assert False, "always fails"
"""


@pytest.mark.slow
def test_a_broken_rerun_reports_the_failures_as_failing_with_a_warning(
    repo: Path, tmp_path: Path
) -> None:
    write(repo, {"tests/test_once.py": ONCE.format(counter=str(tmp_path / "ran"))})

    scan = SOURCE.discover(context(repo))

    assert [(f.title, f.labels) for f in scan.findings] == [
        ("Failing test: tests/test_once.py::test_once", ("test-failure",))
    ]
    assert [warning.splitlines()[0] for warning in scan.warnings] == [
        "could not run the failing tests again, so none is called flaky: the test command "
        "could not collect tests/test_once.py; fix the errors shown below."
    ]


SKIPPING = """\
import pytest


@pytest.mark.skip(reason="waiting for the new API")
def test_new_api():
    assert True


@pytest.mark.xfail(reason="known bug #12")
def test_known_bug():
    assert False
"""


def merged(store: BacklogStore, scan: Scan) -> list[tuple[ChangeKind, str]]:
    """Merge ``scan`` into the backlog of ``store``, as ``backlog discover`` does."""
    with store.transaction() as backlog:
        result = merge(backlog, [scan], now=datetime.now(UTC), actor="tester")
    return [(change.kind, change.title) for change in result.changes]


@pytest.mark.slow
def test_a_skipped_test_is_debt_until_it_runs_again(repo: Path, tmp_path: Path) -> None:
    write(repo, {"tests/test_api.py": SKIPPING})
    store = BacklogStore(
        tmp_path / "backlog.yml",
        state=StateStore(tmp_path / "state"),
        journal=Journal(tmp_path / "events.jsonl"),
    )
    skipped = SOURCE.discover(context(repo))
    added = merged(store, skipped)

    unskipped = SKIPPING.replace('@pytest.mark.skip(reason="waiting for the new API")\n', "")
    write(repo, {"tests/test_api.py": unskipped})
    running = SOURCE.discover(context(repo))
    closed = merged(store, running)

    skip_title = "Skipped test: tests/test_api.py::test_new_api: waiting for the new API"
    xfail_title = "Skipped test: tests/test_api.py::test_known_bug: known bug #12"
    assert skipped.findings == (
        Finding(
            fingerprint="skipped:tests.test_api::test_new_api",
            title=skip_title,
            description="The test is skipped: waiting for the new API",
            task_type=TaskType.TEST,
            origin=Source(
                kind="tests", path="tests/test_api.py", line=4, tag="TEST", rule="pytest.skip"
            ),
            labels=("skipped-test",),
            impact=2,
        ),
        Finding(
            fingerprint="skipped:tests.test_api::test_known_bug",
            title=xfail_title,
            description="The test is marked as an expected failure (xfail): known bug #12",
            task_type=TaskType.TEST,
            origin=Source(
                kind="tests", path="tests/test_api.py", line=9, tag="TEST", rule="pytest.xfail"
            ),
            labels=("skipped-test",),
            impact=2,
        ),
    )
    assert added == [(ChangeKind.ADDED, skip_title), (ChangeKind.ADDED, xfail_title)]
    assert [finding.title for finding in running.findings] == [xfail_title]
    # The xfail's item follows its test, a line up now that the decorator is gone.
    assert closed == [(ChangeKind.UPDATED, xfail_title), (ChangeKind.CLOSED, skip_title)]
    status = {item.title: (item.status, item.labels) for item in store.load().items}
    assert status == {
        skip_title: (TaskStatus.DONE, ["skipped-test"]),
        xfail_title: (TaskStatus.NEW, ["skipped-test"]),
    }


# Reports given with ``junit``: no process runs, so these are fast.

XUNIT2 = """\
<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="4">
  <testcase classname="tests.test_api.TestUsers" name="test_create" time="0.1">
    <failure message="KeyError: 'id'" type="KeyError">tests/test_api.py:12: KeyError</failure>
  </testcase>
  <testcase classname="tests.test_api" name="test_passes" time="0.1"/>
  <testcase classname="tests.test_api" name="test_skipped"><skipped message="later"/></testcase>
  <testcase classname="suite.Elsewhere" name="test_db">
    <error message="failed on setup with &quot;OSError: no database&quot;">boom</error>
  </testcase>
</testsuite></testsuites>
"""


def test_a_given_report_is_read_without_running_anything(repo: Path) -> None:
    write(repo, {"reports/junit.xml": XUNIT2, "tests/test_api.py": "# the tests\n"})

    scan = SOURCE.discover(context(repo, junit="reports/junit.xml"))

    assert scan.findings == (
        Finding(
            fingerprint="tests.test_api.TestUsers::test_create",
            title="Failing test: tests/test_api.py::TestUsers::test_create",
            description="KeyError: 'id'\n\n```\ntests/test_api.py:12: KeyError\n```",
            task_type=TaskType.BUG,
            origin=Source(kind="tests", path="tests/test_api.py", tag="TEST", rule="KeyError"),
            labels=("test-failure",),
        ),
        Finding(
            fingerprint="suite.Elsewhere::test_db",
            title="Failing test: suite.Elsewhere::test_db",
            description='failed on setup with "OSError: no database"\n\n```\nboom\n```',
            task_type=TaskType.BUG,
            origin=Source(kind="tests", tag="TEST", rule="OSError"),
            labels=("test-failure", "test-error"),
        ),
        Finding(
            fingerprint="skipped:tests.test_api::test_skipped",
            title="Skipped test: tests/test_api.py::test_skipped: later",
            description="The test is skipped: later",
            task_type=TaskType.TEST,
            origin=Source(kind="tests", path="tests/test_api.py", tag="TEST"),
            labels=("skipped-test",),
            impact=2,
        ),
    )
    assert (scan.warnings, scan.skipped) == ((), None)


def test_skipped_tests_are_left_out_when_switched_off(repo: Path) -> None:
    write(repo, {"reports/junit.xml": XUNIT2, "tests/test_api.py": "# the tests\n"})

    scan = SOURCE.discover(context(repo, junit="reports/junit.xml", skipped=False))

    assert [finding.fingerprint for finding in scan.findings] == [
        "tests.test_api.TestUsers::test_create",
        "suite.Elsewhere::test_db",
    ]


LONG_REASON = "needs the payment sandbox, which CI cannot reach from the build network"
MODULE_SKIP = (
    "('/ci/tests/test_cloud.py', 2, \"Skipped: could not import 'boto3': No module named 'boto3'\")"
)


@pytest.mark.parametrize(
    ("case", "title", "description", "rule"),
    [
        pytest.param(
            '<testcase classname="t" name="test_x"><skipped type="pytest.skip" '
            f'message="{LONG_REASON}">t.py:3: {LONG_REASON}</skipped></testcase>',
            "Skipped test: t::test_x",
            f"The test is skipped: {LONG_REASON}",
            "pytest.skip",
            id="long-reason-left-to-the-description",
        ),
        pytest.param(
            '<testcase classname="t" name="test_x"><skipped type="pytest.xfail" message=""/>'
            "</testcase>",
            "Skipped test: t::test_x",
            "The test is marked as an expected failure (xfail); no reason is given.",
            "pytest.xfail",
            id="xfail-without-reason",
        ),
        pytest.param(
            '<testcase classname="" name="tests.test_cloud" file="tests/test_cloud.py">'
            f'<skipped message="collection skipped">{escape(MODULE_SKIP)}</skipped></testcase>',
            "Skipped test: tests.test_cloud: could not import 'boto3': No module named 'boto3'",
            "The test is skipped: could not import 'boto3': No module named 'boto3'",
            None,
            id="whole-module",
        ),
    ],
)
def test_a_skipped_test_says_why_in_its_title_when_short(
    repo: Path, case: str, title: str, description: str, rule: str | None
) -> None:
    write(repo, {"junit.xml": f"<testsuite>{case}</testsuite>"})

    (found,) = SOURCE.discover(context(repo, junit="junit.xml")).findings

    assert (found.title, found.description, found.origin.rule) == (title, description, rule)
    assert (found.labels, found.task_type, found.impact) == (("skipped-test",), TaskType.TEST, 2)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        pytest.param(
            "<testsuites><testcase name='a'></testsuites>",
            "not well-formed XML: mismatched tag: line 1, column 33",
            id="malformed",
        ),
        pytest.param("", "not well-formed XML: no element found: line 1, column 0", id="empty"),
        pytest.param(
            '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            "<testsuites>&b;</testsuites>",
            "refused: the report declares a DOCTYPE, which a JUnit report never needs",
            id="doctype-entities",
        ),
        pytest.param(
            '<!DOCTYPE t SYSTEM "file:///etc/passwd"><testsuites/>',
            "refused: the report declares a DOCTYPE, which a JUnit report never needs",
            id="external-doctype",
        ),
        pytest.param(
            "<html><body>not a report</body></html>",
            "not a JUnit report: the root element is <html>, not <testsuites> or <testsuite>",
            id="not-junit",
        ),
    ],
)
def test_a_bad_given_report_fails_the_scan_naming_the_file(
    repo: Path, content: str, problem: str
) -> None:
    report = repo / "junit.xml"
    report.write_text(content)

    with pytest.raises(ReportError) as caught:
        SOURCE.discover(context(repo, junit="junit.xml"))

    assert str(caught.value) == f"sources.tests.junit: {report}: {problem}"
    assert isinstance(caught.value, SourceError)


def test_a_missing_given_report_fails_the_scan(repo: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "junit.xml"

    with pytest.raises(ReportError) as caught:
        SOURCE.discover(context(repo, junit=str(missing)))

    assert str(caught.value) == f"sources.tests.junit: {missing}: the JUnit report does not exist"


def test_a_given_report_with_collection_errors_fails_the_scan(repo: Path) -> None:
    report = repo / "junit.xml"
    report.write_text(
        '<testsuites><testsuite><testcase classname="" name="tests.test_bad" '
        'file="tests/test_bad.py"><error message="collection failure">SyntaxError</error>'
        "</testcase></testsuite></testsuites>"
    )

    with pytest.raises(ReportError) as caught:
        SOURCE.discover(context(repo, junit="junit.xml"))

    assert str(caught.value) == (
        f"sources.tests.junit: {report}: the report says tests/test_bad.py could not be "
        "collected; fix that and run the tests again to write a new report"
    )


def test_long_messages_are_cut_and_tracebacks_keep_their_last_lines(repo: Path) -> None:
    message = "AssertionError: " + "x" * 1200
    traceback = "\n".join(f"line {n}" for n in range(1, 31))
    write(
        repo,
        {
            "junit.xml": f'<testsuite><testcase classname="t" name="test_long">'
            f'<failure message="{message}">{traceback}</failure></testcase></testsuite>'
        },
    )

    scan = SOURCE.discover(context(repo, junit="junit.xml"))

    last_lines = "\n".join(f"line {n}" for n in range(11, 31))
    assert [f.description for f in scan.findings] == [
        f"{message[:1000]} ...\n\n```\n{last_lines}\n```"
    ]


def test_the_source_declares_its_name_and_options() -> None:
    source: DiscoverySource = SOURCE  # mypy checks that it meets the contract
    assert (source.name, sorted(source.options)) == (
        "tests",
        ["command", "junit", "rerun", "skipped", "timeout"],
    )
    assert {name: s.default for name, s in SOURCE.options.items()} == {
        "command": (),
        "junit": None,
        "rerun": True,
        "skipped": True,
        "timeout": 900.0,
    }
