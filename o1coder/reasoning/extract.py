"""Pull the final Python program out of a model's answer: a code step, a whole trace, or a vanilla response.

Models wrap code in ```python fences, bare ``` or ~~~ fences, or no fence at all; they add usage examples, sample
input blocks and prose; generation may stop inside a block. :func:`extract_program` picks the block most likely to
be the solution and says what it noticed, so evaluation can report "no code" or "entry point missing" instead of a
bare failure. It never raises.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from o1coder.reasoning.fences import (
    Block,
    clean_block,
    find_bare_python,
    normalize_newlines,
    scan_blocks,
    try_parse,
)
from o1coder.reasoning.steps import END_MARKER_RE


@dataclass(frozen=True)
class ExtractedProgram:
    """The program found in a text.

    ``code`` is None when the text holds no code at all; it may be code that does not parse (``parses`` False),
    which the sandbox then reports as a compile error. ``defines_entry_point`` is None when no entry point was asked
    for. ``source`` says where the code came from: "fenced", "unclosed fence", "unfenced" or "none".
    """

    code: str | None
    problems: tuple[str, ...] = ()
    source: str = "none"
    parses: bool = False
    defines_entry_point: bool | None = None

    @property
    def ok(self) -> bool:
        """Code was found, it parses, and it provides the entry point when one was asked for."""
        return self.code is not None and self.parses and self.defines_entry_point is not False


def extract_program(text: str, entry_point: str | None = None) -> ExtractedProgram:
    """The final program in ``text``; for function problems, ``entry_point`` is the name it must provide.

    Among fenced blocks tagged python or untagged, the choice prefers, in order: a block that provides the entry
    point, one that parses, one that is a program rather than a lone value (sample output like ``6``), a
    python-tagged one, a closed one, and finally the last one. Without fences, the longest stretch of lines that
    parses is taken.
    """
    if not isinstance(text, str):
        return ExtractedProgram(None, (f"expected text, got {type(text).__name__}",))
    text = END_MARKER_RE.sub("\n", normalize_newlines(text))
    lines = text.split("\n")
    blocks = [b for b in scan_blocks(lines) if b.is_python or b.lang == ""]
    problems: list[str] = []
    if blocks:
        scored = [(_score(b.content, b, entry_point), b) for b in blocks]
        (_, tree, error), chosen = max(scored, key=lambda item: (item[0][0], item[1].start))
        code = clean_block(chosen.content)
        source = "fenced" if chosen.closed else "unclosed fence"
        if len(blocks) > 1:
            problems.append(f"{len(blocks)} code blocks; used block {blocks.index(chosen) + 1}")
        if not chosen.closed:
            problems.append("the code block is not closed (generation may have been cut off)")
    else:
        region = find_bare_python(lines)
        if region is None:
            return ExtractedProgram(None, ("no Python code found",), "none", False,
                                    None if entry_point is None else False)
        code = clean_block("\n".join(lines[region[0]:region[1]]))
        source = "unfenced"
        problems.append("the code is not in a fenced block")
        tree, error = try_parse(code)

    if error is not None:
        problems.append(f"the code does not parse: {error}")
    provides = None
    if entry_point is not None:
        provides = _provides(tree, code, entry_point)
        if not provides:
            names = sorted(_provided_names(tree)) if tree is not None else []
            found = f" (it defines {', '.join(names[:8])})" if names else ""
            problems.append(f"the code does not define the entry point {entry_point!r}{found}")
    return ExtractedProgram(code, tuple(problems), source, tree is not None, provides)


def _score(content: str, block: Block, entry_point: str | None):
    """A sortable key (higher is better), the parsed tree and the parse error."""
    code = clean_block(content)
    tree, error = try_parse(code)
    provides = entry_point is not None and bool(_provides(tree, code, entry_point))
    is_program = tree is not None and _is_program(tree)
    key = (provides, tree is not None, is_program, block.is_python, block.closed)
    return key, tree, error


def _is_program(tree: ast.Module) -> bool:
    """False for a module that is only constants or names (sample input/output pasted in a block)."""
    return any(not (isinstance(node, ast.Expr) and isinstance(node.value, (ast.Constant, ast.Name, ast.Tuple)))
               for node in tree.body)


def _provides(tree: ast.Module | None, code: str, name: str) -> bool:
    if tree is not None:
        return name in _provided_names(tree)
    # code that does not parse: a textual def is still the best evidence of which block is the solution
    return re.search(rf"^\s*(?:async\s+def|def|class)\s+{re.escape(name)}\b", code, re.MULTILINE) is not None


def _provided_names(tree: ast.Module) -> set[str]:
    """Names bound at module level: defs, classes, assignments and imports, also inside top-level if/try/with."""
    names: set[str] = set()
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            pending.extend(node.body)
            pending.extend(getattr(node, "orelse", []))
            pending.extend(getattr(node, "finalbody", []))
            for handler in getattr(node, "handlers", []):
                pending.extend(handler.body)
    return names
