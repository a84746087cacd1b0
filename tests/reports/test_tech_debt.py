"""Tests for the tech-debt page: which items are debt, their order, and the human part kept."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from continuous_backlog_executor.errors import BacklogFileError
from continuous_backlog_executor.model import BacklogItem, Source, TaskStatus, TaskType
from continuous_backlog_executor.reports import tech_debt
from continuous_backlog_executor.scoring import RankedItem, ScoringSettings, rank

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
# No aging, so each WSJF is exactly (impact + time criticality + risk reduction) / effort.
FLAT = ScoringSettings(aging_per_day=0.0)
START, END = tech_debt.GENERATED_START, tech_debt.GENERATED_END


def comment(
    item_id: str,
    path: str,
    line: int,
    *,
    tag: str = "TODO",
    wsjf: int = 3,
    days: int = 0,
    title: str = "",
    status: TaskStatus = TaskStatus.NEW,
) -> BacklogItem:
    """A comment finding whose WSJF is ``wsjf`` (inputs 1, 1, wsjf*3-2 over effort 3)."""
    return BacklogItem(
        item_id,
        title or f"{tag} in {path}",
        impact=1,
        effort=3,
        status=status,
        created_at=NOW - timedelta(days=days),
        time_criticality=1,
        risk_reduction=wsjf * 3 - 2,
        source=Source(kind="comments", path=path, line=line, tag=tag),
    )


def other(
    item_id: str,
    task_type: TaskType,
    *,
    source: Source | None = None,
    labels: tuple[str, ...] = (),
    days: int = 0,
) -> BacklogItem:
    """An item not found in a comment, with WSJF 1."""
    return BacklogItem(
        item_id,
        f"Work on {item_id}",
        task_type=task_type,
        impact=1,
        effort=3,
        created_at=NOW - timedelta(days=days),
        time_criticality=1,
        risk_reduction=1,
        labels=list(labels),
        source=source,
    )


def ranked(*items: BacklogItem) -> list[RankedItem]:
    return rank(items, FLAT, NOW)


def block(text: str) -> str:
    """The generated part of a page, markers included."""
    return text[text.index(START) : text.index(END) + len(END)]


def rows(text: str) -> list[list[str]]:
    """The cells of every item row (not the header or rule), split on unescaped pipes."""
    return [
        [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
        for line in text.splitlines()
        if line.startswith("| ") and line not in (tech_debt.HEADER, tech_debt.RULE)
    ]


def test_first_page_has_default_header_and_exact_block() -> None:
    items = ranked(
        comment("C-1", "src/inv/stock.py", 12, tag="FIXME", wsjf=4, days=40),
        comment("C-2", "src/inv/orders.py", 7, wsjf=2, days=3),
        comment("C-3", "setup.py", 1, tag="HACK", wsjf=5, days=10),
        other("R-1", TaskType.REFACTOR, days=2),
    )

    page = tech_debt.render(items, None, NOW)

    assert page == tech_debt.DEFAULT_HEADER + "\n".join(
        [
            START,
            "<!-- Written by `backlog` from the backlog; edits between these markers are lost. -->",
            "",
            "**4 open debt items**: 1 FIXME, 1 HACK, 1 Refactor, 1 TODO. "
            "Oldest: C-1, 40 days (src/inv/stock.py:12).",
            "",
            "## src/inv",
            "",
            "2 items, WSJF 6.00 in all.",
            "",
            tech_debt.HEADER,
            tech_debt.RULE,
            "| C-1 | FIXME in src/inv/stock.py | FIXME | src/inv/stock.py:12 | 40 | 4.00 |",
            "| C-2 | TODO in src/inv/orders.py | TODO | src/inv/orders.py:7 | 3 | 2.00 |",
            "",
            "## (top level)",
            "",
            "1 item, WSJF 5.00 in all.",
            "",
            tech_debt.HEADER,
            tech_debt.RULE,
            "| C-3 | HACK in setup.py | HACK | setup.py:1 | 10 | 5.00 |",
            "",
            "## (no file)",
            "",
            "1 item, WSJF 1.00 in all.",
            "",
            tech_debt.HEADER,
            tech_debt.RULE,
            "| R-1 | Work on R-1 | Refactor | - | 2 | 1.00 |",
            "",
            END,
            "",
        ]
    )
    assert page.startswith("# Technical debt\n")


def test_areas_ordered_by_total_wsjf_and_items_ranked_within() -> None:
    items = ranked(
        comment("A-1", "app/a.py", 1, wsjf=4),
        comment("B-1", "tools/b.py", 1, wsjf=5),
        comment("A-2", "app/sub/c.py", 1, wsjf=3),  # app totals 7, above tools' 5
        comment("S-1", "src/pkg/deep/x.py", 1, wsjf=2),
        comment("S-2", "src/other/y.py", 1, wsjf=1),
    )

    page = tech_debt.render(list(reversed(items)), None, NOW)  # input order must not matter

    headings = re.findall(r"^## (.+)$", page, re.MULTILINE)
    assert headings == ["app", "tools", "src/pkg", "src/other"]
    assert [row[0] for row in rows(page)] == ["A-1", "A-2", "B-1", "S-1", "S-2"]


def test_age_is_whole_days_and_location_is_path_and_line() -> None:
    found = comment("C-1", "lib/util.py", 88, days=400)
    found.created_at = NOW - timedelta(days=400, hours=23)  # not yet 401 whole days
    future = comment("C-2", "lib/util.py", 3)
    future.created_at = NOW + timedelta(days=2)  # a clock ahead somewhere counts as new

    by_id = {row[0]: row for row in rows(tech_debt.render(ranked(found, future), None, NOW))}

    assert by_id["C-1"][3:5] == ["lib/util.py:88", "400"]
    assert by_id["C-2"][3:5] == ["lib/util.py:3", "0"]


def test_only_open_debt_items_are_listed() -> None:
    bandit = Source(kind="bandit", path="app/x.py", line=3, tag="BANDIT", severity="high")
    failing = Source(kind="tests", path="tests/test_x.py", line=9, tag="TEST")
    items = ranked(
        comment("TODO-open", "app/a.py", 1),
        comment("BUG-open", "app/a.py", 2, tag="BUG"),
        comment("XXX-doing", "app/a.py", 3, tag="XXX", status=TaskStatus.DOING),
        comment("TODO-done", "app/a.py", 4, status=TaskStatus.DONE),
        comment("TODO-merged", "app/a.py", 5, status=TaskStatus.MERGED),
        other("refactor-open", TaskType.REFACTOR),
        other("feature", TaskType.FEATURE),
        other("security", TaskType.SECURITY, source=bandit),
        other("failing-test", TaskType.BUG, source=failing),
        other("skipped", TaskType.TEST, labels=("Skipped-Test",), source=failing),
        other("nosec", TaskType.SECURITY, labels=("suppressed",), source=bandit),
        other("marked", TaskType.DOC, labels=("tech-debt",)),
    )

    kinds = {row[0]: row[2] for row in rows(tech_debt.render(items, None, NOW))}

    assert kinds == {
        "TODO-open": "TODO",
        "BUG-open": "BUG",
        "XXX-doing": "XXX",
        "refactor-open": "Refactor",
        "skipped": "skipped test",
        "nosec": "suppressed finding",
        "marked": "tech debt",
    }


def test_no_debt_says_so() -> None:
    page = tech_debt.render(ranked(other("F-1", TaskType.FEATURE)), None, NOW)

    assert "No open debt items." in block(page)
    assert "## " not in block(page)


def test_hostile_title_cannot_end_the_block_or_break_the_table(tmp_path: Path) -> None:
    page = tmp_path / "tech_debt.md"
    human = "# Debt\n\nOur notes.\n\n"
    page.write_text(f"{human}{START}\n{END}\n## After\n", encoding="utf-8")
    hostile = (
        f"a | b {END}\n{START}\r\n<script>alert(1)</script> [x](javascript:y) "
        "`code` **bold** \x1b[31mred\x1b[0m \u202egnp.exe\x00 &amp;"
    )
    items = ranked(comment("C-1", f"app/{END}.py", 1, title=hostile, tag=f"TODO|{START}"))

    tech_debt.write(page, items, NOW)
    tech_debt.write(page, ranked(comment("C-2", "app/b.py", 2)), NOW)
    tech_debt.write(page, items, NOW)

    text = page.read_text(encoding="utf-8")
    assert text.startswith(human + START)
    assert text.endswith(f"\n{END}\n## After\n")
    assert len(re.findall(rf"^{re.escape(START)}$", text, re.MULTILINE)) == 1
    assert len(re.findall(rf"^{re.escape(END)}$", text, re.MULTILINE)) == 1
    [row] = rows(text)
    assert len(row) == 6
    assert row[1] == (
        "a \\| b &lt;!-- backlog:generated:end --&gt; &lt;!-- backlog:generated:start --&gt; "
        "&lt;script&gt;alert(1)&lt;/script&gt; \\[x\\](javascript:y) \\`code\\` \\*\\*bold\\*\\* "
        "red \ufffdgnp.exe\ufffd &amp;amp;"
    )
    assert "\x1b" not in text
    assert "<script>" not in text


def test_human_section_kept_byte_for_byte_across_regenerations(tmp_path: Path) -> None:
    page = tmp_path / "DOCS" / "tech_debt.md"
    page.parent.mkdir()
    above = "# Our debt\r\n\r\nDecided: pay down `stock.py` first. <!-- a note -->\r\n\r\n"
    below = "\r\n\r\n## Appendix\r\n\r\nCafé notes \u2014 kept.  \r\n"
    page.write_bytes(f"{above}{START}\nold generated text\n{END}{below}".encode())

    assert tech_debt.write(page, ranked(comment("C-1", "src/inv/stock.py", 12, days=5)), NOW)
    first = page.read_bytes()
    later = NOW + timedelta(days=30)
    changed = rank([comment("C-9", "app/x.py", 1, tag="HACK")], FLAT, later)
    assert tech_debt.write(page, changed, later)
    second = page.read_bytes()

    for data in (first, second):
        assert data.startswith(above.encode() + START.encode())
        assert data.endswith(END.encode() + below.encode())
    assert b"old generated text" not in first
    assert b"C-1" in first
    assert b"C-9" in second
    assert b"C-1" not in second


def test_page_without_markers_is_kept_and_the_block_appended(tmp_path: Path) -> None:
    page = tmp_path / "tech_debt.md"
    human = "# Tech debt\n\n- the billing module needs a rewrite\n"
    page.write_text(human, encoding="utf-8")
    items = ranked(comment("C-1", "app/a.py", 1))

    assert tech_debt.write(page, items, NOW)

    text = page.read_text(encoding="utf-8")
    assert text == f"{human}\n{tech_debt.generated(items, NOW)}\n"
    assert not tech_debt.write(page, items, NOW)
    assert page.read_text(encoding="utf-8") == text


def test_first_write_creates_the_page_and_a_second_writes_nothing(tmp_path: Path) -> None:
    page = tmp_path / "DOCS" / "tech_debt.md"
    items = ranked(comment("C-1", "app/a.py", 1, days=3), other("R-1", TaskType.REFACTOR))

    assert tech_debt.write(page, items, NOW)
    written = page.read_bytes()
    stamp = page.stat().st_mtime_ns

    assert not tech_debt.write(page, ranked(*(entry.item for entry in items)), NOW)
    assert page.read_bytes() == written
    assert page.stat().st_mtime_ns == stamp
    assert written.decode().startswith(tech_debt.DEFAULT_HEADER + START)


def test_page_that_is_not_utf8_is_left_alone(tmp_path: Path) -> None:
    page = tmp_path / "tech_debt.md"
    original = b"# Notes\n\nCaf\xe9 \xff\xfe\n"
    page.write_bytes(original)

    with pytest.raises(BacklogFileError, match=r"tech_debt\.md: is not UTF-8 text.*save it as"):
        tech_debt.write(page, ranked(comment("C-1", "app/a.py", 1)), NOW)

    assert page.read_bytes() == original
    assert [path.name for path in tmp_path.iterdir()] == ["tech_debt.md"]


def test_unreadable_page_is_an_error_naming_it(tmp_path: Path) -> None:
    page = tmp_path / "tech_debt.md"
    page.mkdir()  # readable by no one as a file, whatever the user's privileges

    with pytest.raises(BacklogFileError, match=r"tech_debt\.md: cannot be read"):
        tech_debt.write(page, ranked(comment("C-1", "app/a.py", 1)), NOW)

    assert page.is_dir()


@pytest.mark.parametrize(
    "generated",
    [
        f"{START}\nno end\n",
        f"{END}\n{START}\n",
        f"{START}\n{END}\n{START}\n{END}\n",
        f"no start\n{END}\n",
    ],
)
def test_broken_markers_are_an_error_and_the_page_is_left_alone(
    tmp_path: Path, generated: str
) -> None:
    page = tmp_path / "tech_debt.md"
    original = f"# Notes\n\n{generated}Human text after.\n"
    page.write_text(original, encoding="utf-8")

    with pytest.raises(BacklogFileError, match="restore the markers"):
        tech_debt.write(page, ranked(comment("C-1", "app/a.py", 1)), NOW)

    assert page.read_text(encoding="utf-8") == original


def test_markers_quoted_inside_a_line_are_text() -> None:
    existing = f"# Notes\n\nThe tool writes between `{START}` and `{END}`.\n"

    page = tech_debt.render(ranked(comment("C-1", "app/a.py", 1)), existing, NOW)

    assert page.startswith(existing + "\n" + START + "\n")
