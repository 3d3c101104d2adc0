"""CodeContests (Li et al. 2022, DeepMind): stdin/stdout problems. Two record shapes are read.

- The flattened shape of the bundled sample (``code_contests_sample_20.jsonl``): ``id``, ``content`` (statement),
  ``labels`` (JSON string: difficulty, name, source) and ``test`` (JSON string: a list of
  ``{"input": {"stdin": ...}, "output": {"stdout": ...}}``). It has no solutions, so ``reference`` is None. It does
  not mark which tests are the statement's examples; ``public_tests`` are the tests whose input and output both
  appear in the statement (whitespace-normalised), which finds the examples for 19 of the 20 sample problems.
- The hub's shape (``deepmind/code_contests``): ``name``, ``description``, ``public_tests``, ``private_tests``,
  ``generated_tests`` (each ``{"input": [...], "output": [...]}``) and ``solutions`` (``{"language": [...],
  "solution": [...]}``). ``public_tests`` are the statement's examples, hidden ``tests`` are public + private +
  generated (CodeContests' own evaluation set), ``reference`` is the first Python 3 solution (language 3), if any.

Every test is ``TestCase.stdio``; ``entry_point`` is None. Problems whose answer is not unique ("print any") are
judged by exact (whitespace-tolerant) output like the rest: a correct but different answer fails.
"""

from __future__ import annotations

from o1coder.loaders._hub import HubSource, load_skipping_untested
from o1coder.loaders._io import Record, check_limit
from o1coder.problems import Problem, TestCase

CODECONTESTS_HUB = HubSource("deepmind/code_contests", "code_contests.jsonl", split="test")
STDIO_INSTRUCTIONS = "Read the input from standard input and write the answer to standard output."
PYTHON3 = 3  # the `language` code of Python 3 solutions in deepmind/code_contests


def load_codecontests(path=None, *, limit: int | None = None, split: str | None = None) -> list[Problem]:
    """CodeContests from a JSON-lines file (sample or hub shape) or the hub (``split``: train, valid or test)."""
    return load_skipping_untested("codecontests", path, CODECONTESTS_HUB, split, check_limit(limit), problem_from_codecontests)


def problem_from_codecontests(record: Record) -> Problem | None:
    """The Problem for one record of either shape, or None when it has no tests."""
    if record.has("description"):
        return _from_hub_shape(record)
    return _from_sample_shape(record)


def _from_sample_shape(record: Record) -> Problem | None:
    statement = record.get("content")
    labels = record.get_json("labels", dict, {})
    raw_tests = record.get_json("test", list)
    tests = []
    for i, raw in enumerate(raw_tests):
        try:
            stdin, stdout = raw["input"]["stdin"], raw["output"]["stdout"]
            tests.append(TestCase.stdio(stdin, stdout))
        except (TypeError, KeyError, ValueError):
            raise record.error("test", f"item {i} must look like "
                                       '{"input": {"stdin": "..."}, "output": {"stdout": "..."}}') from None
    if not tests:
        return None
    problem_id = record.data.get("id", record.index)
    return Problem(
        id=f"codecontests/{problem_id}",
        prompt=f"{statement.strip()}\n\n{STDIO_INSTRUCTIONS}",
        entry_point=None,
        tests=tests,
        public_tests=statement_examples(statement, tests),
        reference=None,
        setup="",
        metadata={**labels, "public_tests_from": "statement examples found in the text"},
    )


def _from_hub_shape(record: Record) -> Problem | None:
    statement = record.get("description")
    public = _test_group(record, "public_tests")
    hidden = public + _test_group(record, "private_tests") + _test_group(record, "generated_tests")
    if not hidden:
        return None
    solutions = record.get("solutions", dict, {})
    python3 = [s for lang, s in zip(solutions.get("language", []), solutions.get("solution", [])) if lang == PYTHON3]
    prefix = "codecontests" if record.split is None else f"codecontests/{record.split}"
    metadata = {k: record.data[k] for k in ("name", "difficulty", "source", "cf_rating", "cf_tags",
                                            "memory_limit_bytes", "time_limit") if record.data.get(k) is not None}
    metadata["python3_solutions"] = python3
    return Problem(
        id=f"{prefix}/{record.index}",
        prompt=f"{statement.strip()}\n\n{STDIO_INSTRUCTIONS}",
        entry_point=None,
        tests=hidden,
        public_tests=public,
        reference=python3[0] if python3 else None,
        setup="",
        metadata=metadata,
    )


def _test_group(record: Record, name: str) -> list[TestCase]:
    group = record.get(name, dict, {})
    inputs, outputs = group.get("input", []), group.get("output", [])
    if not isinstance(inputs, list) or not isinstance(outputs, list) or len(inputs) != len(outputs):
        raise record.error(name, "must be {\"input\": [...], \"output\": [...]} with as many outputs as inputs")
    try:
        return [TestCase.stdio(i, o) for i, o in zip(inputs, outputs)]
    except ValueError:
        raise record.error(name, "inputs and outputs must be strings") from None


def statement_examples(statement: str, tests: list[TestCase]) -> list[TestCase]:
    """The tests whose input and output both appear in the statement text (whitespace-normalised)."""
    text = " ".join(statement.split())
    found = []
    for test in tests:
        stdin, stdout = " ".join(test.stdin.split()), " ".join(test.stdout.split())
        if stdin and stdout and stdin in text and stdout in text:
            found.append(test)
    return found
