"""Keyword rules for estimating WSJF inputs, and finding which keywords a text holds. Pure."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KeywordRule:
    """Give ``value`` when any of ``keywords`` appears as a word (``word*`` matches a prefix)."""

    value: int
    keywords: tuple[str, ...]
    name: str = ""


def _rules(*rules: tuple[int, str, str]) -> tuple[KeywordRule, ...]:
    return tuple(KeywordRule(value, tuple(words.split(",")), name) for value, name, words in rules)


DEFAULT_IMPACT_RULES = _rules(
    (
        8,
        "high impact",
        "security,vulnerability,vulnerabilities,vulnerable,critical,crash,crashes,performance,"
        "slow,outage,data loss,corruption,exploit,cve-*,memory leak,authentication",
    ),
    (
        5,
        "medium impact",
        "bug,bugs,error,errors,fix,fixes,fixed,fixme,broken,fails,failing,improvement,improve",
    ),
    (3, "low impact", "documentation,docs,doc,docstring,cleanup,clean up,minor,typo,cosmetic"),
)
DEFAULT_TIME_CRITICALITY_RULES = _rules(
    (
        13,
        "incident",
        "production,outage,incident,hotfix,sev1,sev-1,p0,data loss,actively exploited",
    ),
    (8, "urgent", "urgent,asap,blocking,blocker,blocks,deadline,regression,release blocker"),
    (5, "soon", "soon,customer,customers,release,security,vulnerability,cve-*"),
)
DEFAULT_RISK_REDUCTION_RULES = _rules(
    (
        8,
        "security or data-loss risk",
        "security,vulnerability,vulnerabilities,vulnerable,cve-*,injection,xss,csrf,ssrf,auth,"
        "authentication,authorization,secret,secrets,password,passwords,token,tokens,crypto,"
        "data loss,corruption,corrupt,race condition,deadlock,unsafe",
    ),
    (5, "failure risk", "crash,crashes,exception,leak,leaks,flaky,fixme,bug,hack,workaround,xxx"),
    (3, "quality risk", "test,tests,coverage,refactor,cleanup,deprecated,deprecation"),
)
DEFAULT_EFFORT_RULES = _rules(
    (1, "trivial change", "typo,rename,docstring,comment,bump,one-line,one line,wording"),
    (
        8,
        "large change",
        "refactor,rewrite,redesign,architecture,migration,migrate,integration,overhaul",
    ),
    (5, "new work", "implement,create,build,develop,feature,support"),
)

Found = tuple[str, ...]


class KeywordMatcher:
    """Finds which configured keywords occur in a text.

    Words are looked up in the text's set of words, so the cost does not grow with the number
    of keywords; only phrases and ``prefix*`` keywords need more than a set lookup. Results
    are remembered by a digest of the text in ``memo``, which a caller may fill from, and save
    to, disk (see ``fingerprint`` and ``fresh``): scanning is the costliest part of ranking.
    """

    _WORD = re.compile(r"[\w-]+")

    def __init__(self, keywords: Iterable[str]) -> None:
        cleaned = {k.strip().lower() for k in keywords if k.strip()}
        self._words = frozenset(k for k in cleaned if not k.endswith("*") and " " not in k)
        self._prefixes = tuple(sorted(k[:-1] for k in cleaned if k.endswith("*")))
        self._phrases = tuple(
            (phrase, phrase.split()[0], re.compile(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])"))
            for phrase in sorted(k for k in cleaned if " " in k and not k.endswith("*"))
        )
        self.fingerprint = hashlib.blake2b(
            "\n".join(sorted(cleaned)).encode(), digest_size=8
        ).hexdigest()
        self.memo: dict[bytes, Found] = {}
        self.fresh: dict[bytes, Found] = {}

    def find(self, text: str) -> Found:
        """The configured keywords (as configured, ``*`` included) found in ``text``, sorted."""
        key = hashlib.blake2b(text.encode(), digest_size=12).digest()
        found = self.memo.get(key)
        if found is None:
            found = self.scan(text)
            self.memo[key] = found
            self.fresh[key] = found
        return found

    def scan(self, text: str) -> Found:
        """``find`` without the memo."""
        lowered = text.lower()
        words = set(self._WORD.findall(lowered))
        found = words & self._words
        if self._prefixes:
            for word in words:
                if word.startswith(self._prefixes):
                    found.update(p + "*" for p in self._prefixes if word.startswith(p))
        for phrase, first, pattern in self._phrases:
            if first in words and pattern.search(lowered):
                found.add(phrase)
        return tuple(sorted(found))
