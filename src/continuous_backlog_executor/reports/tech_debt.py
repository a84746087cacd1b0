"""The tech-debt page (``DOCS/tech_debt.md``): the open debt items grouped by area and ranked.

The page is partly human: only the block between ``GENERATED_START`` and ``GENERATED_END`` is
the tool's; everything outside it is kept byte for byte. Item text is escaped so that no title,
path or tag can end the block, break a table row or inject HTML.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path, PurePosixPath

from ..errors import BacklogError, BacklogFileError, ConcurrentEditError
from ..files import atomic_write, same_file_state, stat_or_none
from ..model import BacklogItem, TaskType, as_utc
from ..scoring import SECONDS_PER_DAY, RankedItem, order

GENERATED_START = "<!-- backlog:generated:start -->"
GENERATED_END = "<!-- backlog:generated:end -->"
DEFAULT_HEADER = (
    "# Technical debt\n"
    "\n"
    "Write notes, decisions and context here, above the generated part: `backlog` keeps\n"
    "everything outside the generated markers exactly as written and rewrites only what is\n"
    "between them.\n"
    "\n"
)
COMMENTS = "comments"  # the Source.kind of TODO/FIXME/HACK/XXX/BUG comment findings
# The tests source labels skipped tests and the sarif source suppressed results (bandit's
# ``# nosec`` lines stay unseen), and a person may label an item so too; these come before
# the comment tag as they say more.
LABEL_KINDS = {"skipped-test": "skipped test", "suppressed": "suppressed finding"}
DEBT_LABEL = "tech-debt"
SRC_LAYOUTS = frozenset({"src", "lib", "packages"})  # their areas are one level deeper
NO_FILE = "(no file)"
TOP_LEVEL = "(top level)"
TITLE_LIMIT = 160
HEADER = "| Item | Title | Kind | Location | Age (days) | WSJF |"
RULE = "| --- | --- | --- | --- | ---: | ---: |"
Debt = tuple[RankedItem, str]  # an open debt item and its kind

# A marker counts only alone on its line, so one quoted inside a sentence is just text.
_START = re.compile(rf"^{re.escape(GENERATED_START)}(?=[ \t]*\r?$)", re.MULTILINE)
_END = re.compile(rf"^{re.escape(GENERATED_END)}(?=[ \t]*\r?$)", re.MULTILINE)
# Terminal escape sequences go whole (not only their ESC) so no "[31m" residue is left.
_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]?|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -/]*[0-~])?")
# Other controls, zero-width and bidirectional formatting characters could hide what a
# title says; they are shown as U+FFFD rather than dropped, so something visibly is there.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")


class MarkerError(BacklogError):
    """The generated block's markers are missing, doubled or out of order."""


def debt_kind(item: BacklogItem) -> str | None:
    """What kind of debt ``item`` is, or None: a label's kind (skipped test, suppressed
    finding), a code comment's tag (TODO, FIXME, HACK, XXX, BUG...), ``Refactor`` for that task
    type, or "tech debt" for the label. Open or not is the caller's question."""
    labels = {label.strip().lower() for label in item.labels}
    for label, kind in LABEL_KINDS.items():
        if label in labels:
            return kind
    source = item.source
    if source is not None and source.kind == COMMENTS:
        return (source.tag or "comment").upper()
    if item.task_type is TaskType.REFACTOR:
        return TaskType.REFACTOR.value
    return "tech debt" if DEBT_LABEL in labels else None


def area(item: BacklogItem) -> str:
    """The folder an item belongs to: the top one, or two deep under ``src``-style folders."""
    path = item.source.path if item.source else None
    if not path:
        return NO_FILE
    parts = [part for part in PurePosixPath(path).parts[:-1] if part not in ("/", ".")]
    if not parts:
        return TOP_LEVEL
    depth = 2 if parts[0] in SRC_LAYOUTS else 1
    return "/".join(parts[:depth])


def age_days(item: BacklogItem, now: datetime) -> int:
    """Whole days since the item was created (for a comment, since git blame says it was
    written); zero for a creation time in the future."""
    seconds = (as_utc(now) - item.created_at).total_seconds()
    return max(0, int(seconds // SECONDS_PER_DAY))


def escape(text: str, limit: int | None = None) -> str:
    """``text`` on one line, safe inside a Markdown table cell or heading: no HTML, no pipes,
    no emphasis, links or code spans, and no terminal escapes."""
    flat = " ".join(_ESCAPE.sub("", text).split())
    if limit is not None and len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    visible = _CONTROL.sub("\ufffd", flat)
    html_safe = visible.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN.sub(r"\\\1", html_safe)


def location(item: BacklogItem) -> str | None:
    """``path:line`` or the URL the item came from; None for one a person added."""
    source = item.source
    return source.location() if source and (source.path or source.url) else None


def _row(entry: RankedItem, kind: str, now: datetime) -> str:
    item = entry.item
    cells = (
        escape(item.id),
        escape(item.title, TITLE_LIMIT),
        escape(kind),
        escape(location(item) or "-"),
        str(age_days(item, now)),
        f"{entry.wsjf:.2f}",
    )
    return "| " + " | ".join(cells) + " |"


def _summary(debts: Sequence[Debt], now: datetime) -> str:
    counts = Counter(kind for _entry, kind in debts)
    by_kind = ", ".join(
        f"{count} {escape(kind)}" for kind, count in sorted(counts.items(), key=_count_key)
    )
    oldest = min((entry.item for entry, _kind in debts), key=lambda i: (i.created_at, i.id))
    place = location(oldest)
    where = f" ({escape(place)})" if place else ""
    noun = "item" if len(debts) == 1 else "items"
    return (
        f"**{len(debts)} open debt {noun}**: {by_kind}. Oldest: {escape(oldest.id)}, "
        f"{age_days(oldest, now)} days{where}."
    )


def _count_key(pair: tuple[str, int]) -> tuple[int, str]:
    return (-pair[1], pair[0])


def _areas(debts: Sequence[Debt]) -> list[tuple[str, float, list[Debt]]]:
    """``(area, total WSJF, items)`` with the heaviest area first; ``debts`` are best first,
    so each area's items stay ranked."""
    groups: dict[str, list[Debt]] = {}
    for debt in debts:
        groups.setdefault(area(debt[0].item), []).append(debt)
    totals = [
        (name, sum(entry.wsjf for entry, _kind in group), group) for name, group in groups.items()
    ]
    # Rounded like the ranking does, so equal totals reached by different sums tie on the name.
    return sorted(totals, key=lambda area_: (-round(area_[1], 9), area_[0]))


def generated(ranked: Sequence[RankedItem], now: datetime) -> str:
    """The generated block, markers included, ending without a newline after the end marker."""
    debts = [(e, kind) for e in order(ranked) if e.item.is_open and (kind := debt_kind(e.item))]
    lines = [
        GENERATED_START,
        "<!-- Written by `backlog` from the backlog; edits between these markers are lost. -->",
        "",
    ]
    if not debts:
        lines += ["No open debt items.", ""]
    else:
        lines += [_summary(debts, now), ""]
    for name, total, group in _areas(debts):
        noun = "item" if len(group) == 1 else "items"
        lines += [f"## {escape(name)}", "", f"{len(group)} {noun}, WSJF {total:.2f} in all.", ""]
        lines += [HEADER, RULE, *(_row(entry, kind, now) for entry, kind in group), ""]
    return "\n".join([*lines, GENERATED_END])


def render(ranked: Sequence[RankedItem], existing: str | None, now: datetime) -> str:
    """The whole page: ``existing`` with its generated block replaced (or, when it has none,
    appended), or a default header and the block when there is no page yet (or an empty one).
    Pure; ``MarkerError`` when the markers do not enclose one block."""
    block = generated(ranked, now)
    if existing is None or not existing.strip():
        return f"{DEFAULT_HEADER}{block}\n"
    starts, ends = list(_START.finditer(existing)), list(_END.finditer(existing))
    if not starts and not ends:
        # A page written by hand: all of it stays, the block goes after it.
        separator = "\n" if existing.endswith("\n") else "\n\n"
        return f"{existing}{separator}{block}\n"
    if len(starts) != 1 or len(ends) != 1 or ends[0].start() < starts[0].end():
        raise MarkerError(_marker_problem(len(starts), len(ends)))
    return existing[: starts[0].start()] + block + existing[ends[0].end() :]


def _marker_problem(starts: int, ends: int) -> str:
    found = f"found {starts} {GENERATED_START} and {ends} {GENERATED_END} line(s)"
    return (
        f"the generated part is not marked as one block ({found}, expected one of each, start "
        "first); the page was left as it is: restore the markers around the generated part, "
        "or delete that part with its markers, then run again"
    )


def _read(path: Path) -> str | None:
    # Bytes, not read_text: universal newlines would turn a human's CRLF lines into LF.
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise BacklogFileError(
            path,
            f"cannot be read ({error.strerror}); it was left as it is: make it a readable "
            "file, or move it away to start a new one, then run again",
        ) from error
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BacklogFileError(
            path,
            f"is not UTF-8 text (byte {error.start}); it was left as it is so no notes are "
            "lost: save it as UTF-8, or move it away to start a new one, then run again",
        ) from error


def write(path: Path, ranked: Sequence[RankedItem], now: datetime) -> bool:
    """Regenerate the page at ``path``; True if it changed and was written atomically.

    A page that cannot be read, is not UTF-8 or has broken markers is a ``BacklogFileError``
    and one changed on disk meanwhile a ``ConcurrentEditError``; either way it is not written.
    """
    before = stat_or_none(path)
    existing = _read(path)
    try:
        text = render(ranked, existing, now)
    except MarkerError as error:
        raise BacklogFileError(path, str(error)) from error
    if text == existing:
        return False
    # A person saving the page while it was read would otherwise lose that save.
    if not same_file_state(before, stat_or_none(path)):
        raise ConcurrentEditError(f"{path}: changed on disk while it was regenerated; run again")
    atomic_write(path, text)
    return True
