"""The coverage.py configuration a coverage measurement runs with: ours, plus what the project
says its coverage leaves out.

The measurement needs its own ``branch``, ``parallel`` and data file (a project's ``branch``
would mix branches into line coverage; its ``parallel`` or ``data_file`` would put the data
where we do not look), so the project's configuration file is never given to coverage.py as
it is. What the project excludes is still the project's to say: its ``omit`` patterns (of
generated code, migrations, vendored files...) and its excluded lines (``pragma: no cover``
and the like) are copied into ours, read from the file coverage.py itself would read.
"""

from __future__ import annotations

import configparser
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Installed packages are never the project's code, even in a virtualenv inside the tree.
OMIT_INSTALLED = ("*/site-packages/*", "*/dist-packages/*")
# Where coverage.py looks, in its order, and the prefix of its sections in each file.
FILES = ((".coveragerc", ""), ("setup.cfg", "coverage:"), ("tox.ini", "coverage:"))
PYPROJECT = "pyproject.toml"


@dataclass(frozen=True)
class Excluded:
    """What a project's coverage configuration leaves out of its figures."""

    source: str | None = None  # the file it was read from, relative to the project
    run_omit: tuple[str, ...] = ()
    report_omit: tuple[str, ...] = ()
    exclude_lines: tuple[str, ...] | None = None  # None: coverage.py's default
    exclude_also: tuple[str, ...] = ()


def project_exclusions(tree: Path) -> Excluded:
    """What the coverage configuration in ``tree`` leaves out; nothing when it has none.

    Like coverage.py, the first file holding its settings decides: ``.coveragerc`` (whenever
    it exists), then ``setup.cfg``, ``tox.ini`` and ``pyproject.toml``. A file that cannot be
    read is passed over: the project's own tools stop on it, and say so, when they read it.
    """
    for name, prefix in FILES:
        path = tree / name
        if not path.is_file():
            continue
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
        run, report = f"{prefix}run", f"{prefix}report"
        if prefix and not (parser.has_section(run) or parser.has_section(report)):
            continue
        return Excluded(
            name,
            _ini_list(parser, run, "omit"),
            _ini_list(parser, report, "omit"),
            _ini_lines(parser, report, "exclude_lines"),
            _ini_lines(parser, report, "exclude_also") or (),
        )
    return _from_pyproject(tree / PYPROJECT)


def rcfile(excluded: Excluded) -> str:
    """Our coverage.py configuration, with the project's exclusions."""
    lines = ["[run]", "branch = False", "parallel = False", "omit ="]
    lines += [f"    {pattern}" for pattern in (*OMIT_INSTALLED, *excluded.run_omit)]
    report = {"omit": excluded.report_omit, "exclude_also": excluded.exclude_also}
    if excluded.exclude_lines is not None:
        report["exclude_lines"] = excluded.exclude_lines
    lines.append("[report]")
    for key, values in report.items():
        if values:
            lines.append(f"{key} =")
            lines += [f"    {value}" for value in values]
    return "\n".join(lines) + "\n"


def _ini_list(parser: configparser.ConfigParser, section: str, key: str) -> tuple[str, ...]:
    """A list option as coverage.py reads one from an ini file: split at commas and lines."""
    if not parser.has_option(section, key):
        return ()
    return _kept(part for line in parser.get(section, key).splitlines() for part in line.split(","))


def _ini_lines(parser: configparser.ConfigParser, section: str, key: str) -> tuple[str, ...] | None:
    """A list of regular expressions, one per line (they may hold commas)."""
    if not parser.has_option(section, key):
        return None
    return _kept(parser.get(section, key).splitlines())


def _from_pyproject(path: Path) -> Excluded:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return Excluded()
    tool = data.get("tool")
    settings = tool.get("coverage") if isinstance(tool, dict) else None
    if not isinstance(settings, dict):
        return Excluded()
    run, report = settings.get("run", {}), settings.get("report", {})
    return Excluded(
        PYPROJECT,
        _toml_list(run, "omit") or (),
        _toml_list(report, "omit") or (),
        _toml_list(report, "exclude_lines"),
        _toml_list(report, "exclude_also") or (),
    )


def _toml_list(table: object, key: str) -> tuple[str, ...] | None:
    value = table.get(key) if isinstance(table, dict) else None
    if isinstance(value, str):
        return _kept(value.splitlines())
    if isinstance(value, list):
        return _kept(str(item) for item in value)
    return None


def _kept(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(stripped for value in values if (stripped := value.strip()))
