"""Reading entry by entry agrees with parsing the whole file, whatever the items hold."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from continuous_backlog_executor import layout
from continuous_backlog_executor.backlog import BacklogStore
from continuous_backlog_executor.codec import encode
from continuous_backlog_executor.document import Kind
from continuous_backlog_executor.journal import Journal
from continuous_backlog_executor.model import BacklogItem, Source, TaskStatus, TaskType
from continuous_backlog_executor.store import StateStore

# Text that YAML treats specially when unquoted, mixed with ordinary words.
TRICKY = st.sampled_from(
    [
        "yes",
        "no",
        "null",
        "~",
        "123",
        "1e3",
        "0x1F",
        "2026-01-01",
        "- item",
        "key: value",
        "a # b",
        "#x",
        "'quoted'",
        '"double"',
        "[flow]",
        "{map}",
        "&anchor",
        "*alias",
        "!tag",
        "%directive",
        "---",
        "...",
        "|",
        ">",
        "  leading",
        "trailing  ",
        "tab\there",
        "é ✓ 名",
        "line\nbreak",
        "\n",
        "",
        "@at",
        "`tick`",
        "100%",
        "C:\\path",
    ]
)
TEXT = st.one_of(TRICKY, st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40))
LINES = st.lists(st.one_of(TRICKY, TEXT), max_size=4).map("\n".join)
SCALE = st.one_of(st.none(), st.integers(1, 13))
START = datetime(2025, 1, 1, tzinfo=UTC)


@st.composite
def items(draw: st.DrawFn, number: int) -> BacklogItem:
    title = draw(TEXT.filter(lambda t: t.strip() != "" and "\n" not in t)) or "x"
    return BacklogItem(
        id=f"P-{number}",
        title=title,
        description=draw(LINES),
        task_type=draw(st.sampled_from(list(TaskType))),
        impact=draw(SCALE),
        effort=draw(SCALE),
        status=draw(st.sampled_from(list(TaskStatus))),
        created_at=START + timedelta(seconds=draw(st.integers(0, 10**8))),
        updated_at=START,
        links=draw(st.lists(TEXT, max_size=2)),
        acceptance_criteria=draw(st.lists(TEXT, max_size=3)),
        security_notes=draw(TEXT),
        time_criticality=draw(SCALE),
        risk_reduction=draw(SCALE),
        labels=draw(st.lists(TEXT, max_size=2)),
        blocked_reason=draw(st.one_of(st.none(), TEXT.filter(bool))),
        source=draw(
            st.one_of(
                st.none(),
                st.builds(
                    Source,
                    kind=TEXT.filter(lambda t: t.strip() != ""),
                    path=st.one_of(st.none(), TEXT.filter(bool)),
                    line=st.one_of(st.none(), st.integers(1, 10**6)),
                    tag=st.one_of(st.none(), st.sampled_from(["TODO", "FIXME", "HACK"])),
                ),
            )
        ),
        attempts=draw(st.integers(0, 5)),
    )


@st.composite
def backlogs(draw: st.DrawFn) -> list[BacklogItem]:
    count = draw(st.integers(0, 6))
    return [draw(items(number)) for number in range(count)]


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(backlog=backlogs(), comments=st.lists(st.booleans(), min_size=6, max_size=6))
def test_entry_reading_matches_whole_file_parsing(
    tmp_path: Path, backlog: list[BacklogItem], comments: list[bool]
) -> None:
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    store = BacklogStore(
        root / "backlog.yml", state=StateStore(root / "state"), journal=Journal(root / "j")
    )
    with store.transaction() as written:
        for item in backlog:
            written.add(item)
    text = store.path.read_text() if backlog else "items:\n"
    # Comments and blank lines between entries, as a human would add them.
    entries = text.split("\n- ")
    text = entries[0] + "".join(
        ("\n\n# note\n- " if comments[n % 6] else "\n- ") + entry
        for n, entry in enumerate(entries[1:])
    )
    store.path.write_text(text)

    by_entries = store.load()
    store.path.write_text("%YAML 1.2\n---\n" + text)  # a directive forces a whole-file parse
    by_tree = store.load()

    assert by_entries.document.kind is Kind.ENTRIES
    assert by_tree.document.kind is Kind.TREE
    assert [encode(i) for i in by_entries.items] == [encode(i) for i in by_tree.items]
    assert [encode(i) for i in by_entries.items] == [encode(i) for i in backlog]


def test_split_finds_entries_their_lines_and_the_rest() -> None:
    text = (
        "# head\nversion: 1\nitems:\n# first\n"
        "- id: a\n  x: |\n    - not an entry\n\n- id: b\nother: 1\n"
    )

    found = layout.split(text)

    assert found is not None
    assert found.header == "# head\nversion: 1\nitems:\n# first\n"
    assert [found.entry(i) for i in range(2)] == [
        "- id: a\n  x: |\n    - not an entry\n\n",
        "- id: b\n",
    ]
    assert found.lines == [5, 9]
    assert found.trailer == "other: 1\n"


def test_split_leaves_unusual_files_to_the_whole_file_parser() -> None:
    assert layout.split("items: [{id: a}]\n") is None
    assert layout.split("items:\r\n- id: a\r\n") is None
    assert layout.split("items:\n- id: a\n---\nitems:\n- id: b\n") is None
    assert layout.split("%YAML 1.2\n---\nitems:\n- id: a\n") is None
