"""The code shown around a tag in its finding's description, against the file split into lines."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from continuous_backlog_executor.sources import todo_findings
from continuous_backlog_executor.todos import Todo


def numbered_lines(text: str, first: int, last: int) -> str:
    """Lines ``first`` to ``last`` of ``text`` numbered, found by splitting all of it."""
    lines = text.split("\n")
    if not lines[-1]:
        lines.pop()  # after the last line break: no line
    rows = list(enumerate(lines, 1))[first - 1 : last]
    if not rows:
        return ""
    width = len(str(rows[-1][0]))
    return "\n".join(f"{n:>{width}}  {line.removesuffix(chr(13))}" for n, line in rows)


@given(
    st.lists(st.text(alphabet="ab \t\r\x0c", max_size=12), min_size=1, max_size=40),
    st.booleans(),
    st.data(),
)
def test_the_lines_shown_are_those_of_the_file_split_into_lines(
    lines: list[str], ends_with_break: bool, data: st.DataObject
) -> None:
    text = "\n".join(lines) + ("\n" if ends_with_break else "")
    line = data.draw(st.integers(1, len(lines)), "line")
    end_line = data.draw(st.integers(line, line + 3), "end_line")
    around = data.draw(st.integers(0, 4), "around")
    # Tiny pieces of text to look in, so that most lines need a larger piece.
    piece = data.draw(st.sampled_from([1, 5, todo_findings._LINES_PIECE]), "piece")
    offset = sum(len(before) + 1 for before in lines[: line - 1])
    todo = Todo(line, end_line, "TODO", "fix  it", "ann", None, offset=offset)

    description = todo_findings._description(todo, "a.py", "fix it", text, around, size=piece)

    head = f"TODO (for ann) at a.py:{line}: fix it"
    code = numbered_lines(text, max(1, line - around), end_line + around)
    assert description == (f"{head}\n\n{code}" if code else head)


def test_a_tag_without_its_file_text_is_described_without_code() -> None:
    todo = Todo(3, 3, "FIXME", "", None, None, offset=10)

    assert todo_findings._description(todo, "gone.py", "", "", 3) == (
        "FIXME at gone.py:3: (no text)"
    )
