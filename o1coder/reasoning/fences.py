"""Finding code in model output: Markdown fenced blocks, and bare Python with no fence around it.

Both the step parser (:mod:`o1coder.reasoning.steps`) and :func:`o1coder.reasoning.extract.extract_program` read
model text through these helpers, so a block means the same thing everywhere. Everything here is linear or bounded in
the size of the text: model output can be megabytes of garbage, and a parser that hangs is worse than one that gives up.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass

# Info strings that mark a block as Python, or as pseudocode / plain text. An unlabelled block is "".
PYTHON_LANGS = frozenset({"python", "py", "python3", "py3"})
PSEUDOCODE_LANGS = frozenset({"pseudocode", "pseudo", "text", "txt", "plaintext", "plain", "algorithm"})

# An opening fence: up to 12 spaces of indent (blocks inside list items), three or more backticks or tildes, then an
# optional info string. Backtick fences cannot carry a backtick in their info string (CommonMark).
_OPEN_FENCE = re.compile(r"(?P<indent>[ \t]{0,12})(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n]*)")

# Bare-Python heuristics: the first line of a top-level statement, and lines that can only continue one.
_CODE_START = re.compile(
    r"(?:async[ \t]+def|def|class)[ \t]+\w"
    r"|import[ \t]+\w|from[ \t]+[\w.]+[ \t]+import[ \t]"
    r"|@\w"
    r"|(?:if|for|while|with)[ \t].*:[ \t]*(?:#.*)?$|try[ \t]*:"
    r"|[A-Za-z_][\w.]*(?:\[[^\]\n]*\])?(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*[ \t]*(?://|\*\*|[-+*/%&|^@]|<<|>>)?=(?!=)"
    r"|[A-Za-z_][\w.]*\("
)
_CONTINUATION = re.compile(r"(?:else|elif|except|finally)\b|[)\]}]|#|\"\"\"|'''")

MAX_BARE_LINES = 20_000  # bare-Python search looks at this many lines at most
MAX_LINE_PROBE = 2_000  # longer lines are never probed with ast.parse on their own
MAX_REGION_PARSES = 60  # ast.parse calls spent on candidate regions per search
MAX_REGION_CHARS = 1_000_000  # and characters handed to those calls, all together


@dataclass(frozen=True)
class Block:
    """One fenced block: ``lines[start]`` is the opening fence, ``lines[end - 1]`` the closing one when closed."""

    lang: str  # lower-cased first word of the info string, "" when unlabelled
    content: str
    start: int
    end: int
    closed: bool

    @property
    def is_python(self) -> bool:
        return self.lang in PYTHON_LANGS

    @property
    def is_pseudocode(self) -> bool:
        return self.lang in PSEUDOCODE_LANGS


def normalize_newlines(text: str) -> str:
    """Windows and old-Mac line ends become ``\\n``; every other character is kept."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _lang_of(info: str) -> str:
    word = info.strip().split(maxsplit=1)[0] if info.strip() else ""
    return re.sub(r"[^a-z0-9+#_-]", "", word.lower())  # "{.python}" -> "python"


def _is_closing(line: str, fence: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= len(fence) and stripped.count(fence[0]) == len(stripped)


def scan_blocks(lines: list[str]) -> list[Block]:
    """Every fenced block in ``lines``, in order. A fence left open runs to the end (generation was cut off)."""
    blocks = []
    i, n = 0, len(lines)
    while i < n:
        m = _OPEN_FENCE.fullmatch(lines[i])
        if m is None or (m.group("fence")[0] == "`" and "`" in m.group("info")):
            i += 1
            continue
        fence, indent = m.group("fence"), len(m.group("indent").expandtabs(4))
        j = i + 1
        while j < n and not _is_closing(lines[j], fence):
            j += 1
        body = [_dedent(line, indent) for line in lines[i + 1 : j]]
        closed = j < n
        end = j + 1 if closed else n
        blocks.append(Block(_lang_of(m.group("info")), "\n".join(body), i, end, closed))
        i = end
    return blocks


def _dedent(line: str, indent: int) -> str:
    """Remove up to ``indent`` leading spaces, as Markdown does for a block opened inside a list item."""
    if indent == 0:
        return line
    k = 0
    while k < indent and k < len(line) and line[k] == " ":
        k += 1
    return line[k:]


def clean_block(text: str) -> str:
    """The canonical form of a code or pseudocode block: no leading blank lines, no trailing whitespace."""
    lines = normalize_newlines(text).split("\n")
    k = 0
    while k < len(lines) and not lines[k].strip():
        k += 1
    return "\n".join(lines[k:]).rstrip()


def try_parse(code: str) -> tuple[ast.Module | None, str | None]:
    """``(tree, None)`` when ``code`` is valid Python, else ``(None, reason)``. Never raises."""
    try:
        with warnings.catch_warnings():  # invalid escapes in model code warn at parse time; not our business
            warnings.simplefilter("ignore")
            return ast.parse(code), None
    except SyntaxError as e:
        return None, f"SyntaxError: {e.msg} (line {e.lineno})"
    except (ValueError, RecursionError, MemoryError, OverflowError) as e:  # null bytes, absurd nesting
        return None, f"{type(e).__name__}: {e}"


def fence_for(content: str) -> str:
    """A backtick fence longer than any run of backticks in ``content``, so the content can never close it."""
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    return "`" * max(3, longest + 1)


def find_bare_python(lines: list[str]) -> tuple[int, int] | None:
    """The line range ``(start, end)`` of the longest stretch of unfenced lines that parses as a Python program.

    Used when a model writes code without a fence. Prose lines (unindented text that is not a statement) cut the
    text into regions; a region starts at its first line that looks like the start of a statement, and when the
    region does not parse, later statement starts are tried. The number of ``ast.parse`` calls is bounded.
    """
    lines = lines[:MAX_BARE_LINES]
    regions, start = [], None
    for i, line in enumerate(lines):
        if _is_prose(line):
            if start is not None:
                regions.append((start, i))
            start = None
        elif start is None and line.strip():
            start = i
    if start is not None:
        regions.append((start, len(lines)))

    best, parses, chars = None, MAX_REGION_PARSES, MAX_REGION_CHARS
    for lo, hi in regions:
        starts = [i for i in range(lo, hi) if not lines[i][:1].isspace() and _CODE_START.match(lines[i])]
        for s in starts:
            e = hi
            while e > s and not lines[e - 1].strip():
                e -= 1
            candidate = "\n".join(lines[s:e])
            parses, chars = parses - 1, chars - len(candidate)
            if parses < 0 or chars < 0:
                return best
            if try_parse(candidate)[0] is not None:
                if best is None or _weight(lines, s, e) > _weight(lines, *best):
                    best = (s, e)
                break  # a later start inside the same region can only be shorter
    return best


def _weight(lines: list[str], start: int, end: int) -> int:
    return sum(1 for line in lines[start:end] if line.strip())


def _is_prose(line: str) -> bool:
    """An unindented line that cannot begin or continue a Python statement (a sentence, a heading...)."""
    if not line.strip() or line[:1].isspace():
        return False
    if _CODE_START.match(line) or _CONTINUATION.match(line):
        return False
    if len(line) > MAX_LINE_PROBE:
        return True
    stripped = line.rstrip()
    if stripped.endswith(("(", "[", "{", ",", "\\")):  # opens a multi-line expression
        return False
    return try_parse(stripped)[0] is None


def first_statement_line(lines: list[str]) -> int | None:
    """Index of the first unindented line that looks like the start of a Python statement, or None."""
    for i, line in enumerate(lines[:MAX_BARE_LINES]):
        if line[:1].strip() and _CODE_START.match(line):
            return i
    return None


def defines_something(code: str) -> bool:
    """True when ``code`` parses and has a top-level def, class or import: a program, not a stray expression."""
    tree, _ = try_parse(code)
    return tree is not None and any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom))
        for node in tree.body
    )
