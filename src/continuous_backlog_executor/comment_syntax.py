"""Where the comments are in source code, by language. Pure.

Each language is one regular expression that matches its comments and its string literals, so
that scanning a file left to right finds every comment while stepping over strings: a tag
inside a string (or a comment marker inside one) is never taken for a comment. Regular
expressions run in C, which is what keeps scanning a large code base quick.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

# Building blocks. Comments are the group "c"; anything else the pattern matches is skipped.
DQ = r'"(?:\\.|[^"\\\n])*"'
SQ = r"'(?:\\.|[^'\\\n])*'"
SQ_CHAR = r"'(?:\\.|[^'\\\n]){1,4}'"  # C/Java/Rust char literals; leaves Rust's 'a lifetimes
BACKTICK = r"`(?:\\.|[^`\\])*(?:`|\Z)"
PY_TRIPLE = r"(?:\"\"\"[\s\S]*?(?:\"\"\"|\Z)|'''[\s\S]*?(?:'''|\Z))"
PY_STRING = DQ + "|" + SQ  # prefixes (r, b, f) need no matching: the quote opens the string
RUST_RAW = r'r(?P<hashes>#*)"[\s\S]*?(?:"(?P=hashes)|\Z)'
SLASH_LINE = r"//[^\n]*"
SLASH_BLOCK = r"/\*[\s\S]*?(?:\*/|\Z)"  # unclosed: to the end (\Z, as $ would end a line)
HASH_LINE = r"#[^\n]*"
HASH_AFTER_SPACE = r"(?:(?<=[\s;])|^)#[^\n]*"  # shell, YAML: "#" only starts a comment there
DASH_LINE = r"--[^\n]*"
SQL_STRING = r"'(?:''|[^'])*(?:'|\Z)"
TRIPLE_DQ = r'"""[\s\S]*?(?:"""|\Z)'  # Java/Kotlin/Scala/Swift text blocks, TOML
TRIPLE_SQ = r"'''[\s\S]*?(?:'''|\Z)"  # TOML literal strings
# C++ raw strings; a u8/u/U/L prefix is left to the code around it, as an R is a rarer start.
CPP_RAW = r'R"(?P<delim>[^(\s"]{0,16})\([\s\S]*?(?:\)(?P=delim)"|\Z)'
HEREDOC = r"<<-?\s*(?P<quote>['\"]?)(?P<word>\w+)(?P=quote)[^\n]*\n[\s\S]*?(?:^\s*(?P=word)\s*$|\Z)"
HTML_TAG = r"<[A-Za-z][^>]*>"  # a tag's attribute values are not comments
MD_FENCE = r"^(?P<fence>`{3,}|~{3,})[\s\S]*?(?:^(?P=fence)|\Z)"
MD_CODE_SPAN = r"`[^`\n]+`"
HTML_BLOCK = r"<!--[\s\S]*?(?:-->|\Z)"


def _pattern(comments: list[str], strings: list[str]) -> re.Pattern[str]:
    parts = [f"(?P<c>{'|'.join(comments)})", *strings]
    return re.compile("|".join(parts), re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Syntax:
    """How one language writes comments and strings."""

    name: str
    pattern: re.Pattern[str]


PYTHON = Syntax("python", _pattern([HASH_LINE], [PY_TRIPLE, PY_STRING]))
C_LIKE = Syntax("c", _pattern([SLASH_LINE, SLASH_BLOCK], [TRIPLE_DQ, CPP_RAW, DQ, SQ_CHAR]))
JS_LIKE = Syntax("javascript", _pattern([SLASH_LINE, SLASH_BLOCK], [DQ, SQ, BACKTICK]))
GO = Syntax("go", _pattern([SLASH_LINE, SLASH_BLOCK], [DQ, SQ_CHAR, BACKTICK]))
RUST = Syntax("rust", _pattern([SLASH_LINE, SLASH_BLOCK], [RUST_RAW, DQ, SQ_CHAR]))
SHELL = Syntax("shell", _pattern([HASH_AFTER_SPACE], [HEREDOC, DQ, SQ]))
CONFIG = Syntax("config", _pattern([HASH_AFTER_SPACE], [TRIPLE_DQ, TRIPLE_SQ, DQ, SQ]))
RUBY = Syntax("ruby", _pattern([r"^=begin[\s\S]*?(?:^=end|\Z)", HASH_LINE], [DQ, SQ]))
SQL = Syntax("sql", _pattern([DASH_LINE, SLASH_BLOCK], [SQL_STRING, DQ]))
MARKUP = Syntax("markup", _pattern([HTML_BLOCK], [HTML_TAG]))  # HTML, XML
MARKDOWN = Syntax("markdown", _pattern([HTML_BLOCK], [MD_FENCE, MD_CODE_SPAN, HTML_TAG]))
CSS = Syntax("css", _pattern([SLASH_BLOCK], [DQ, SQ]))
SCSS = Syntax("scss", _pattern([SLASH_LINE, SLASH_BLOCK], [DQ, SQ]))
LUA = Syntax("lua", _pattern([r"--\[\[[\s\S]*?(?:\]\]|\Z)", DASH_LINE], [DQ, SQ]))
HASKELL = Syntax("haskell", _pattern([r"\{-[\s\S]*?(?:-\}|\Z)", DASH_LINE], [DQ]))
LISP = Syntax("lisp", _pattern([r";[^\n]*"], [DQ]))
PERCENT = Syntax("percent", _pattern([r"%[^\n]*"], [DQ]))  # Erlang, TeX, MATLAB
PHP = Syntax("php", _pattern([SLASH_LINE, SLASH_BLOCK, HASH_LINE], [DQ, SQ]))

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
    pure = PurePosixPath(path)
    if pure.name in BY_NAME:
        return BY_NAME[pure.name]
    if pure.name.startswith("Dockerfile."):
        return SHELL
    return BY_SUFFIX.get(pure.suffix.lower())


class Comments:
    """The comment spans of one text, for asking whether a position is inside one.

    The text is lexed lazily, only as far as the furthest position asked about: most tags sit
    well before the end of their file, and lexing is the costly part of a scan.
    """

    def __init__(self, text: str, syntax: Syntax) -> None:
        self._matches: Iterator[re.Match[str]] = syntax.pattern.finditer(text)
        self._end = len(text)
        self._known = 0  # every position before this one has been lexed
        self.starts: list[int] = []
        self.spans: list[tuple[int, int]] = []

    def _lex_past(self, position: int) -> None:
        while self._known <= position:
            match = next(self._matches, None)
            if match is None:
                self._known = self._end + 1
                return
            if match.start("c") >= 0:
                self.starts.append(match.start())
                self.spans.append(match.span())
            self._known = match.end()

    def around(self, position: int) -> tuple[int, int] | None:
        """The comment span containing ``position``, if any."""
        self._lex_past(position)
        index = bisect.bisect_right(self.starts, position) - 1
        if index >= 0:
            start, end = self.spans[index]
            if start <= position < end:
                return start, end
        return None
