"""The status page, DOCS/status/index.html: one self-contained file that opens offline.

Every report value is untrusted text (titles and reasons come from issues and code comments),
so each one goes through ``html.escape``; the only report text that ever becomes a URL is a
validated receipt path or a pull request's plain http(s) address.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import quote, urlsplit

from . import charts

Row = Mapping[str, Any]
_SEGMENT = re.compile(r"[\w.-]+")
_PULL = re.compile(r"/pull/(\d+)/?$")
_URL_BREAKERS = frozenset(" \"'<>\\`")
# Taking matplotlib's standalone SVG apart for inlining.
_PROLOG = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->", re.DOTALL)
# matplotlib escapes "<" and ">" in text and attribute values, so this matches exactly one tag.
_TAG = re.compile(r"<[^>]*>")
_NAMESPACE = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_GROUP_ID = re.compile(r'^<g\s+id="[^"]*"')
_DEFAULT_STYLE = re.compile(r"<defs>\s*<style[^>]*>[^<]*</style>\s*</defs>")
# Belt and braces for an offline page: even if something slipped past escaping, the browser
# would run no script and fetch nothing.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_CSS = """
body{margin:0 auto;max-width:75rem;padding:1rem 1.5rem;font-family:system-ui,sans-serif;
color:#222;background:#fff;line-height:1.4}
h1{font-size:1.5rem;margin-bottom:.2rem} nav a{margin-right:.8rem}
h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
dl.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(12rem,1fr));gap:.5rem}
dl.figures div{border:1px solid #ddd;border-radius:4px;padding:.4rem .6rem}
dt{font-size:.8rem;color:#555} dd{margin:0;font-size:1.2rem;font-variant-numeric:tabular-nums}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(26rem,1fr));gap:1rem}
figure{margin:0;border:1px solid #ddd;border-radius:4px;padding:.5rem}
figure svg{width:100%;height:auto} figure svg *{stroke-linejoin:round;stroke-linecap:butt}
figcaption{font-size:.85rem;color:#444}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid #e5e5e5;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f6f6} td{overflow-wrap:anywhere}
td.num{text-align:right;font-variant-numeric:tabular-nums} .note,.empty{color:#555}
"""


def inline(svg: str) -> str:
    """Matplotlib's SVG document ``svg`` as an element of the page.

    Gone are the prolog (its DOCTYPE names a URL), comments and namespace declarations (HTML
    puts ``<svg>`` in the SVG namespace by itself), the ``figure_1``-style group ids (the same
    in every chart, so duplicates on the page, and nothing refers to them) and the default
    style sheet (a global ``*`` rule once inlined; the page's CSS carries it, for all charts).
    """
    body = _DEFAULT_STYLE.sub("", _PROLOG.sub("", svg))
    return _TAG.sub(_tidy_tag, body).strip()


def _tidy_tag(match: re.Match[str]) -> str:
    tag = match.group()
    if tag.startswith("<svg"):
        return _NAMESPACE.sub("", tag)
    return _GROUP_ID.sub("<g", tag)


@dataclass(frozen=True, slots=True)
class Safe:
    """HTML built here from escaped parts, placed in a table cell as it is."""

    html: str


def plain(value: object) -> str:
    """``value`` as display text (not yet escaped); unknown (None) is a dash, never 0."""
    if value is None:
        return charts.UNKNOWN
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def text(value: object) -> str:
    """``value`` as escaped HTML text."""
    return escape(plain(value))


def _map(value: object) -> Row:
    return value if isinstance(value, Mapping) else {}


def _rows(value: object) -> list[Row]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list | tuple) else []


def receipt_href(path: str, base: str) -> str | None:
    """The link to a receipt, or None unless ``path`` is a plain relative path.

    Plain means segments of letters, digits, ``.``, ``_`` and ``-`` only: no scheme, no
    leading ``/``, no ``..``, no backslash or percent sign that could smuggle either in.
    """
    segments = path.split("/")
    if ".." in path or not all(_SEGMENT.fullmatch(s) and s != "." for s in segments):
        return None
    return (base if base.endswith("/") else base + "/") + quote(path)


def _receipt(path: object, base: str | None) -> object:
    if not isinstance(path, str) or not path:
        return None
    href = receipt_href(path, base) if base is not None else None
    if href is None:
        return path
    return Safe(f'<a href="{escape(href)}" title="{escape(path)}">receipt</a>')


def _pull_request(url: object) -> object:
    # Only a plain http(s) address becomes a link; local://pr/N and anything else stay text.
    if not isinstance(url, str) or not url:
        return None
    parts = urlsplit(url)
    plain_url = url.isascii() and url.isprintable() and not _URL_BREAKERS & set(url)
    if not plain_url or parts.scheme not in ("http", "https") or not parts.netloc:
        return url
    number = _PULL.search(parts.path)
    label = f"#{number.group(1)}" if number else "pull request"
    return Safe(f'<a href="{escape(url)}" rel="noopener noreferrer">{escape(label)}</a>')


def _cell(value: object) -> str:
    if isinstance(value, Safe):
        return f"<td>{value.html}</td>"
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return f'<td class="num">{text(value)}</td>' if numeric else f"<td>{text(value)}</td>"


def _table(
    key: str, title: str, header: Sequence[str], rows: Sequence[Sequence[object]], *, empty: str
) -> str:
    body = f'<p class="empty">{escape(empty)}</p>'
    if rows:
        head = "".join(f'<th scope="col">{escape(h)}</th>' for h in header)
        lines = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
        body = f"<table><thead><tr>{head}</tr></thead><tbody>{lines}</tbody></table>"
    return f'<section id="{key}"><h2>{escape(title)}</h2>{body}</section>'


def _figures(report: Row) -> list[tuple[str, object]]:
    flow, spend, cover, ages = (
        _map(report.get(k)) for k in ("throughput", "spend", "coverage", "ages")
    )
    starving = f"Starving items (waiting over {plain(ages.get('starving_days'))} days)"
    return [
        ("Backlog size", report.get("backlog_size")),
        ("Items processed (entered DOING)", report.get("items_processed")),
        ("Items completed (merged or done)", report.get("items_completed")),
        ("Items delivered (pull request or done)", _count(report.get("items_delivered"))),
        ("Items blocked", report.get("items_blocked")),
        ("Completion rate", report.get("completion_rate")),
        ("Average cycle time (s)", report.get("cycle_time_avg")),
        ("Coverage (%)", _map(cover.get("after")).get("percent")),
        ("Coverage delta (points)", report.get("coverage_delta")),
        ("Throughput (items per day)", flow.get("items_per_day")),
        ("Throughput (WSJF per day)", flow.get("wsjf_per_day")),
        ("Agent success rate", _map(_map(report.get("agent_success")).get("overall")).get("rate")),
        ("Escalations", _map(report.get("escalations")).get("count")),
        (starving, ages.get("starving")),
        ("Tokens used", spend.get("tokens")),
        ("Cost (USD)", spend.get("cost_usd")),
        ("Cost per delivered item (USD)", _map(spend.get("per_completed_item")).get("cost_usd")),
    ]


def _count(value: object) -> int | None:
    return len(value) if isinstance(value, list | tuple) else None


def _summary(report: Row) -> str:
    cells = "".join(
        f"<div><dt>{escape(k)}</dt><dd>{text(v)}</dd></div>" for k, v in _figures(report)
    )
    notes = [report.get(k) for k in ("coverage_delta_note", "cycle_time_note")]
    lines = "".join(f'<p class="note">{text(n)}</p>' for n in notes if n)
    return (
        f'<section id="summary"><h2>Summary</h2><dl class="figures">{cells}</dl>{lines}</section>'
    )


def _charts(report: Row, history: Sequence[Row]) -> str:
    figures = "".join(
        f'<figure id="{chart.key}">{inline(chart.svg)}<figcaption><strong>{escape(chart.title)}.'
        f"</strong> {escape(chart.caption)}</figcaption></figure>"
        for chart in charts.figures(report, history)
    )
    return f'<section id="charts"><h2>Charts</h2><div class="charts">{figures}</div></section>'


# The plain tables: section id, title, where the rows are in the report, (header, key) per
# column, what to say when there are none. A mapping in the report is a two-column table of
# name and count; a list is a table of those keys of its rows.
_Columns = tuple[tuple[str, str], ...]
# fmt: off
_TABLES: tuple[tuple[str, str, str, _Columns, str], ...] = (
    ("blocked", "Blocked items", "blocked_items",
     (("Item", "id"), ("Title", "title"), ("Reason", "reason"), ("Since", "since")),
     "Nothing is blocked."),
    ("risks", "Notable risks", "risks",
     (("Item", "id"), ("Title", "title"), ("Status", "status"), ("Risk", "risk"), ("Why", "why")),
     "No notable risk."),
    ("gate-failures", "Gate failures", "gate_failures",
     (("Gate", ""), ("Failed tries", "")), "No gate failed in this period."),
    ("escalations", "Escalations", "escalations.by_trigger",
     (("Trigger", ""), ("Items held", "")), "Nothing was held for approval in this period."),
    ("oldest-waiting", "Oldest waiting items", "ages.oldest_waiting",
     (("Item", "id"), ("Title", "title"), ("Age (days)", "age_days"),
      ("Aging", "aging_multiplier"), ("WSJF", "wsjf"), ("Rank", "rank"), ("Starving", "starving")),
     "Nothing is waiting."),
)
_RANKED: _Columns = (
    ("Rank", "rank"), ("Item", "id"), ("Title", "title"), ("Status", "status"), ("Type", "type"),
    ("Source", "source"), ("WSJF", "wsjf"), ("Age (days)", "age_days"),
)
_SECTIONS = ("summary", "charts", "ranked", "blocked", "risks", "agent-success", "gate-failures",
             "escalations", "oldest-waiting")
# fmt: on
_RATES = ("attempts", "succeeded", "rate")


def _listed(report: Row, spec: tuple[str, str, str, _Columns, str]) -> str:
    key, title, where, columns, empty = spec
    found: object = report
    for step in where.split("."):
        found = _map(found).get(step)
    rows: list[list[object]] = [[name, count] for name, count in _map(found).items()]
    if not isinstance(found, Mapping):
        rows = [[row.get(k) for _, k in columns] for row in _rows(found)]
    return _table(key, title, [h for h, _ in columns], rows, empty=empty)


def _ranked(report: Row, receipt_base: str | None) -> str:
    rows = [
        [*(row.get(k) for _, k in _RANKED), _pull_request(row.get("pr_url")),
         _receipt(row.get("receipt"), receipt_base)]
        for row in _rows(report.get("ranked"))
    ]  # fmt: skip
    header = [*(h for h, _ in _RANKED), "PR", "Receipt"]
    return _table("ranked", "Ranked backlog", header, rows, empty="The backlog is empty.")


def _success(report: Row) -> str:
    success = _map(report.get("agent_success"))
    overall = _map(success.get("overall"))
    rows = [["overall", "all", *(overall.get(k) for k in _RATES)]] if overall else []
    for group in ("by_agent", "by_source", "by_risk"):
        for name, value in _map(success.get(group)).items():
            rows.append([group[3:], name, *(_map(value).get(k) for k in _RATES)])
    header = ("By", "Name", "Attempts", "Succeeded", "Rate")
    return _table("agent-success", "Agent success", header, rows, empty="No agent attempt.")


def _tables(report: Row, receipt_base: str | None) -> str:
    listed = [_listed(report, spec) for spec in _TABLES]
    parts = [_ranked(report, receipt_base), *listed[:2], _success(report), *listed[2:]]
    return "".join(parts)


def render(
    report: Mapping[str, Any], history: Sequence[Mapping[str, Any]], *, receipt_base: str | None
) -> str:
    """The whole status page for ``report``, with ``history`` (oldest first) for the trends.

    ``receipt_base`` is the relative URL from the page to the state folder; with None, receipt
    paths are shown as text.
    """
    if receipt_base is not None and (urlsplit(receipt_base).scheme or "//" in receipt_base):
        raise ValueError(f"receipt_base must be a relative path, not {receipt_base!r}")
    period = _map(report.get("period"))
    since = period.get("since") or "the start of the journal"
    stamp = text(report.get("timestamp"))
    nav = "".join(f'<a href="#{s}">{s.replace("-", " ")}</a>' for s in _SECTIONS)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{escape(_CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Backlog status, {stamp}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>Backlog status, {stamp}</h1>"
        f"<p>Period: {text(since)} to {text(period.get('until'))}.</p><nav>{nav}</nav></header>"
        f"<main>{_summary(report)}{_charts(report, history)}"
        f"{_tables(report, receipt_base)}</main></body></html>\n"
    )
