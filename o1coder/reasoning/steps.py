"""Typed reasoning steps and the one text format they are written in.

O1-CODER reasons in steps of three kinds (:class:`Action`): outline the algorithm in pseudocode, refine the
pseudocode (as often as needed), write the Python code (terminal). Prompts, the step parser, SFT targets and PRM
labels all use the single text format below, so a step a model writes can be parsed, stored, rendered back and
trained on without translation::

    Action 2 (refine): Track the running maximum
    Scan once and remember the largest value seen so far.
    ```pseudocode
    function largest(nums):
        if nums is empty: return None
        best <- nums[0]
        for x in nums: if x > best: best <- x
        return best
    ```
    <|end_step|>

A header line names the action by number and word and gives a short title; free prose explains the step; a
``pseudocode`` block carries the pseudocode, a ``python`` block the code (a code step has the python block); the
marker :data:`END_OF_STEP` ends the step. Generation stops at that marker (see ``STEP_STOP_STRINGS`` in
:mod:`o1coder.reasoning.prompts`), and a PRM scores a step at its last token, which is the end of the marker.

:func:`render` writes the canonical text; :func:`parse` reads a step back, and tolerates what real models write
(no end marker, prose around the step, ``Step 2 - Refine the pseudocode``, unfenced code, several steps at once).
It never raises: a step it cannot read comes back as a failed :class:`ParseResult` with the reasons.
For every valid step (``not step.issues()``): ``parse(render(step)).step == step``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Iterable

from o1coder.reasoning.fences import (
    clean_block,
    defines_something,
    fence_for,
    find_bare_python,
    first_statement_line,
    normalize_newlines,
    scan_blocks,
)

END_OF_STEP = "<|end_step|>"
STEP_SEPARATOR = "\n"  # between the end marker of one step and the header of the next in a rendered trace

# Spellings of the end marker that models produce when they imitate it imperfectly; all of them end a step.
END_MARKER_RE = re.compile(r"<\|?end[ _]?(?:of[ _])?step\|?>", re.IGNORECASE)

MAX_TITLE_CHARS = 200
_MAX_HEADER_LINE = 1_000  # longer lines are never step headers (keeps the regexes linear on hostile input)


class Action(IntEnum):
    """The three step types of the paper. The numbers are the ones the prompt and the stored traces use."""

    STRUCTURE = 1  # outline the algorithm in pseudocode: functions, inputs, outputs; no detail
    REFINE = 2  # make the pseudocode more detailed; may repeat
    CODE = 3  # write the Python code; ends the reasoning

    @property
    def word(self) -> str:
        """The lower-case name used in the header line: "structure", "refine" or "code"."""
        return self.name.lower()

    @property
    def is_terminal(self) -> bool:
        return self is Action.CODE

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]

    @classmethod
    def coerce(cls, value) -> Action:
        """An Action from 1/2/3, "structure"/"refine"/"code" or an Action; ValueError names the bad value."""
        if isinstance(value, str) and not value.strip().isdigit():
            for action in cls:
                if value.strip().lower() == action.word:
                    return action
        elif not isinstance(value, bool):
            try:
                return cls(int(value))
            except (TypeError, ValueError):
                pass
        raise ValueError(f"a step action must be 1, 2, 3 or 'structure', 'refine', 'code'; got {value!r}")


_DESCRIPTIONS = {
    Action.STRUCTURE: "lay out the algorithm in pseudocode: the functions it needs, with their inputs and outputs, "
    "without the details",
    Action.REFINE: "make the pseudocode more detailed: loops, conditions, data structures, edge cases "
    "(this action can be repeated)",
    Action.CODE: "turn the pseudocode into the complete Python code (this step ends the solution)",
}


@dataclass(frozen=True)
class Step:
    """One reasoning step. Text fields are stored in canonical form (see ``__post_init__``) so that equality means
    "renders to the same text"."""

    action: Action
    title: str = ""
    explanation: str = ""
    pseudocode: str = ""
    code: str = ""

    def __post_init__(self):
        # canonical form: one-line title (cut at MAX_TITLE_CHARS), stripped prose, blocks without outer blank lines
        title = " ".join(normalize_newlines(str(self.title)).split())
        if len(title) > MAX_TITLE_CHARS:
            title = title[: MAX_TITLE_CHARS - 3].rstrip() + "..."
        object.__setattr__(self, "action", Action.coerce(self.action))
        object.__setattr__(self, "title", title)
        object.__setattr__(self, "explanation", normalize_newlines(str(self.explanation)).strip())
        object.__setattr__(self, "pseudocode", clean_block(str(self.pseudocode)))
        object.__setattr__(self, "code", clean_block(str(self.code)))

    @property
    def is_terminal(self) -> bool:
        return self.action.is_terminal

    def issues(self) -> list[str]:
        """Why this step is not valid, or [] when it is. Valid steps survive render -> parse unchanged."""
        found = []
        if self.action is Action.CODE and not self.code:
            found.append("a code step (action 3) must contain Python code")
        if self.action is not Action.CODE and not self.pseudocode:
            found.append(f"a {self.action.word} step (action {int(self.action)}) must contain pseudocode")
        for name in ("title", "explanation", "pseudocode", "code"):
            if END_MARKER_RE.search(getattr(self, name)):
                found.append(f"the {name} contains an end-of-step marker such as {END_OF_STEP}")
        for line in self.explanation.split("\n"):
            stripped = line.strip()
            if stripped.startswith(("```", "~~~")):
                found.append(f"the explanation contains a code fence line: {stripped[:40]!r}")
            elif _read_header(line, first_line=False) is not None:
                found.append(f"the explanation contains a line that reads as a step header: {stripped[:60]!r}")
        return found

    def to_dict(self) -> dict:
        """The stored trace form: ``{"action": 1|2|3, "title", "explanation", "pseudocode", "code"}``."""
        return {"action": int(self.action), "title": self.title, "explanation": self.explanation,
                "pseudocode": self.pseudocode, "code": self.code}

    @classmethod
    def from_dict(cls, d: dict) -> Step:
        if not isinstance(d, dict) or "action" not in d:
            raise ValueError(f"a step needs at least an 'action' field, got {d!r:.80}")
        unknown = set(d) - {"action", "title", "explanation", "pseudocode", "code"}
        if unknown:
            raise ValueError(f"unknown step fields {sorted(unknown)}; expected action, title, explanation, "
                             "pseudocode, code")
        return cls(**{k: ("" if v is None else v) for k, v in d.items()})


@dataclass(frozen=True)
class ParseResult:
    """What :func:`parse` read from one step's text.

    ``step`` is None when the text could not be read as a valid step; ``errors`` then says why. ``warnings`` lists
    what was tolerated (no end marker, prose around the step...). ``action`` is the action the header named, even
    for a failed step, so a search can still show "a refine step that failed to parse".
    """

    step: Step | None
    raw: str
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    action: Action | None = None

    @property
    def ok(self) -> bool:
        return self.step is not None

    @property
    def failed(self) -> bool:
        return self.step is None

    @property
    def problems(self) -> tuple[str, ...]:
        """Errors then warnings: everything that was not as the format asks."""
        return self.errors + self.warnings


# ---------------------------------------------------------------------------------------------------- rendering


def render(step: Step) -> str:
    """The canonical text of one step, ending with :data:`END_OF_STEP` (no newline after it)."""
    header = f"Action {int(step.action)} ({step.action.word})"
    parts = [f"{header}: {step.title}" if step.title else header]
    if step.explanation:
        parts.append(step.explanation)
    if step.pseudocode:
        parts.append(_fenced(step.pseudocode, "pseudocode"))
    if step.code:
        parts.append(_fenced(step.code, "python"))
    parts.append(END_OF_STEP)
    return "\n".join(parts)


def _fenced(content: str, lang: str) -> str:
    fence = fence_for(content)
    return f"{fence}{lang}\n{content}\n{fence}"


def render_trace(steps: Iterable[Step]) -> str:
    """A whole response: every step rendered, each followed by :data:`STEP_SEPARATOR`.

    ``render_trace(steps[:k])`` is a prefix of ``render_trace(steps)``: the state after k steps is exactly the text
    a model has produced so far, which is what prompts continue from and what SFT trains on.
    """
    return "".join(render(step) + STEP_SEPARATOR for step in steps)


def step_end_offsets(steps: Iterable[Step]) -> list[int]:
    """For each step, the character offset in ``render_trace(steps)`` just past its end marker.

    ``text[:offset]`` ends with :data:`END_OF_STEP`; the token covering ``offset - 1`` is the step's last token,
    where a process reward model reads the step's score.
    """
    offsets, position = [], 0
    for step in steps:
        position += len(render(step))
        offsets.append(position)
        position += len(STEP_SEPARATOR)
    return offsets


# ------------------------------------------------------------------------------------------------------ parsing

_KEYWORDS = [  # words that name an action in a header; the first one in the text wins
    (Action.STRUCTURE, r"structur\w*|outlin\w*|skeleton|high[- ]level|overview"),
    (Action.REFINE, r"refin\w*|details?|detailed"),
    (Action.CODE, r"code|python"),
]
_KEYWORD_RE = re.compile("|".join(rf"(?P<a{int(a)}>\b(?:{p})\b)" for a, p in _KEYWORDS), re.IGNORECASE)
_HEAD_RE = re.compile(r"(?P<kind>action|step)(?:[\s#]*(?P<num>\d{1,3}))?(?P<rest>.*)", re.IGNORECASE | re.DOTALL)
_BARE_HEAD_RE = re.compile(r"(?P<word>structure|refine|refinement|code)\b[\s*:.\-–—]*(?P<rest>.*)",
                           re.IGNORECASE | re.DOTALL)
_PAREN_RE = re.compile(r"\((?P<word>[^()\n]{0,40})\)")
_SEPARATOR_RE = re.compile(r"[:.\-–—|*]+\s*")
_UNNUMBERED_SEPARATOR_RE = re.compile(r"\s*(?:[:.|(]|\*\*|[-–—]\s)")


@dataclass
class _Header:
    action: Action | None
    title: str
    warnings: list[str] = field(default_factory=list)

    @property
    def strong(self) -> bool:
        """A header that names its action clearly enough to start a new step anywhere in the text."""
        return self.action is not None


def _keyword_action(text: str) -> Action | None:
    m = _KEYWORD_RE.search(text)
    if m is None:
        return None
    return Action(int(m.lastgroup[1:]))


def _read_header(line: str, *, first_line: bool) -> _Header | None:
    """Read a step header such as ``Action 2 (refine): title``, ``**Step 3 - Write the code**`` or ``Refine:``.

    Away from the first line of a step only strong headers count, so prose like "Step through the list" or
    "Code: see below" inside an explanation does not start a new step.
    """
    if len(line) > _MAX_HEADER_LINE or not line.strip():
        return None
    text = line.strip().lstrip(">").strip()
    text = re.sub(r"^#{1,6}\s*", "", text)
    text = re.sub(r"^[-*+]\s+", "", text)
    bold = text.startswith(("**", "__"))
    if bold:
        text = text[2:].lstrip()
    m = _HEAD_RE.match(text)
    if m is not None:
        header = _read_action_header(m, bold)
        if header is not None and (header.strong or first_line):
            return header
        return None
    if first_line:
        m = _BARE_HEAD_RE.match(text)
        if m is not None and len(text) <= 120:
            title = _strip_bold(m.group("rest").strip(), bold)
            return _Header(_keyword_action(m.group("word")), title, ["the header names the action by a bare word"])
    return None


def _read_action_header(m: re.Match, bold: bool) -> _Header | None:
    kind, num, rest = m.group("kind").lower(), m.group("num"), m.group("rest")
    if num is None and not _UNNUMBERED_SEPARATOR_RE.match(rest):
        return None  # "Step through the list", "Step-by-step", "Actions speak..."
    if num is not None and rest[:1].isalnum():
        return None  # "Step 2a", "Action 12x"
    rest = rest.strip()
    paren = _PAREN_RE.match(rest)
    paren_action = None
    if paren is not None:
        paren_action = _keyword_action(paren.group("word"))
        rest = rest[paren.end():].lstrip()
    sep = _SEPARATOR_RE.match(rest)
    if sep is not None:
        rest = rest[sep.end():]
    title = _strip_bold(rest.strip(), bold)

    warnings = []
    number_action = Action(int(num)) if kind == "action" and num is not None and num in ("1", "2", "3") else None
    if paren_action is not None:
        action = paren_action
        if number_action is not None and number_action != paren_action:
            warnings.append(f"the header says action {int(number_action)} but names {paren_action.word}; "
                            f"read as {paren_action.word}")
    elif number_action is not None:
        action = number_action
    else:
        action = _keyword_action(title)
    if action is not None and (kind != "action" or num is None or paren is None):
        warnings.append("the header is not in the form 'Action N (name): title'")
    return _Header(action, title, warnings)


def _strip_bold(title: str, bold: bool) -> str:
    if bold:
        title = re.sub(r"(\*\*|__)\s*$", "", title).strip()
    return title


def parse(text: str) -> ParseResult:
    """Read the first step in ``text``. Never raises; a text with no readable step gives a failed result."""
    results = parse_steps(text)
    if not results:
        reason = "the text is empty" if not str(text or "").strip() else "no step found"
        return ParseResult(None, "" if text is None else str(text), (reason,))
    first = results[0]
    if len(results) > 1:
        first = ParseResult(first.step, first.raw, first.errors,
                            first.warnings + (f"{len(results) - 1} more step(s) after the first were ignored",),
                            first.action)
    return first


def parse_steps(text: str) -> list[ParseResult]:
    """Read every step in ``text`` (a full response, or a model's continuation that ran past one step).

    Steps are separated by end markers, and by strong header lines where a model forgot the marker.
    Prose that belongs to no step is reported as a warning on the step before it (or after it, at the start).
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    pieces = END_MARKER_RE.split(normalize_newlines(text))
    results: list[ParseResult] = []
    stray: list[str] = []  # prose not attached to any step yet
    for i, piece in enumerate(pieces):
        terminated = i < len(pieces) - 1
        chunks = _split_chunks(piece.split("\n"))
        for k, (preamble, chunk, header) in enumerate(chunks):
            ends_with_marker = terminated and k == len(chunks) - 1
            if header is None and not _has_code(chunk):
                if "\n".join(chunk).strip():
                    stray.append("\n".join(chunk).strip())
                continue
            if "\n".join(preamble).strip():
                stray.append("\n".join(preamble).strip())
            result = _parse_chunk(chunk, header, ends_with_marker)
            if stray:
                result = _with_warning(result, f"ignored text before the step: {_short(stray)}")
                stray = []
            results.append(result)
    if stray:
        if results:
            results[-1] = _with_warning(results[-1], f"ignored text after the step: {_short(stray)}")
        else:
            results.append(ParseResult(None, text, ("no step header found (expected a line like "
                                                    "'Action 1 (structure): <title>')",)))
    return results


def _short(parts: list[str]) -> str:
    joined = " / ".join(parts).replace("\n", " ")
    return repr(joined if len(joined) <= 60 else joined[:57] + "...")


def _with_warning(result: ParseResult, warning: str) -> ParseResult:
    return ParseResult(result.step, result.raw, result.errors, result.warnings + (warning,), result.action)


def _has_code(lines: list[str]) -> bool:
    """A chunk without a header still counts as a step when it holds a Python program (a code step whose header
    was lost): a ``python`` block, or an untagged block or unfenced text that parses and defines something."""
    blocks = scan_blocks(lines)
    if any(b.is_python for b in blocks):
        return True
    if any(b.lang == "" and defines_something(b.content) for b in blocks):
        return True
    region = None if blocks else find_bare_python(lines)
    return region is not None and defines_something("\n".join(lines[region[0]:region[1]]))


def _split_chunks(lines: list[str]) -> list[tuple[list[str], list[str], _Header | None]]:
    """Cut one piece (text between end markers) at its step headers: ``(preamble, chunk lines, header)`` triples.

    Lines inside fenced blocks are never headers. The first non-blank line may be a weak header (``Refine:``);
    any later header must be strong.
    """
    in_block = [False] * len(lines)
    for block in scan_blocks(lines):
        for j in range(block.start, block.end):
            in_block[j] = True
    starts: list[tuple[int, _Header]] = []
    first_content = next((j for j, line in enumerate(lines) if line.strip()), None)
    for j, line in enumerate(lines):
        if in_block[j] or not line.strip():
            continue
        header = _read_header(line, first_line=(j == first_content))
        if header is not None:
            starts.append((j, header))
    if not starts:
        return [([], lines, None)]
    chunks = []
    for n, (j, header) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        preamble = lines[:j] if n == 0 else []
        chunks.append((preamble, lines[j:end], header))
    return chunks


def _parse_chunk(chunk: list[str], header: _Header | None, ends_with_marker: bool) -> ParseResult:
    raw = "\n".join(chunk).strip()
    warnings = [] if header is None else list(header.warnings)
    if not ends_with_marker:
        warnings.append(f"no {END_OF_STEP} marker after the step")
    body = chunk[1:] if header is not None else chunk
    title = header.title if header is not None else ""
    action = header.action if header is not None else None

    blocks = scan_blocks(body)
    if action is None:
        if _has_code(body):
            action = Action.CODE
            warnings.append("no action named; read as a code step because it contains Python code")
        else:
            why = "no action header" if header is None else "the header does not say which action it takes"
            return ParseResult(None, raw, (f"{why} (expected a line like 'Action 2 (refine): <title>')",),
                               tuple(warnings))

    if blocks:
        explanation = "\n".join(body[: blocks[0].start])
        pseudocode, code, block_warnings = _assign_blocks(action, blocks)
        warnings += block_warnings
        leftover = "\n".join(line for b, nb in zip(blocks, blocks[1:] + [None])
                             for line in body[b.end: nb.start if nb else len(body)])
        if leftover.strip():
            warnings.append(f"ignored text between or after the code blocks: {_short([leftover.strip()])}")
        if any(not b.closed for b in blocks):
            warnings.append("a code block was not closed")
    elif action is Action.CODE:
        explanation, pseudocode, code = _unfenced_code(body, warnings)
    else:
        explanation, pseudocode = _unfenced_pseudocode(body, warnings)
        code = ""

    try:
        step = Step(action, title, explanation, pseudocode, code)
    except ValueError as e:  # cannot happen for an Action we chose, but a parser must not raise
        return ParseResult(None, raw, (str(e),), tuple(warnings), action)
    issues = step.issues()
    if issues:
        return ParseResult(None, raw, tuple(issues), tuple(warnings), action)
    return ParseResult(step, raw, (), tuple(warnings), action)


def _assign_blocks(action: Action, blocks) -> tuple[str, str, list[str]]:
    """Which fenced block is the pseudocode and which the code, by language tag first and action second."""
    warnings = []
    python = [b for b in blocks if b.is_python]
    pseudo = [b for b in blocks if b.is_pseudocode]
    bare = [b for b in blocks if b.lang == ""]
    other = [b for b in blocks if not (b.is_python or b.is_pseudocode or b.lang == "")]
    if other:
        warnings.append(f"ignored code blocks tagged {sorted({b.lang for b in other})}")
    if action is Action.CODE:
        pseudocode = "\n\n".join(b.content for b in pseudo)
        candidates = python or bare
        if not candidates:
            return pseudocode, "", warnings
        # the solution defines something; a usage example ("print(f(3))") usually does not
        chosen = max(candidates, key=lambda b: (defines_something(b.content), len(b.content.strip()), b.start))
        if len(candidates) > 1:
            warnings.append(f"{len(candidates)} code blocks; kept block {candidates.index(chosen) + 1}")
        return pseudocode, chosen.content, warnings
    # structure / refine: pseudocode from pseudocode-tagged and untagged blocks; python-tagged blocks are code,
    # unless they are all there is (models often put pseudocode in a python fence)
    if pseudo or bare:
        pseudocode = "\n\n".join(b.content for b in blocks if b.is_pseudocode or b.lang == "")
        code = max(python, key=lambda b: len(b.content.strip())).content if python else ""
        return pseudocode, code, warnings
    if python:
        warnings.append("pseudocode was written in a python block")
        return "\n\n".join(b.content for b in python), "", warnings
    return "", "", warnings


def _unfenced_code(body: list[str], warnings: list[str]) -> tuple[str, str, str]:
    warnings.append("the code is not in a fenced block")
    region = find_bare_python(body)
    if region is None:
        # nothing parses: keep everything from the first statement-like line, so the sandbox can report the
        # syntax error instead of the step vanishing
        start = first_statement_line(body)
        if start is None:
            return "", "", ""  # no code at all: Step.issues() reports it
        warnings.append("the code does not parse as Python")
        return "\n".join(body[:start]), "", "\n".join(body[start:])
    start, end = region
    after = "\n".join(body[end:]).strip()
    if after:
        warnings.append(f"ignored text after the code: {_short([after])}")
    return "\n".join(body[:start]), "", "\n".join(body[start:end])


def _unfenced_pseudocode(body: list[str], warnings: list[str]) -> tuple[str, str]:
    """Without fences, leading sentences are the explanation and the rest is pseudocode."""
    warnings.append("the pseudocode is not in a fenced block")
    k = 0
    while k < len(body) and (not body[k].strip() or _is_sentence(body[k])):
        k += 1
    if k == len(body):  # nothing but sentences: they are the pseudocode
        return "", "\n".join(body)
    return "\n".join(body[:k]), "\n".join(body[k:])


def _is_sentence(line: str) -> bool:
    return not line[:1].isspace() and line.rstrip().endswith((".", "!", "?")) and len(line.split()) >= 3
