"""Tests for the HTML status page: well-formed, offline, inert to hostile text, deterministic."""

from __future__ import annotations

import copy
import re
from html import escape as escape_html
from html.parser import HTMLParser
from typing import Any

import pytest

from continuous_backlog_executor.reports import html

CHART_IDS = (
    "chart-status-over-time",
    "chart-wsjf-distribution",
    "chart-cycle-time",
    "chart-throughput",
    "chart-cost-per-item",
)
BASE = "../../.git/backlog-executor/"
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta"})
# A URL with a scheme or a protocol-relative one, where a browser would fetch or follow it.
EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|xlink:href|action|srcset)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:|//))"""
    r"""|url\(\s*["']?\s*(?!#)|@import""",
    re.IGNORECASE,
)

STATUS = {
    "NEW": 0, "REFINED": 7, "READY": 0, "DOING": 2, "PR": 3, "MERGED": 0, "DONE": 1, "BLOCKED": 4,
}  # fmt: skip
# A trimmed copy of a real `backlog status` report on the shipped inventory example.
SAMPLE: dict[str, Any] = {
    "timestamp": "2026-11-25T17:25:33Z",
    "period": {"since": None, "until": "2026-11-25T17:25:33Z"},
    "journal_events": 25,
    "completed_items": [],
    "coverage_delta": 1.5,
    "coverage_delta_note": None,
    "coverage": {"base": {"sha": "abc", "percent": 80.0}, "after": {"sha": "def", "percent": 81.5}},
    "cycle_time_avg": 3.0,
    "cycle_time_note": None,
    "items_processed": 6,
    "items_completed": 0,
    "items_blocked": 3,
    "items_delivered": ["INV-9", "INV-1", "INV-2"],
    "completion_rate": 0.0,
    "backlog_size_by_status": STATUS,
    "backlog_size": 17,
    "wsjf_distribution": {
        "count": 16, "min": 1.8178, "max": 16.0037, "mean": 6.3988, "median": 4.4177,
        "p25": 3.6252, "p75": 7.9159,
        "buckets": {"0-1": 0, "1-2": 1, "2-5": 9, "5-10": 3, "10+": 3},
    },
    "throughput": {
        "items": 3, "wsjf": 32.0558, "days": 0.042, "items_per_day": 72.0,
        "wsjf_per_day": 769.339, "by_day": {"2026-11-25": {"items": 3, "wsjf": 32.0558}},
    },
    "cycle_time": {
        "by_type": {"Bug": {"count": 1, "avg": 4.0, "median": 4.0}},
        "by_source": {"manual": {"count": 3, "avg": 3.0, "median": 3.0}},
        "cycles": [
            {"id": "INV-9", "ended": "2026-11-25T17:22:23Z", "seconds": 2.0},
            {"id": "INV-1", "ended": "2026-11-25T17:22:27Z", "seconds": 4.0},
            {"id": "INV-2", "ended": "2026-11-25T17:22:31Z", "seconds": 3.0},
        ],
    },
    "agent_success": {
        "overall": {"attempts": 13, "succeeded": 4, "rate": 0.3077},
        "by_agent": {"scripted": {"attempts": 13, "succeeded": 4, "rate": 0.3077}},
        "by_source": {"manual": {"attempts": 7, "succeeded": 4, "rate": 0.5714}},
        "by_risk": {"low": {"attempts": 13, "succeeded": 4, "rate": 0.3077}},
    },
    "gate_failures": {"criteria": 18, "red": 9},
    "escalations": {"count": 2, "by_trigger": {"large effort": 1, "security-sensitive": 1}},
    "spend": {
        "attempts": 13, "tokens": 0, "cost_usd": None,
        "per_completed_item": {"items": 3, "tokens": 0.0, "cost_usd": None},
        "by_item": [
            {"id": "INV-9", "attempts": 1, "tokens": 0, "cost_usd": None},
            {"id": "INV-1", "attempts": 1, "tokens": 0, "cost_usd": None},
        ],
    },
    "ages": {
        "buckets": {"<1d": 8, "1-7d": 3, "7-30d": 5, "30-90d": 0, "90d+": 0},
        "oldest_waiting": [
            {"id": "INV-4", "title": "Keep a history of stock movements", "age_days": 21.4,
             "aging_multiplier": 2.0, "wsjf": 3.3333, "rank": 14, "starving": False},
        ],
        "starving": 0,
        "starving_days": 30.0,
    },
    "risks": [
        {"id": "INV-5", "title": "Password-protect saved ledger files", "status": "BLOCKED",
         "risk": "security-sensitive", "why": "awaiting approval; open security item"},
    ],
    "blocked_items": [
        {"id": "INV-7", "title": "Read VAT rates from the finance team's rate sheet",
         "reason": "finance has not published the 2027 rate sheet yet",
         "since": "2026-11-19T10:00:00Z"},
    ],
    "next_up": [{"id": "TODO-892989", "title": "write to a temporary file", "wsjf": 16.0037}],
    "ranked": [
        {"rank": 1, "id": "TODO-892989", "title": "write to a temporary file and rename it",
         "status": "REFINED", "type": "Bug", "source": "comments", "wsjf": 16.0037,
         "age_days": 0.0, "pr_url": None, "receipt": "receipts/TODO-892989/1.json"},
        {"rank": 2, "id": "INV-1", "title": "Ledger.remove accepts zero and negative quantities",
         "status": "PR", "type": "Bug", "source": "manual", "wsjf": 13.0, "age_days": 12.3,
         "pr_url": "local://pr/2", "receipt": "receipts/INV-1/1.json"},
        {"rank": 3, "id": "INV-7", "title": "Read VAT rates from the finance team's rate sheet",
         "status": "BLOCKED", "type": "Feature", "source": "manual", "wsjf": 8.0,
         "age_days": 16.2, "pr_url": None, "receipt": None},
    ],
}  # fmt: skip
HISTORY: list[dict[str, Any]] = [
    {"timestamp": "2026-11-23T09:00:00Z", "backlog_size_by_status": {"REFINED": 9, "DOING": 1},
     "items_processed": 2, "items_completed": 0, "items_delivered": 1, "items_blocked": 1,
     "cycle_time_avg": 600.0, "wsjf_delivered": 5.0, "tokens": 0, "cost_usd": None,
     "coverage_percent": 80.0, "reports": 3},
    {"timestamp": "2026-11-25T17:25:33Z", "backlog_size_by_status": STATUS,
     "items_processed": 6, "items_completed": 0, "items_delivered": 3, "items_blocked": 3,
     "cycle_time_avg": 3.0, "wsjf_delivered": 32.0558, "tokens": 0, "cost_usd": None,
     "coverage_percent": 81.5, "reports": 1},
]  # fmt: skip


class Checker(HTMLParser):
    """Records tags, attributes and ids, and every end tag that does not close the open one."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> while {self.open[-3:]} are open")
        else:
            self.open.pop()


def checked(page: str) -> Checker:
    """``page`` parsed, asserting every tag is closed in order and every id is unique."""
    checker = Checker()
    checker.feed(page)
    checker.close()
    assert checker.errors == []
    assert checker.open == []
    ids = [attrs["id"] for _, attrs in checker.tags if "id" in attrs]
    assert len(ids) == len(set(ids))
    return checker


def sample() -> dict[str, Any]:
    """A fresh copy of the sample report, free to change."""
    return copy.deepcopy(SAMPLE)


def nulled(value: Any) -> Any:
    """``value`` with every leaf, in mappings and lists alike, replaced by None."""
    if isinstance(value, dict):
        return {key: nulled(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [nulled(inner) for inner in value]
    return None


@pytest.fixture(scope="module")
def page() -> str:
    """The page for the sample report and its history, drawn once for the tests that read it."""
    return html.render(sample(), HISTORY, receipt_base=BASE)


def test_the_page_is_well_formed_html_with_every_chart(page: str) -> None:
    checker = checked(page)

    assert page.startswith("<!DOCTYPE html>")
    assert ("meta", {"charset": "utf-8"}) in checker.tags
    for chart_id in CHART_IDS:
        figure = re.search(rf'<figure id="{chart_id}">(.*?)</figure>', page, re.DOTALL)
        assert figure is not None, chart_id
        assert figure.group(1).startswith("<svg ")
        assert "<figcaption>" in figure.group(1)


def test_the_page_needs_no_network_and_has_no_script(page: str) -> None:
    assert EXTERNAL.findall(page) == []
    assert re.search(r"https?:", page) is None
    assert "<script" not in page.lower()
    # What matplotlib writes for a standalone file has no place inside a page.
    for leftover in ("<?xml", "<!DOCTYPE svg", "<!--", "xmlns", "<metadata"):
        assert leftover not in page


def test_the_summary_shows_the_reports_own_numbers(page: str) -> None:
    assert "<dt>Throughput (WSJF per day)</dt><dd>769.339</dd>" in page
    assert "<dt>Items delivered (pull request or done)</dt><dd>3</dd>" in page
    assert "<dt>Cost (USD)</dt><dd>\u2013</dd>" in page


def test_the_same_input_gives_the_same_bytes(page: str) -> None:
    assert html.render(sample(), HISTORY, receipt_base=BASE) == page


def test_hostile_report_text_comes_out_inert() -> None:
    report = sample()
    script, breakout = "<script>alert(1)</script>", '"><img src=x onerror=alert(2)>'
    report["ranked"][0]["title"] = script
    report["ranked"][1]["id"] = breakout
    report["ranked"][1]["pr_url"] = 'https://github.com/o/r/pull/7"><script>alert(3)</script>'
    report["blocked_items"][0]["reason"] = breakout
    report["gate_failures"] = {script: 1}
    report["backlog_size_by_status"] = {script: 2, "$x^{2$": 1}
    report["spend"]["by_item"][0]["id"] = "$\\frac{" + breakout

    page = html.render(report, [], receipt_base=BASE)

    checker = checked(page)
    assert {tag for tag, _ in checker.tags}.isdisjoint({"script", "img", "iframe", "object"})
    handlers = [name for _, attrs in checker.tags for name in attrs if name.startswith("on")]
    assert handlers == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in page


@pytest.mark.parametrize("history", [[], HISTORY[-1:]], ids=["no history", "one row"])
def test_a_short_history_still_draws_every_chart(history: list[dict[str, Any]]) -> None:
    page = html.render(sample(), history, receipt_base=None)

    checked(page)
    for chart_id in CHART_IDS:
        assert re.search(rf'<figure id="{chart_id}"><svg ', page)


@pytest.mark.parametrize(
    "report",
    [nulled(SAMPLE), dict.fromkeys(SAMPLE), {}],
    ids=["every leaf null", "every section null", "empty"],
)
def test_unknown_values_show_as_unknown_not_zero(report: dict[str, Any]) -> None:
    page = html.render(report, [nulled(HISTORY[0])], receipt_base=BASE)

    checked(page)
    assert "<dt>Items processed (entered DOING)</dt><dd>\u2013</dd>" in page
    for chart_id in CHART_IDS:
        figure = re.search(rf'<figure id="{chart_id}">(.*?)</figure>', page, re.DOTALL)
        assert figure is not None, chart_id
        assert "no data yet" in figure.group(1)


def test_receipts_link_under_the_base(page: str) -> None:
    assert f'<a href="{BASE}receipts/INV-1/1.json" title="receipts/INV-1/1.json">' in page
    assert f'href="{BASE}receipts/TODO-892989/1.json"' in page


NOT_PLAIN = (
    "../secrets.json",
    "receipts/../../.ssh/id_rsa",
    "receipts/./1.json",
    "http://evil.example/r.json",
    "javascript:alert(1)",
    "/etc/passwd",
    "//evil.example/r.json",
    "receipts\\..\\x.json",
    "receipts/%2e%2e/x.json",
    'receipts/"onmouseover=alert(1)/1.json',
)


@pytest.mark.parametrize("path", NOT_PLAIN)
def test_a_receipt_path_that_is_not_plain_gets_no_link(path: str) -> None:
    assert html.receipt_href(path, BASE) is None


def test_receipt_paths_that_are_not_plain_are_shown_as_text() -> None:
    report = sample()
    row = report["ranked"][0]
    report["ranked"] = [{**row, "rank": n, "receipt": path} for n, path in enumerate(NOT_PLAIN)]

    page = html.render(report, HISTORY, receipt_base=BASE)

    checked(page)
    for path in NOT_PLAIN:
        assert f"<td>{escape_html(path)}</td>" in page
    assert "<a href" not in page.split('id="ranked"')[1]


def test_without_a_base_receipts_are_text() -> None:
    page = html.render(sample(), HISTORY, receipt_base=None)

    assert "<td>receipts/INV-1/1.json</td>" in page
    assert 'receipts/INV-1/1.json"' not in page


def test_a_base_with_a_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="relative"):
        html.render(sample(), HISTORY, receipt_base="https://example.com/")


def test_only_a_plain_http_pull_request_address_becomes_a_link() -> None:
    report = sample()
    row = report["ranked"][1]
    urls = [
        "https://github.com/o/r/pull/12",
        "local://pr/2",
        "javascript:alert(1)",
        "https://x.example/a b",
        "https:///no-host",
    ]
    report["ranked"] = [{**row, "pr_url": url} for url in urls]

    page = html.render(report, HISTORY, receipt_base=BASE)

    link = '<a href="https://github.com/o/r/pull/12" rel="noopener noreferrer">#12</a>'
    assert f"<td>{link}</td>" in page
    for url in urls[1:]:
        assert f"<td>{url}</td>" in page


def test_cost_per_item_falls_back_to_tokens_only_without_any_cost(page: str) -> None:
    report = sample()
    report["spend"]["by_item"][0]["cost_usd"] = 0.42

    with_cost = html.render(report, HISTORY, receipt_base=BASE)

    assert "shows tokens per item" in page
    assert "Cost in USD of each item" in with_cost
    assert "1 item(s) without a known cost" in with_cost
