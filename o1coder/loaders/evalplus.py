"""MBPP+ and HumanEval+ (EvalPlus, Liu et al. 2023): many more inputs per problem, expected outputs computed.

The EvalPlus release files (``MbppPlus-v0.2.0.jsonl.gz``, ``HumanEvalPlus-v0.1.10.jsonl.gz``) store, per task:
task_id, prompt, entry_point, canonical_solution, base_input and plus_input (lists of argument lists), atol,
contract and assertion. They store inputs only: the expected output of each input is what the canonical solution
returns. We compute those once in the sandbox (inputs run in batches in one process, as EvalPlus runs them; tasks
in parallel) and cache them
under ``cache_dir()/evalplus/<sha256 of the file's bytes and the benchmark name>.json``, so later loads read the
cache; a ``limit=``-ed load computes (and adds to the cache) only the tasks it needs, with the reference's CPU time on
each input (``TestCase.reference_seconds``: the sandbox gives each input 4x that, at least 1 s, as EvalPlus does).
A result too large to ship whole is kept as its digest (compared exactly), so no input is lost to its size. Inputs on
which the canonical solution fails (an exception, a timeout, a value that is not plain data) are dropped, counted in
``metadata["dropped_inputs"]`` and in one logged warning (none in MBPP+ v0.2.0).

Tests are ``TestCase.call(entry_point, args, expected, atol, rtol=1e-7)`` for the base inputs then the plus inputs
(``plus=False``: base inputs only); ``public_tests`` is the first base test. They compare as EvalPlus does: equal,
or, when ``atol`` is non-zero, the same type (and length) and ``numpy.allclose`` with ``rtol`` 1e-7; a float result
(or a list of floats) with ``atol`` 0 gets ``atol=1e-6``. EvalPlus judges a few tasks by something other than
equality (``metadata["oracle"]`` says which):

- "set" (MBPP+ tasks whose order is free, e.g. ``similar_elements``): ``assert set(f(args)) == {expected...}``.
- "matched" (``check_str``, ``text_match_three``, ``text_starta_endb``, which return ``re.search`` results): the
  expected value is whether a match was found; a helper in ``setup`` reads a candidate's result the same way.
- "equal_or_zero" (``sum_div``): the expected value or 0. "no_error" (``are_equivalent``): any value passes.
- "poly_root" (HumanEval+ ``find_zero``): ``poly(xs, result)`` must be within ``atol`` of 0.
- "or_reading" (``surface_Area``, Mbpp/581; ``digit_distance_nums``, Mbpp/558): the expected value, or the value
  of EvalPlus's second reading of the task (a call test whose ``also`` holds it).

MBPP+ arguments that JSON cannot express (tuples, sets, complex numbers) are restored per task the way EvalPlus
restores them (:func:`restore_mbpp_inputs`). The reference is ``canonical_solution`` for MBPP+ (a complete
program) and ``prompt + canonical_solution`` for HumanEval+. ``metadata["assertion"]`` keeps the raw ``assertion``
field (MBPP+'s original asserts).

The hub copies (``evalplus/mbppplus``, ``evalplus/humanevalplus``) are not in the release format: they embed the
inputs and expected results in a test script. Rows of that shape are read by parsing the script's ``inputs = [...]``
and ``results = [...]`` literals (no sandbox run needed); a row whose script has no such literals is a
:class:`MalformedRecord` whose message points at the release file.
"""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from o1coder import paths
from o1coder.execution import plain
from o1coder.loaders._hub import HubSource, open_records
from o1coder.loaders._io import Record, check_limit, take
from o1coder.loaders._literal import call_source, python_literal
from o1coder.loaders.mbpp import called_function
from o1coder.problems import Problem, TestCase

logger = logging.getLogger(__name__)

MBPPPLUS_HUB = HubSource("evalplus/mbppplus", "MbppPlus-v0.2.0.jsonl.gz", split="test")
HUMANEVALPLUS_HUB = HubSource("evalplus/humanevalplus", "HumanEvalPlus-v0.1.10.jsonl.gz", split="test")
CACHE_VERSION = 4  # bump when the way expected outputs are computed changes: old cache files are then ignored
FLOAT_ATOL = 1e-6  # EvalPlus' tolerance for float results when the task says atol 0

NOT_CACHED = ("crashed", "timeout", "memory")  # statuses that may say more about the run than about the solution
# Limits for running the canonical solutions (all inputs of a task in one process): generous, since a dropped
# input is a lost test.
DEFAULT_LIMITS = {"cpu_seconds": 60.0, "wall_seconds": 180.0, "memory_mb": 2048}

# EvalPlus' special oracles, keyed like EvalPlus keys them: by benchmark and entry point.
MBPP_ORACLES = {
    **dict.fromkeys(["similar_elements", "find_char_long", "common_in_nested_lists", "extract_singly", "larg_nnum",
                     "intersection_array", "find_dissimilar", "Diff"], "set"),
    **dict.fromkeys(["check_str", "text_match_three", "text_starta_endb"], "matched"),
    "sum_div": "equal_or_zero",
    "are_equivalent": "no_error",
    **dict.fromkeys(["surface_Area", "digit_distance_nums"], "or_reading"),
}
FLOAT_RTOL = 1e-7  # EvalPlus' relative tolerance (numpy.testing.assert_allclose's default)
HUMANEVAL_ORACLES = {"find_zero": "poly_root"}

MATCHED_HELPER = "_o1coder_matched"
MATCHED_SETUP = (f"def {MATCHED_HELPER}(result):\n"
                 "    # a regex task's answer is 'was there a match': a bool as is, anything else by being non-None\n"
                 "    return result if isinstance(result, bool) else result is not None\n")
POLY_HELPER = "_o1coder_poly"
POLY_SETUP = (f"def {POLY_HELPER}(xs, x):\n"
              "    import math\n"
              "    return sum(c * math.pow(x, i) for i, c in enumerate(xs))\n")


def load_mbppplus(path=None, *, limit: int | None = None, plus: bool = True, sandbox=None,
                  split: str | None = None) -> list[Problem]:
    """MBPP+ from the EvalPlus release file (JSON lines, gzip or plain) or the hub.

    ``split`` keeps MBPP's task-id ranges ("prompt" 1-10, "test" 11-510, "validation" 511-600, "train" 601-974;
    several joined by "+"), so MBPP+ problems line up with the MBPP split they were taken from."""
    from o1coder.loaders.mbpp import split_of, wanted_splits

    keep, wanted = None, wanted_splits("mbppplus", split)
    if wanted is not None:

        def keep(record) -> bool:
            return split_of(int(str(record.data.get("task_id", "")).rsplit("/", 1)[-1])) in wanted

    return _load("mbppplus", path, MBPPPLUS_HUB, limit, plus, sandbox, keep)


def load_humanevalplus(path=None, *, limit: int | None = None, plus: bool = True, sandbox=None) -> list[Problem]:
    """HumanEval+ from the EvalPlus release file (JSON lines, gzip or plain) or the hub."""
    return _load("humanevalplus", path, HUMANEVALPLUS_HUB, limit, plus, sandbox)


@dataclass
class Task:
    """One EvalPlus task, parsed and checked, before expected outputs are known."""

    benchmark: str
    task_id: str
    prompt: str
    entry_point: str
    reference: str
    base_inputs: list
    plus_inputs: list
    atol: float
    oracle: str
    metadata: dict = field(default_factory=dict)
    # hub rows carry their expected outputs; release files leave these None until the sandbox fills them
    base_expected: list | None = None
    plus_expected: list | None = None

    @property
    def number(self) -> str:
        return self.task_id.rsplit("/", 1)[-1]


def _load(benchmark: str, path, hub: HubSource, limit, plus, sandbox, keep=None) -> list[Problem]:
    limit = check_limit(limit)
    if not isinstance(plus, bool):
        raise ValueError(f"plus must be True or False, got {plus!r}")
    records = (r for r in open_records(benchmark, path, hub) if keep is None or keep(r))  # before any execution
    records = list(take(records, limit))
    tasks = [task_from_record(r, benchmark) for r in records]
    pending = [t for t in tasks if t.base_expected is None]
    outputs = {}
    if pending:
        key_source = Path(path).read_bytes() if path is not None else json.dumps(
            [r.data for r in records], sort_keys=True, default=repr).encode()
        outputs = expected_outputs(pending, _cache_file(benchmark, key_source), sandbox)
    problems, dropped_total, dropped_problems, first_reason = [], 0, 0, ""
    for task in tasks:
        problem = problem_from_task(task, outputs.get(task.task_id), plus)
        dropped = (sum(problem.metadata["dropped_inputs"].values()) if problem
                   else len(task.base_inputs) + len(task.plus_inputs))
        dropped_total += dropped
        dropped_problems += bool(dropped)
        if dropped and not first_reason:
            first_reason = f"{task.task_id}: {_first_failure(outputs.get(task.task_id))}"
        if problem is None:
            logger.warning("%s: %s has no input the canonical solution passes; left out", benchmark, task.task_id)
        else:
            problems.append(problem)
    if dropped_total:
        logger.warning("%s: dropped %d input(s) in %d problem(s) because the canonical solution fails on them "
                       "(see metadata['dropped_inputs']); first: %s", benchmark, dropped_total, dropped_problems,
                       first_reason)
    return problems


def _first_failure(outputs: dict | None) -> str:
    for entry in (outputs or {}).get("base", []) + (outputs or {}).get("plus", []):
        if not entry.get("ok"):
            return f"{entry.get('status')}: {entry.get('message', '')}"[:200]
    return "no expected outputs"


# -- parsing ---------------------------------------------------------------------------------------------------------

def task_from_record(record: Record, benchmark: str) -> Task:
    """Parse an EvalPlus release record, or a hub row (which embeds expected results in a test script)."""
    if not record.has("base_input") and record.has("test"):
        return _task_from_hub_row(record, benchmark)
    task_id = record.get("task_id")
    prompt = record.get("prompt")
    entry_point = _entry_point(record, record.get("entry_point"))
    solution = record.get("canonical_solution")
    base = _inputs(record, "base_input", required=True)
    extra = _inputs(record, "plus_input", required=False)
    if benchmark == "mbppplus":
        base, extra = restore_mbpp_inputs(task_id, base), restore_mbpp_inputs(task_id, extra)
    return Task(
        benchmark=benchmark,
        task_id=task_id,
        prompt=_prompt_text(prompt) if benchmark == "mbppplus" else prompt,
        entry_point=entry_point,
        reference=solution.strip() + "\n" if benchmark == "mbppplus" else prompt + solution,
        base_inputs=base,
        plus_inputs=extra,
        atol=float(record.get("atol", float, 0) or 0),
        oracle=_oracle(benchmark, entry_point),
        metadata={"assertion": record.get("assertion", str, ""), "contract": record.get("contract", str, "")},
    )


def _entry_point(record: Record, name: str) -> str:
    if not name.isidentifier():
        raise record.error("entry_point", f"must be a function name, got {name!r}")
    return name


def _inputs(record: Record, name: str, required: bool) -> list:
    if record.data.get(name) == {}:
        return []  # MBPP+ v0.2.0 writes Mbpp/793's missing plus inputs as {}
    value = record.get_json(name, list) if required else record.get_json(name, list, [])
    for i, args in enumerate(value):
        if not isinstance(args, list):
            raise record.error(name, f"item {i} must be a list of arguments, got {type(args).__name__}")
    return value


def _prompt_text(prompt: str) -> str:
    """MBPP+ prompts are a module docstring (task text + one example assert); the model gets the text inside."""
    try:
        body = ast.parse(prompt).body
    except SyntaxError:
        return prompt.strip()
    if len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[0].value.value.strip()
    return prompt.strip()


def _oracle(benchmark: str, entry_point: str) -> str:
    oracles = MBPP_ORACLES if benchmark == "mbppplus" else HUMANEVAL_ORACLES
    return oracles.get(entry_point, "equal")


def _task_from_hub_row(record: Record, benchmark: str) -> Task:
    script = record.get("test")
    inputs, results = _script_literals(script)
    if inputs is None or results is None or len(inputs) != len(results):
        example = MBPPPLUS_HUB.example_file if benchmark == "mbppplus" else HUMANEVALPLUS_HUB.example_file
        raise record.error("test", "has no `inputs = [...]` and `results = [...]` literals of equal length to read "
                                   f"tests from; use the EvalPlus release file instead (path={example!r})")
    if benchmark == "mbppplus":
        code = record.get("code")
        tests = record.get_str_list("test_list", [])
        entry_point = record.get("entry_point", str, None) or (called_function(tests[0], code) if tests else None)
        if not entry_point:
            raise record.error("test_list", "cannot tell which function the tests call")
        raw_id = str(record.get("task_id", (int, str)))
        task_id = raw_id if "/" in raw_id else f"Mbpp/{raw_id}"
        prompt, reference = record.get("prompt"), code
        metadata = {"assertion": "\n".join(tests)}
        setup_imports = record.get_str_list("test_imports", [])
        if setup_imports:
            metadata["test_imports"] = setup_imports
    else:
        entry_point = _entry_point(record, record.get("entry_point"))
        task_id, prompt = record.get("task_id"), record.get("prompt")
        reference = prompt + record.get("canonical_solution")
        metadata = {}
    atol = _script_atol(script, entry_point)
    return Task(benchmark=benchmark, task_id=str(task_id), prompt=prompt, entry_point=entry_point,
                reference=reference, base_inputs=[], plus_inputs=[list(a) for a in inputs], atol=atol,
                oracle=_oracle(benchmark, entry_point), metadata=metadata,
                base_expected=[], plus_expected=list(results))


def _script_literals(script: str):
    """The values of top-level ``inputs = ...`` and ``results = ...`` assignments, when they are literals."""
    try:
        tree = ast.parse(script)
    except SyntaxError:
        return None, None
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and node.targets[0].id in ("inputs", "results"):
            try:
                found[node.targets[0].id] = ast.literal_eval(_NonFinite().visit(node.value))
            except (ValueError, TypeError, SyntaxError, RecursionError):
                return None, None
    inputs = found.get("inputs")
    if inputs is not None and not all(isinstance(a, (list, tuple)) for a in inputs):
        return None, None
    return inputs, found.get("results")


def _script_atol(script: str, entry_point: str) -> float:
    """The atol the hub script passes to its ``assertion(out, exp, atol)`` calls (0 when not found)."""
    try:
        tree = ast.parse(script)
    except SyntaxError:
        return 0.0
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "assertion" \
                and len(node.args) == 3 and isinstance(node.args[2], ast.Constant) \
                and isinstance(node.args[2].value, (int, float)):
            return float(node.args[2].value)
    return 0.0


class _NonFinite(ast.NodeTransformer):
    """Let ``ast.literal_eval`` read ``inf``/``nan`` (as written by ``repr`` of non-finite floats)."""

    def visit_Name(self, node: ast.Name):
        if node.id in ("inf", "nan"):
            return ast.copy_location(ast.Constant(float(node.id)), node)
        return node


# -- MBPP+ argument types ----------------------------------------------------------------------------------------------

def _tuples(inp):
    """Every argument is a tuple."""
    return [tuple(arg) for arg in inp]


def _tuples_in_each(inp):
    """Every argument is a list of tuples."""
    return [[tuple(x) for x in arg] for arg in inp]


def _first_tuples_in(inp):
    """First argument is a list of tuples; the rest stay."""
    return [[tuple(x) for x in inp[0]], *inp[1:]]


def _second_tuple(inp):
    return [inp[0], tuple(inp[1]), *inp[2:]]


def _first_tuple(inp):
    return [tuple(inp[0]), *inp[1:]]


def _tuples_of_tuples(inp):
    """Every argument is a tuple of tuples."""
    return [tuple(tuple(x) for x in arg) for arg in inp]


def _first_mixed_tuple(inp):
    """First argument is a tuple whose list items are tuples too; then every argument is a tuple."""
    first = [tuple(x) if isinstance(x, list) else x for x in inp[0]]
    return [tuple(arg) for arg in [first, *inp[1:]]]


def _dict_values_tuples(inp):
    return [{k: tuple(v) for k, v in inp[0].items()}, *inp[1:]]


def _float_complex(inp):
    return [float(inp[0]), complex(inp[1])]


def _complex(inp):
    return [complex(inp[0])]


def _sets_or_empty_dicts(inp):
    # EvalPlus turns an empty list into {} (an empty dict, not a set); kept so expected outputs agree with EvalPlus.
    return [[set(x) if isinstance(x, list) and x else {} for x in inp[0]]]


def _deep_tuple(value):
    return tuple(_deep_tuple(v) for v in value) if isinstance(value, list) else value


def _all_tuples(inp):
    """Every list at any depth, the argument list included, becomes a tuple."""
    return _deep_tuple(inp)


_MBPP_RESTORE = {
    **dict.fromkeys([2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596, 616, 630, 726,
                     740, 744, 809], _tuples),
    **dict.fromkeys([63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780], _tuples_in_each),
    **dict.fromkeys([75, 413, 444, 753], _first_tuples_in),
    **dict.fromkeys([106, 750], _second_tuple),
    **dict.fromkeys([250, 405, 446, 617, 720, 763, 808], _first_tuple),
    **dict.fromkeys([259, 401, 445], _tuples_of_tuples),
    **dict.fromkeys([580, 615, 791], _all_tuples),
    115: _sets_or_empty_dicts,
    124: _float_complex,
    252: _complex,
    278: _first_mixed_tuple,
    307: _first_tuple,
    722: _dict_values_tuples,
}


def restore_mbpp_inputs(task_id: str, inputs: list) -> list:
    """Give MBPP+ arguments the Python types JSON lost (tuples, sets, complex), as EvalPlus does for each task."""
    try:
        number = int(str(task_id).rsplit("/", 1)[-1])
    except ValueError:
        return inputs
    restore = _MBPP_RESTORE.get(number)
    return inputs if restore is None else [restore(inp) for inp in inputs]


# -- expected outputs ------------------------------------------------------------------------------------------------

def _cache_file(benchmark: str, source: bytes) -> Path:
    digest = hashlib.sha256(source + f"\0{benchmark}\0v{CACHE_VERSION}".encode()).hexdigest()
    return paths.cache_dir() / "evalplus" / f"{digest}.json"


def expected_outputs(tasks: list[Task], cache_file: Path, sandbox=None) -> dict[str, dict]:
    """``{task_id: {"base": [entry, ...], "plus": [entry, ...]}}``, one entry per input, from the cache or the sandbox.

    An entry is ``{"ok": true, "expected": <plain-data tagged value>, "cpu": seconds}`` (with ``"untagged": true``
    when the value needs no tags) or ``{"ok": false, "status": ..., "message": ...}`` for an input the canonical
    solution fails on.
    """
    cached = _read_cache(cache_file)
    missing = [t for t in tasks if t.task_id not in cached]
    if missing:
        n_inputs = sum(len(t.base_inputs) + len(t.plus_inputs) for t in missing)
        logger.info("computing expected outputs of %d tasks (%d inputs) with the canonical solutions; "
                    "cached in %s", len(missing), n_inputs, cache_file)
        started = time.monotonic()
        computed = _run_canonical(missing, sandbox)
        logger.info("expected outputs computed in %.1fs", time.monotonic() - started)
        # A crash, a timeout or a memory error may come from the machine or the sandbox's limits rather than the
        # solution: such tasks are used now but computed again next time instead of being cached as dropped.
        lasting = {task_id: entries for task_id, entries in computed.items()
                   if not any(e.get("status") in NOT_CACHED for e in entries["base"] + entries["plus"])}
        if len(lasting) < len(computed):
            logger.warning("not caching %d task(s) whose canonical solution crashed or ran out of time or memory: %s",
                           len(computed) - len(lasting), ", ".join(sorted(set(computed) - set(lasting))))
        cached.update(lasting)
        if lasting:
            _write_cache(cache_file, cached)
        return {t.task_id: cached.get(t.task_id) or computed[t.task_id] for t in tasks}
    return {t.task_id: cached[t.task_id] for t in tasks}


def _read_cache(cache_file: Path) -> dict:
    try:
        data = json.loads(cache_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        logger.warning("ignoring unreadable evalplus cache %s (%s)", cache_file, e)
        return {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION or not isinstance(data.get("tasks"), dict):
        return {}
    return data["tasks"]


def _write_cache(cache_file: Path, tasks: dict) -> None:
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    partial = cache_file.with_name(f"{cache_file.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps({"version": CACHE_VERSION, "tasks": tasks}), encoding="utf-8")
    os.replace(partial, cache_file)  # atomic: a concurrent reader sees the old or the new file, never half of one


EXPECTED_FN = "_o1coder_expected"
BATCH_FN = "_o1coder_expected_all"
BATCH_SIZE = 50  # inputs per test process in the fast pass: few processes, yet a failure loses few inputs
MAX_PARTS = 1_000_000  # a result with more parts cannot travel as plain data anyway (plain.MAX_NODES)
BATCH_SOURCE = f"""

def {BATCH_FN}(inputs):
    # several inputs of one task in one process, as EvalPlus computes its ground truth; each result is copied
    # right away so a later call cannot change it through shared state, and a result too large to send back is
    # reported as such instead of sinking the whole batch
    import copy
    import time

    def small_enough(value, budget=[0]):
        budget[0] = {MAX_PARTS // BATCH_SIZE}
        stack = [value]
        while stack:
            item = stack.pop()
            budget[0] -= 1
            if budget[0] < 0:
                return False
            if isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, (list, tuple, set, frozenset)):
                stack.extend(item)
            elif isinstance(item, (str, bytes)) and len(item) > 10 * {MAX_PARTS // BATCH_SIZE}:
                return False
            elif isinstance(item, int) and item.bit_length() > 10000:
                return False
        return True

    results = []
    for args in inputs:
        started = time.process_time()
        try:
            value = {EXPECTED_FN}(*args)
        except Exception as error:
            results.append([False, (type(error).__name__ + ": " + str(error))[:200], 0.0])
            continue
        cpu = time.process_time() - started
        if not small_enough(value):
            results.append([None, "too large for a batch: run alone, sent as its digest", cpu])
            continue
        try:
            value = copy.deepcopy(value)
        except Exception:
            pass
        results.append([True, value, cpu])
    return results
"""


def _canonical_program(task: Task) -> str:
    """The canonical solution plus ``_o1coder_expected(*args)``, which returns the value the oracle compares."""
    fn = task.entry_point
    if task.oracle == "matched":  # the answer is whether re.search matched; a Match object is not plain data
        return (f"{task.reference}\n\n{MATCHED_SETUP}\ndef {EXPECTED_FN}(*args):\n"
                f"    return {MATCHED_HELPER}({fn}(*args))\n")
    return f"{task.reference}\n\n{EXPECTED_FN} = {fn}\n"


def _run_canonical(tasks: list[Task], sandbox=None) -> dict[str, dict]:
    """Expected outputs of ``tasks``, in two passes.

    Fast pass: one sandbox job per task whose tests each run ``BATCH_SIZE`` inputs in one process (as EvalPlus
    does), far faster than a process per input. Inputs of a batch that fails as a whole (a timeout, a crash, a
    result that is not plain data) get the slow pass, one test process per input, so a bad input costs only itself.
    """
    from o1coder.execution import Limits, Sandbox

    if sandbox is None:
        with Sandbox(limits=Limits(**DEFAULT_LIMITS), workers=os.cpu_count() or 1) as own:
            return _run_canonical(tasks, own)
    programs = [_canonical_program(t) for t in tasks]
    inputs = [t.base_inputs + t.plus_inputs for t in tasks]
    batches = [[inp[i:i + BATCH_SIZE] for i in range(0, len(inp), BATCH_SIZE)] for inp in inputs]
    fast = sandbox.run_many([(program + BATCH_SOURCE, [TestCase.call(BATCH_FN, [b], None) for b in task_batches], "")
                             for program, task_batches in zip(programs, batches)], cache=False)
    entries: list[list] = []
    retry: list[tuple[int, int]] = []  # (task number, input number) for the slow pass
    for t, (task_batches, result) in enumerate(zip(batches, fast)):
        task_entries = []
        for b, batch in enumerate(task_batches):
            outcome = result.outcomes[b] if b < len(result.outcomes) else None
            batch_entries = _batch_entries(batch, outcome) or [None] * len(batch)
            retry.extend((t, b * BATCH_SIZE + i) for i, entry in enumerate(batch_entries) if entry is None)
            task_entries.extend(batch_entries)
        entries.append(task_entries)
    if retry:
        logger.info("running %d input(s) of %d task(s) one by one", len(retry), len({t for t, _ in retry}))
        by_task: dict[int, list[int]] = {}
        for t, i in retry:
            by_task.setdefault(t, []).append(i)
        slow = sandbox.run_many([(programs[t], [TestCase.call(EXPECTED_FN, inputs[t][i], None) for i in positions], "")
                                 for t, positions in by_task.items()], cache=False)
        for (t, positions), result in zip(by_task.items(), slow):
            for k, i in enumerate(positions):
                outcome = result.outcomes[k] if k < len(result.outcomes) else None
                entries[t][i] = _entry(tasks[t], outcome, result)
    return {task.task_id: _split(task, task_entries) for task, task_entries in zip(tasks, entries)}


def _split(task: Task, entries: list) -> dict:
    return {"base": entries[:len(task.base_inputs)], "plus": entries[len(task.base_inputs):]}


def _batch_entries(batch: list, outcome) -> list | None:
    """Entries from one fast-pass test (None for an input the slow pass runs alone), or None when all its inputs
    need the slow pass."""
    values = outcome.actual if outcome is not None and outcome.status == "failed" else None
    if not isinstance(values, list) or len(values) != len(batch):
        return None
    entries = []
    for ok, value, cpu in values:
        if ok is None:  # too large to travel in a batch
            entries.append(None)
        elif ok:
            entries.append(_ok_entry(value, cpu))
        else:
            entries.append({"ok": False, "status": "runtime_error", "message": value})
    return entries


def _ok_entry(value, cpu: float) -> dict:
    encoded = plain.encode(value)
    entry = {"ok": True, "expected": encoded, "cpu": round(cpu, 4)}
    if '"__t"' not in json.dumps(encoded):
        entry["untagged"] = True  # plain JSON already: loading skips plain.decode, the slow part of a cached load
    return entry


def _entry(task: Task, outcome, result) -> dict:
    # Asked to equal None, a call that returned None "passed" and one that returned a plain value "failed" with
    # that value as `actual`; "failed" without a value means the value was not plain data.
    if outcome is None:  # no outcome at all: the program did not compile or the sandbox failed
        return {"ok": False, "status": result.status, "message": result.message}
    if outcome.status == "passed":
        return _ok_entry(None, outcome.cpu_seconds)
    if outcome.status == "failed" and (outcome.actual is not None or task.oracle == "no_error"):
        return _ok_entry(outcome.actual, outcome.cpu_seconds)
    return {"ok": False, "status": outcome.status, "message": outcome.message}


# -- problems --------------------------------------------------------------------------------------------------------

def problem_from_task(task: Task, outputs: dict | None, plus: bool = True) -> Problem | None:
    """The Problem for a task and its expected outputs; None when no input survived."""
    if task.base_expected is not None:  # hub row: expected results came with it
        base = [(a, e) for a, e in zip(task.base_inputs, task.base_expected)]
        extra = [(a, e) for a, e in zip(task.plus_inputs, task.plus_expected or [])]
        dropped = {"base": 0, "plus": 0}
        cpu = []
    else:
        base, dropped_base, cpu_base = _kept(task.base_inputs, outputs["base"])
        extra, dropped_plus, cpu_plus = _kept(task.plus_inputs, outputs["plus"])
        dropped = {"base": dropped_base, "plus": dropped_plus}
        cpu = cpu_base + cpu_plus
    if task.base_expected is not None and not task.base_inputs:
        base, extra = extra[:1], extra[1:]  # hub rows do not separate base and plus inputs: the first is public
    seconds = cpu if len(cpu) == len(base) + len(extra) else [None] * (len(base) + len(extra))  # hub rows: no times
    chosen = base + (extra if plus else [])
    if not chosen:
        return None
    tests = [_test(task, args, expected, t) for (args, expected), t in zip(chosen, seconds)]
    prefix = "mbppplus" if task.benchmark == "mbppplus" else "humanevalplus"
    setup = {"matched": MATCHED_SETUP, "poly_root": POLY_SETUP}.get(task.oracle, "")
    if task.metadata.get("test_imports"):
        setup = "\n".join(task.metadata["test_imports"]) + "\n" + setup
    metadata = {
        "task_id": task.task_id,
        **task.metadata,
        "oracle": task.oracle,
        "atol": task.atol,
        "n_base": len(base),
        "n_plus": len(extra) if plus else 0,
        "dropped_inputs": dropped,
    }
    if cpu:
        metadata["reference_max_cpu_seconds"] = max(cpu)
    return Problem(
        id=f"{prefix}/{task.number}",
        prompt=task.prompt,
        entry_point=task.entry_point,
        tests=tests,
        public_tests=tests[:1] if base else [],
        reference=task.reference,
        setup=setup,
        metadata=metadata,
    )


def _kept(inputs: list, entries: list) -> tuple[list, int, list]:
    kept, dropped, cpu = [], 0, []
    for args, entry in zip(inputs, entries):
        if entry.get("ok"):
            expected = entry["expected"]
            kept.append((args, expected if entry.get("untagged") else plain.decode(expected)))
            cpu.append(entry.get("cpu", 0.0))
        else:
            dropped += 1
    return kept, dropped, cpu


def _second_reading(fn: str, args) -> object:
    """EvalPlus accepts a second answer for two MBPP+ tasks whose text reads two ways (its ``_special_oracle``):
    Mbpp/581's pyramid surface with the height taken as the apex's height (rounded), and Mbpp/558's digit distance
    with the shorter number padded with zeros. Computed here, on the host, from the task's own arguments."""
    try:
        if fn == "surface_Area":
            base_edge, height = args
            slant = math.sqrt((base_edge / 2) ** 2 + height ** 2)
            return round(base_edge ** 2 + 4 * (base_edge * slant) / 2)
        if fn == "digit_distance_nums":
            left, right = str(args[0]), str(args[1])
            width = max(len(left), len(right))
            return sum(abs(int(a) - int(b)) for a, b in zip(left.zfill(width), right.zfill(width)))
    except (TypeError, ValueError, OverflowError):
        return None  # an argument the reading cannot take: only the expected value passes
    raise AssertionError(f"no second reading for {fn!r}")


def _is_floats(value) -> bool:
    if isinstance(value, float):
        return True
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, float) for v in value)


def _test(task: Task, args, expected, reference_seconds: float | None = None) -> TestCase:
    """One test in the form the task's oracle needs (see the module docstring)."""
    fn = task.entry_point
    if task.oracle in ("equal", "or_reading"):
        atol = task.atol if task.atol or not _is_floats(expected) else FLOAT_ATOL
        also = (_second_reading(fn, args),) if task.oracle == "or_reading" else ()
        return TestCase.call(fn, args, expected, atol, rtol=FLOAT_RTOL, also=tuple(a for a in also if a is not None),
                             reference_seconds=reference_seconds)
    call = call_source(fn, args)
    if task.oracle == "set":
        try:
            wanted = python_literal(set(expected))
        except TypeError:  # unhashable items: let the candidate's process build the set, as EvalPlus does
            wanted = f"set({python_literal(expected)})"
        return TestCase.assertion(f"assert set({call}) == {wanted}", reference_seconds=reference_seconds)
    if task.oracle == "matched":
        return TestCase.assertion(f"assert {MATCHED_HELPER}({call}) == {python_literal(expected)}",
                                  reference_seconds=reference_seconds)
    if task.oracle == "equal_or_zero":
        return TestCase.assertion(f"assert {call} in ({python_literal(expected)}, 0)",
                                  reference_seconds=reference_seconds)
    if task.oracle == "no_error":
        return TestCase.assertion(call, reference_seconds=reference_seconds)
    if task.oracle == "poly_root":
        atol = task.atol or FLOAT_ATOL
        return TestCase.assertion(f"assert abs({POLY_HELPER}({python_literal(args[0])}, {call})) <= {atol!r}",
                                  reference_seconds=reference_seconds)
    raise AssertionError(f"unknown oracle {task.oracle!r}")
