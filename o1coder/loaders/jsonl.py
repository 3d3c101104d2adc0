"""The project's own problem file format ("jsonl"): one JSON object per line, as ``Problem.to_dict()`` writes it.

Use it for problems that come from no public benchmark (hand-written problems, converted datasets, subsets) and to
freeze a loaded benchmark: ``save_jsonl(load_problems("mbpp", path="mbpp.jsonl"), "mbpp.problems.jsonl")``.
Read it back with ``load_problems("jsonl", path=...)`` or ``--problems jsonl:PATH``. Files may be gzip-compressed
(``.jsonl.gz``); blank lines are ignored.

Fields of each line:

- ``id`` (string, required, unique in the file): e.g. ``"mine/fizzbuzz"``.
- ``prompt`` (string, required): the problem statement the model sees.
- ``entry_point`` (string or null): the function the tests call; null for stdin/stdout problems.
- ``tests`` (list, required, at least one): the hidden tests used for evaluation, each in one of three forms:
  - ``{"kind": "assertion", "code": "assert add(2, 3) == 5"}``: Python statements run after the candidate code.
  - ``{"kind": "call", "fn": "add", "args": [2, 3], "expected": 5}``: ``add(2, 3)`` must equal ``expected``; an
    optional ``"atol": 1e-6`` compares floats within that absolute tolerance. ``args`` is the list of positional
    arguments.
  - ``{"kind": "stdio", "stdin": "2 3\\n", "stdout": "5\\n"}``: the program reads ``stdin``; its output must match
    ``stdout`` up to whitespace.
- ``public_tests`` (list, optional, default empty): tests the model may see and search may use as reward tests,
  same forms.
- ``reference`` (string or null, optional): a complete program that passes ``tests``.
- ``setup`` (string, optional, default ""): imports or definitions the tests need, run before the candidate code.
- ``metadata`` (object, optional): anything else, as plain JSON (no tags). Keys with a shared meaning:
  ``"split"`` ("train", "validation", "test"), ``"trace"`` (a worked reasoning trace, e.g. for few-shot prompts),
  ``"solutions"`` (more correct programs, e.g. for test-case generation), ``"source"`` (where the problem came
  from). The benchmark loaders add their own (``"task_id"``, ``"dropped_inputs"``, ...).

Values inside ``args`` and ``expected`` are JSON, except for the types JSON cannot hold, which are written as tagged
objects ``{"__t": TAG, "v": ...}`` (see ``o1coder.execution.plain``):

- tuple: ``{"__t": "tuple", "v": [1, 2]}``; set / frozenset: ``{"__t": "set", "v": [1, 2]}`` /
  ``{"__t": "frozenset", "v": [...]}``
- dict with non-string keys (or a key ``"__t"``): ``{"__t": "dict", "v": [[1, "one"], [2, "two"]]}``
- non-finite float: ``{"__t": "float", "v": "inf"}`` (also ``"-inf"``, ``"nan"``)
- bytes: ``{"__t": "bytes", "v": "<base64>"}``; complex: ``{"__t": "complex", "v": [1.0, 2.0]}``;
  range: ``{"__t": "range", "v": [0, 10, 1]}``

A full line (shown wrapped):

    {"id": "mine/pair_sum", "prompt": "Return the pair (a+b, a*b).", "entry_point": "pair_sum",
     "tests": [{"kind": "call", "fn": "pair_sum", "args": [2, 3], "expected": {"__t": "tuple", "v": [5, 6]}}],
     "public_tests": [], "reference": "def pair_sum(a, b):\\n    return (a + b, a * b)\\n", "setup": "",
     "metadata": {"split": "train"}}
"""

from __future__ import annotations

import gzip
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from o1coder.loaders._io import Record, check_file, check_limit, read_records, take
from o1coder.problems import Problem, TestCase

logger = logging.getLogger(__name__)


def load_jsonl(path=None, *, limit: int | None = None) -> list[Problem]:
    """Problems from a file in the format above (``path`` is required: this format has no hub copy)."""
    if path is None:
        raise ValueError('the "jsonl" loader reads a local file: pass path=, e.g. '
                         'load_problems("jsonl", path="problems.jsonl") or --problems jsonl:PATH')
    limit = check_limit(limit)
    seen: dict[str, str] = {}
    problems = []
    for record in take(read_records(check_file(path, "jsonl")), limit):
        problem = problem_from_record(record)
        if problem.id in seen:
            raise record.error("id", f"{problem.id!r} was already used at {seen[problem.id]}")
        seen[problem.id] = record.where
        problems.append(problem)
    return problems


def problem_from_record(record: Record) -> Problem:
    """Check the fields' types (naming the bad one), then build the Problem with ``Problem.from_dict``."""
    problem_id = record.get("id")
    if not problem_id.strip():
        raise record.error("id", "must not be empty")
    record.get("prompt")
    entry_point = record.get("entry_point", (str, type(None)), None)
    if entry_point is not None and not entry_point.isidentifier():
        raise record.error("entry_point", f"must be a function name or null, got {entry_point!r}")
    tests = record.get("tests", list)
    if not tests:
        raise record.error("tests", "must hold at least one test")
    for name in ("tests", "public_tests"):
        for i, test in enumerate(record.get(name, list, [])):
            _check_test(record, f"{name}[{i}]", test)
    record.get("reference", str, None)
    record.get("setup", str, "")
    record.get("metadata", dict, {})
    return Problem.from_dict(record.data)


def _check_test(record: Record, field: str, test) -> None:
    if not isinstance(test, dict):
        raise record.error(field, f"must be an object with a \"kind\", got {type(test).__name__}")
    try:
        TestCase.from_dict(test)
    except (ValueError, TypeError, KeyError) as e:
        raise record.error(field, str(e)) from None


def save_jsonl(problems: Iterable[Problem], path: str | os.PathLike) -> Path:
    """Write ``problems`` in the format above (gzip when the name ends in .gz); returns the path.

    Writes to a temporary file first, so an error (say, metadata that is not JSON) leaves no half-written file.
    """
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    opener = gzip.open if path.suffix == ".gz" else open
    count = 0
    try:
        with opener(partial, "wt", encoding="utf-8") as f:
            for problem in problems:
                try:
                    line = json.dumps(problem.to_dict(), ensure_ascii=False, allow_nan=False)
                except (TypeError, ValueError) as e:
                    raise ValueError(f"problem {problem.id!r} cannot be written as JSON: {e} "
                                     "(metadata must be plain JSON; test values go through plain-data tags)") from e
                f.write(line + "\n")
                count += 1
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    logger.info("wrote %d problems to %s", count, path)
    return path
