"""Where the comments are in source code, by language. Pure.

Each language is one regular expression that matches its comments and its string literals, so
that scanning a file left to right finds every comment while stepping over strings: a tag
inside a string (or a comment marker inside one) is never taken for a comment. Regular
expressions run in C, which is what keeps scanning a large code base quick; they are written in
the forms Python's engine runs fastest (tested to match what the plainest forms match), and
``Comments`` lexes only the lines it must.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

# Building blocks, each one alternative that starts with a literal character: then the regular
# expression engine skips straight to the next character that can start a comment or a string
# (it does so only when every alternative starts with a literal). Bodies are written as runs of
# the characters that cannot end them, taken possessively (``[^"]*+``), rather than as lazy
# ``[\s\S]*?``, which would try the ending at every character; both match the same text, and
# the possessive form is several times faster.
DQ = r'"[^"\\\n]*+(?:\\.[^"\\\n]*+)*+"'
SQ = r"'[^'\\\n]*+(?:\\.[^'\\\n]*+)*+'"
SQ_CHAR = r"'(?:\\.|[^'\\\n]){1,4}'"  # C/Java/Rust char literals; leaves Rust's 'a lifetimes
BACKTICK = r"`[^`\\]*+(?:\\.[^`\\]*+)*+(?:`|\Z)"
TRIPLE_DQ = r'"""[^"]*+(?:"(?!"")[^"]*+)*+(?:"""|\Z)'  # Python, Java/Kotlin/Swift, TOML
TRIPLE_SQ = r"'''[^']*+(?:'(?!'')[^']*+)*+(?:'''|\Z)"  # Python, TOML literal strings
RUST_RAW = r'r(?P<hashes>#*)"[^"]*+(?:"(?!(?P=hashes))[^"]*+)*+(?:"(?P=hashes)|\Z)'
SLASH_LINE = r"//[^\n]*"
SLASH_BLOCK = r"/\*[^*]*+(?:\*(?!/)[^*]*+)*+(?:\*/|\Z)"  # unclosed: to the end (\Z, not $)
HASH_LINE = r"#[^\n]*"
# Shell, YAML: "#" starts a comment only at a line's start or after a space or ";" (the
# look-behind comes after the "#" so that the alternative still starts with a literal).
HASH_AFTER_SPACE = r"#(?<![^\s;]#)[^\n]*"
DASH_LINE = r"--[^\n]*"
SEMICOLON_LINE = r";[^\n]*"
PERCENT_LINE = r"%[^\n]*"
SQL_STRING = r"'[^']*+(?:''[^']*+)*+(?:'|\Z)"
# C++ raw strings; a u8/u/U/L prefix is left to the code around it, as an R is a rarer start.
CPP_RAW = r'R"(?P<delim>[^(\s"]{0,16})\([^)]*+(?:\)(?!(?P=delim)")[^)]*+)*+(?:\)(?P=delim)"|\Z)'
HEREDOC = r"<<-?\s*(?P<quote>['\"]?)(?P<word>\w+)(?P=quote)[^\n]*\n[\s\S]*?(?:^\s*(?P=word)\s*$|\Z)"
HTML_TAG = r"<[A-Za-z][^>]*>"  # a tag's attribute values are not comments
# A fence opens at a line's start (the look-behind after its first character says so).
MD_FENCES = [
    rf"{c}(?<![^\n]{c})(?P<{n}>{c}{{2,}})[\s\S]*?(?:^{c}(?P={n})|\Z)"
    for c, n in (("`", "backticks"), ("~", "tildes"))
]
MD_CODE_SPAN = r"`[^`\n]+`"
HTML_BLOCK = r"<!--[^-]*+(?:-(?!->)[^-]*+)*+(?:-->|\Z)"
RUBY_BLOCK = r"=(?<![^\n]=)begin[\s\S]*?(?:^=end|\Z)"
LUA_BLOCK = r"--\[\[[^\]]*+(?:\](?!\])[^\]]*+)*+(?:\]\]|\Z)"
HASKELL_BLOCK = r"\{-[^-]*+(?:-(?!\})[^-]*+)*+(?:-\}|\Z)"
# The blocks whose matches can run over several lines, each with the texts its matches start
# with. Every other block ends on the line it starts on, so at the end of a line holding none
# of these texts the lexer is outside any token, whatever the line holds: ``Comments`` jumps
# over such lines. (Both halves of that are tested.)
SPANS_LINES: dict[str, tuple[str, ...]] = {
    BACKTICK: ("`",),
    TRIPLE_DQ: ('"""',),
    TRIPLE_SQ: ("'''",),
    RUST_RAW: ('r"', "r#"),
    SLASH_BLOCK: ("/*",),
    SQL_STRING: ("'",),
    CPP_RAW: ('R"',),
    HEREDOC: ("<<",),
    HTML_TAG: ("<",),
    MD_FENCES[0]: ("```",),
    MD_FENCES[1]: ("~~~",),
    HTML_BLOCK: ("<!--",),
    RUBY_BLOCK: ("=begin",),
    LUA_BLOCK: ("--[[",),
    HASKELL_BLOCK: ("{-",),
}


@dataclass(frozen=True, slots=True)
class Syntax:
    """How one language writes comments and strings."""

    name: str
    pattern: re.Pattern[str]
    comment_groups: frozenset[int]  # a match is a comment when one of these closed last
    spanning: tuple[str, ...]  # texts that start every token that can run over lines


def _syntax(name: str, comments: Sequence[str], strings: Sequence[str]) -> Syntax:
    # Each comment ends in an empty group of its own, which a match of it closes last: a group
    # around all the comments would hide their first characters from the engine's skipping.
    marked = [f"{comment}(?P<comment{n}>)" for n, comment in enumerate(comments)]
    pattern = re.compile("|".join([*marked, *strings]), re.MULTILINE)
    groups = frozenset(pattern.groupindex[f"comment{n}"] for n in range(len(comments)))
    spanning = {text for block in [*comments, *strings] for text in SPANS_LINES.get(block, ())}
    return Syntax(name, pattern, groups, tuple(sorted(spanning)))


PYTHON = _syntax("python", [HASH_LINE], [TRIPLE_DQ, TRIPLE_SQ, DQ, SQ])
C_LIKE = _syntax("c", [SLASH_LINE, SLASH_BLOCK], [TRIPLE_DQ, CPP_RAW, DQ, SQ_CHAR])
JS_LIKE = _syntax("javascript", [SLASH_LINE, SLASH_BLOCK], [DQ, SQ, BACKTICK])
GO = _syntax("go", [SLASH_LINE, SLASH_BLOCK], [DQ, SQ_CHAR, BACKTICK])
RUST = _syntax("rust", [SLASH_LINE, SLASH_BLOCK], [RUST_RAW, DQ, SQ_CHAR])
SHELL = _syntax("shell", [HASH_AFTER_SPACE], [HEREDOC, DQ, SQ])
CONFIG = _syntax("config", [HASH_AFTER_SPACE], [TRIPLE_DQ, TRIPLE_SQ, DQ, SQ])
RUBY = _syntax("ruby", [RUBY_BLOCK, HASH_LINE], [DQ, SQ])
SQL = _syntax("sql", [DASH_LINE, SLASH_BLOCK], [SQL_STRING, DQ])
MARKUP = _syntax("markup", [HTML_BLOCK], [HTML_TAG])  # HTML, XML
MARKDOWN = _syntax("markdown", [HTML_BLOCK], [*MD_FENCES, MD_CODE_SPAN, HTML_TAG])
CSS = _syntax("css", [SLASH_BLOCK], [DQ, SQ])
SCSS = _syntax("scss", [SLASH_LINE, SLASH_BLOCK], [DQ, SQ])
LUA = _syntax("lua", [LUA_BLOCK, DASH_LINE], [DQ, SQ])
HASKELL = _syntax("haskell", [HASKELL_BLOCK, DASH_LINE], [DQ])
LISP = _syntax("lisp", [SEMICOLON_LINE], [DQ])
PERCENT = _syntax("percent", [PERCENT_LINE], [DQ])  # Erlang, TeX, MATLAB
PHP = _syntax("php", [SLASH_LINE, SLASH_BLOCK, HASH_LINE], [DQ, SQ])

BY_SUFFIX: dict[str, Syntax] = {
    **dict.fromkeys((".py", ".pyi", ".pyw", ".pyx", ".pxd"), PYTHON),
    **dict.fromkeys(
        (".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx", ".m", ".mm", ".java"),
        C_LIKE,
    ),
    **dict.fromkeys((".cs", ".kt", ".kts", ".swift", ".scala", ".dart", ".proto"), C_LIKE),
    **dict.fromkeys((".groovy", ".gradle", ".cu", ".cuh", ".zig", ".sol"), C_LIKE),
    **dict.fromkeys((".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts"), JS_LIKE),
    ".go": GO,
    ".rs": RUST,
    **dict.fromkeys((".sh", ".bash", ".zsh", ".ksh", ".fish", ".mk", ".cmake", ".r"), SHELL),
    **dict.fromkeys((".pl", ".pm", ".ex", ".exs", ".nim", ".ps1", ".tf", ".hcl"), SHELL),
    **dict.fromkeys((".yml", ".yaml", ".toml", ".cfg", ".ini", ".conf", ".properties"), CONFIG),
    **dict.fromkeys((".rb", ".rake", ".gemspec"), RUBY),
    ".sql": SQL,
    **dict.fromkeys((".html", ".htm", ".xml", ".xhtml", ".svg"), MARKUP),
    **dict.fromkeys((".md", ".markdown"), MARKDOWN),
    **dict.fromkeys((".vue", ".svelte", ".rst"), MARKUP),
    ".css": CSS,
    **dict.fromkeys((".scss", ".less", ".sass"), SCSS),
    ".lua": LUA,
    ".hs": HASKELL,
    **dict.fromkeys((".el", ".lisp", ".clj", ".cljs", ".scm", ".rkt", ".asm", ".s"), LISP),
    **dict.fromkeys((".erl", ".hrl", ".tex", ".sty"), PERCENT),
    ".php": PHP,
}
BY_NAME: dict[str, Syntax] = {
    **dict.fromkeys(("Makefile", "makefile", "GNUmakefile", "Dockerfile", "Containerfile"), SHELL),
    **dict.fromkeys(("CMakeLists.txt", "Rakefile", "Gemfile", "Vagrantfile", "Jenkinsfile"), SHELL),
    **dict.fromkeys((".gitignore", ".dockerignore", ".gitattributes", ".editorconfig"), CONFIG),
    **dict.fromkeys(("requirements.txt", "constraints.txt", "Pipfile"), CONFIG),
}


def syntax_for(path: str) -> Syntax | None:
    """The syntax of the file at ``path`` (by name, then suffix), or ``None`` if unknown."""
    # String operations rather than a PurePosixPath: this is asked of every file in the
    # repository, and they take a tenth of the time (the suffix rule is PurePosixPath's).
    name = path.rpartition("/")[2]
    if name in BY_NAME:
        return BY_NAME[name]
    if name.startswith("Dockerfile."):
        return SHELL
    dot = name.rfind(".")
    return BY_SUFFIX.get(name[dot:].lower()) if 0 < dot < len(name) - 1 else None


class Comments:
    """The comment spans of one text, for asking whether a position is inside one.

    The text is lexed lazily, only as far as the furthest position asked about: most tags sit
    well before the end of their file, and lexing is the costly part of a scan. Lines that
    cannot start a token running on to the next line are jumped over (unless asked about):
    whatever they hold, the lexer is outside any token at their end (see ``SPANS_LINES``).
    """

    def __init__(self, text: str, syntax: Syntax) -> None:
        self._text = text
        self._syntax = syntax
        self._end = len(text)
        self._known = 0  # every position before this one has been lexed or jumped over
        # Where the first spanning text at or after _known starts, or (not _found) a place
        # before which none does: the texts are looked for only as far as the positions asked.
        self._spanning = -1
        self._found = False
        self._next = dict.fromkeys(syntax.spanning, (-1, False))  # (where, found) for each
        self._jumped: list[tuple[int, int]] = []  # the ranges jumped over, in order
        self.starts: list[int] = []
        self.spans: list[tuple[int, int]] = []

    def _lex_past(self, position: int) -> None:
        text, pattern, groups = self._text, self._syntax.pattern, self._syntax.comment_groups
        while self._known <= position:
            # Jump to the start of the line holding ``position`` or the next spanning text,
            # whichever comes first: the lexer is outside any token at every line start before.
            if self._spanning < self._known or (self._spanning <= position and not self._found):
                self._next_spanning(position)
            line = text.rfind("\n", 0, position if position < self._spanning else self._spanning)
            if line >= self._known:
                self._jumped.append((self._known, line + 1))
                self._known = line + 1
            match = pattern.search(text, self._known)
            if match is None:
                self._known = self._end + 1
                return
            if match.lastindex in groups:
                self.starts.append(match.start())
                self.spans.append(match.span())
            self._known = match.end()

    def _next_spanning(self, position: int) -> None:
        # str.find: many times quicker than a regular expression's search for several texts.
        self._spanning, self._found = self._end + 1, False
        for text, (at, found) in list(self._next.items()):
            if at < self._known or (at <= position and not found):
                start = self._text.find(text, self._known, position + len(text))
                self._next[text] = (start, True) if start != -1 else (position + 1, False)
            if self._next[text][0] < self._spanning:
                self._spanning, self._found = self._next[text]

    def around(self, position: int) -> tuple[int, int] | None:
        """The comment span containing ``position``, if any."""
        self._lex_past(position)
        index = bisect.bisect_right(self.starts, position) - 1
        if index >= 0:
            start, end = self.spans[index]
            if start <= position < end:
                return start, end
        return self._around_jumped(position)

    def _around_jumped(self, position: int) -> tuple[int, int] | None:
        """The comment containing ``position`` in a range jumped over: its line is lexed now
        (only its own tokens can reach into it)."""
        index = bisect.bisect_right(self._jumped, (position, self._end + 1)) - 1
        if index < 0 or position >= self._jumped[index][1]:
            return None
        start = max(self._jumped[index][0], self._text.rfind("\n", 0, position) + 1)
        for match in self._syntax.pattern.finditer(self._text, start):
            if match.start() > position:
                break
            if match.end() > position:
                return match.span() if match.lastindex in self._syntax.comment_groups else None
        return None
