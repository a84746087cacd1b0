"""GitHub issues and pull-request review comments, as the REST API returns them, made findings.

Pure: no HTTP here. Only authors ``TrustRules`` trusts give work; everything else comes back as
``Untrusted``, to be listed and skipped. Issue and comment text is kept as inert data (see
``text``): it is never run, and the prompt quotes it between the untrusted-data markers.

An issue's finding is identified by ``owner/repo#number`` (origin kind ``github_issues``), a
review comment's by ``owner/repo!pr/cID`` (kind ``github_reviews``). Its labels are the GitHub
labels prefixed with ``gh:``, so they never collide with the engine's own (``sliced``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ..classify import classify
from ..model import Source, as_utc
from ..sources.base import Finding, SourceError
from . import text as github_text
from .labels import LabelRules
from .trust import TrustRules

ISSUES = "github_issues"
REVIEWS = "github_reviews"
TITLE_LIMIT = 200
LABEL_PREFIX = "gh:"
OWN_PR_URGENCY = 8  # a review on the engine's own pull request holds up its merge


class GitHubDataError(SourceError):
    """An issue or comment from the API lacks a field the engine needs."""


@dataclass(frozen=True, slots=True)
class Untrusted:
    """An issue or comment skipped because its author is not trusted, and why."""

    repo: str
    number: int
    url: str | None
    author: str | None
    why: str

    def __str__(self) -> str:
        return f"{self.repo}#{self.number}: skipped, not trusted: {self.why}"


def issue_finding(
    repo: str,
    issue: Mapping[str, object],
    comments: Sequence[Mapping[str, object]],
    rules: LabelRules,
    trust: TrustRules,
) -> Finding | Untrusted | None:
    """The work an open issue asks for; None for a pull request or a closed issue."""
    if "pull_request" in issue or _text(issue, "state", "open") != "open":
        return None
    number = _number(issue, "number")
    names = _label_names(issue)
    login, association = _author(issue)
    url = _optional_text(issue, "html_url")
    ok, why = trust.trusted(login, association, names)
    if not ok:
        return Untrusted(repo, number, url, login, why)
    title = github_text.one_line(_text(issue, "title"), TITLE_LIMIT) or f"Issue #{number}"
    text = _text(issue, "body")
    finding = Finding(
        fingerprint=f"{repo}#{number}",
        title=title,
        description=github_text.body(text),
        task_type=rules.type_for(names) or classify(title),
        origin=Source(kind=ISSUES, url=url, tag="ISSUE", author=login, rule=f"#{number}"),
        created_at=_moment(issue.get("created_at")),
        labels=tuple(LABEL_PREFIX + github_text.one_line(name, TITLE_LIMIT) for name in names),
        links=(url,) if url else (),
    )
    criteria = _criteria([text, *_trusted_texts(comments, trust)])
    return dataclasses.replace(
        finding,
        acceptance_criteria=criteria,
        impact=rules.impact_for(names),
        time_criticality=rules.urgency_for(names),
    )


def review_comment_finding(
    repo: str,
    pull: Mapping[str, object],
    comment: Mapping[str, object],
    trust: TrustRules,
    *,
    own_pr: bool,
) -> Finding | Untrusted | None:
    """The follow-up a top-level review comment asks for; None for a reply in its thread."""
    if comment.get("in_reply_to_id") is not None:
        return None
    number = _number(pull, "number")
    comment_id = _number(comment, "id")
    login, association = _author(comment)
    url = _optional_text(comment, "html_url")
    ok, why = trust.trusted(login, association)
    if not ok:
        return Untrusted(repo, number, url, login, why)
    text = _text(comment, "body")
    first = next((line for line in github_text.clean(text).splitlines() if line.strip()), "")
    path = github_text.one_line(_text(comment, "path"), TITLE_LIMIT) or None
    line = _optional_number(comment, "line") or _optional_number(comment, "original_line")
    pull_url = _optional_text(pull, "html_url")
    finding = Finding(
        fingerprint=f"{repo}!{number}/c{comment_id}",
        title=github_text.one_line(f"Review: {first}", TITLE_LIMIT),
        description=_review_description(pull, login, path, line, text),
        task_type=classify(first),
        origin=Source(
            kind=REVIEWS,
            path=path,
            line=line,
            url=url,
            tag="REVIEW",
            author=login,
            rule=f"!{number}",
        ),
        created_at=_moment(comment.get("created_at")),
        labels=(f"{LABEL_PREFIX}review", *((f"{LABEL_PREFIX}own-pr",) if own_pr else ())),
        links=tuple(link for link in (pull_url, url) if link),
    )
    criteria = github_text.criteria(text)
    return dataclasses.replace(
        finding,
        acceptance_criteria=criteria,
        time_criticality=OWN_PR_URGENCY if own_pr else None,
    )


def is_own(pull: Mapping[str, object], own_branch_prefix: str = "backlog/") -> bool:
    """True when the pull request's head branch is one the engine names."""
    head = pull.get("head")
    ref = head.get("ref") if isinstance(head, Mapping) else None
    return isinstance(ref, str) and ref.startswith(own_branch_prefix)


def own_first(
    pulls: Iterable[Mapping[str, object]], own_branch_prefix: str = "backlog/"
) -> list[Mapping[str, object]]:
    """``pulls`` with the engine's own first, each group in its given order."""
    return sorted(pulls, key=lambda pull: not is_own(pull, own_branch_prefix))


def _review_description(
    pull: Mapping[str, object], login: str | None, path: str | None, line: int | None, text: str
) -> str:
    where = f" on {path}" + (f":{line}" if line else "") if path else ""
    pull_title = github_text.one_line(_text(pull, "title"), TITLE_LIMIT)
    heading = f"Review comment by {login}{where} in pull request #{pull.get('number')}"
    return f"{heading} ({pull_title}):\n\n{github_text.body(text)}"


def _criteria(texts: Iterable[str]) -> tuple[str, ...]:
    found = (criterion for text in texts for criterion in github_text.criteria(text))
    return tuple(dict.fromkeys(found))[: github_text.CRITERIA_LIMIT]


def _trusted_texts(comments: Sequence[Mapping[str, object]], trust: TrustRules) -> Iterable[str]:
    for comment in comments:
        if trust.trusted(*_author(comment))[0]:
            yield _text(comment, "body")


def _author(data: Mapping[str, object]) -> tuple[str | None, str | None]:
    user = data.get("user")
    login = user.get("login") if isinstance(user, Mapping) else None
    association = data.get("author_association")
    return (
        login if isinstance(login, str) and login else None,
        association if isinstance(association, str) else None,
    )


def _label_names(issue: Mapping[str, object]) -> tuple[str, ...]:
    labels = issue.get("labels")
    if not isinstance(labels, Sequence) or isinstance(labels, str):
        return ()
    names = (label.get("name") if isinstance(label, Mapping) else label for label in labels)
    return tuple(name for name in names if isinstance(name, str) and name.strip())


def _text(data: Mapping[str, object], key: str, default: str = "") -> str:
    value = data.get(key)
    return value if isinstance(value, str) else default


def _optional_text(data: Mapping[str, object], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def _optional_number(data: Mapping[str, object], key: str) -> int | None:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(data: Mapping[str, object], key: str) -> int:
    value = _optional_number(data, key)
    if value is None:
        raise GitHubDataError(
            f"GitHub returned an item without a numeric {key!r} ({data.get('url', 'no url')}); "
            "check the API URL in github.apiUrl"
        )
    return value


def _moment(value: object) -> datetime | None:
    """An ISO 8601 time from the API in UTC; None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return as_utc(parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC))
