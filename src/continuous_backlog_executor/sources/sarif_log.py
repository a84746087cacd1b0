"""SARIF 2.1.0 logs read into typed ``Alert``s: rules, levels, severities, places.

Everything read from the JSON is checked here, at the boundary; a part of the wrong type reads as
absent, so one odd result never costs the rest of the log. ``sarif`` (the discovery source)
describes the severity mapping and turns alerts into findings.
"""

from __future__ import annotations

import json
import math
import os
import posixpath
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

from .base import SourceError

MAX_BYTES = 50 * 1024 * 1024

Json = Mapping[str, object]

# Results of these kinds record a check that passed or did not apply: not problems.
_NOT_PROBLEMS = frozenset({"pass", "notApplicable", "informational"})
_LEVEL_SEVERITY = {"error": "high", "warning": "medium", "note": "low", "none": "low"}
_WORD_SEVERITY = {
    "critical": "critical",
    "high": "high",
    "medium": "medium",
    "moderate": "medium",
    "low": "low",
    "info": "low",
    "informational": "low",
}
# Analysers whose every rule is about security, whatever their tags say.
_SECURITY_TOOLS = frozenset(
    {
        "bandit",
        "brakeman",
        "checkov",
        "devskim",
        "flawfinder",
        "gitleaks",
        "gosec",
        "grype",
        "kics",
        "njsscan",
        "snyk",
        "tfsec",
        "trivy",
        "trufflehog",
    }
)
_SECURITY_WORDS = re.compile(r"\bcwe-?\d+|\bsecurity\b|\bowasp\b|vulnerab", re.IGNORECASE)
# semgrep without a login writes this in place of a real fingerprint, the same for every result.
_FINGERPRINT_PLACEHOLDER = "requires login"
_PLACEHOLDER_ARGUMENT = re.compile(r"\{(\d+)\}")
_MAX_BASE_DEPTH = 16


class UnusableLogError(SourceError):
    """A SARIF file that cannot be read as a SARIF 2.1.0 log; the message names it."""


@dataclass(frozen=True, slots=True)
class Suppression:
    """Why a result is hidden: a suppression no reviewer rejected."""

    kind: str  # inSource (a comment in the code) or external (a baseline, a dashboard...)
    status: str | None  # accepted, underReview, or None when the log does not say
    justification: str | None


@dataclass(frozen=True, slots=True)
class Alert:
    """One SARIF result, validated and placed in the repository."""

    tool: str  # the driver's name, e.g. "Semgrep OSS"
    tag: str  # its first word in capitals, e.g. "SEMGREP": the items' id prefix
    rule: str
    message: str
    path: str | None  # relative to the repository; None when the file is not in it
    line: int | None
    uri: str | None  # as the log wrote it
    snippet: str | None
    severity: str
    security: bool
    identity: str  # what the fingerprint hashes besides tool, rule and path
    help_uri: str | None
    log: str  # the SARIF file it came from, relative to the repository
    suppression: Suppression | None = None  # set when the result is suppressed


@dataclass(frozen=True, slots=True)
class _Run:
    """What the results of one run are read against."""

    tool: str
    components: tuple[tuple[Json, ...], ...]  # rules of the driver, then of each extension
    bases: Json  # originalUriBaseIds
    log: str
    results: tuple[object, ...]

    def rule_for(self, result: Json) -> Json:
        """The rule descriptor ``result`` refers to, by index or by id; empty if none."""
        reference = _obj(result.get("rule"))
        component = _index(_at(reference, "toolComponent", "index"))
        # Component 0 is the driver; a reference's toolComponent.index counts the extensions.
        chosen = component + 1 if component is not None else 0
        rules = self.components[chosen] if chosen < len(self.components) else ()
        position = _index(reference.get("index", result.get("ruleIndex")))
        if position is not None and position < len(rules):
            return rules[position]
        wanted = _text(result.get("ruleId")) or _text(reference.get("id"))
        everything = (rule for group in self.components for rule in group)
        return next((rule for rule in everything if rule.get("id") == wanted), {})


def load(path: Path, label: str) -> Json:
    """The SARIF 2.1.0 log in ``path``, checked as far as its version and its runs."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise UnusableLogError(
                f"{label}: {size / 2**20:.0f} MB is over the {MAX_BYTES // 2**20} MB limit "
                "for SARIF files; skipped"
            )
        log: object = json.loads(path.read_bytes())
    except OSError as error:
        raise UnusableLogError(f"{label}: cannot be read ({error.strerror}); skipped") from error
    except json.JSONDecodeError as error:
        raise UnusableLogError(
            f"{label}: not valid JSON ({error.msg} at line {error.lineno}); skipped"
        ) from error
    except UnicodeDecodeError as error:
        raise UnusableLogError(f"{label}: not UTF-8 text ({error.reason}); skipped") from error
    return _checked(log, label)


def _checked(log: object, label: str) -> Json:
    if not isinstance(log, dict):
        raise UnusableLogError(f"{label}: not a SARIF log (no JSON object at the top); skipped")
    if log.get("version") != "2.1.0":
        raise UnusableLogError(
            f"{label}: SARIF version {log.get('version')!r} is not supported, only 2.1.0; skipped"
        )
    if not isinstance(log.get("runs"), list):
        raise UnusableLogError(f'{label}: no "runs" list, so not a SARIF log; skipped')
    return log


def alerts(log: Json, label: str, repo: Path) -> Iterator[list[Alert]]:
    """The results of each run of ``log`` (read from ``label``) that are problems, standing or
    suppressed, placed in ``repo``."""
    for raw in _list(log.get("runs")):
        run = _run(_obj(raw), label)
        found = (_alert(result, run, repo) for result in run.results if isinstance(result, dict))
        yield [alert for alert in found if alert is not None]


def _run(run: Json, label: str) -> _Run:
    tool = _obj(run.get("tool"))
    driver = _obj(tool.get("driver"))
    components = (driver, *(_obj(extension) for extension in _list(tool.get("extensions"))))
    rules = tuple(tuple(_obj(rule) for rule in _list(c.get("rules"))) for c in components)
    name = _text(driver.get("name")) or "SARIF"
    bases = _obj(run.get("originalUriBaseIds"))
    return _Run(name, rules, bases, label, tuple(_list(run.get("results"))))


def _alert(result: Json, run: _Run, repo: Path) -> Alert | None:
    """``result`` read against its run, or None when it is not a problem."""
    if result.get("kind") in _NOT_PROBLEMS or result.get("baselineState") == "absent":
        return None
    rule = run.rule_for(result)
    rule_id = _text(result.get("ruleId")) or _text(_at(result, "rule", "id"))
    rule_id = rule_id or _text(rule.get("id")) or "unnamed-rule"
    message = _message(result, rule)
    physical = _obj(_at(_first(result.get("locations")), "physicalLocation"))
    uri, path = _where(physical, run.bases, repo)
    snippet = _text(_at(physical, "region", "snippet", "text"))
    bags = (_obj(result.get("properties")), _obj(rule.get("properties")))
    return Alert(
        tool=run.tool,
        tag=_tag(run.tool),
        rule=rule_id,
        message=message,
        path=path,
        line=_index(_at(physical, "region", "startLine")) or None,
        uri=uri,
        snippet=snippet,
        severity=_severity(_level(result, rule), bags),
        security=_is_security(run.tool, bags, (rule_id, message, _text(rule.get("name")) or "")),
        identity=_own_fingerprint(result) or _stripped(snippet) or message,
        help_uri=_text(rule.get("helpUri")),
        log=run.log,
        suppression=_suppression(result),
    )


def _suppression(result: Json) -> Suppression | None:
    """What suppresses ``result``, preferring a justified suppression; None if it stands.
    One a reviewer rejected suppresses nothing; any other does, one under review too."""
    given = (_obj(entry) for entry in _list(result.get("suppressions")))
    held = [entry for entry in given if entry.get("status") != "rejected"]
    if not held:
        return None
    chosen = next((entry for entry in held if _text(entry.get("justification"))), held[0])
    return Suppression(
        kind=_text(chosen.get("kind")) or "external",
        status=_text(chosen.get("status")),
        justification=_text(chosen.get("justification")),
    )


def _message(result: Json, rule: Json) -> str:
    """The result's message text, taken from the rule's message strings when it names one."""
    message = _obj(result.get("message"))
    found = _text(message.get("text")) or _text(message.get("markdown"))
    if found is None and (key := _text(message.get("id"))) is not None:
        found = _text(_at(rule, "messageStrings", key, "text"))
    found = found or _text(_at(rule, "shortDescription", "text")) or "(no message)"
    arguments = [str(argument) for argument in _list(message.get("arguments"))]
    return _PLACEHOLDER_ARGUMENT.sub(
        lambda m: arguments[int(m[1])] if int(m[1]) < len(arguments) else m[0], found
    ).strip()


def _level(result: Json, rule: Json) -> str:
    """The SARIF level, defaulted as the specification says."""
    level = _text(result.get("level"))
    if level is None and result.get("kind", "fail") != "fail":
        level = "none"
    level = level or _text(_at(rule, "defaultConfiguration", "level"))
    return level if level in _LEVEL_SEVERITY else "warning"


def _severity(level: str, bags: Sequence[Json]) -> str:
    for bag in bags:
        score = _score(bag.get("security-severity"))
        if score is not None:
            return _by_score(score)
    for bag in bags:
        for key in ("severity", "issue_severity"):
            word = _WORD_SEVERITY.get((_text(bag.get(key)) or "").lower())
            if word is not None:
                return word
    return _LEVEL_SEVERITY[level]


def _score(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    try:
        score = float(value)
    except ValueError:
        return None
    return score if math.isfinite(score) else None


def _by_score(score: float) -> str:
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    return "medium" if score >= 4.0 else "low"


def _is_security(tool: str, bags: Sequence[Json], texts: Sequence[str]) -> bool:
    if _first_word(tool).lower() in _SECURITY_TOOLS:
        return True
    if any(bag.get("security-severity") is not None for bag in bags):
        return True
    tags = [tag for bag in bags for tag in _list(bag.get("tags")) if isinstance(tag, str)]
    return any(_SECURITY_WORDS.search(words) for words in (*tags, *texts))


def _own_fingerprint(result: Json) -> str | None:
    """The tool's own fingerprint: the entry with the first key, full ones before partial."""
    for field in ("fingerprints", "partialFingerprints"):
        entries = sorted(
            (key, value)
            for key, value in _obj(result.get(field)).items()
            if isinstance(value, str) and value.strip() and value != _FINGERPRINT_PLACEHOLDER
        )
        if entries:
            return f"{field}:{entries[0][0]}={entries[0][1]}"
    return None


def _stripped(snippet: str | None) -> str | None:
    """The snippet without the indentation and trailing blanks that change with edits nearby."""
    if snippet is None:
        return None
    return "\n".join(line.strip() for line in snippet.strip().splitlines()) or None


def _where(physical: Json, bases: Json, repo: Path) -> tuple[str | None, str | None]:
    """The location's URI as written, and its path relative to the repository if it is in it."""
    artifact = _obj(physical.get("artifactLocation"))
    uri = _text(artifact.get("uri"))
    if uri is None:
        return None, None
    reference = _reference(uri, _text(artifact.get("uriBaseId")), bases)
    return uri, _repo_path(reference, repo)


def _reference(uri: str, base_id: str | None, bases: Json) -> str:
    """``uri`` resolved through the run's ``originalUriBaseIds`` as far as they are declared.

    An undeclared base (CodeQL's ``%SRCROOT%`` often is) stands for the analysed folder, taken
    to be the repository, so the URI stays relative to it.
    """
    for _ in range(_MAX_BASE_DEPTH):
        base = _obj(bases.get(base_id)) if base_id is not None else {}
        base_uri = _text(base.get("uri"))
        if base_uri is None or _absolute(uri):
            break
        uri = urljoin(base_uri.rstrip("/") + "/", uri)
        base_id = _text(base.get("uriBaseId"))
    return uri


def _absolute(uri: str) -> bool:
    return len(urlsplit(uri).scheme) > 1  # one letter is a Windows drive, not a scheme


def _repo_path(reference: str, repo: Path) -> str | None:
    parts = urlsplit(reference)
    if parts.scheme not in ("", "file"):
        return None  # http: and the like name nothing in the repository
    local = unquote(parts.path)
    if not local.startswith("/"):
        normal = posixpath.normpath(local)
        return None if normal == "." or normal.startswith("../") or normal == ".." else normal
    return _inside(Path(local), repo) or _tail_in(PurePosixPath(local), repo)


def _inside(path: Path, repo: Path) -> str | None:
    for root in (repo.absolute(), repo.resolve()):
        for candidate in (Path(os.path.normpath(path)), path.resolve()):
            if candidate != root and candidate.is_relative_to(root):
                return candidate.relative_to(root).as_posix()
    return None


def _tail_in(path: PurePosixPath, repo: Path) -> str | None:
    """The longest end of ``path`` naming a file in ``repo``: logs made elsewhere, e.g. in CI."""
    parts = path.parts[1:]
    for start in range(len(parts)):
        tail = PurePosixPath(*parts[start:])
        if (repo / tail).is_file():
            return tail.as_posix()
    return None


def _tag(tool: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", _first_word(tool)).upper() or "SARIF"


def _first_word(text: str) -> str:
    return (text.split() or [""])[0]


# Readers for untrusted JSON: a part of the wrong type reads as absent.


def _obj(value: object) -> Json:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _index(value: object) -> int | None:
    """A non-negative whole number, or None (JSON's true is not one)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _first(value: object) -> object:
    items = _list(value)
    return items[0] if items else None


def _at(value: object, *keys: str) -> object:
    for key in keys:
        value = _obj(value).get(key)
    return value
