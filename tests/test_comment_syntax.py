"""Tests for finding comments by language: which syntax a path gets, and where its comments are."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from continuous_backlog_executor import comment_syntax
from continuous_backlog_executor.comment_syntax import Comments, syntax_for


def comment_texts(path: str, text: str) -> list[str]:
    """Every comment in ``text``, found through ``Comments.around`` alone, in order."""
    syntax = syntax_for(path)
    assert syntax is not None
    comments = Comments(text, syntax)
    spans = dict.fromkeys(
        span for span in map(comments.around, range(len(text) + 1)) if span is not None
    )
    return [text[start:end] for start, end in spans]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        pytest.param("a.py", "python", id="python"),
        pytest.param("pkg/stubs.pyi", "python", id="python-stub"),
        pytest.param("SCRIPT.PY", "python", id="suffix-case-insensitive"),
        pytest.param("app.js", "javascript", id="javascript"),
        pytest.param("app.ts", "javascript", id="typescript"),
        pytest.param("main.go", "go", id="go"),
        pytest.param("lib.rs", "rust", id="rust"),
        pytest.param("Main.java", "c", id="java"),
        pytest.param("main.c", "c", id="c"),
        pytest.param("main.cpp", "c", id="cpp"),
        pytest.param("run.sh", "shell", id="shell"),
        pytest.param("ci.yml", "config", id="yaml-yml"),
        pytest.param("ci.yaml", "config", id="yaml"),
        pytest.param("pyproject.toml", "config", id="toml"),
        pytest.param("app.rb", "ruby", id="ruby"),
        pytest.param("schema.sql", "sql", id="sql"),
        pytest.param("index.html", "markup", id="html"),
        pytest.param("README.md", "markdown", id="markdown"),
        pytest.param("site.css", "css", id="css"),
        pytest.param("init.lua", "lua", id="lua"),
        pytest.param("Main.hs", "haskell", id="haskell"),
        pytest.param("Dockerfile", "shell", id="dockerfile"),
        pytest.param("docker/Dockerfile.dev", "shell", id="dockerfile-variant"),
        pytest.param("Makefile", "shell", id="makefile"),
        pytest.param("sub/dir/GNUmakefile", "shell", id="makefile-in-folder"),
        pytest.param("CMakeLists.txt", "shell", id="name-before-suffix"),
        pytest.param("requirements.txt", "config", id="requirements"),
    ],
)
def test_syntax_for_known_files(path: str, name: str) -> None:
    syntax = syntax_for(path)
    assert syntax is not None
    assert syntax.name == name


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("data.unknown", id="unknown-suffix"),
        pytest.param("notes.txt", id="plain-text"),
        pytest.param("LICENSE", id="no-suffix"),
        pytest.param("image.png", id="binary"),
        pytest.param("", id="empty"),
    ],
)
def test_syntax_for_unknown_files_is_none(path: str) -> None:
    assert syntax_for(path) is None


@pytest.mark.parametrize(
    ("path", "text", "comments"),
    [
        pytest.param("a.py", 'x = "#"  # c\n', ["# c"], id="python-hash-in-string"),
        pytest.param("a.py", "'''\n# no\n'''\n# yes\n", ["# yes"], id="python-triple-quoted"),
        pytest.param("a.py", "s = b'#' rb'#' f\"#\"  # c\n", ["# c"], id="python-prefixed"),
        pytest.param("a.c", "c = '\"'; /* b */ // l\n", ["/* b */", "// l"], id="c-char-quote"),
        pytest.param("a.c", "#include <x.h>\n// l\n", ["// l"], id="c-preprocessor"),
        pytest.param("a.js", "`\n// no\n` // yes\n", ["// yes"], id="js-template-literal"),
        pytest.param("a.js", "'// no' \"/* no */\" /**/\n", ["/**/"], id="js-quotes"),
        pytest.param("a.go", "`\n// no\n` // yes\n", ["// yes"], id="go-raw-string"),
        pytest.param("a.rs", 'r##"\n"# // no\n"## // yes\n', ["// yes"], id="rust-raw-hashes"),
        pytest.param(
            "a.rs", "fn f<'a>(x: &'a str) {} // c\n", ["// c"], id="rust-lifetime-before-comment"
        ),
        pytest.param("a.sh", "echo $# ${#v} '#' # c\n", ["# c"], id="shell-dollar-hash"),
        pytest.param("a.yaml", 'k: "# no" # c\nu: a#b\n', ["# c"], id="yaml-hash-after-space"),
        pytest.param("a.rb", "=begin\nx\n=end\n# c\n", ["=begin\nx\n=end", "# c"], id="ruby"),
        pytest.param("a.sql", "'it''s -- no' -- c\n", ["-- c"], id="sql-doubled-quote"),
        pytest.param("a.sql", '/* b */ "-- no"\n', ["/* b */"], id="sql-block"),
        pytest.param("a.html", "<p>-- no</p><!-- c -->\n", ["<!-- c -->"], id="html"),
        pytest.param(
            "a.css", "a { b: url(//x) } /* c */\n", ["/* c */"], id="css-no-line-comments"
        ),
        pytest.param("a.lua", "--[[ b ]] x -- l\n", ["--[[ b ]]", "-- l"], id="lua"),
        pytest.param("a.hs", '"-- no" {- b -} -- l\n', ["{- b -}", "-- l"], id="haskell"),
        pytest.param("a.c", "x;\n/* open\nto the end", ["/* open\nto the end"], id="unclosed"),
    ],
)
def test_comment_spans(path: str, text: str, comments: list[str]) -> None:
    assert comment_texts(path, text) == comments


PY_SOURCE = "x = 1  # c\ny = '#'\n"  # the comment is [7, 10); the string's "#" is at 17


@pytest.mark.parametrize(
    ("position", "span"),
    [
        pytest.param(0, None, id="before-any-comment"),
        pytest.param(6, None, id="just-before"),
        pytest.param(7, (7, 10), id="first-char"),
        pytest.param(9, (7, 10), id="last-char"),
        pytest.param(10, None, id="end-is-exclusive"),
        pytest.param(17, None, id="inside-a-string"),
        pytest.param(len(PY_SOURCE), None, id="end-of-text"),
    ],
)
def test_around(position: int, span: tuple[int, int] | None) -> None:
    syntax = syntax_for("a.py")
    assert syntax is not None
    assert Comments(PY_SOURCE, syntax).around(position) == span


# -- the quick regular expressions match what the plain ones do ---------------------------------

# The languages as first written: each block in its plainest form (lazy bodies, anchors in
# front, the comments in one group). The module's forms are quicker; they must match the same.
_DQ = r'"(?:\\.|[^"\\\n])*"'
_SQ = r"'(?:\\.|[^'\\\n])*'"
_SQ_CHAR = r"'(?:\\.|[^'\\\n]){1,4}'"
_BACKTICK = r"`(?:\\.|[^`\\])*(?:`|\Z)"
_PY_TRIPLE = r"(?:\"\"\"[\s\S]*?(?:\"\"\"|\Z)|'''[\s\S]*?(?:'''|\Z))"
_RUST_RAW = r'r(?P<hashes>#*)"[\s\S]*?(?:"(?P=hashes)|\Z)'
_SLASH_LINE = r"//[^\n]*"
_SLASH_BLOCK = r"/\*[\s\S]*?(?:\*/|\Z)"
_HASH_LINE = r"#[^\n]*"
_HASH_AFTER_SPACE = r"(?:(?<=[\s;])|^)#[^\n]*"
_DASH_LINE = r"--[^\n]*"
_SQL_STRING = r"'(?:''|[^'])*(?:'|\Z)"
_TRIPLE_DQ = r'"""[\s\S]*?(?:"""|\Z)'
_TRIPLE_SQ = r"'''[\s\S]*?(?:'''|\Z)"
_CPP_RAW = r'R"(?P<delim>[^(\s"]{0,16})\([\s\S]*?(?:\)(?P=delim)"|\Z)'
_HEREDOC = (
    r"<<-?\s*(?P<quote>['\"]?)(?P<word>\w+)(?P=quote)[^\n]*\n[\s\S]*?(?:^\s*(?P=word)\s*$|\Z)"
)
_HTML_TAG = r"<[A-Za-z][^>]*>"
_MD_FENCE = r"^(?P<fence>`{3,}|~{3,})[\s\S]*?(?:^(?P=fence)|\Z)"
_MD_CODE_SPAN = r"`[^`\n]+`"
_HTML_BLOCK = r"<!--[\s\S]*?(?:-->|\Z)"
PLAIN = {
    "python": ([_HASH_LINE], [_PY_TRIPLE, _DQ, _SQ]),
    "c": ([_SLASH_LINE, _SLASH_BLOCK], [_TRIPLE_DQ, _CPP_RAW, _DQ, _SQ_CHAR]),
    "javascript": ([_SLASH_LINE, _SLASH_BLOCK], [_DQ, _SQ, _BACKTICK]),
    "go": ([_SLASH_LINE, _SLASH_BLOCK], [_DQ, _SQ_CHAR, _BACKTICK]),
    "rust": ([_SLASH_LINE, _SLASH_BLOCK], [_RUST_RAW, _DQ, _SQ_CHAR]),
    "shell": ([_HASH_AFTER_SPACE], [_HEREDOC, _DQ, _SQ]),
    "config": ([_HASH_AFTER_SPACE], [_TRIPLE_DQ, _TRIPLE_SQ, _DQ, _SQ]),
    "ruby": ([r"^=begin[\s\S]*?(?:^=end|\Z)", _HASH_LINE], [_DQ, _SQ]),
    "sql": ([_DASH_LINE, _SLASH_BLOCK], [_SQL_STRING, _DQ]),
    "markup": ([_HTML_BLOCK], [_HTML_TAG]),
    "markdown": ([_HTML_BLOCK], [_MD_FENCE, _MD_CODE_SPAN, _HTML_TAG]),
    "css": ([_SLASH_BLOCK], [_DQ, _SQ]),
    "scss": ([_SLASH_LINE, _SLASH_BLOCK], [_DQ, _SQ]),
    "lua": ([r"--\[\[[\s\S]*?(?:\]\]|\Z)", _DASH_LINE], [_DQ, _SQ]),
    "haskell": ([r"\{-[\s\S]*?(?:-\}|\Z)", _DASH_LINE], [_DQ]),
    "lisp": ([r";[^\n]*"], [_DQ]),
    "percent": ([r"%[^\n]*"], [_DQ]),
    "php": ([_SLASH_LINE, _SLASH_BLOCK, _HASH_LINE], [_DQ, _SQ]),
}
SYNTAXES = {
    syntax.name: syntax
    for syntax in {*comment_syntax.BY_SUFFIX.values(), *comment_syntax.BY_NAME.values()}
}
# Texts made of pieces that start, end or escape comments and strings in some language.
PIECES = [
    *"\"'`#/*-;%<>!{}[]=()\\\n \tx~",
    *('"""', "'''", "//", "/*", "*/", "<!--", "-->", "--[[", "]]", "{-", "-}", "=begin"),
    *("=end", "<<EOF", "<<-'EOF'", "EOF", 'R"x(', ')x"', 'R"(', ')"', 'r#"', '"#', "```"),
    *("~~~", "<a ", "''", "\\\n", "\r\n", "# TODO", "\u00e9", ";#"),
]
SOURCE_TEXT = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


def plain_tokens(name: str, text: str) -> list[tuple[tuple[int, int], bool]]:
    """Every token of ``text`` as the plain form of the language lexes it: (span, comment)."""
    comments, strings = PLAIN[name]
    pattern = re.compile("|".join([f"(?P<c>{'|'.join(comments)})", *strings]), re.MULTILINE)
    return [(m.span(), m.start("c") >= 0) for m in pattern.finditer(text)]


def test_every_language_has_a_plain_form() -> None:
    assert set(SYNTAXES) == set(PLAIN)


@settings(max_examples=500, deadline=None)
@given(text=SOURCE_TEXT)
def test_quick_forms_lex_as_the_plain_forms(text: str) -> None:
    for name, syntax in SYNTAXES.items():
        tokens = [
            (m.span(), m.lastindex in syntax.comment_groups) for m in syntax.pattern.finditer(text)
        ]
        assert tokens == plain_tokens(name, text), name


@settings(max_examples=500, deadline=None)
@given(text=SOURCE_TEXT, order=st.randoms(use_true_random=False))
def test_comments_jumping_over_lines_find_every_comment(text: str, order: random.Random) -> None:
    positions = list(range(len(text) + 1))
    order.shuffle(positions)  # asked about in any order, not only the order find() asks in
    for name, syntax in SYNTAXES.items():
        spans = [span for span, comment in plain_tokens(name, text) if comment]
        comments = Comments(text, syntax)
        for position in positions:
            expected = next((s for s in spans if s[0] <= position < s[1]), None)
            assert comments.around(position) == expected, (name, position)


BLOCKS = [
    value
    for name, value in vars(comment_syntax).items()
    if name.isupper() and isinstance(value, str) and name not in {"SPANS_LINES"}
] + comment_syntax.MD_FENCES


@settings(max_examples=500, deadline=None)
@given(text=SOURCE_TEXT)
def test_only_the_blocks_said_to_run_over_lines_do(text: str) -> None:
    for block in BLOCKS:
        for match in re.compile(block, re.MULTILINE).finditer(text):
            starts = comment_syntax.SPANS_LINES.get(block)
            if starts is None:
                assert "\n" not in match.group(), block
            else:
                assert match.group().startswith(starts), block


@pytest.mark.parametrize(
    ("path", "name"),
    [
        pytest.param("a.", None, id="dot-at-the-end"),
        pytest.param(".py", None, id="hidden-file-named-like-a-suffix"),
        pytest.param("x/.gitignore", "config", id="hidden-name"),
        pytest.param("archive.tar.py", "python", id="last-suffix"),
        pytest.param("dir.py/file", None, id="suffix-of-a-folder"),
        pytest.param("x/Dockerfile.prod", "shell", id="dockerfile-in-folder"),
    ],
)
def test_syntax_for_reads_names_as_paths_do(path: str, name: str | None) -> None:
    syntax = syntax_for(path)
    assert (syntax.name if syntax else None) == name
