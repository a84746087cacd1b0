"""Tests for the dependency-alerts source: pip-audit reports, and the real pip-audit offline."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from continuous_backlog_executor.model import Source, TaskType
from continuous_backlog_executor.sources.base import DiscoveryContext, Finding, Scan, SourceError
from continuous_backlog_executor.sources.deps import (
    INSTALL_HINT,
    SOURCE,
    Target,
    fully_pinned,
    scan_of,
    targets,
)
from continuous_backlog_executor.sources.pip_audit_report import Advisory, Dependency
from continuous_backlog_executor.store import StateStore

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens, so connecting fails fast
XMLATTR = (
    "The `xmlattr` filter in affected versions of Jinja accepts keys containing spaces. "
    "XML/HTML attributes cannot contain spaces, as each would then be interpreted as a separate "
    "attribute. If an application accepts keys (as opposed to only values) as user input, and "
    "renders these in pages that other users see as well, an attacker could use this to inject "
    "other attributes and perform XSS."
)
# As `pip-audit -f json` writes it (aliases and descriptions are on by default for JSON).
REPORT = {
    "dependencies": [
        {
            "name": "jinja2",
            "version": "2.10",
            "vulns": [
                {
                    "id": "PYSEC-2019-217",
                    "fix_versions": ["2.10.1"],
                    "aliases": ["CVE-2019-10906", "GHSA-462w-v97r-4m45"],
                    "description": "In Pallets Jinja before 2.10.1, str.format_map allows a "
                    "sandbox escape.",
                },
                {
                    "id": "GHSA-h5c8-rqwp-cp95",
                    "fix_versions": ["3.1.3"],
                    "aliases": ["CVE-2024-22195"],
                    "description": XMLATTR,
                },
            ],
        },
        {"name": "six", "version": "1.16.0", "vulns": []},
        {
            "name": "urllib3",
            "version": "1.24.1",
            "vulns": [
                {
                    "id": "PYSEC-2019-132",
                    "fix_versions": ["1.24.2"],
                    "aliases": ["CVE-2019-11324"],
                    "description": "The urllib3 library before 1.24.2 for Python mishandles\n"
                    "certain cases where the desired set of CA certificates is different.",
                }
            ],
        },
    ],
    "fixes": [],
}
JINJA2 = Finding(
    fingerprint="jinja2",
    title="Upgrade jinja2 2.10 (2 known vulnerabilities)",
    description=(
        "pip-audit found 2 known vulnerabilities in jinja2 2.10:\n"
        "\n"
        "- PYSEC-2019-217 (CVE-2019-10906, GHSA-462w-v97r-4m45): fixed in 2.10.1\n"
        "  In Pallets Jinja before 2.10.1, str.format_map allows a sandbox escape.\n"
        "- GHSA-h5c8-rqwp-cp95 (CVE-2024-22195): fixed in 3.1.3\n"
        "  The `xmlattr` filter in affected versions of Jinja accepts keys containing spaces. "
        "XML/HTML attributes cannot contain spaces, as each would then be interpreted as a "
        "separate attribute. If an application accepts keys (as opposed to only values) as "
        "user input, and renders these in pages that other…"
    ),
    task_type=TaskType.SECURITY,
    origin=Source(
        kind="deps", tag="DEP", rule="PYSEC-2019-217,GHSA-h5c8-rqwp-cp95", severity="high"
    ),
    labels=("dependency", "security"),
    links=(
        "https://osv.dev/vulnerability/PYSEC-2019-217",
        "https://osv.dev/vulnerability/GHSA-h5c8-rqwp-cp95",
    ),
)
URLLIB3 = Finding(
    fingerprint="urllib3",
    title="Upgrade urllib3 1.24.1 (1 known vulnerability)",
    description=(
        "pip-audit found 1 known vulnerability in urllib3 1.24.1:\n"
        "\n"
        "- PYSEC-2019-132 (CVE-2019-11324): fixed in 1.24.2\n"
        "  The urllib3 library before 1.24.2 for Python mishandles certain cases where the "
        "desired set of CA certificates is different."
    ),
    task_type=TaskType.SECURITY,
    origin=Source(kind="deps", tag="DEP", rule="PYSEC-2019-132", severity="high"),
    labels=("dependency", "security"),
    links=("https://osv.dev/vulnerability/PYSEC-2019-132",),
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project folder."""
    root = tmp_path / "project"
    root.mkdir()
    return root


def discover(project: Path, **options: object) -> Scan:
    """Run the source over ``project`` with ``options``, its state kept beside the project."""
    state = StateStore(project.parent / "state")
    return SOURCE.discover(DiscoveryContext(project, options, state, NOW))


def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point every way out (proxies, pip's index) at a port where nothing listens."""
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "PIP_INDEX_URL"):
        monkeypatch.setenv(name, UNREACHABLE)
        monkeypatch.setenv(name.lower(), UNREACHABLE)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)


def fake_pip_audit(folder: Path, *, stdout: str, stderr: str, status: int) -> Path:
    """A stand-in for pip-audit that records its arguments and prints what it is told to."""
    program = folder / "fake-pip-audit"
    program.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"open({str(folder / 'argv.json')!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
        f"sys.stdout.write({stdout!r})\nsys.stderr.write({stderr!r})\nsys.exit({status})\n"
    )
    program.chmod(0o755)
    return program


def test_a_report_gives_one_finding_per_vulnerable_package(project: Path) -> None:
    (project / "audit.json").write_text(json.dumps(REPORT))

    scan = discover(project, report="audit.json")

    assert scan.source == "deps"
    assert scan.skipped is None
    assert scan.warnings == ()
    assert scan.findings == (JINJA2, URLLIB3)


def test_a_package_fixed_in_no_release_is_to_be_mitigated(project: Path) -> None:
    vuln = {"id": "GHSA-xxxx-yyyy-zzzz", "fix_versions": [], "aliases": [], "description": ""}
    report = {"dependencies": [{"name": "Old_Lib", "version": "0.9", "vulns": [vuln]}]}
    (project / "audit.json").write_text(json.dumps(report))

    scan = discover(project, report="audit.json")

    assert scan.findings == (
        Finding(
            fingerprint="old-lib",
            title="Mitigate Old_Lib 0.9 (1 known vulnerability, none fixed in any release)",
            description=(
                "pip-audit found 1 known vulnerability in Old_Lib 0.9:\n"
                "\n"
                "- GHSA-xxxx-yyyy-zzzz: fixed in no release yet"
            ),
            task_type=TaskType.SECURITY,
            origin=Source(kind="deps", tag="DEP", rule="GHSA-xxxx-yyyy-zzzz", severity="high"),
            labels=("dependency", "security"),
            links=("https://osv.dev/vulnerability/GHSA-xxxx-yyyy-zzzz",),
        ),
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "{not json",
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        ('{"fixes": []}', 'expected an object with a "dependencies" list'),
        (
            '{"dependencies": [{"name": "a", "version": "1", "vulns": [{"fix_versions": []}]}]}',
            'dependencies[0].vulns[0]: "id" must be non-empty text',
        ),
        (
            '{"dependencies": [{"name": "a", "version": "1"}]}',
            'dependencies[0]: "vulns" must be a list',
        ),
    ],
)
def test_a_malformed_report_is_an_error_naming_the_file(
    project: Path, text: str, problem: str
) -> None:
    (project / "audit.json").write_text(text)

    with pytest.raises(SourceError) as caught:
        discover(project, report="audit.json")

    assert str(caught.value) == (
        f"sources.deps.report: audit.json is not a pip-audit JSON report: {problem}; "
        "make one with `pip-audit -f json -o FILE`"
    )


def test_a_missing_report_is_an_error_naming_the_file(project: Path) -> None:
    with pytest.raises(SourceError) as caught:
        discover(project, report="reports/audit.json")

    assert str(caught.value) == (
        "sources.deps.report: reports/audit.json cannot be read (No such file or directory); "
        "make one with `pip-audit -f json -o FILE`"
    )


def test_a_report_in_which_nothing_was_audited_skips_the_scan(project: Path) -> None:
    # What pip-audit writes when the vulnerability service answers "not found" for everything.
    reason = "Dependency not found on PyPI and could not be audited: jinja2 (2.10)"
    report = {
        "dependencies": [
            {"name": "jinja2", "skip_reason": reason},
            {"name": "six", "skip_reason": "Dependency not found on PyPI and could not be..."},
        ],
        "fixes": [],
    }
    (project / "audit.json").write_text(json.dumps(report))

    scan = discover(project, report="audit.json")

    assert scan.findings == ()
    assert scan.skipped == f"pip-audit could not audit any of the 2 dependencies (jinja2: {reason})"


def test_each_package_counts_once_where_first_found_and_skips_are_warned() -> None:
    advisory = Advisory("PYSEC-2019-132", (), ("1.24.2",), "")
    old = Dependency("urllib3", "1.24.1", (advisory,))
    older = Dependency("URLLib3", "1.24.0", (advisory,))
    private = Dependency("private-lib", None, skip_reason="Dependency not found on PyPI")

    scan = scan_of([("requirements.txt", (old,)), ("requirements-dev.txt", (older, private))])

    assert [(f.fingerprint, f.title, f.origin.path) for f in scan.findings] == [
        ("urllib3", "Upgrade urllib3 1.24.1 (1 known vulnerability)", "requirements.txt")
    ]
    assert scan.warnings == (
        "requirements-dev.txt: private-lib not audited: Dependency not found on PyPI",
    )


@pytest.mark.parametrize(
    ("text", "pinned"),
    [
        ("jinja2==2.10\nsix == 1.16.0  # why\n\n# a comment\n", True),
        ("Flask[async]==2.0.1 ; python_version >= '3.8'\n", True),
        ("--index-url https://example.org/simple\nsix==1.16.0 \\\n    --hash=sha256:abc\n", True),
        ("", True),
        ("jinja2>=2.10\n", False),
        ("jinja2==2.*\n", False),
        ("jinja2\n", False),
        ("six==1.16.0\n-r other.txt\n", False),
        ("-e .\n", False),
        ("lib @ https://example.org/lib-1.0.tar.gz\n", False),
    ],
)
def test_fully_pinned_files_are_audited_as_written(tmp_path: Path, text: str, pinned: bool) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(text)

    assert fully_pinned(path) is pinned


def test_targets_are_the_root_requirements_files_else_the_project(project: Path) -> None:
    (project / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    assert targets(project, ()) == [Target("pyproject.toml", (".",))]

    (project / "requirements.txt").write_text("six==1.16.0\n")
    (project / "requirements-dev.txt").write_text("pytest>=8\n")
    assert targets(project, ()) == [
        Target("requirements-dev.txt", ("-r", "requirements-dev.txt")),
        Target("requirements.txt", ("-r", "requirements.txt", "--disable-pip", "--no-deps")),
    ]

    (project / "deps").mkdir()
    (project / "deps" / "lock.txt").write_text("six==1.16.0\n")
    assert targets(project, ("deps/lock.txt",)) == [
        Target("deps/lock.txt", ("-r", "deps/lock.txt", "--disable-pip", "--no-deps"))
    ]


def test_a_configured_requirements_file_must_exist(project: Path) -> None:
    with pytest.raises(SourceError) as caught:
        discover(project, requirements=("requirements/prod.txt",))

    assert str(caught.value) == (
        "sources.deps.requirements: requirements/prod.txt is not a file; "
        "list existing requirements files, or none to use requirements*.txt"
    )


def test_nothing_to_audit_skips_the_scan(project: Path) -> None:
    scan = discover(project)

    assert scan.skipped == "no requirements*.txt or pyproject.toml at the repository root"


def test_without_pip_audit_the_scan_is_skipped_with_the_install_hint(project: Path) -> None:
    (project / "requirements.txt").write_text("jinja2==2.10\n")

    scan = discover(project, executable="missing/pip-audit")

    assert scan.findings == ()
    assert scan.skipped == f"pip-audit is not installed at missing/pip-audit; {INSTALL_HINT}"
    assert INSTALL_HINT == (
        "install it with `pip install pip-audit` (or the `scanners` extra of "
        "continuous-backlog-executor), or point sources.deps.report at a pip-audit JSON report"
    )


def test_without_network_the_real_pip_audit_run_is_skipped(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "requirements.txt").write_text("jinja2==2.10\n")
    offline(monkeypatch)

    scan = discover(project, timeout=60)

    assert scan.findings == ()
    assert scan.skipped == (
        "pip-audit could not reach the vulnerability service: "
        "ProxyError connecting to pypi.org ([Errno 111] Connection refused)"
    )


def test_a_broken_requirements_file_is_an_error_naming_it(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "requirements.txt").write_text("jinja2==2.10\nnot a valid line!!\n")
    offline(monkeypatch)

    with pytest.raises(SourceError) as caught:
        discover(project)

    assert str(caught.value) == (
        "pip-audit could not audit requirements.txt: requirement file requirements.txt contains "
        "invalid specifier at line 2: Invalid requirement: : Expected semicolon (after name "
        "with no version specifier) or end\n"
        "    not a valid line!!\n"
        "        ^\n"
        "Fix requirements.txt, or list other files in sources.deps.requirements."
    )


def test_a_run_over_the_time_limit_is_stopped_and_skipped(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Unpinned, so pip-audit first builds a virtual environment: far longer than one second.
    (project / "requirements.txt").write_text("jinja2<3\n")
    offline(monkeypatch)

    scan = discover(project, timeout=1)

    assert scan.skipped == (
        "pip-audit did not finish within 1 seconds and was stopped; raise sources.deps.timeout"
    )


def test_a_run_that_finds_vulnerabilities_names_the_requirements_file(project: Path) -> None:
    (project / "requirements.txt").write_text("jinja2==2.10\nsix==1.16.0\nurllib3==1.24.1\n")
    # pip-audit exits with status 1 when it finds vulnerabilities, and still prints the report.
    found = "Found 3 known vulnerabilities in 2 packages\n"
    program = fake_pip_audit(project.parent, stdout=json.dumps(REPORT), stderr=found, status=1)

    scan = discover(project, executable=str(program))

    assert scan.skipped is None
    assert scan.findings == tuple(
        dataclasses.replace(
            expected,
            description=expected.description.replace(":\n", " (in requirements.txt):\n", 1),
            origin=dataclasses.replace(expected.origin, path="requirements.txt"),
        )
        for expected in (JINJA2, URLLIB3)
    )
    assert json.loads((project.parent / "argv.json").read_text()) == [
        *("-f", "json", "--progress-spinner", "off"),
        *("--cache-dir", str(project.parent / "state" / "pip-audit")),
        *("-r", "requirements.txt", "--disable-pip", "--no-deps"),
    ]


def test_a_pip_audit_crash_is_an_error_showing_its_output(project: Path) -> None:
    (project / "requirements.txt").write_text("jinja2==2.10\n")
    crash = "Traceback (most recent call last):\n  File \"x.py\", line 1\nKeyError: 'fixed_in'\n"
    program = fake_pip_audit(project.parent, stdout="", stderr=crash, status=1)

    with pytest.raises(SourceError) as caught:
        discover(project, executable=str(program))

    assert re.fullmatch(
        re.escape(f"pip-audit failed while auditing requirements.txt:\n$ {program} -f json ")
        + r".*\(exited with 1 after \d+\.\ds\)\n"
        + re.escape(f"stderr:\n{crash.rstrip()}"),
        str(caught.value),
    )
