"""Tests for reading JUnit XML reports: test identities, files, lines, outcomes and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from continuous_backlog_executor.sources.junit import (
    MAX_REPORT_BYTES,
    Case,
    Outcome,
    Report,
    ReportError,
    read_report,
)


def report_of(tmp_path: Path, cases: str, *, root: str = "testsuites") -> Report:
    """Read a report whose test cases are ``cases``, with ``tmp_path`` as the repository."""
    path = tmp_path / "junit.xml"
    path.write_text(f"<{root}><testsuite>{cases}</testsuite></{root}>")
    return read_report(path, tmp_path)


def test_pytest_reports_give_node_ids_and_lines_counted_from_one(tmp_path: Path) -> None:
    report = report_of(
        tmp_path,
        '<testcase classname="tests.unit.test_a.TestA.TestInner" name="test_b[x-1]" '
        'file="tests/unit/test_a.py" line="41"><failure message="assert 1 == 2">'
        "tests/unit/test_a.py:43: AssertionError</failure></testcase>"
        '<testcase classname="src.pkg.mod" name="pkg.mod.helper" file="src/pkg/mod.py" line="0"/>',
    )

    assert report == Report(
        cases=(
            Case(
                key="tests.unit.test_a.TestA.TestInner::test_b[x-1]",
                node="tests/unit/test_a.py::TestA::TestInner::test_b[x-1]",
                path="tests/unit/test_a.py",
                line=42,
                outcome=Outcome.FAILURE,
                message="assert 1 == 2",
                text="tests/unit/test_a.py:43: AssertionError",
                exception="AssertionError",
            ),
            Case(
                key="src.pkg.mod::pkg.mod.helper",
                node="src/pkg/mod.py::pkg.mod.helper",
                path="src/pkg/mod.py",
                line=1,
                outcome=Outcome.PASSED,
            ),
        ),
        uncollected=(),
    )


def test_a_test_defined_in_another_file_is_placed_by_its_classname(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_child.py").write_text("from base import Base\n")

    report = report_of(
        tmp_path,
        '<testcase classname="tests.test_child.TestChild" name="test_x" file="tests/base.py" '
        'line="3"><skipped message="later"/></testcase>',
        root="testsuite",
    )

    assert report.cases == (
        Case(
            key="tests.test_child.TestChild::test_x",
            node="tests/test_child.py::TestChild::test_x",
            path="tests/test_child.py",
            line=None,  # the report's line is in tests/base.py
            outcome=Outcome.SKIPPED,
            message="later",
        ),
    )


@pytest.mark.parametrize(
    "classname", ["..etc.passwd", "/etc/passwd", "tests/../../x", "", "tests.test_gone"]
)
def test_a_classname_naming_no_file_in_the_repository_gives_no_path(
    tmp_path: Path, classname: str
) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd.py").write_text("")

    report = report_of(tmp_path, f'<testcase classname="{classname}" name="test_y"/>')

    key = f"{classname}::test_y" if classname else "test_y"
    assert report.cases == (Case(key, None, None, None, Outcome.PASSED),)


@pytest.mark.parametrize(
    ("detail", "exception"),
    [
        pytest.param('<failure message="ValueError: x" type="pkg.Oops">t</failure>', "pkg.Oops"),
        pytest.param('<failure message="assert x">a.py:3: Failed</failure>', "Failed"),
        pytest.param(
            '<failure message="pkg.errors.BadInput: y">native</failure>', "pkg.errors.BadInput"
        ),
        pytest.param('<error message="failed on teardown with &quot;OSError&quot;"/>', "OSError"),
        pytest.param('<failure message="assert 1 == 2">no type here</failure>', None),
        pytest.param('<failure message="boom"/>', None),
    ],
)
def test_the_exception_type_comes_from_the_type_then_the_traceback_then_the_message(
    tmp_path: Path, detail: str, exception: str | None
) -> None:
    report = report_of(tmp_path, f'<testcase classname="c" name="t">{detail}</testcase>')

    assert [case.exception for case in report.cases] == [exception]


def test_failing_keeps_one_case_per_test_and_a_failure_outranks_an_error(tmp_path: Path) -> None:
    report = report_of(
        tmp_path,
        '<testcase classname="c" name="t"><error message="teardown"/><failure message="f"/>'
        '</testcase><testcase classname="c" name="u"><skipped/></testcase>'
        '<testcase classname="c" name="v"><error message="setup"/></testcase>'
        '<testcase classname="c" name="t"><failure message="again"/></testcase>',
    )

    assert [(case.key, case.outcome, case.message) for case in report.failing] == [
        ("c::t", Outcome.FAILURE, "teardown"),
        ("c::v", Outcome.ERROR, "setup"),
    ]


def test_skips_keep_their_reason_and_pytests_type_one_per_test_unless_it_failed(
    tmp_path: Path,
) -> None:
    report = report_of(
        tmp_path,
        '<testcase classname="c" name="s"><skipped type="pytest.skip" message="Later: maybe">'
        "c.py:3: Later: maybe</skipped></testcase>"
        '<testcase classname="c" name="x"><skipped type="pytest.xfail" message="bug"/></testcase>'
        '<testcase classname="c" name="n"><skipped message="ValueError: not a type"/></testcase>'
        '<testcase classname="c" name="s"><skipped message="again"/></testcase>'
        '<testcase classname="c" name="f"><skipped message="setup"/><error message="e"/>'
        '</testcase><testcase classname="c" name="g"><skipped message="teardown"/></testcase>'
        '<testcase classname="c" name="g"><failure message="boom"/></testcase>',
    )

    assert [(c.key, c.message, c.text, c.exception) for c in report.skipped] == [
        ("c::s", "Later: maybe", "c.py:3: Later: maybe", "pytest.skip"),
        ("c::x", "bug", "", "pytest.xfail"),
        ("c::n", "ValueError: not a type", "", None),
    ]
    assert [case.key for case in report.failing] == ["c::f", "c::g"]


def test_collection_failures_are_listed_apart_from_the_cases(tmp_path: Path) -> None:
    report = report_of(
        tmp_path,
        '<testcase classname="" name="tests.test_bad" file="tests/test_bad.py">'
        '<error message="collection failure">SyntaxError</error></testcase>'
        '<testcase classname="c" name="t"/>',
    )

    assert report.uncollected == ("tests/test_bad.py",)
    assert [case.key for case in report.cases] == ["c::t"]


def test_an_oversized_report_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.xml"
    with path.open("wb") as stream:
        stream.truncate(MAX_REPORT_BYTES + 1)  # sparse: costs no disk

    with pytest.raises(ReportError) as caught:
        read_report(path, tmp_path)

    assert (
        str(caught.value) == f"{path}: {MAX_REPORT_BYTES + 1} bytes is too big for a JUnit report"
    )
