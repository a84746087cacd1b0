"""GitHub as discovery sources: open issues (``github_issues``) and review comments on open pull
requests (``github_reviews``), of the repository's own GitHub repository (its ``origin``) and
every repository in ``github.reposToScan``.

Only work from trusted authors becomes an item (see ``github.trust``); the rest is listed as
skipped, with why. Issue and comment text is data: it is cleaned, capped and only ever quoted
between the untrusted-data markers of a prompt. Without a token in ``github.tokenEnv``'s
variable both sources say they are skipped and why, and everything else works as before.

Which review threads are resolved comes from GitHub's GraphQL API (REST does not say); the
comments of a resolved thread are left alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from ..github.client import DEFAULT_API_URL, GitHubClient, GitHubSettings
from ..github.errors import GitHubError
from ..github.items import (
    REVIEWS,
    Untrusted,
    is_own,
    issue_finding,
    own_first,
    review_comment_finding,
)
from ..github.labels import LabelRules
from ..github.remote import origin_repo
from ..github.trust import MODES, TrustRules
from ..settings import Setting, choice, json_object, number, optional_text, text_list
from .base import DiscoveryContext, Finding, Scan, SourceError

ISSUES = "github_issues"

_COMMON: dict[str, Setting] = {
    "repos": Setting(
        text_list, (), "owner/name repositories besides origin's (default: github.reposToScan)."
    ),
    "trust": Setting(
        choice(*MODES), "collaborators", "Whose work is trusted: collaborators, allow-list, label."
    ),
    "allow_users": Setting(text_list, (), "GitHub logins trusted whatever the trust mode."),
    "required_label": Setting(
        optional_text, None, "A label a maintainer puts on issues to trust them."
    ),
    "labels": Setting(
        json_object,
        {},
        'Label rules over the defaults: {"types": {...}, "impact": {...}, "urgency": {...}}.',
    ),
    "limit": Setting(
        number(1, whole=True), 500, "Most issues or pull requests read per repository."
    ),
}


# Reads one repository: its findings, and the untrusted work it skipped.
Collector = Callable[
    [GitHubClient, str, DiscoveryContext, TrustRules], Iterator[Finding | Untrusted]
]


@dataclass(frozen=True)
class _Source:
    """One of the two GitHub sources (module docstring)."""

    name: str
    description: str
    options: Mapping[str, Setting]
    collect: Callable[
        [GitHubClient, str, DiscoveryContext, TrustRules], Iterator[Finding | Untrusted]
    ]

    def discover(self, context: DiscoveryContext) -> Scan:
        """Read every repository's issues or review comments."""
        options = context.options
        token_env = str(options.get("token_env") or "GITHUB_TOKEN")
        if not os.environ.get(token_env):
            return Scan(
                self.name, skipped=f"no GitHub token in ${token_env}; set it to read GitHub"
            )
        repos = _repositories(context)
        if not repos:
            return Scan(
                self.name,
                skipped="origin is not on GitHub and github.reposToScan is empty",
            )
        settings = GitHubSettings.from_env(
            os.environ, api_url=str(options.get("api_url") or DEFAULT_API_URL), token_env=token_env
        )
        trust = _trust(options)
        findings: list[Finding] = []
        warnings: list[str] = []
        try:
            with GitHubClient(settings, cache=context.state.folder("github-cache")) as client:
                for number, repo in enumerate(repos):
                    context.observer.progress(self.name, number, len(repos), repo)
                    for found in self.collect(client, repo, context, trust):
                        if isinstance(found, Untrusted):
                            warnings.append(str(found))
                        else:
                            findings.append(found)
        except GitHubError as error:
            raise SourceError(f"{self.name}: {error}") from error
        return Scan(self.name, tuple(findings), tuple(warnings))


def _issues(
    client: GitHubClient, repo: str, context: DiscoveryContext, trust: TrustRules
) -> Iterator[Finding | Untrusted]:
    try:
        rules = LabelRules.from_config(
            context.options.get("labels") or {}, where=f"sources.{ISSUES}.labels"
        )
    except ConfigError as error:
        raise SourceError(str(error)) from error
    limit = int(context.options.get("limit") or 500)
    for issue in client.paginate(f"/repos/{repo}/issues", {"state": "open"}, limit=limit):
        if "pull_request" in issue:
            continue
        found = issue_finding(repo, issue, [], rules, trust)
        if isinstance(found, Finding) and issue.get("comments"):
            # Comments can add acceptance criteria; they are read only for trusted issues,
            # which spares the rate limit a request per untrusted one.
            path = f"/repos/{repo}/issues/{issue.get('number')}/comments"
            comments = list(client.paginate(path, limit=100))
            found = issue_finding(repo, issue, comments, rules, trust)
        if found is not None:
            yield found


def _reviews(
    client: GitHubClient, repo: str, context: DiscoveryContext, trust: TrustRules
) -> Iterator[Finding | Untrusted]:
    limit = int(context.options.get("limit") or 500)
    pulls = own_first(client.paginate(f"/repos/{repo}/pulls", {"state": "open"}, limit=limit))
    for pull in pulls:
        own = is_own(pull)
        settled = _resolved(client, repo, pull.get("number"))
        for comment in client.paginate(f"/repos/{repo}/pulls/{pull.get('number')}/comments"):
            if comment.get("id") in settled:
                continue  # its thread was resolved on GitHub
            found = review_comment_finding(repo, pull, comment, trust, own_pr=own)
            if found is not None:
                yield found


_THREADS = """
query($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100) {
        nodes { isResolved comments(first: 100) { nodes { databaseId } } }
      }
    }
  }
}"""


def _resolved(client: GitHubClient, repo: str, number: object) -> set[object]:
    """The ids of the review comments in resolved threads of pull request ``number``: REST
    does not say which threads are resolved, GraphQL does."""
    owner, _, name = repo.partition("/")
    data = client.graphql(_THREADS, {"owner": owner, "name": name, "number": number})
    try:
        threads = data["repository"]["pullRequest"]["reviewThreads"]["nodes"]
        return {
            comment["databaseId"]
            for thread in threads
            if thread.get("isResolved")
            for comment in thread["comments"]["nodes"]
        }
    except (KeyError, TypeError, AttributeError) as error:
        raise SourceError(
            f"{REVIEWS}: GitHub's review threads of {repo}#{number} have an unexpected shape "
            f"(no {error})"
        ) from None


def _trust(options: Mapping[str, Any]) -> TrustRules:
    try:
        return TrustRules.from_config(
            {
                "mode": options.get("trust") or "collaborators",
                "allow_users": list(options.get("allow_users") or ()),
                "required_label": options.get("required_label"),
            }
        )
    except ConfigError as error:
        raise SourceError(f"sources.github: {error}") from error


def _repositories(context: DiscoveryContext) -> list[str]:
    """origin's owner/name when it is a GitHub remote, then the configured ones, no repeats."""
    origin = origin_repo(context.repo)
    found = [origin] if origin else []
    found += [str(repo) for repo in context.options.get("repos") or ()]
    return list(dict.fromkeys(found))


ISSUES_SOURCE = _Source(
    ISSUES,
    "open GitHub issues from trusted authors, labels mapped to type, impact and urgency",
    _COMMON,
    _issues,
)
REVIEWS_SOURCE = _Source(
    REVIEWS,
    "review comments on open pull requests (the engine's own first) as follow-up items",
    {key: setting for key, setting in _COMMON.items() if key != "labels"},
    _reviews,
)
