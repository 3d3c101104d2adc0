"""TACO (Li et al. 2023, BAAI): competitive-programming problems with many solutions each.

``input_output`` (a JSON string on the hub, sometimes already decoded in local copies) holds ``inputs``,
``outputs`` and, for call-based problems, ``fn_name``:

- Call-based (``fn_name`` present): ``TestCase.call(fn_name, inputs[i], expected)``. TACO stores each return value
  wrapped in a one-element list (``[[109, 190]]`` for a function returning ``[109, 190]``, ``[8]`` for one
  returning 8), and TACO's own checker accepts ``output == outputs[i]`` or ``output == outputs[i][0]``. A call test
  holds one expected value, so we take ``expected = outputs[i][0]`` when ``outputs[i]`` is a one-element list, else
  ``outputs[i]``: on the bundled sample every solution we ran returns the unwrapped element. TACO's checker also
  turns a returned tuple into a list; our call tests compare exactly, so a solution returning a tuple where TACO
  stored a list fails.
- Class-based (starter code defines ``class Solution``, LeetCode style): the function is a method, so each test is
  an assertion ``assert Solution().fn(args) == expected`` (``metadata["class_name"]`` records the class).
- Standard input/output (no ``fn_name``): ``TestCase.stdio(input, output)``; inputs or outputs stored as lists of
  lines are joined with newlines.

The prompt is the question, then the starter code (call-based) or a line saying to read stdin and write stdout.
``public_tests`` is the first test (TACO has no public/private split). ``reference`` is the first solution, which
is not always correct (on the 10-problem sample one of the first three solutions passes for 9 problems);
``metadata["solutions"]`` keeps all of them for test-case generation. Ids are ``taco/<index>`` (index in the
file), ``taco/<split>/<index>`` from the hub. Problems without tests are skipped with a logged count.
"""

from __future__ import annotations

import ast
import re

from o1coder.loaders._hub import HubSource, load_skipping_untested
from o1coder.loaders._io import Record, check_limit
from o1coder.loaders._literal import python_literal
from o1coder.problems import Problem, TestCase

TACO_HUB = HubSource("BAAI/TACO", "taco.json", split="test")
_CLASS_RE = re.compile(r"^\s*class\s+(\w+)", re.MULTILINE)
_METADATA_FIELDS = {"difficulty": "difficulty", "source": "source", "url": "url", "name": "name",
                    "time_limit": "time_limit", "memory_limit": "memory_limit", "date": "date",
                    "picture_num": "picture_num", "Expected Time Complexity": "expected_time_complexity",
                    "Expected Auxiliary Space": "expected_auxiliary_space"}
_LIST_FIELDS = ("tags", "raw_tags", "skill_types")


def load_taco(path=None, *, limit: int | None = None, split: str | None = None) -> list[Problem]:
    """TACO from a JSON list (or JSON lines) of TACO records, or the hub (``split``: "train" or "test")."""
    return load_skipping_untested("taco", path, TACO_HUB, split, check_limit(limit), problem_from_taco)


def problem_from_taco(record: Record) -> Problem | None:
    """The Problem for one TACO record, or None when the record has no tests."""
    question = record.get("question")
    starter = record.get("starter_code", str, "")
    io = record.get_json("input_output", dict)
    inputs = Record(io, record.where).get("inputs", list)
    outputs = Record(io, record.where).get("outputs", list)
    if len(inputs) != len(outputs):
        raise record.error("input_output", f"has {len(inputs)} inputs but {len(outputs)} outputs")
    if not inputs:
        return None
    solutions = record.get_json("solutions", list, [])
    if not all(isinstance(s, str) for s in solutions):
        raise record.error("solutions", "must be a list of program texts")
    fn_name = io.get("fn_name")
    metadata = _metadata(record)
    metadata["solutions"] = solutions
    if fn_name:
        if not isinstance(fn_name, str) or not fn_name.isidentifier():
            raise record.error("input_output", f"fn_name must be a function name, got {fn_name!r}")
        class_match = _CLASS_RE.search(starter)
        tests = _call_tests(record, fn_name, inputs, outputs, class_match.group(1) if class_match else None)
        metadata["fn_name"] = fn_name
        if class_match:
            metadata["class_name"] = class_match.group(1)
        instructions = f"Complete this starter code:\n\n```python\n{starter.rstrip()}\n```" if starter.strip() \
            else f"Write a Python function named `{fn_name}`."
        entry_point = fn_name
    else:
        tests = [TestCase.stdio(_text(record, i, "inputs", x), _text(record, i, "outputs", y))
                 for i, (x, y) in enumerate(zip(inputs, outputs))]
        instructions = "Read the input from standard input and write the answer to standard output."
        entry_point = None
    prefix = "taco" if record.split is None else f"taco/{record.split}"
    return Problem(
        id=f"{prefix}/{record.data.get('id', record.index)}",
        prompt=f"{question.strip()}\n\n{instructions}",
        entry_point=entry_point,
        tests=tests,
        public_tests=tests[:1],
        reference=solutions[0] if solutions else None,
        setup="",
        metadata=metadata,
    )


def unwrap_expected(output):
    """TACO's one-element-list wrapping of return values, undone (see the module docstring)."""
    if isinstance(output, list) and len(output) == 1:
        return output[0]
    return output


def _call_tests(record: Record, fn_name: str, inputs: list, outputs: list, class_name: str | None) -> list[TestCase]:
    tests = []
    for i, (args, output) in enumerate(zip(inputs, outputs)):
        if not isinstance(args, list):
            raise record.error("input_output", f"inputs[{i}] must be a list of arguments, got {type(args).__name__}")
        expected = unwrap_expected(output)
        if class_name:
            call = f"{class_name}().{fn_name}({', '.join(python_literal(a) for a in args)})"
            tests.append(TestCase.assertion(f"assert {call} == {python_literal(expected)}"))
        else:
            tests.append(TestCase.call(fn_name, args, expected))
    return tests


def _text(record: Record, i: int, field: str, value) -> str:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(value)
    if not isinstance(value, str):
        raise record.error("input_output", f"{field}[{i}] of a stdin/stdout problem must be text, "
                                           f"got {type(value).__name__}")
    return value


def _metadata(record: Record) -> dict:
    metadata = {ours: record.data[theirs] for theirs, ours in _METADATA_FIELDS.items()
                if record.data.get(theirs) is not None}
    for key in _LIST_FIELDS:
        value = record.data.get(key)
        if isinstance(value, str):  # stored as a Python list's repr, e.g. "['Strings', 'Fundamentals']"
            try:
                value = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                value = [value]
        if value is not None:
            metadata[key] = list(value) if isinstance(value, (list, tuple)) else [value]
    starter = record.data.get("starter_code")
    if starter:
        metadata["starter_code"] = starter
    return metadata
