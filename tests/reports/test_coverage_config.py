"""What a project's coverage configuration leaves out, read as coverage.py reads it, and the
configuration a measurement runs with."""

from __future__ import annotations

from pathlib import Path

import coverage
import pytest

from continuous_backlog_executor.reports.coverage_config import (
    Excluded,
    project_exclusions,
    rcfile,
)

COVERAGERC = """\
[run]
omit =
    */migrations/*,
    gen/*.py
branch = True
[report]
exclude_lines =
    pragma: no cover
    if TYPE_CHECKING:
"""
SETUP_CFG = """\
[metadata]
name = x
[coverage:run]
omit = build/*, docs/*
[coverage:report]
exclude_also =
    raise NotImplementedError
"""
PYPROJECT = """\
[tool.coverage.run]
omit = ["vendored/*"]
[tool.coverage.report]
omit = ["setup.py"]
exclude_also = ["def __repr__", "if False:"]
"""


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param({}, Excluded(), id="none"),
        pytest.param(
            {".coveragerc": COVERAGERC, "setup.cfg": SETUP_CFG},
            Excluded(
                ".coveragerc",
                run_omit=("*/migrations/*", "gen/*.py"),
                exclude_lines=("pragma: no cover", "if TYPE_CHECKING:"),
            ),
            id="coveragerc-first",
        ),
        pytest.param(
            {"setup.cfg": SETUP_CFG, "pyproject.toml": PYPROJECT},
            Excluded(
                "setup.cfg",
                run_omit=("build/*", "docs/*"),
                exclude_also=("raise NotImplementedError",),
            ),
            id="setup-cfg-before-pyproject",
        ),
        pytest.param(
            {"setup.cfg": "[metadata]\nname = x\n", "pyproject.toml": PYPROJECT},
            Excluded(
                "pyproject.toml",
                run_omit=("vendored/*",),
                report_omit=("setup.py",),
                exclude_also=("def __repr__", "if False:"),
            ),
            id="setup-cfg-without-coverage-sections",
        ),
        pytest.param(
            {"tox.ini": "[coverage:report]\nomit = a.py\n"},
            Excluded("tox.ini", report_omit=("a.py",)),
            id="tox-ini",
        ),
        pytest.param(
            {"setup.cfg": "[coverage:run\nomit = x\n", "pyproject.toml": PYPROJECT[:28]},
            Excluded(),
            id="unreadable-files-are-passed-over",
        ),
    ],
)
def test_the_file_coverage_py_would_read_decides(
    tmp_path: Path, files: dict[str, str], expected: Excluded
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)

    assert project_exclusions(tmp_path) == expected


def test_our_configuration_keeps_the_projects_exclusions_and_our_run_settings(
    tmp_path: Path,
) -> None:
    excluded = Excluded(
        ".coveragerc",
        run_omit=("gen/*",),
        report_omit=("setup.py",),
        exclude_lines=("pragma: no cover",),
        exclude_also=("if TYPE_CHECKING:",),
    )
    (tmp_path / "rc").write_text(rcfile(excluded))

    # Read back by coverage.py itself.
    measured = coverage.Coverage(config_file=str(tmp_path / "rc"), data_file=None)
    assert measured.get_option("run:branch") is False
    assert measured.get_option("run:parallel") is False
    assert measured.get_option("run:omit") == ["*/site-packages/*", "*/dist-packages/*", "gen/*"]
    assert measured.get_option("report:omit") == ["setup.py"]
    # coverage.py adds exclude_also to exclude_lines.
    assert measured.get_option("report:exclude_lines") == ["pragma: no cover", "if TYPE_CHECKING:"]


def test_without_exclude_lines_coverage_py_keeps_its_default(tmp_path: Path) -> None:
    (tmp_path / "rc").write_text(rcfile(Excluded()))

    measured = coverage.Coverage(config_file=str(tmp_path / "rc"), data_file=None)
    default = coverage.Coverage(config_file=False, data_file=None)
    assert measured.get_option("report:exclude_lines") == default.get_option("report:exclude_lines")
