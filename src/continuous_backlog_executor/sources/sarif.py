"""The ``sarif`` source: results from SARIF 2.1.0 logs written by any analyser.

CodeQL, semgrep, ruff, bandit and most other analysers can write SARIF; this source reads those
logs (tracked ``*.sarif`` and ``*.sarif.json`` files, or the globs in ``sources.sarif.paths``).

Severity, first rule that applies, looking at the result's properties before its rule's:

- a numeric ``security-severity`` (CVSS-like, as GitHub code scanning reads it): 9.0 and up is
  critical, 7.0 high, 4.0 medium, anything lower low;
- a tool's own ``severity`` or ``issue_severity`` word: critical; high; medium or moderate;
  low, info or informational;
- the SARIF level (the result's, else its rule's ``defaultConfiguration.level``, else
  ``warning``): ``error`` is high, ``warning`` medium, ``note`` and ``none`` low.

Fingerprint: a hash of the tool's first word, the rule, the path and an identity, which is the
result's own ``fingerprints`` entry (else ``partialFingerprints``) with the first key in sorted
order, else the snippet with each line stripped, else the message. Never the line number, so an
item survives its code moving; a counter tells identical results in one run apart.

Type: Security when the tool is a security scanner (bandit, gosec, trivy...), the result or rule
has a ``security-severity``, or a tag, the rule's id or name, or the message speaks of security,
a CWE, OWASP or a vulnerability; else Bug. Results ``absent`` from the baseline, or of kind pass,
notApplicable or informational are left out. ``sarif_log`` reads and checks the logs.

Suppressed results (by a suppression no reviewer rejected, in the source or outside it) are debt
someone chose to carry: with ``suppressed`` on (the default) each is a low-impact item labelled
``suppressed``, Security as above or else Refactor (nothing is broken now), saying why it was
suppressed. Its fingerprint is the unsuppressed one's with ``suppressed:`` in front, so lifting
the suppression closes one item and opens the other.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from .. import git
from ..model import Source, TaskType
from ..settings import Setting, flag, text_list
from .base import DiscoveryContext, Finding, Scan
from .sarif_log import Alert, Suppression, UnusableLogError, alerts, load

NAME = "sarif"
DEFAULT_GLOBS = ("*.sarif", "*.sarif.json")
TITLE_LENGTH = 100
SUPPRESSED_IMPACT = 2  # someone judged it acceptable; still worth a look, after real problems

OPTIONS: Mapping[str, Setting] = {
    "paths": Setting(
        text_list,
        (),
        "Globs of SARIF files, relative to the repository (default: tracked *.sarif and "
        "*.sarif.json files).",
    ),
    "suppressed": Setting(flag, True, "Report suppressed results as debt (suppressed)."),
}


class SarifSource:
    """Imports the results of SARIF 2.1.0 logs; see the module docstring for the mappings."""

    name = NAME
    description = "Results from SARIF 2.1.0 files written by CodeQL, semgrep, ruff, bandit..."
    options: Mapping[str, Setting] = OPTIONS

    def discover(self, context: DiscoveryContext) -> Scan:
        """Read every SARIF log and report each standing result (and suppressed one, if asked)."""
        started = time.monotonic()
        patterns = tuple(context.options.get("paths", ()))
        suppressed = bool(context.options.get("suppressed", True))
        if not patterns and git.toplevel(context.repo) is None:
            return Scan(NAME, skipped=_NO_REPOSITORY.format(repo=context.repo))
        files, warnings = _log_files(context.repo, patterns)
        findings: list[Finding] = []
        for done, path in enumerate(files):
            label = _label(path, context.repo)
            context.observer.progress(NAME, done, len(files), label)
            try:
                log = load(path, label)
            except UnusableLogError as error:
                warnings.append(str(error))
                continue
            for run in alerts(log, label, context.repo):
                findings.extend(_findings(run, suppressed=suppressed))
        return Scan(NAME, tuple(findings), tuple(warnings), seconds=time.monotonic() - started)


_NO_REPOSITORY = (
    "{repo} is not a git repository, so there are no tracked SARIF files; "
    "name the files in sources.sarif.paths"
)


def _log_files(repo: Path, patterns: Sequence[str]) -> tuple[list[Path], list[str]]:
    """The SARIF files to read, and warnings about globs that matched nothing."""
    if not patterns:
        listed = git.git("ls-files", "-z", "--", *DEFAULT_GLOBS, cwd=repo).stdout
        return [repo / name for name in listed.split("\0") if name], []
    files: list[Path] = []
    warnings: list[str] = []
    for pattern in patterns:
        try:
            matched = sorted(path for path in repo.glob(pattern) if path.is_file())
        except (ValueError, NotImplementedError):  # empty or absolute patterns
            matched = []
        if not matched:
            warnings.append(f"sources.sarif.paths: no file in the repository matches {pattern!r}")
        files.extend(path for path in matched if path not in files)
    return files, warnings


def _label(path: Path, repo: Path) -> str:
    return path.relative_to(repo).as_posix() if path.is_relative_to(repo) else str(path)


def _findings(run: Sequence[Alert], *, suppressed: bool) -> Iterator[Finding]:
    """The findings of one run's alerts, in file and line order; ``suppressed`` ones if asked."""
    seen: Counter[tuple[str, str, str]] = Counter()
    for alert in sorted(run, key=lambda a: (a.path or a.uri or "", a.line or 0)):
        key = (alert.rule, alert.path or alert.uri or "", alert.identity)
        # Suppressed ones count too, shown or not, so suppressing one of two identical results
        # leaves the other's fingerprint as it was.
        occurrence = seen[key]
        seen[key] += 1
        if alert.suppression is None or suppressed:
            yield _finding(alert, occurrence)


def _finding(alert: Alert, occurrence: int) -> Finding:
    if alert.suppression is not None:
        return _suppressed(alert, alert.suppression, occurrence)
    return Finding(
        fingerprint=_fingerprint(alert, occurrence),
        title=_clip(f"{alert.tool} {alert.rule}: {alert.message.splitlines()[0]}"),
        description=_description(alert),
        task_type=TaskType.SECURITY if alert.security else TaskType.BUG,
        origin=_origin(alert),
        links=(alert.help_uri,) if alert.help_uri else (),
    )


def _suppressed(alert: Alert, suppression: Suppression, occurrence: int) -> Finding:
    why = " ".join((suppression.justification or "").split())  # one line, for the title
    return Finding(
        fingerprint=f"suppressed:{_fingerprint(alert, occurrence)}",
        title=_clip(f"Suppressed: {alert.rule} at {_place(alert)}" + (f": {why}" if why else "")),
        description=f"{_suppressed_how(suppression)}\n\n{_description(alert)}",
        task_type=TaskType.SECURITY if alert.security else TaskType.REFACTOR,
        origin=_origin(alert),
        labels=("suppressed",),
        links=(alert.help_uri,) if alert.help_uri else (),
        impact=SUPPRESSED_IMPACT,
    )


def _suppressed_how(suppression: Suppression) -> str:
    how = "in the source" if suppression.kind == "inSource" else "outside the source"
    if suppression.status == "underReview":
        how += " (under review)"
    why = suppression.justification
    return f"Suppressed {how}: {why}" if why else f"Suppressed {how}; no justification is given."


def _origin(alert: Alert) -> Source:
    return Source(
        kind=NAME,
        path=alert.path,
        line=alert.line,
        tag=alert.tag,
        rule=alert.rule,
        severity=alert.severity,
    )


def _fingerprint(alert: Alert, occurrence: int) -> str:
    parts = [alert.tag, alert.rule, alert.path or alert.uri or "", alert.identity]
    if occurrence:
        parts.append(str(occurrence))
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def _place(alert: Alert) -> str:
    where = alert.path or alert.uri or "an unknown place"
    return where + (f":{alert.line}" if alert.line else "")


def _description(alert: Alert) -> str:
    lines = [
        alert.message,
        "",
        f"Reported by {alert.tool} (rule {alert.rule}, severity {alert.severity}) "
        f"at {_place(alert)}, in {alert.log}.",
    ]
    if alert.snippet:
        lines += ["", "```", alert.snippet.rstrip("\n"), "```"]
    return "\n".join(lines)


def _clip(title: str) -> str:
    return title if len(title) <= TITLE_LENGTH else title[: TITLE_LENGTH - 3].rstrip() + "..."


SOURCE = SarifSource()
