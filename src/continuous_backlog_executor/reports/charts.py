"""The status page's charts, drawn from the report and its history with matplotlib.

``figures`` gives the five charts in page order, each an SVG document with a plain-text
caption. A chart with nothing to draw is a small "no data yet" figure, so every chart is always
on the page.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes

Row = Mapping[str, Any]
Points = Sequence[tuple[datetime, Row]]
Numbers = Sequence[float | None]
Timed = Sequence[tuple[datetime, float | None]]

UNKNOWN = "\u2013"  # an en dash: a hyphen would read as a minus sign
MOST_BARS = 30
NO_DATA = "no data yet"
SIZE = (6.4, 3.0)
# Applied over matplotlib's defaults (never the user's matplotlibrc), so the same input gives
# the same bytes on every machine: text stays text (small files, no embedded glyphs), report
# text never reaches mathtext (a "$" in an item id would be parsed, or fail to parse), dates
# get the concise formatter, and one font (shipped with matplotlib) keeps each text's style short.
# fmt: off
_STYLE: dict[str, Any] = {
    "svg.fonttype": "none", "text.parse_math": False, "date.converter": "concise",
    "font.size": 9, "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
    "grid.alpha": 0.3, "font.sans-serif": ["DejaVu Sans"],
}
STATUS_COLOURS = {
    "NEW": "#9e9e9e", "REFINED": "#4e79a7", "READY": "#76b7b2", "DOING": "#f28e2b",
    "PR": "#59a14f", "MERGED": "#8cd17d", "DONE": "#2f6b2a", "BLOCKED": "#e15759",
}
# fmt: on
_METADATA: dict[str, Any] = {"Date": None, "Creator": None, "Format": None, "Type": None}
_UNITS = ((86400.0, "days"), (3600.0, "hours"), (60.0, "minutes"), (1.0, "seconds"))
_LABEL_CHARS = 24


def _draw(key: str, paint: Callable[[Axes], None], *, size: tuple[float, float] = SIZE) -> str:
    # Imported here: matplotlib takes a good part of a second to load and only the status
    # page needs it. Figure is used without pyplot, so no backend is chosen, no GUI is touched
    # and no global figure registry holds on to the figure after it is drawn.
    from matplotlib import style  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    # The salt is fixed (no random ids) and differs per chart, so the clip-path and marker ids
    # of the page's charts never collide.
    with style.context(["default", {**_STYLE, "svg.hashsalt": f"cbe-{key}"}]):
        figure = Figure(figsize=size, layout="constrained")
        paint(figure.add_subplot())
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata=_METADATA)
    return out.getvalue()


def no_data(key: str, message: str = NO_DATA) -> str:
    """A small figure that says ``message``, standing in for a chart with nothing to draw."""

    def paint(ax: Axes) -> None:
        ax.set_axis_off()
        ax.text(0.5, 0.5, message, ha="center", va="center", color="#666666", fontsize=12)

    return _draw(key, paint, size=(6.4, 1.2))


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _known(values: Numbers) -> bool:
    return any(v is not None and math.isfinite(v) for v in values)


def _label(text: str) -> str:
    return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"


def _days(times: Sequence[datetime]) -> list[float]:
    from matplotlib import dates  # noqa: PLC0415

    # matplotlib.dates ships without type hints; this states the one use made of it.
    to_number: Callable[[datetime], float] = dates.date2num
    return [float(to_number(moment)) for moment in times]


def _time_axis(ax: Axes, times: Sequence[datetime]) -> None:
    ax.xaxis_date()
    # A single moment would otherwise be centred in a span of years.
    if times and min(times) == max(times):
        middle = _days(times[:1])[0]
        ax.set_xlim(middle - 1, middle + 1)


def _dot(count: int) -> float:
    # Markers show lone points between gaps; with many points they would only blot the lines.
    return 5.0 if count <= 30 else 2.0


def _legend(ax: Axes) -> None:
    # Beside the plot, where it never hides a point.
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)


def status_over_time(key: str, times: Sequence[datetime], series: Mapping[str, Numbers]) -> str:
    """One line per status (items in it at each report) and their total; gaps where unknown."""
    shown = {status: values for status, values in series.items() if _known(values) and any(values)}
    if not times or not shown:
        return no_data(key)
    columns = list(zip(*series.values(), strict=True))
    total = [math.nan if None in column else sum(v or 0 for v in column) for column in columns]

    def paint(ax: Axes) -> None:
        _time_axis(ax, times)
        x, size = _days(times), _dot(len(times))
        ax.plot(x, total, "--", color="#333333", marker="o", markersize=size / 2, label="total")
        for status, values in shown.items():
            y, colour = [_nan(v) for v in values], STATUS_COLOURS.get(status)
            ax.plot(x, y, marker="o", markersize=size, color=colour, label=_label(status))
        ax.set_ylabel("items")
        ax.set_ylim(bottom=0)
        _legend(ax)

    return _draw(key, paint)


def _bars(ax: Axes, labels: Sequence[str], values: Numbers, colour: str) -> None:
    x = range(len(labels))
    drawn = ax.bar(x, [_nan(v) for v in values], color=colour)
    if len(labels) <= 12:  # beyond that the numbers overlap; the axis tells enough
        ax.bar_label(drawn, labels=["" if v is None else f"{v:g}" for v in values], fontsize=8)
    # Room above the tallest bar for its label; all zeros would otherwise centre the axis on 0.
    ax.set_ylim(0, max((v for v in values if v is not None), default=0.0) * 1.15 or 1.0)
    # At least five slots wide, so one bar (or an unknown last one) is not stretched or lost.
    centre, half = (len(labels) - 1) / 2, max(len(labels), 5) / 2
    ax.set_xlim(centre - half, centre + half)
    step = max(1, len(labels) // 20)
    ax.set_xticks(list(x)[::step], [_label(text) for text in labels[::step]])
    if len(labels) > 6:
        ax.tick_params(axis="x", labelrotation=45)


def bars(key: str, labels: Sequence[str], values: Numbers, *, ylabel: str) -> str:
    """Bars with their values written on top; an unknown value leaves its slot empty."""
    if not labels or not _known(values):
        return no_data(key)

    def paint(ax: Axes) -> None:
        _bars(ax, labels, values, "#4e79a7")
        ax.set_ylabel(ylabel)

    return _draw(key, paint)


def _unit(seconds: Sequence[float]) -> tuple[float, str]:
    # The unit that keeps the largest value at 2 or more, so axis numbers stay readable.
    largest = max(seconds, default=0.0)
    return next(((size, name) for size, name in _UNITS if largest >= 2 * size), _UNITS[-1])


def cycle_time(key: str, trend: Timed, cycles: Sequence[tuple[datetime, float]]) -> str:
    """Average cycle time per report (line) and this period's single cycles (points)."""
    averages = [v for _, v in trend]
    if not _known(averages) and not cycles:
        return no_data(key)
    size, unit = _unit([v for v in averages if v is not None] + [s for _, s in cycles])

    def paint(ax: Axes) -> None:
        _time_axis(ax, [t for t, _ in (*trend, *cycles)])
        x, y = _days([t for t, _ in trend]), [_nan(v) / size for v in averages]
        dot = _dot(len(x))
        ax.plot(x, y, marker="o", markersize=dot, color="#4e79a7", label="average\nper report")
        x, y = _days([t for t, _ in cycles]), [s / size for _, s in cycles]
        ax.scatter(x, y, s=16, color="#f28e2b", label="cycles this\nperiod", zorder=3)
        ax.set_ylabel(unit)
        ax.set_ylim(bottom=0)
        _legend(ax)

    return _draw(key, paint)


def throughput(key: str, days: Sequence[str], items: Numbers, wsjf: Numbers) -> str:
    """Items delivered per day as bars, with the WSJF they carried as a line on a second axis."""
    if not days or not (_known(items) or _known(wsjf)):
        return no_data(key)

    def paint(ax: Axes) -> None:
        _bars(ax, days, items, "#59a14f")
        ax.set_ylabel("items delivered (bars)")
        other = ax.twinx()
        y = [_nan(v) for v in wsjf]
        other.plot(range(len(days)), y, color="#333333", marker="D", markersize=_dot(len(days)))
        other.set_ylabel("WSJF delivered (line)")
        other.set_ylim(bottom=0)
        other.grid(visible=False)
        other.spines["right"].set_visible(True)

    return _draw(key, paint)


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart of the page: its element id, title, SVG document and plain-text caption."""

    key: str
    title: str
    svg: str
    caption: str


def _map(value: object) -> Row:
    return value if isinstance(value, Mapping) else {}


def _rows(value: object) -> list[Row]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list | tuple) else []


def _num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _when(value: object) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment.replace(tzinfo=moment.tzinfo or UTC) if moment else None


def _show(value: object) -> str:
    return UNKNOWN if value is None else str(value)


def _points(report: Row, history: Sequence[Row]) -> list[tuple[datetime, Row]]:
    # Without history the current report is the one point there is.
    found = [(when, row) for row in history or [report] if (when := _when(row.get("timestamp")))]
    return sorted(found, key=lambda pair: pair[0])


def _status(points: Points) -> Chart:
    counts = [_map(row.get("backlog_size_by_status")) for _, row in points]
    statuses = dict.fromkeys(status for row in counts for status in row)
    # A report lists every status it knows: one it leaves out had no items then.
    series = {s: [_num(row.get(s, 0)) if row else None for row in counts] for s in statuses}
    key = "chart-status-over-time"
    svg = status_over_time(key, [t for t, _ in points], series)
    caption = f"Items in each status at each of {len(points)} report(s); dashed: the total."
    rolled = sum(1 for _, row in points if (_num(row.get("reports")) or 1) > 1)
    if rolled:
        caption += f" {rolled} point(s) are daily roll-ups of older reports."
    return Chart(key, "Backlog by status over time", svg, caption)


def _wsjf(report: Row) -> Chart:
    dist = _map(report.get("wsjf_distribution"))
    buckets = _map(dist.get("buckets"))
    key = "chart-wsjf-distribution"
    svg = bars(key, list(buckets), [_num(v) for v in buckets.values()], ylabel="open items")
    stats = ", ".join(f"{k} {_show(dist.get(k))}" for k in ("min", "median", "mean", "max"))
    caption = f"WSJF of the {_show(dist.get('count'))} open items by range: {stats}."
    return Chart(key, "WSJF distribution", svg, caption)


def _cycle(report: Row, points: Points) -> Chart:
    trend = [(t, _num(row.get("cycle_time_avg"))) for t, row in points]
    ends = _rows(_map(report.get("cycle_time")).get("cycles"))
    found = [(_when(end.get("ended")), _num(end.get("seconds"))) for end in ends]
    cycles = [(ended, seconds) for ended, seconds in found if ended and seconds is not None]
    caption = (
        "Time from entering DOING to a pull request or done: the average per report, and "
        f"the {len(cycles)} cycle(s) that ended in this period as points."
    )
    note = report.get("cycle_time_note")
    caption += f" {note}." if isinstance(note, str) and note else ""
    key = "chart-cycle-time"
    return Chart(key, "Cycle time trend", cycle_time(key, trend, cycles), caption)


def _add(total: float | None, value: float | None) -> float | None:
    return total if value is None else (total or 0.0) + value


def _per_day(report: Row, history: Sequence[Row]) -> dict[str, list[float | None]]:
    """Items and WSJF delivered per day (``YYYY-MM-DD``), oldest first."""
    by_day = _map(_map(report.get("throughput")).get("by_day"))
    totals: dict[str, list[float | None]] = {
        str(d): [_num(_map(v).get("items")), _num(_map(v).get("wsjf"))] for d, v in by_day.items()
    }
    if history:
        # Each report covers the time since the previous one, so a day's reports add up.
        totals = {}
        for row in history:
            if when := _when(row.get("timestamp")):
                slot = totals.setdefault(when.astimezone(UTC).date().isoformat(), [None, None])
                slot[0] = _add(slot[0], _num(row.get("items_delivered")))
                slot[1] = _add(slot[1], _num(row.get("wsjf_delivered")))
    return dict(sorted(totals.items()))


def _throughput(report: Row, history: Sequence[Row]) -> Chart:
    days = _per_day(report, history)
    key = "chart-throughput"
    svg = throughput(key, list(days), [v[0] for v in days.values()], [v[1] for v in days.values()])
    flow = _map(report.get("throughput"))
    caption = (
        "Items delivered (pull request opened or done) per day, with the WSJF they carried. "
        f"This period: {_show(flow.get('items_per_day'))} items and "
        f"{_show(flow.get('wsjf_per_day'))} WSJF per day."
    )
    return Chart(key, "Throughput per day", svg, caption)


def _cost(report: Row) -> Chart:
    rows = _rows(_map(report.get("spend")).get("by_item"))
    values, unit = [_num(row.get("cost_usd")) for row in rows], "cost (USD)"
    caption = "Cost in USD of each item delivered in this period, over all its attempts."
    if not rows:
        caption = "No item was delivered in this period: no data yet."
    elif not _known(values):
        values, unit = [_num(row.get("tokens")) for row in rows], "tokens"
        caption = "No cost is known (the agent reported none), so this shows tokens per item."
    elif None in values:
        caption += f" {values.count(None)} item(s) without a known cost have no bar."
    ranked = sorted(zip(rows, values, strict=True), key=lambda pair: -(pair[1] or 0.0))
    if len(ranked) > MOST_BARS:
        caption += f" The {MOST_BARS} largest of {len(ranked)} are shown."
    labels = [_show(row.get("id")) for row, _ in ranked[:MOST_BARS]]
    key = "chart-cost-per-item"
    svg = bars(key, labels, [v for _, v in ranked[:MOST_BARS]], ylabel=unit)
    return Chart(key, "Cost per item", svg, caption)


def figures(report: Row, history: Sequence[Row]) -> list[Chart]:
    """The page's charts in page order, from ``report`` and ``history`` (oldest first)."""
    points = _points(report, history)
    status, cycle = _status(points), _cycle(report, points)
    return [status, _wsjf(report), cycle, _throughput(report, history), _cost(report)]
