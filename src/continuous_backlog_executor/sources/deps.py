"""The ``deps`` source: Python dependencies with known vulnerabilities, found by pip-audit.

It runs ``pip-audit -f json`` once per requirements file (``sources.deps.requirements``, else
``requirements*.txt`` at the repository root, else the root's ``pyproject.toml``), or reads a
report pip-audit already wrote (``sources.deps.report``), and reports one Security finding per
vulnerable package, never per advisory.

How pip-audit is asked, and why:

- A requirements file in which every requirement pins one exact version (``name==1.2``, as
  pip-compile and ``pip freeze`` write them) is audited with ``--disable-pip --no-deps``: the
  versions are taken as written, so only the vulnerability service is contacted, in a second.
- Any other requirements file, and ``pyproject.toml`` (``pip-audit <repo>``, which reads
  ``[project] dependencies``), is first resolved by pip in a throw-away virtual environment:
  that covers transitive dependencies but needs the package index and takes tens of seconds.
- pip-audit's HTTP cache goes in the tool's state folder, never the user's pip cache.

Fingerprint: the package's normalised name, so a new advisory updates the package's item. Path:
the requirements file or ``pyproject.toml`` (none for a report). Severity: ``high`` always, as
pip-audit's JSON has none. A run that cannot reach the network, or that could audit none of
the dependencies, is skipped with the reason; a broken requirements file is a ``SourceError``.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..model import Source, TaskType
from ..process import Result, find_program, missing_program, run
from ..settings import Setting, number, optional_text, text_list
from .base import DiscoveryContext, DiscoverySource, Finding, Scan, SourceError
from .pip_audit_report import HINT, Advisory, Dependency, normalised, parse

NAME = "deps"
TAG = "DEP"
SEVERITY = "high"
LABELS = ("dependency", "security")
OSV_URL = "https://osv.dev/vulnerability/"
INSTALL_HINT = (
    "install it with `pip install pip-audit` (or the `scanners` extra of "
    "continuous-backlog-executor), or point sources.deps.report at a pip-audit JSON report"
)
DESCRIPTION_LENGTH = 300
DETAIL_LENGTH = 240

OPTIONS: Mapping[str, Setting] = {
    "executable": Setting(
        optional_text, None, "The pip-audit program (default: beside this Python, else on PATH)."
    ),
    "report": Setting(
        optional_text,
        None,
        "A pip-audit JSON report to read instead of running pip-audit, relative to the repository.",
    ),
    "requirements": Setting(
        text_list,
        (),
        "Requirements files to audit, relative to the repository (default: requirements*.txt "
        "at its root, else its pyproject.toml).",
    ),
    "timeout": Setting(number(1), 300.0, "Seconds pip-audit may take in all before it is stopped."),
}

# Lines of pip-audit's output that blame the network: requests' and urllib3's exceptions, pip's
# retries, and pip-audit's own "Could not connect to PyPI's vulnerability feed".
NETWORK_MARKERS = (
    "ConnectionError",
    "ProxyError",
    "ConnectTimeout",
    "ReadTimeout",
    "NewConnectionError",
    "NameResolutionError",
    "Max retries exceeded",
    "connection broken by",
    "Could not connect to",
)
# How pip-audit reports a failure of the pip it runs to resolve requirements.
PIP_MARKERS = ("internal pip failure", "Failed to upgrade `pip`", "Failed to install packages")
_PINNED = re.compile(r"[A-Za-z0-9][\w.-]*(\[[^\]]*\])?\s*==\s*[^\s;*,=]+\s*(;.*)?")
_INCLUDES = ("-r", "--requirement", "-c", "--constraint", "-e", "--editable")
_COMMENT = re.compile(r"(^|\s)#.*")
# In "ProxyError: HTTPSConnectionPool(host='pypi.org', ...) (Caused by ... [Errno 111] Connection
# refused)", the first exception and host are what failed; the last errno is why.
_EXCEPTION = re.compile(r"\b(\w+(?:Error|Timeout))\b")
_HOST = re.compile(r"host='([^']+)'")
_ERRNO = re.compile(r"\[Errno -?\d+\][^\"')\]]+")
_ERROR_PREFIX = re.compile(r"^ERROR:(pip_audit[\w.]*:)?\s*")  # pip-audit's and pip's log prefix
_LOGGED_ERROR = re.compile(r"^ERROR:", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Target:
    """One thing to hand pip-audit: a requirements file or the project directory."""

    label: str  # the file, relative to the repository: the findings' ``origin.path``
    selector: tuple[str, ...]  # the pip-audit arguments that select it


class DepsSource:
    """Runs pip-audit; see the module docstring for what it audits and how."""

    name = NAME
    description = "Python dependencies with known vulnerabilities (pip-audit)."
    options: Mapping[str, Setting] = OPTIONS

    def discover(self, context: DiscoveryContext) -> Scan:
        """Audit the dependencies (or read the report) and report each vulnerable package."""
        started = time.monotonic()
        scan = _scan(context, started)
        return Scan(NAME, scan.findings, scan.warnings, scan.skipped, time.monotonic() - started)


def _scan(context: DiscoveryContext, started: float) -> Scan:
    report = context.options.get("report")
    if report:
        path = context.repo / Path(report).expanduser()
        return scan_of([(None, read_report(path, context.repo))])
    found = targets(context.repo, tuple(context.options.get("requirements", ())))
    if not found:
        return Scan(NAME, skipped="no requirements*.txt or pyproject.toml at the repository root")
    configured = context.options.get("executable")
    program = find_program("pip-audit", configured, base=context.repo)
    if program is None:
        return Scan(NAME, skipped=missing_program("pip-audit", configured, INSTALL_HINT))
    audits: list[tuple[str | None, tuple[Dependency, ...]]] = []
    for done, target in enumerate(found):
        context.observer.progress(NAME, done, len(found), target.label)
        outcome = _audit(program, target, context, started)
        if isinstance(outcome, str):
            return Scan(NAME, skipped=outcome)
        audits.append((target.label, outcome))
    return scan_of(audits)


def _audit(
    program: Path, target: Target, context: DiscoveryContext, started: float
) -> tuple[Dependency, ...] | str:
    timeout = float(context.options.get("timeout", OPTIONS["timeout"].default))
    remaining = started + timeout - time.monotonic()
    result = _run(program, target, context, remaining) if remaining > 0 else None
    if result is None or result.timed_out:
        return _TIMED_OUT.format(seconds=timeout)
    return interpret(result, target)


_TIMED_OUT = (
    "pip-audit did not finish within {seconds:g} seconds and was stopped; "
    "raise sources.deps.timeout"
)


def _run(program: Path, target: Target, context: DiscoveryContext, timeout: float) -> Result:
    cache = context.state.folder("pip-audit")
    argv = [str(program), "-f", "json", "--progress-spinner", "off", "--cache-dir", str(cache)]
    # The child keeps the user's proxy and pip settings (they are how it reaches the network);
    # the report is read as UTF-8 whatever the locale.
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return run([*argv, *target.selector], cwd=context.repo, env=env, timeout=timeout)


def targets(repo: Path, requirements: tuple[str, ...]) -> list[Target]:
    """What to audit: ``requirements``, else the root's requirements files, else its project."""
    files = [repo / name for name in requirements] or sorted(repo.glob("requirements*.txt"))
    for path in files:
        if not path.is_file():
            raise SourceError(
                f"sources.deps.requirements: {_label(path, repo)} is not a file; "
                "list existing requirements files, or none to use requirements*.txt"
            )
    found = [_requirements(path, repo) for path in files]
    if not found and (repo / "pyproject.toml").is_file():
        found.append(Target("pyproject.toml", (".",)))
    return found


def _requirements(path: Path, repo: Path) -> Target:
    exact = ("--disable-pip", "--no-deps") if fully_pinned(path) else ()
    label = _label(path, repo)  # pip-audit runs in the repository, and names files as given
    return Target(label, ("-r", label, *exact))


def _label(path: Path, repo: Path) -> str:
    return path.relative_to(repo).as_posix() if path.is_relative_to(repo) else str(path)


def fully_pinned(path: Path) -> bool:
    """True when each requirement in ``path`` pins one exact version and nothing is included."""
    for raw in path.read_text(encoding="utf-8").replace("\\\n", " ").splitlines():
        line = _COMMENT.sub("", raw).strip()
        if line.startswith(_INCLUDES):
            return False
        # A requirement's own options (--hash=...) and global ones (--index-url) pin nothing.
        requirement = line.split(" -", 1)[0].strip()
        if requirement and not requirement.startswith("-") and not _PINNED.fullmatch(requirement):
            return False
    return True


def interpret(result: Result, target: Target) -> tuple[Dependency, ...] | str:
    """What pip-audit reported for ``target``: its dependencies, or why the scan is skipped.

    A project pip-audit cannot read (a bad requirements file) raises ``SourceError``.
    """
    if result.stdout.strip():  # exit status 1 with a report means "vulnerabilities found"
        return parse(result.stdout, f"pip-audit's output for {target.label}")
    problem = network_problem(result.stderr)
    if problem is not None:
        return problem
    if not _LOGGED_ERROR.search(result.stderr):  # a crash, not a complaint about the project
        raise SourceError(f"pip-audit failed while auditing {target.label}:\n{result.describe()}")
    raise SourceError(
        f"pip-audit could not audit {target.label}: {_error(result.stderr)}\n"
        f"Fix {target.label}, or list other files in sources.deps.requirements."
    )


def network_problem(stderr: str) -> str | None:
    """The skip reason when pip-audit's ``stderr`` shows it could not reach the network."""
    lines = [line for line in stderr.splitlines() if any(m in line for m in NETWORK_MARKERS)]
    if not lines:
        return None
    detail = _connection_failure(lines[-1])
    if any(marker in stderr for marker in PIP_MARKERS):
        return f"pip-audit could not reach the package index to resolve the requirements: {detail}"
    return f"pip-audit could not reach the vulnerability service: {detail}"


def _connection_failure(line: str) -> str:
    """What failed, to which host, and the system's reason, from one line of a traceback or log."""
    exception, host, errno = _EXCEPTION.search(line), _HOST.search(line), _ERRNO.findall(line)
    if exception is None or host is None:
        return _shorten(_ERROR_PREFIX.sub("", line), DETAIL_LENGTH)
    cause = f" ({errno[-1].strip()})" if errno else ""
    return f"{exception.group(1)} connecting to {host.group(1)}{cause}"


def _error(stderr: str) -> str:
    lines = stderr.rstrip().splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("ERROR:")), 0)
    kept = [_ERROR_PREFIX.sub("", line) for line in lines[start:]]
    return "\n".join(kept[-15:]).strip() or "no error message"


def read_report(path: Path, repo: Path) -> tuple[Dependency, ...]:
    """The dependencies in the pip-audit JSON report at ``path``."""
    where = f"sources.deps.report: {_label(path, repo)}"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SourceError(f"{where} cannot be read ({error.strerror}); {HINT}") from error
    return parse(text, where, advice=f"; {HINT}")


def scan_of(audits: Iterable[tuple[str | None, tuple[Dependency, ...]]]) -> Scan:
    """One scan from the dependencies audited per file; a package counts once, where first seen.

    When every dependency was skipped, nothing was audited, so the scan is skipped too: it
    cannot tell that an earlier alert has gone away.
    """
    found: dict[str, Finding] = {}
    skipped: list[tuple[str | None, Dependency]] = []
    total = 0
    for path, dependencies in audits:
        total += len(dependencies)
        skipped.extend((path, d) for d in dependencies if d.skip_reason is not None)
        for dependency in dependencies:
            if dependency.advisories:
                found.setdefault(normalised(dependency.name), finding(dependency, path))
    if skipped and len(skipped) == total:
        first = skipped[0][1]
        reason = f"pip-audit could not audit any of the {total} dependencies"
        return Scan(NAME, skipped=f"{reason} ({first.name}: {first.skip_reason})")
    warnings = (f"{path or 'report'}: {d.name} not audited: {d.skip_reason}" for path, d in skipped)
    return Scan(NAME, tuple(found.values()), tuple(warnings))


def finding(dependency: Dependency, path: str | None) -> Finding:
    """The Security finding for a vulnerable ``dependency`` that ``path`` (if known) lists."""
    advisories = dependency.advisories
    count = _count(len(advisories))
    package = f"{dependency.name} {dependency.version}"
    if any(advisory.fix_versions for advisory in advisories):
        title = f"Upgrade {package} ({count})"
    else:
        title = f"Mitigate {package} ({count}, none fixed in any release)"
    where = f" (in {path})" if path else ""
    lines = [f"pip-audit found {count} in {package}{where}:", ""]
    lines.extend(_describe(advisory) for advisory in advisories)
    ids = tuple(dict.fromkeys(advisory.id for advisory in advisories))
    return Finding(
        fingerprint=normalised(dependency.name),
        title=title,
        description="\n".join(lines),
        task_type=TaskType.SECURITY,
        origin=Source(kind=NAME, path=path, tag=TAG, rule=",".join(ids), severity=SEVERITY),
        labels=LABELS,
        links=tuple(OSV_URL + advisory_id for advisory_id in ids),
    )


def _count(amount: int) -> str:
    return f"{amount} known {'vulnerability' if amount == 1 else 'vulnerabilities'}"


def _describe(advisory: Advisory) -> str:
    aliases = f" ({', '.join(advisory.aliases)})" if advisory.aliases else ""
    fixed = ", ".join(advisory.fix_versions) or "no release yet"
    text = _shorten(advisory.description, DESCRIPTION_LENGTH)
    # pip-audit's PyPI service writes "N/A" when an advisory has neither summary nor details.
    about = f"\n  {text}" if text and text != "N/A" else ""
    return f"- {advisory.id}{aliases}: fixed in {fixed}{about}"


def _shorten(text: str, length: int) -> str:
    flat = " ".join(text.split())
    if len(flat) <= length:
        return flat
    cut = flat[: length - 1]
    # End on a whole word, unless one word fills the room.
    if flat[length - 1] != " " and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"


SOURCE: DiscoverySource = DepsSource()
