"""The backlog file read and written back: human formatting kept, bad files refused untouched."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from continuous_backlog_executor.backlog import Backlog, BacklogStore
from continuous_backlog_executor.codec import encode
from continuous_backlog_executor.document import Kind
from continuous_backlog_executor.errors import BacklogFileError
from continuous_backlog_executor.journal import Journal
from continuous_backlog_executor.model import BacklogItem, Source, TaskStatus, TaskType
from continuous_backlog_executor.store import StateStore

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

HUMAN = """\
# Team backlog. Keep the security items near the top when you edit by hand.
version: 1
items:
# The crash reported by support on Monday.
- id: A-1
  title: Fix crash on login   # reproduced on staging
  task_type: bug
  status: READY
  impact: 8
  created_at: 2026-10-01T10:00:00Z
  owner: dana          # a key the tool does not know
  acceptance_criteria:
  - login with an empty password shows an error
- id: A-2
  title: Write the API guide
  description: >
    Folded text that a
    human wrote.
  created_at: 2026-11-01

# Parked until the vendor answers.
- id: A-3
  title: Upgrade the payment SDK
  status: BLOCKED
  blocked_reason: waiting for the vendor
  created_at: 2026-09-15T08:30:00Z
"""


def store_for(path: Path, state: Path) -> BacklogStore:
    """A store for ``path`` with its state under ``state``."""
    return BacklogStore(path, state=StateStore(state), journal=Journal(state / "events.jsonl"))


@pytest.fixture
def backlog_path(tmp_path: Path) -> Path:
    path = tmp_path / "DOCS" / "backlog.yml"
    path.parent.mkdir()
    return path


@pytest.fixture
def store(backlog_path: Path, tmp_path: Path) -> BacklogStore:
    return store_for(backlog_path, tmp_path / "state")


def save(store: BacklogStore, backlog: Backlog) -> int:
    with store.transaction():
        pass
    return store.save(backlog)


# -- round trip --------------------------------------------------------------------------------


def test_reading_a_human_file_gives_its_items(store: BacklogStore, backlog_path: Path) -> None:
    backlog_path.write_text(HUMAN)

    backlog = store.load()

    assert [item.id for item in backlog.items] == ["A-1", "A-2", "A-3"]
    first, second, third = backlog.items
    assert first.task_type is TaskType.BUG
    assert first.status is TaskStatus.READY
    assert first.impact == 8
    assert first.acceptance_criteria == ["login with an empty password shows an error"]
    assert second.description == "Folded text that a human wrote.\n"
    assert second.created_at == datetime(2026, 11, 1, tzinfo=UTC)
    assert third.blocked_reason == "waiting for the vendor"
    assert backlog.document.kind is Kind.ENTRIES


def test_an_unchanged_backlog_is_not_rewritten(store: BacklogStore, backlog_path: Path) -> None:
    backlog_path.write_text(HUMAN)
    before = backlog_path.stat()

    with store.transaction() as backlog:
        assert backlog.items

    after = backlog_path.stat()
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)
    assert backlog_path.read_text() == HUMAN


def test_a_change_rewrites_only_that_item_keeping_comments_and_unknown_keys(
    store: BacklogStore, backlog_path: Path
) -> None:
    backlog_path.write_text(HUMAN)

    with store.transaction() as backlog:
        backlog.transition(backlog.get("A-1"), TaskStatus.DOING, reason="", actor="tester", now=NOW)

    expected = HUMAN.replace("  status: READY\n", "  status: DOING\n").replace(
        "  created_at: 2026-10-01T10:00:00Z\n",
        "  created_at: 2026-10-01T10:00:00Z\n  updated_at: 2026-11-25T12:00:00Z\n",
    )
    assert backlog_path.read_text() == expected


def test_a_new_item_is_appended_in_the_files_layout(
    store: BacklogStore, backlog_path: Path
) -> None:
    backlog_path.write_text(HUMAN)

    with store.transaction() as backlog:
        backlog.add(
            BacklogItem(
                id=backlog.new_id(),
                title="Add a low-stock report: per warehouse",
                description="Two lines\nof detail",
                created_at=NOW,
                updated_at=NOW,
                acceptance_criteria=["lists items under their threshold"],
                source=Source(kind="manual", author="dana"),
            )
        )

    assert backlog_path.read_text() == HUMAN + (
        "- id: BL-1\n"
        "  title: 'Add a low-stock report: per warehouse'\n"
        "  task_type: Feature\n"
        "  status: NEW\n"
        "  description: |-\n"
        "    Two lines\n"
        "    of detail\n"
        "  created_at: 2026-11-25T12:00:00Z\n"
        "  updated_at: 2026-11-25T12:00:00Z\n"
        "  acceptance_criteria:\n"
        "  - lists items under their threshold\n"
        "  source:\n"
        "    kind: manual\n"
        "    author: dana\n"
    )


def test_every_field_survives_a_write_and_a_read(store: BacklogStore) -> None:
    item = BacklogItem(
        id="X-1",
        title="Every field: set",
        description="line one\n  indented line two\n",
        task_type=TaskType.SECURITY,
        impact=13,
        effort=1,
        status=TaskStatus.BLOCKED,
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        updated_at=datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC),
        links=["https://example.com/a?b=c#d"],
        acceptance_criteria=[
            "- starts with a dash",
            "'quoted'",
            "yes",
            "null",
            "123",
            "2026-01-01",
        ],
        security_notes="a # is not a comment here",
        test_notes="tabs\tand unicode: déjà vu ✓",
        time_criticality=5,
        risk_reduction=8,
        labels=["auth", "on"],
        blocked_reason="needs approval: security-sensitive",
        pr_url="https://example.com/pr/1",
        source=Source(kind="comment", path="src/a.py", line=3, tag="FIXME", author="Ann"),
        attempts=2,
        evidence=["receipts/1.json"],
    )
    with store.transaction() as backlog:
        backlog.add(item)

    (reread,) = store.load().items

    assert encode(reread) == encode(item)


def test_indented_sequences_stay_indented(store: BacklogStore, backlog_path: Path) -> None:
    text = (
        "items:\n"
        "  - id: I-1\n"
        "    title: first\n"
        "    links:\n"
        "      - https://example.com/1\n"
        "    created_at: 2026-11-01T00:00:00Z\n"
    )
    backlog_path.write_text(text)

    with store.transaction() as backlog:
        backlog.get("I-1").title = "first, renamed"
        backlog.add(
            BacklogItem(
                id="I-2",
                title="second",
                links=["https://example.com/2"],
                created_at=NOW,
                updated_at=NOW,
            )
        )

    assert backlog_path.read_text() == (
        "items:\n"
        "  - id: I-1\n"
        "    title: first, renamed\n"
        "    links:\n"
        "      - https://example.com/1\n"
        "    created_at: 2026-11-01T00:00:00Z\n"
        "  - id: I-2\n"
        "    title: second\n"
        "    task_type: Feature\n"
        "    status: NEW\n"
        "    created_at: 2026-11-25T12:00:00Z\n"
        "    updated_at: 2026-11-25T12:00:00Z\n"
        "    links:\n"
        "      - https://example.com/2\n"
    )


def test_items_without_id_or_date_get_them_on_the_next_write(
    store: BacklogStore, backlog_path: Path
) -> None:
    backlog_path.write_text(
        "items:\n- id: BL-4\n  title: numbered\n  created_at: 2026-11-01\n- title: added by hand\n"
    )

    backlog = store.load()
    assert [item.id for item in backlog.items] == ["BL-4", "BL-5"]
    assert backlog_path.read_text().count("BL-5") == 0  # reading never writes

    with store.transaction():
        pass

    text = backlog_path.read_text()
    assert "- id: BL-5\n  title: added by hand\n  created_at: " in text
    assert [item.id for item in store.load().items] == ["BL-4", "BL-5"]


def test_a_file_without_items_gets_them_after_its_content(
    store: BacklogStore, backlog_path: Path
) -> None:
    backlog_path.write_text("# Our backlog\nversion: 1\n")

    with store.transaction() as backlog:
        backlog.add(BacklogItem(id="N-1", title="first", created_at=NOW, updated_at=NOW))

    assert backlog_path.read_text().startswith("# Our backlog\nversion: 1\nitems:\n- id: N-1\n")


def test_a_missing_file_is_created_with_a_header(store: BacklogStore, backlog_path: Path) -> None:
    assert store.load().items == []

    with store.transaction() as backlog:
        backlog.add(BacklogItem(id="N-1", title="first", created_at=NOW, updated_at=NOW))

    text = backlog_path.read_text()
    assert text.startswith("# The backlog: one entry under `items`")
    assert "version: 1\nitems:\n- id: N-1\n" in text


def test_flow_style_and_aliases_are_read_whole_and_written_back(
    store: BacklogStore, backlog_path: Path
) -> None:
    backlog_path.write_text(
        "common: &who {kind: manual, author: dana}\n"
        "items:\n"
        "- {id: F-1, title: flow style, created_at: 2026-11-01T00:00:00Z, source: *who}\n"
        "- id: F-2\n"
        "  title: block style\n"
        "  created_at: 2026-11-02T00:00:00Z\n"
        "  source: *who\n"
    )

    backlog = store.load()
    assert backlog.document.kind is Kind.TREE
    assert [i.source.author if i.source else None for i in backlog.items] == ["dana", "dana"]

    with store.transaction() as backlog:
        backlog.get("F-2").title = "block style, edited"

    reread = store.load()
    assert [i.title for i in reread.items] == ["flow style", "block style, edited"]
    assert "common: &who" in backlog_path.read_text()


# -- the original engine's JSON --------------------------------------------------------------


ORIGIN_JSON = [
    {
        "id": "todo_1",
        "title": "Handle the retry TODO",
        "description": "from a comment",
        "task_type": "Bug",
        "impact": 5,
        "effort": 2,
        "status": "READY",
        "wsjf_score": 4.5,
        "created_at": "2025-07-20T10:00:00.123456",
        "updated_at": "2025-07-21T10:00:00",
        "links": [""],
        "acceptance_criteria": ["Address the TODO comment: retry"],
        "security_notes": "",
        "test_notes": "Add unit tests to verify fix",
        "aging_multiplier": 1.3,
        "blocked_reason": "",
        "pr_url": "",
    }
]


def test_the_original_json_backlog_is_read_and_converted_once(
    store: BacklogStore, backlog_path: Path, tmp_path: Path
) -> None:
    original = json.dumps(ORIGIN_JSON, indent=2)
    backlog_path.write_text(original)

    (item,) = store.load().items
    assert (item.id, item.task_type, item.status, item.effort) == (
        "todo_1",
        TaskType.BUG,
        TaskStatus.READY,
        2,
    )
    assert item.created_at == datetime(2025, 7, 20, 10, 0, tzinfo=UTC)
    assert item.blocked_reason is None
    assert item.links == [""]

    with store.transaction():
        pass

    text = backlog_path.read_text()
    assert text.startswith("# The backlog")
    assert "- id: todo_1\n" in text
    assert "wsjf_score" not in text
    (backup,) = (tmp_path / "state" / "backups").iterdir()
    assert backup.read_text() == original
    assert encode(store.load().items[0]) == encode(item)


# -- bad files: a clear error, and the file stays as it was -------------------------------------


BAD_FILES = [
    pytest.param(
        "items:\n- id: A-1\n  title: [unclosed\n",
        "is not valid YAML (while parsing a flow sequence; expected ',' or ']', but got "
        "'<stream end>'); fix the syntax and run again",
        4,
        None,
        id="yaml-syntax",
    ),
    pytest.param(
        "items:\n- id: A-1\n  title: ok\n  status: WIP\n",
        "status: 'WIP' is not a status; use one of NEW, REFINED, READY, DOING, PR, MERGED, "
        "DONE, BLOCKED",
        4,
        "A-1",
        id="unknown-status",
    ),
    pytest.param(
        "items:\n- id: A-1\n  title: ok\n- id: A-2\n  title: big\n  impact: 20\n",
        "impact: 20 is outside the scale; use 1 to 13",
        6,
        "A-2",
        id="impact-20",
    ),
    pytest.param(
        "items:\n- id: A-1\n  title: one\n- id: A-1\n  title: two\n",
        "id is also used by the item at line 2; give each item its own id",
        4,
        "A-1",
        id="duplicate-id",
    ),
    pytest.param(
        "items:\n- id: A-1\n  title: 42\n",
        "title: must be text, not a number (42) (put it in quotes)",
        3,
        "A-1",
        id="title-not-text",
    ),
    pytest.param(
        "items:\n- id: A-1\n  title: ok\n  acceptance_criteria: {a: 1}\n",
        "acceptance_criteria: must be a list of text, not a map",
        4,
        "A-1",
        id="criteria-not-a-list",
    ),
    pytest.param(
        "version: 2\nitems: []\n",
        "version: 2 is not a backlog format this tool reads (it reads version 1); upgrade the "
        "tool or fix the value",
        1,
        None,
        id="newer-version",
    ),
    pytest.param(
        "items:\n  first: not a list\n",
        "items: must be a list of items",
        1,
        None,
        id="items-not-a-list",
    ),
    pytest.param(
        "items:\n- just text\n",
        "this entry is not an item (a map of keys)",
        2,
        None,
        id="entry-not-a-map",
    ),
    pytest.param(
        "- id: A-1\n  title: [x\n",
        "is not valid YAML (while parsing a flow sequence; expected ',' or ']', but got "
        "'<stream end>'); fix the syntax and run again",
        3,
        None,
        id="legacy-list-syntax",
    ),
    pytest.param(
        '[{"id": "a", "title": "t",}]',
        "is not valid JSON (Expecting property name enclosed in double quotes); fix the "
        "syntax and run again",
        1,
        None,
        id="json-syntax",
    ),
]


@pytest.mark.parametrize(("text", "message", "line", "item"), BAD_FILES)
def test_a_bad_file_is_reported_and_left_untouched(
    store: BacklogStore,
    backlog_path: Path,
    text: str,
    message: str,
    line: int,
    item: str | None,
) -> None:
    backlog_path.write_text(text)

    with pytest.raises(BacklogFileError) as caught, store.transaction() as backlog:
        backlog.add(BacklogItem(id="Z-1", title="never written"))

    about = f"item {item!r}: " if item else ""
    assert str(caught.value) == f"{backlog_path}:{line}: {about}{message}"
    assert backlog_path.read_text() == text


def test_a_file_that_is_not_utf8_is_refused(store: BacklogStore, backlog_path: Path) -> None:
    data = b"items:\n- id: A-1\n  title: caf\xe9\n"
    backlog_path.write_bytes(data)

    with pytest.raises(BacklogFileError) as caught:
        store.load()

    assert str(caught.value) == (
        f"{backlog_path}:3: is not UTF-8 text; save it as UTF-8 and run again"
    )
    assert backlog_path.read_bytes() == data


def test_a_folder_in_place_of_the_file_is_refused(store: BacklogStore, backlog_path: Path) -> None:
    backlog_path.mkdir()

    with pytest.raises(BacklogFileError) as caught:
        store.load()

    assert (
        str(caught.value) == f"{backlog_path}: is a folder, not a file; point the backlog at a file"
    )


def test_a_near_miss_key_is_kept_and_warned_about(store: BacklogStore, backlog_path: Path) -> None:
    text = "items:\n- id: A-1\n  title: ok\n  created_at: 2026-11-01\n  impcat: 3\n"
    backlog_path.write_text(text)

    backlog = store.load()

    assert backlog.warnings == [
        f"{backlog_path}:5: item 'A-1': unknown key 'impcat' is kept as is; did you mean 'impact'?"
    ]
    assert backlog.items[0].impact is None
    # The warning survives the entry cache, and the key survives a rewrite.
    assert store.load().warnings == backlog.warnings
    with store.transaction() as changed:
        changed.get("A-1").title = "renamed"
    assert "  impcat: 3\n" in backlog_path.read_text()
    assert store.load().warnings == backlog.warnings


# -- the entry cache --------------------------------------------------------------------------


def test_an_entry_edited_outside_the_tool_is_read_afresh(
    store: BacklogStore, backlog_path: Path
) -> None:
    backlog_path.write_text(HUMAN)
    store.load()  # fills the cache

    backlog_path.write_text(HUMAN.replace("Write the API guide", "Write the CLI guide"))

    assert store.load().get("A-2").title == "Write the CLI guide"


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x80\x05not a pickle", id="garbage"),
        pytest.param(b"cos\nsystem\n(S'touch {marker}'\ntR.", id="code-execution"),
    ],
)
def test_a_damaged_or_planted_cache_is_ignored(
    store: BacklogStore, backlog_path: Path, tmp_path: Path, damage: bytes
) -> None:
    marker = tmp_path / "pwned-by-cache"
    backlog_path.write_text(HUMAN)
    store.load()
    cache_path = store.state.cache_path(backlog_path, "backlog-entries")
    cache_path.write_bytes(damage.replace(b"{marker}", str(marker).encode()))

    backlog = store.load()

    assert [item.id for item in backlog.items] == ["A-1", "A-2", "A-3"]
    assert not marker.exists()


def test_the_round_trip_yaml_parser_agrees(store: BacklogStore, backlog_path: Path) -> None:
    backlog_path.write_text(HUMAN)

    fast = [encode(item) for item in store.load().items]
    whole = YAML(typ="safe", pure=True).load(HUMAN)["items"]

    assert [record["id"] for record in fast] == [entry["id"] for entry in whole]
    assert fast[1]["description"] == whole[1]["description"]
