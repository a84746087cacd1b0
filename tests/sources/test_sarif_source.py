"""Tests for the ``sarif`` source: real SARIF logs (one by the real bandit) in real repositories."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from conftest import git
from continuous_backlog_executor.discovery import discovered_id
from continuous_backlog_executor.model import TaskType
from continuous_backlog_executor.sources.base import DiscoveryContext, DiscoverySource, Finding
from continuous_backlog_executor.sources.sarif import SOURCE
from continuous_backlog_executor.store import StateStore

BANDIT = Path(sys.executable).parent / "bandit"
needs_bandit = pytest.mark.skipif(not BANDIT.is_file(), reason="bandit is not beside Python")
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
VULNERABLE = """\
import subprocess

import yaml

PASSWORD = "hunter2-but-longer"


def run(command):
    return subprocess.call(command, shell=True)


def load(text):
    return yaml.load(text)
"""
EVAL_RULE = "python.lang.security.audit.eval-detected"
COMPARISON_RULE = "python.lang.correctness.useless-comparison"
IFELSE_RULE = "python.lang.maintainability.useless-ifelse"

Summary = tuple[str | None, str | None, int | None, str | None, TaskType, str | None]


def context(repo: Path, **options: object) -> DiscoveryContext:
    """What discovery hands the source, with ``options`` as its settings."""
    return DiscoveryContext(repo, options, StateStore(repo / ".git" / "backlog-state"), NOW)


def summary(finding: Finding) -> Summary:
    """The parts of a finding most tests compare."""
    origin = finding.origin
    return (origin.rule, origin.path, origin.line, origin.severity, finding.task_type, origin.tag)


def write(path: Path, content: str | Mapping[str, object]) -> Path:
    """Write ``content`` (a mapping as JSON) to ``path``, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))
    return path


def bandit_sarif(repo: Path, output: str, *targets: str) -> None:
    """Run the real bandit over ``targets`` in ``repo``, writing SARIF to ``output``."""
    (repo / output).parent.mkdir(parents=True, exist_ok=True)
    argv = [str(BANDIT), "-q", "-f", "sarif", "-o", output, *targets]
    # bandit exits with 1 when it finds issues, which these tests want it to.
    subprocess.run(argv, cwd=repo, check=False, capture_output=True)
    assert (repo / output).is_file()


SEMGREP_RULES: list[dict[str, object]] = [
    {
        "id": EVAL_RULE,
        "name": "eval-detected",
        "defaultConfiguration": {"level": "warning"},
        "helpUri": f"https://semgrep.dev/r/{EVAL_RULE}",
        "properties": {"tags": ["CWE-95: Eval Injection", "security"], "security-severity": "9.8"},
    },
    {"id": COMPARISON_RULE, "defaultConfiguration": {"level": "note"}},
    {
        "id": IFELSE_RULE,
        "defaultConfiguration": {"level": "warning"},
        "messageStrings": {"default": {"text": "Both branches of the if return {0}."}},
    },
]


def log(
    results: list[dict[str, object]],
    *,
    tool: str = "Semgrep OSS",
    rules: list[dict[str, object]] = SEMGREP_RULES,
    **run: object,
) -> dict[str, object]:
    """A SARIF 2.1.0 log of one run of ``tool`` (semgrep-like unless told) with ``results``."""
    driver = {"name": tool, "rules": rules}
    return {"version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": results, **run}]}


def result(
    rule: str,
    where: str | Mapping[str, str],
    line: int,
    snippet: str | None = None,
    *,
    message: str | Mapping[str, object] = "A problem.",
    **fields: object,
) -> dict[str, object]:
    """A SARIF result of ``rule`` at ``where`` (a URI or an artifactLocation) and ``line``."""
    region: dict[str, object] = {"startLine": line}
    if snippet is not None:
        region["snippet"] = {"text": snippet}
    artifact = {"uri": where} if isinstance(where, str) else dict(where)
    physical = {"artifactLocation": artifact, "region": region}
    return {
        "ruleId": rule,
        "message": {"text": message} if isinstance(message, str) else message,
        "locations": [{"physicalLocation": physical}],
        **fields,
    }


def semgrep_log(
    repo: Path,
    *,
    line: int = 3,
    code: str = "    return eval(expression)\n",
    fingerprint: str = "5f1c2d3e:1",
) -> dict[str, object]:
    """Results covering suppression, baselines, nested base ids, levels and a file: URI."""
    bases = {
        "SRCROOT": {"uri": f"{repo.as_uri()}/"},
        "APP": {"uri": "app/", "uriBaseId": "SRCROOT"},
    }
    results = [
        result(
            EVAL_RULE,
            {"uri": "views.py", "uriBaseId": "APP"},
            line,
            code,
            message="Detected the use of eval(); it can run arbitrary code.",
            level="error",
            partialFingerprints={"primaryLocationLineHash": fingerprint},
        ),
        result(EVAL_RULE, "app/admin.py", 9, suppressions=[{"kind": "inSource"}]),
        result(EVAL_RULE, "app/admin.py", 12, baselineState="absent"),
        result(COMPARISON_RULE, "app/admin.py", 14, kind="pass"),
        result(COMPARISON_RULE, f"{repo.as_uri()}/app/models.py", 7, "x == x"),
        result(
            IFELSE_RULE,
            "lib/util.py",
            2,
            "return a if a else a",
            message={"id": "default", "arguments": ["a"]},
        ),
    ]
    return log(results, originalUriBaseIds=bases)


def test_the_source_meets_the_contract() -> None:
    source: DiscoverySource = SOURCE

    assert (source.name, list(source.options)) == ("sarif", ["paths", "suppressed"])
    assert SOURCE.options["suppressed"].default is True


@needs_bandit
@pytest.mark.slow
def test_reads_the_sarif_the_real_bandit_writes(repo: Path) -> None:
    write(repo / "app" / "vuln.py", VULNERABLE)
    bandit_sarif(repo, "reports/bandit.sarif", "app/vuln.py")
    git(repo, "add", "app/vuln.py", "reports/bandit.sarif")

    scan = SOURCE.discover(context(repo))

    assert (scan.source, scan.warnings, scan.skipped) == ("sarif", (), None)
    security = TaskType.SECURITY
    assert [summary(finding) for finding in scan.findings] == [
        ("B404", "app/vuln.py", 1, "low", security, "BANDIT"),
        ("B105", "app/vuln.py", 5, "low", security, "BANDIT"),
        ("B602", "app/vuln.py", 9, "high", security, "BANDIT"),
        ("B506", "app/vuln.py", 13, "medium", security, "BANDIT"),
    ]
    assert [discovered_id(finding, set())[:7] for finding in scan.findings] == ["BANDIT-"] * 4
    shell = scan.findings[2]
    assert shell.title == "Bandit B602: subprocess call with shell=True identified, security issue."
    assert shell.description == (
        "subprocess call with shell=True identified, security issue.\n"
        "\n"
        "Reported by Bandit (rule B602, severity high) at app/vuln.py:9, "
        "in reports/bandit.sarif.\n"
        "\n"
        "```\n"
        "    return subprocess.call(command, shell=True)\n"
        "```"
    )
    plugin = "b602_subprocess_popen_with_shell_equals_true.html"
    assert shell.links == (
        f"https://bandit.readthedocs.io/en/{version('bandit')}/plugins/{plugin}",
    )


@needs_bandit
@pytest.mark.slow
def test_a_finding_keeps_its_fingerprint_when_its_code_moves(repo: Path) -> None:
    write(repo / "vuln.py", VULNERABLE)
    bandit_sarif(repo, "bandit.sarif", "vuln.py")
    git(repo, "add", "vuln.py", "bandit.sarif")
    before = SOURCE.discover(context(repo)).findings
    write(repo / "vuln.py", '"""Now with a docstring."""\n\n' + VULNERABLE)
    bandit_sarif(repo, "bandit.sarif", "vuln.py")

    after = SOURCE.discover(context(repo)).findings

    assert [finding.origin.line for finding in before] == [1, 5, 9, 13]
    assert [finding.origin.line for finding in after] == [3, 7, 11, 15]
    assert [finding.fingerprint for finding in after] == [f.fingerprint for f in before]
    assert len({finding.fingerprint for finding in after}) == 4


def test_reads_a_semgrep_like_log(repo: Path) -> None:
    write(repo / "scans" / "semgrep.sarif.json", semgrep_log(repo))
    git(repo, "add", "scans")

    scan = SOURCE.discover(context(repo))

    assert scan.warnings == ()
    assert [summary(finding) for finding in scan.findings] == [
        (EVAL_RULE, "app/admin.py", 9, "critical", TaskType.SECURITY, "SEMGREP"),
        (COMPARISON_RULE, "app/models.py", 7, "low", TaskType.BUG, "SEMGREP"),
        (EVAL_RULE, "app/views.py", 3, "critical", TaskType.SECURITY, "SEMGREP"),
        (IFELSE_RULE, "lib/util.py", 2, "medium", TaskType.BUG, "SEMGREP"),
    ]
    assert [finding.labels for finding in scan.findings] == [("suppressed",), (), (), ()]
    evaluated = scan.findings[2]
    # Titles are cut to 100 characters.
    assert (
        evaluated.title
        == f"Semgrep OSS {EVAL_RULE}: Detected the use of eval(); it can run arbi..."
    )
    assert evaluated.links == (f"https://semgrep.dev/r/{EVAL_RULE}",)
    assert discovered_id(evaluated, set())[:8] == "SEMGREP-"
    assert scan.findings[3].title == f"Semgrep OSS {IFELSE_RULE}: Both branches of the if return a."


def test_the_tools_own_fingerprint_wins_over_line_and_snippet(repo: Path) -> None:
    sarif = repo / "semgrep.sarif"
    git(repo, "add", str(write(sarif, semgrep_log(repo))))
    first = SOURCE.discover(context(repo)).findings
    write(sarif, semgrep_log(repo, line=40, code="    return eval(user_input)\n"))
    moved = SOURCE.discover(context(repo)).findings
    write(sarif, semgrep_log(repo, fingerprint="99aa88bb:1"))
    renamed = SOURCE.discover(context(repo)).findings

    assert [finding.origin.line for finding in moved] == [9, 7, 40, 2]
    assert [finding.fingerprint for finding in moved] == [f.fingerprint for f in first]
    assert renamed[2].fingerprint != first[2].fingerprint
    assert [renamed[i].fingerprint for i in (0, 1, 3)] == [first[i].fingerprint for i in (0, 1, 3)]


def test_without_a_tool_fingerprint_the_snippet_names_the_finding(repo: Path) -> None:
    sarif = repo / "ruff.sarif"
    snippet = "import os\n"
    git(repo, "add", str(write(sarif, log([result("F401", "a.py", 1, snippet)]))))
    first = SOURCE.discover(context(repo)).findings[0]
    write(sarif, log([result("F401", "a.py", 30, "    import os  \n")]))
    reindented = SOURCE.discover(context(repo)).findings[0]
    write(sarif, log([result("F401", "a.py", 1, "import sys\n")]))
    other = SOURCE.discover(context(repo)).findings[0]

    assert (reindented.origin.line, reindented.fingerprint) == (30, first.fingerprint)
    assert other.fingerprint != first.fingerprint


def test_identical_results_are_told_apart_and_repeated_logs_are_not(repo: Path) -> None:
    twins = log([result("F401", "a.py", 1, "import os"), result("F401", "a.py", 8, "import os")])
    write(repo / "one.sarif", twins)
    write(repo / "two.sarif", twins)
    git(repo, "add", "one.sarif", "two.sarif")

    findings = SOURCE.discover(context(repo)).findings

    prints = [finding.fingerprint for finding in findings]
    assert [finding.origin.line for finding in findings] == [1, 8, 1, 8]
    assert prints[:2] == prints[2:]
    assert prints[0] != prints[1]


def test_malformed_logs_are_skipped_with_a_warning_and_the_rest_read(repo: Path) -> None:
    write(repo / "bad.sarif", '{"version": "2.1.0", runs: []}')
    write(repo / "good.sarif", log([result("F401", "a.py", 1, "import os")]))
    write(repo / "list.sarif", "[]")
    write(repo / "no-runs.sarif.json", {"version": "2.1.0"})
    write(repo / "old.sarif", {"version": "1.0.0", "runLogs": []})
    git(repo, "add", ".")

    scan = SOURCE.discover(context(repo))

    assert [summary(finding) for finding in scan.findings] == [
        ("F401", "a.py", 1, "medium", TaskType.BUG, "SEMGREP")
    ]
    assert scan.warnings == (
        "bad.sarif: not valid JSON "
        "(Expecting property name enclosed in double quotes at line 1); skipped",
        "list.sarif: not a SARIF log (no JSON object at the top); skipped",
        'no-runs.sarif.json: no "runs" list, so not a SARIF log; skipped',
        "old.sarif: SARIF version '1.0.0' is not supported, only 2.1.0; skipped",
    )


def test_a_log_over_the_size_limit_is_skipped_with_a_warning(repo: Path) -> None:
    with (repo / "huge.sarif").open("wb") as huge:
        huge.truncate(51 * 1024 * 1024)  # sparse: costs no disk and no time

    scan = SOURCE.discover(context(repo, paths=("*.sarif",)))

    assert (scan.findings, scan.warnings) == (
        (),
        ("huge.sarif: 51 MB is over the 50 MB limit for SARIF files; skipped",),
    )


def test_globs_find_untracked_logs_and_name_those_that_match_nothing(repo: Path) -> None:
    write(repo / "build" / "reports" / "ruff.sarif", log([result("F401", "a.py", 1, "x")]))

    default = SOURCE.discover(context(repo))
    globbed = SOURCE.discover(context(repo, paths=("build/**/*.sarif", "missing/*.sarif")))

    assert (default.findings, default.warnings) == ((), ())
    assert [finding.origin.rule for finding in globbed.findings] == ["F401"]
    assert globbed.warnings == (
        "sources.sarif.paths: no file in the repository matches 'missing/*.sarif'",
    )


def test_outside_a_git_repository_the_default_has_nothing_to_list(tmp_path: Path) -> None:
    scan = SOURCE.discover(context(tmp_path))

    assert scan.skipped == (
        f"{tmp_path} is not a git repository, so there are no tracked SARIF files; "
        "name the files in sources.sarif.paths"
    )


@pytest.mark.parametrize(
    ("fields", "kept"),
    [
        ({}, True),
        ({"baselineState": "absent"}, False),
        ({"baselineState": "unchanged"}, True),
        ({"kind": "pass"}, False),
        ({"kind": "notApplicable"}, False),
        ({"kind": "informational"}, False),
        ({"kind": "review"}, True),
    ],
)
def test_results_that_are_not_standing_problems_are_skipped(
    repo: Path, fields: dict[str, Any], kept: bool
) -> None:
    write(repo / "x.sarif", log([result("F401", "a.py", 1, "import os", **fields)]))

    findings = SOURCE.discover(context(repo, paths=("x.sarif",))).findings

    assert len(findings) == (1 if kept else 0)


NOSEC_SNIPPET = "    return pickle.loads(blob)  # noqa: S301\n"


def test_an_accepted_suppression_is_low_impact_debt_saying_why(repo: Path) -> None:
    def pickled(**fields: object) -> dict[str, object]:
        return log(
            [
                result(
                    "S301", "app/cache.py", 12, NOSEC_SNIPPET, message="pickle is unsafe", **fields
                )
            ],
            tool="Ruff",
            rules=[{"id": "S301", "properties": {"tags": ["security"]}}],
        )

    write(repo / "standing.sarif", pickled())
    accepted = {"kind": "inSource", "status": "accepted", "justification": "only our own\ncache"}
    write(repo / "suppressed.sarif", pickled(suppressions=[accepted]))

    (standing,) = SOURCE.discover(context(repo, paths=("standing.sarif",))).findings
    (suppressed,) = SOURCE.discover(context(repo, paths=("suppressed.sarif",))).findings

    assert suppressed == Finding(
        fingerprint=f"suppressed:{standing.fingerprint}",
        title="Suppressed: S301 at app/cache.py:12: only our own cache",
        description=(
            "Suppressed in the source: only our own\ncache\n"
            "\n"
            "pickle is unsafe\n"
            "\n"
            "Reported by Ruff (rule S301, severity medium) at app/cache.py:12, "
            "in suppressed.sarif.\n"
            "\n"
            "```\n"
            "    return pickle.loads(blob)  # noqa: S301\n"
            "```"
        ),
        task_type=TaskType.SECURITY,
        origin=standing.origin,
        labels=("suppressed",),
        impact=2,
    )
    assert (standing.labels, standing.impact, standing.task_type) == ((), None, TaskType.SECURITY)


STANDING = ("Semgrep OSS F401: A problem.", "Bug", ())


@pytest.mark.parametrize(
    ("suppressions", "shown", "how"),
    [
        pytest.param([], STANDING, None, id="none"),
        pytest.param([{"kind": "external", "status": "rejected"}], STANDING, None, id="rejected"),
        pytest.param(
            [{"kind": "inSource"}],
            ("Suppressed: F401 at a.py:1", "Refactor", ("suppressed",)),
            "Suppressed in the source; no justification is given.",
            id="in-source",
        ),
        pytest.param(
            [{"kind": "external", "status": "underReview", "justification": "false positive"}],
            ("Suppressed: F401 at a.py:1: false positive", "Refactor", ("suppressed",)),
            "Suppressed outside the source (under review): false positive",
            id="under-review",
        ),
        pytest.param(
            [
                {"kind": "external", "status": "rejected", "justification": "no"},
                {"kind": "inSource", "status": "accepted"},
            ],
            ("Suppressed: F401 at a.py:1", "Refactor", ("suppressed",)),
            "Suppressed in the source; no justification is given.",
            id="one-rejected-one-accepted",
        ),
    ],
)
def test_a_suppression_not_rejected_makes_a_suppressed_finding_unless_switched_off(
    repo: Path,
    suppressions: list[dict[str, str]],
    shown: tuple[str, str, tuple[str, ...]],
    how: str | None,
) -> None:
    sarif = log([result("F401", "a.py", 1, "import os", suppressions=suppressions)])
    write(repo / "x.sarif", sarif)

    (found,) = SOURCE.discover(context(repo, paths=("x.sarif",))).findings
    switched_off = SOURCE.discover(context(repo, paths=("x.sarif",), suppressed=False)).findings

    # A suppressed Bug becomes Refactor: a person chose to keep it, so nothing is broken now.
    assert (found.title, found.task_type.value, found.labels) == shown
    assert found.description.startswith(how or "A problem.\n")
    assert [finding.title for finding in switched_off] == ([] if how else [found.title])


def test_suppressing_one_of_two_identical_results_keeps_the_others_fingerprint(
    repo: Path,
) -> None:
    twins = [result("F401", "a.py", 1, "import os"), result("F401", "a.py", 8, "import os")]
    write(repo / "x.sarif", log(twins))
    before = SOURCE.discover(context(repo, paths=("x.sarif",))).findings
    twins[0]["suppressions"] = [{"kind": "inSource"}]
    write(repo / "x.sarif", log(twins))

    after = SOURCE.discover(context(repo, paths=("x.sarif",))).findings
    switched_off = SOURCE.discover(context(repo, paths=("x.sarif",), suppressed=False)).findings

    assert [(f.origin.line, f.labels) for f in after] == [(1, ("suppressed",)), (8, ())]
    assert after[0].fingerprint == f"suppressed:{before[0].fingerprint}"
    assert [f.fingerprint for f in (after[1], *switched_off)] == [before[1].fingerprint] * 2


@pytest.mark.parametrize(
    ("fields", "rule", "severity"),
    [
        ({"level": "error"}, {}, "high"),
        ({"level": "warning"}, {}, "medium"),
        ({"level": "note"}, {}, "low"),
        ({"level": "none"}, {}, "low"),
        ({}, {"defaultConfiguration": {"level": "error"}}, "high"),
        ({}, {}, "medium"),
        ({"kind": "review"}, {"defaultConfiguration": {"level": "error"}}, "low"),
        ({"level": "note"}, {"properties": {"security-severity": "9.0"}}, "critical"),
        ({"level": "note"}, {"properties": {"security-severity": "7.0"}}, "high"),
        ({"level": "note"}, {"properties": {"security-severity": 4}}, "medium"),
        ({"level": "error"}, {"properties": {"security-severity": "3.9"}}, "low"),
        (
            {"properties": {"security-severity": "8.1"}},
            {"properties": {"security-severity": "2"}},
            "high",
        ),
        ({"level": "error", "properties": {"issue_severity": "LOW"}}, {}, "low"),
        ({"level": "note"}, {"properties": {"severity": "Moderate"}}, "medium"),
        ({"level": "note", "properties": {"severity": "CRITICAL"}}, {}, "critical"),
    ],
)
def test_severity_mapping(
    repo: Path, fields: dict[str, Any], rule: dict[str, object], severity: str
) -> None:
    write(
        repo / "x.sarif",
        log([result("R1", "a.py", 1, "x", **fields)], rules=[{"id": "R1", **rule}]),
    )

    (finding,) = SOURCE.discover(context(repo, paths=("x.sarif",))).findings

    assert finding.origin.severity == severity


@pytest.mark.parametrize(
    ("tool", "rule", "message", "task_type"),
    [
        ("Ruff", {"id": "F401"}, "`os` imported but unused", TaskType.BUG),
        ("Ruff", {"id": "S602"}, "`subprocess` call with `shell=True`", TaskType.BUG),
        ("Ruff", {"id": "S602", "properties": {"tags": ["security"]}}, "shell", TaskType.SECURITY),
        (
            "CodeQL",
            {"id": "py/x", "properties": {"tags": ["external/cwe/cwe-079"]}},
            "x",
            TaskType.SECURITY,
        ),
        (
            "CodeQL",
            {"id": "py/x", "properties": {"security-severity": "6.1"}},
            "x",
            TaskType.SECURITY,
        ),
        ("CodeQL", {"id": "py/x"}, "Possible CWE-89 injection", TaskType.SECURITY),
        ("CodeQL", {"id": "py/x"}, "A known vulnerability", TaskType.SECURITY),
        ("Semgrep OSS", {"id": "python.lang.security.audit.x"}, "x", TaskType.SECURITY),
        ("gosec", {"id": "G101"}, "Hard-coded credentials", TaskType.SECURITY),
    ],
)
def test_security_is_recognised_by_tags_words_and_tool(
    repo: Path, tool: str, rule: dict[str, object], message: str, task_type: TaskType
) -> None:
    findings = [result(str(rule["id"]), "a.py", 1, "x", message=message)]
    write(repo / "x.sarif", log(findings, tool=tool, rules=[rule]))

    (finding,) = SOURCE.discover(context(repo, paths=("x.sarif",))).findings

    assert finding.task_type is task_type


@pytest.mark.parametrize(
    ("artifact", "bases", "path"),
    [
        ({"uri": "src/app.py"}, {}, "src/app.py"),
        ({"uri": "./src/../src/app.py"}, {}, "src/app.py"),
        ({"uri": "src/my%20app.py"}, {}, "src/my app.py"),
        ({"uri": "app.py", "uriBaseId": "%SRCROOT%"}, {}, "app.py"),
        (
            {"uri": "app.py", "uriBaseId": "SRC"},
            {"SRC": {"uri": "src", "uriBaseId": "ROOT"}, "ROOT": {"uri": "{repo}/"}},
            "src/app.py",
        ),
        ({"uri": "{repo}/src/app.py"}, {}, "src/app.py"),
        ({"uri": "file:///home/runner/work/demo/demo/src/app.py"}, {}, "src/app.py"),
        (
            {"uri": "src/app.py", "uriBaseId": "CHECKOUT"},
            {"CHECKOUT": {"uri": "file:///home/runner/work/demo/demo/"}},
            "src/app.py",
        ),
        ({"uri": "file:///elsewhere/missing.py"}, {}, None),
        ({"uri": "../outside.py"}, {}, None),
        ({"uri": "https://example.com/src/app.py"}, {}, None),
    ],
)
def test_locations_are_made_relative_to_the_repository(
    repo: Path, artifact: dict[str, str], bases: dict[str, dict[str, str]], path: str | None
) -> None:
    write(repo / "src" / "app.py", "import os\n")

    def filled(entry: dict[str, str]) -> dict[str, str]:
        return {key: value.replace("{repo}", repo.as_uri()) for key, value in entry.items()}

    filled_bases = {name: filled(base) for name, base in bases.items()}
    sarif = log([result("F401", filled(artifact), 1, "x")], originalUriBaseIds=filled_bases)
    write(repo / "x.sarif", sarif)

    (finding,) = SOURCE.discover(context(repo, paths=("x.sarif",))).findings

    assert finding.origin.path == path
