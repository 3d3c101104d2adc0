"""Benchmark loaders: counts and known records of the real files, errors that point at the bad spot, our format.

Tests that read ../shared/data take the ``shared_data`` fixture (skipped when the folder is absent). The MBPP+
expected outputs need the sandbox; the full 378-task computation is marked slow (about a minute on 2 cores:
some canonical solutions need tens of CPU seconds), the rest use a few tasks.
"""

from __future__ import annotations

import collections
import gzip
import json
import math
import shutil

import pytest

from o1coder import paths
from o1coder.loaders import DatasetUnavailable, MalformedRecord, load, names, options_of, save_jsonl
from o1coder.loaders import evalplus as evalplus_module
from o1coder.loaders._io import Record
from o1coder.loaders._literal import python_literal
from o1coder.loaders.codecontests import problem_from_codecontests
from o1coder.loaders.evalplus import restore_mbpp_inputs, task_from_record
from o1coder.loaders.mbpp import called_function
from o1coder.loaders.taco import problem_from_taco
from o1coder.problems import Problem, TestCase, load_problems

try:
    from o1coder.execution import Limits, Sandbox
except ImportError:  # the sandbox is another module's work; only the evalplus tests need it
    Sandbox = None

needs_sandbox = pytest.mark.skipif(Sandbox is None, reason="o1coder.execution.Sandbox is not available")


@pytest.fixture(scope="session")
def sandbox():
    if Sandbox is None:
        pytest.skip("o1coder.execution.Sandbox is not available")
    with Sandbox(limits=Limits(**evalplus_module.DEFAULT_LIMITS), workers=2) as sb:
        yield sb


def by_id(problems: list[Problem]) -> dict[str, Problem]:
    return {p.id: p for p in problems}


# -- the real files --------------------------------------------------------------------------------------------------

def test_mbpp_counts_splits_and_a_known_record(shared_data):
    problems = load_problems("mbpp", path=shared_data / "mbpp.jsonl")
    assert len(problems) == 974
    splits = collections.Counter(p.metadata["split"] for p in problems)
    assert splits == {"test": 500, "train": 374, "validation": 90, "prompt": 10}
    p = by_id(problems)["mbpp/11"]
    assert p.entry_point == "remove_Occ"
    assert len(p.tests) == 3 and all(t.kind == "assertion" for t in p.tests)
    assert p.public_tests == p.tests[:1]
    assert p.tests[0].code == 'assert remove_Occ("hello","l") == "heo"'
    assert p.prompt.startswith("Write a python function to remove first and last occurrence")
    assert p.prompt.endswith('Your code should pass this test:\n\nassert remove_Occ("hello","l") == "heo"')
    assert p.reference.startswith("def remove_Occ(s,ch):") and "\r" not in p.reference
    assert p.setup == "" and p.metadata["split"] == "test"
    assert p.metadata["challenge_tests"] == ['assert remove_Occ("hellolloll","l") == "helollol"',
                                             'assert remove_Occ("","l") == ""']
    # the set-wrapped first test still names the function, not `set`
    assert by_id(problems)["mbpp/2"].entry_point == "similar_elements"


def test_mbpp_options_and_setup_code(shared_data):
    validation = load_problems("mbpp", path=shared_data / "mbpp.jsonl", split="validation")
    assert len(validation) == 90 and validation[0].id == "mbpp/511"
    first = load_problems("mbpp", path=shared_data / "mbpp.jsonl", limit=3, prompt_tests=3)
    assert [p.id for p in first] == ["mbpp/1", "mbpp/2", "mbpp/3"]
    assert len(first[0].public_tests) == 3 and "Your code should pass these tests:" in first[0].prompt
    # test_setup_code builds the solution's own Node objects: it runs after the candidate, in front of each test
    tree = by_id(load_problems("mbpp", path=shared_data / "mbpp.jsonl", split="test"))["mbpp/367"]
    assert tree.setup == "" and tree.entry_point == "is_tree_balanced"
    assert all(t.code.startswith("root = Node(1)") for t in tree.tests)
    assert tree.metadata["test_setup_code"].startswith("root = Node(1)")


@pytest.mark.parametrize("split, count, first, last", [
    ("prompt", 10, 1, 10), ("test", 500, 11, 510), ("validation", 90, 511, 600), ("train", 374, 601, 974)])
def test_mbpp_split_specs_select_the_official_task_id_ranges(shared_data, split, count, first, last):
    from o1coder.bundled import resolve_problem_spec

    problems = resolve_problem_spec(f"mbpp@{split}:{shared_data / 'mbpp.jsonl'}")
    ids = [p.metadata["task_id"] for p in problems]
    assert (len(ids), ids[0], ids[-1]) == (count, first, last) and ids == sorted(ids)
    sanitized = resolve_problem_spec(f"mbpp-sanitized@{split}:{shared_data / 'sanitized-mbpp.json'}")
    assert sanitized and all(first <= p.metadata["task_id"] <= last for p in sanitized)


def test_mbpp_joined_splits(shared_data):
    problems = load_problems("mbpp", path=shared_data / "mbpp.jsonl", split="train+validation")
    assert len(problems) == 464 and min(p.metadata["task_id"] for p in problems) == 511
    with pytest.raises(ValueError, match="mbpp split must be one of prompt, test, validation, train"):
        load_problems("mbpp", path=shared_data / "mbpp.jsonl", split="train+dev")


@needs_sandbox
def test_mbppplus_split_keeps_the_mbpp_task_ids(shared_data, sandbox):
    path = shared_data / "MbppPlus-v0.2.0.jsonl.gz"
    problems = load_problems("mbppplus", path=path, split="validation", limit=2, sandbox=sandbox)
    assert [p.id for p in problems] == ["mbppplus/554", "mbppplus/555"]  # the first MBPP+ tasks in 511-600
    with pytest.raises(ValueError, match="mbppplus split must be one of prompt, test, validation, train or several"):
        load_problems("mbppplus", path=path, split="dev")


def test_mbpp_prompt_shows_its_test_once(shared_data):
    from o1coder.reasoning import format_question, pseudocode_prompt

    [problem] = load_problems("mbpp", path=shared_data / "mbpp.jsonl", split="test", limit=1)
    shown = 'assert remove_Occ("hello","l") == "heo"'
    assert format_question(problem).count(shown) == 1
    assert pseudocode_prompt(problem, examples=()).count(shown) == 1


def test_mbpp_sanitized(shared_data):
    problems = by_id(load_problems("mbpp-sanitized", path=shared_data / "sanitized-mbpp.json"))
    assert len(problems) == 427
    p = problems["mbpp-sanitized/82"]
    assert p.setup == "import math" and p.metadata["split"] == "test"
    assert p.entry_point == "volume_sphere" and len(p.tests) == 3
    assert problems["mbpp-sanitized/2"].metadata["source_file"] == "Benchmark Questions Verification V2.ipynb"


def test_humaneval_decomposes_check_into_asserts(shared_data):
    problems = by_id(load_problems("humaneval", path=shared_data / "HumanEval.jsonl.gz"))
    assert len(problems) == 164
    p = problems["humaneval/0"]
    assert p.entry_point == "has_close_elements"
    assert len(p.tests) == 7 and p.public_tests == p.tests[:1]
    assert p.tests[0].code == "assert has_close_elements([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) == True"
    assert "candidate" not in "".join(t.code for t in p.tests)
    assert p.reference.startswith(p.prompt) and "for idx, elem in enumerate(numbers):" in p.reference
    assert sum(p.metadata["tests_decomposed"] for p in problems.values()) == 157
    # check() with a loop stays whole, called on the entry point
    whole = problems["humaneval/32"]
    assert len(whole.tests) == 1 and whole.tests[0].code.rstrip().endswith("check(find_zero)")
    assert whole.public_tests == [] and whole.metadata["tests_decomposed"] is False


def test_taco_call_and_stdio_problems(shared_data):
    problems = load_problems("taco", path=shared_data / "taco_train_easy_10.json")
    assert len(problems) == 10
    p = by_id(problems)
    encode = p["taco/0"]
    assert encode.entry_point == "encode" and encode.metadata["fn_name"] == "encode"
    # TACO wraps return values in a one-element list; the expected value is the element
    assert encode.tests[0] == TestCase.call("encode", ["hello"], "h2ll4")
    assert p["taco/2"].tests[0] == TestCase.call("min_and_max", [100, 200, 10], [109, 190])
    assert "```python\ndef encode(st):\n```" in encode.prompt
    assert encode.reference == encode.metadata["solutions"][0] and len(encode.metadata["solutions"]) == 10
    assert encode.metadata["tags"] == ["String algorithms", "Fundamentals", "Data structures"]
    stdio = p["taco/1"]
    assert stdio.entry_point is None and stdio.is_stdio and len(stdio.tests) == 102
    assert stdio.tests[0] == TestCase.stdio("2\n2\n1 2\n0 0\n3\n3 3\n0 0\n0 3", "3\n0")
    assert stdio.public_tests == stdio.tests[:1] and len(stdio.metadata["solutions"]) == 35
    assert "standard input" in stdio.prompt


def test_codecontests_sample(shared_data):
    problems = load_problems("codecontests", path=shared_data / "code_contests_sample_20.jsonl")
    assert len(problems) == 20
    assert all(p.entry_point is None and p.reference is None for p in problems)
    assert all(t.kind == "stdio" for p in problems for t in p.tests)
    first = problems[0]
    assert first.id == "codecontests/0" and len(first.tests) == 101
    assert first.metadata["name"] == "a3" and first.metadata["source"] == "CODECHEF"
    # the statement's example is found among the tests (it is the last one in this file)
    assert first.public_tests == [first.tests[100]]
    assert sum(bool(p.public_tests) for p in problems) == 19


def test_gzip_is_read_by_content_not_name(shared_data, tmp_path):
    packed = tmp_path / "mbpp.jsonl.gz"
    packed.write_bytes(gzip.compress((shared_data / "mbpp.jsonl").read_bytes()))
    misnamed = tmp_path / "HumanEval.jsonl"
    shutil.copy(shared_data / "HumanEval.jsonl.gz", misnamed)
    assert len(load_problems("mbpp", path=packed, limit=5)) == 5
    assert len(load_problems("humaneval", path=misnamed)) == 164


# -- EvalPlus ----------------------------------------------------------------------------------------------------------

@needs_sandbox
def test_mbppplus_few_tasks_expected_outputs_and_cache(shared_data, sandbox, monkeypatch):
    path = shared_data / "MbppPlus-v0.2.0.jsonl.gz"
    problems = load_problems("mbppplus", path=path, limit=4, sandbox=sandbox)
    assert [p.id for p in problems] == ["mbppplus/2", "mbppplus/3", "mbppplus/4", "mbppplus/6"]
    shared = problems[0]
    assert shared.entry_point == "similar_elements" and shared.metadata["oracle"] == "set"
    assert shared.metadata["n_base"] == 3 and shared.metadata["dropped_inputs"] == {"base": 0, "plus": 0}
    assert shared.tests[0].code == "assert set(similar_elements((3, 4, 5, 6), (5, 7, 4, 10))) == {4, 5}"
    assert shared.metadata["assertion"].strip().startswith("assert similar_elements((3, 4, 5, 6),(5, 7, 4, 10))")
    assert shared.prompt.startswith("Write a function to find the shared elements") and '"""' not in shared.prompt
    assert shared.reference.startswith("def similar_elements(")
    not_prime = problems[1]
    assert [(t.fn, t.args, t.expected) for t in not_prime.tests[:2]] == [("is_not_prime", (1,), True),
                                                                          ("is_not_prime", (2,), False)]
    # evalplus's comparison (rtol with atol) and the reference's time on each input travel with every test
    assert all(t.rtol == 1e-7 and t.reference_seconds is not None for t in not_prime.tests)
    assert not_prime.public_tests == not_prime.tests[:1]
    assert len(not_prime.tests) == not_prime.metadata["n_base"] + not_prime.metadata["n_plus"]
    cache_files = list((paths.cache_dir() / "evalplus").glob("*.json"))
    assert cache_files, "expected outputs are cached on disk"

    def no_sandbox(*args, **kwargs):
        raise AssertionError("the second load must come from the cache")

    monkeypatch.setattr(evalplus_module, "_run_canonical", no_sandbox)
    again = load_problems("mbppplus", path=path, limit=4)
    assert again == problems
    base_only = load_problems("mbppplus", path=path, limit=4, plus=False)
    assert [len(p.tests) for p in base_only] == [p.metadata["n_base"] for p in problems]
    # the references pass their own tests
    results = sandbox.run_many([(p.reference, p.tests, p.setup) for p in problems])
    assert all(r.all_passed for r in results), [r.status for r in results]


@pytest.mark.slow
@needs_sandbox
def test_mbppplus_full_file(shared_data, sandbox):
    problems = by_id(load_problems("mbppplus", path=shared_data / "MbppPlus-v0.2.0.jsonl.gz", sandbox=sandbox))
    assert len(problems) == 378
    assert sum(len(p.tests) for p in problems.values()) == 41015
    # no input is dropped: combinations_colors' largest results (1.6 million 77-tuples) travel as digests
    dropped = {pid: p.metadata["dropped_inputs"] for pid, p in problems.items()
               if sum(p.metadata["dropped_inputs"].values())}
    assert dropped == {}
    from o1coder.execution import plain

    assert sum(isinstance(t.expected, plain.Digest) for t in problems["mbppplus/255"].tests) == 5
    oracles = collections.Counter(p.metadata["oracle"] for p in problems.values())
    assert oracles == {"equal": 366, "set": 7, "matched": 3, "or_reading": 2}
    assert problems["mbppplus/793"].metadata["n_plus"] == 0  # stored as {} in the release


def test_mbppplus_inputs_get_their_python_types_back():
    assert restore_mbpp_inputs("Mbpp/2", [[[1, 2], [3]]]) == [[(1, 2), (3,)]]
    assert restore_mbpp_inputs("Mbpp/124", [["0", "1j"]]) == [[0.0, 1j]]
    assert restore_mbpp_inputs("Mbpp/580", [[[1, [2, 3]]]]) == [((1, (2, 3)),)]
    assert restore_mbpp_inputs("Mbpp/3", [[5]]) == [[5]]


def write_humanevalplus(path, solution_body="    return sum(xs) / len(xs)\n"):
    tasks = [
        {"task_id": "HumanEval/0", "entry_point": "mean",
         "prompt": 'def mean(xs: list) -> float:\n    """Mean of xs."""\n', "canonical_solution": solution_body,
         "base_input": [[[1, 2]], [[1.5]]], "plus_input": [[[]], [[1, 2, 4]]], "atol": 0, "contract": "",
         "assertion": ""},
        {"task_id": "HumanEval/1", "entry_point": "pair",
         "prompt": 'def pair(a, b):\n    """(a, b) as a tuple."""\n', "canonical_solution": "    return (a, b)\n",
         "base_input": [[1, 2]], "plus_input": [[{"__t": "not JSON plain, just a dict"}, None]], "atol": 0,
         "contract": "", "assertion": ""},
    ]
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for task in tasks:
            f.write(json.dumps(task) + "\n")
    return path


@needs_sandbox
def test_humanevalplus_format_with_a_dropped_input(tmp_path, sandbox, caplog):
    path = write_humanevalplus(tmp_path / "HumanEvalPlus-mini.jsonl.gz")
    with caplog.at_level("WARNING"):
        problems = load_problems("humanevalplus", path=path, sandbox=sandbox)
    mean, pair = problems
    assert mean.id == "humanevalplus/0" and mean.reference == mean.prompt + "    return sum(xs) / len(xs)\n"
    # mean([]) raises ZeroDivisionError in the canonical solution: that input is dropped and counted
    assert mean.metadata["dropped_inputs"] == {"base": 0, "plus": 1}
    assert "dropped 1 input(s)" in caplog.text
    # float results compared with atol 0 get EvalPlus' 1e-6
    assert [(t.args, t.expected, t.atol) for t in mean.tests] == [(([1, 2],), 1.5, 1e-6), (([1.5],), 1.5, 1e-6),
                                                                   (([1, 2, 4],), 7 / 3, 1e-6)]
    assert (pair.tests[0].fn, pair.tests[0].args, pair.tests[0].expected) == ("pair", (1, 2), (1, 2))
    assert pair.tests[1].expected == ({"__t": "not JSON plain, just a dict"}, None)
    results = sandbox.run_many([(p.reference, p.tests, p.setup) for p in problems])
    assert all(r.all_passed for r in results)
    # base inputs only
    assert [len(p.tests) for p in load_problems("humanevalplus", path=path, plus=False)] == [2, 1]


def test_evalplus_hub_row_reads_inputs_and_results_from_the_script():
    script = ("import math\ndef assertion(out, exp, atol):\n    assert out == exp\n\n"
              "inputs = [[1, 2], [3, inf]]\nresults = [3, inf]\n"
              "for i, (inp, exp) in enumerate(zip(inputs, results)):\n    assertion(add(*inp), exp, 0)\n")
    row = {"task_id": "HumanEval/9", "prompt": "def add(a, b):\n", "canonical_solution": "    return a + b\n",
           "entry_point": "add", "test": script}
    task = task_from_record(Record(row, "hub row 0"), "humanevalplus")
    problem = evalplus_module.problem_from_task(task, None)
    # a float result compared with atol 0 gets EvalPlus' 1e-6, as in the release format
    assert problem.tests == [TestCase.call("add", [1, 2], 3, rtol=1e-7),
                             TestCase.call("add", [3, math.inf], math.inf, 1e-6, rtol=1e-7)]
    assert problem.public_tests == problem.tests[:1]
    row["test"] = "def check(candidate):\n    assert candidate(1, 2) == 3\n"
    with pytest.raises(MalformedRecord, match="HumanEvalPlus-v0.1.10.jsonl.gz"):
        task_from_record(Record(row, "hub row 0"), "humanevalplus")


# -- shapes that the bundled files do not have -----------------------------------------------------------------------

def test_taco_class_based_problem_becomes_assertions():
    record = Record({
        "question": "Add two numbers.", "starter_code": "class Solution:\n    def add(self, a, b):\n        ",
        "input_output": json.dumps({"fn_name": "add", "inputs": [[1, 2], [[1], [2]]], "outputs": [[3], [[1, 2]]]}),
        "solutions": json.dumps(["class Solution:\n    def add(self, a, b):\n        return a + b\n"]),
    }, "taco.json record 0", index=0)
    p = problem_from_taco(record)
    assert p.metadata["class_name"] == "Solution" and p.entry_point == "add"
    assert [t.code for t in p.tests] == ["assert Solution().add(1, 2) == 3",
                                         "assert Solution().add([1], [2]) == [1, 2]"]


def test_codecontests_hub_shape():
    record = Record({
        "name": "1_A. Sum", "description": "Print a+b.",
        "public_tests": {"input": ["1 2\n"], "output": ["3\n"]},
        "private_tests": {"input": ["2 2\n"], "output": ["4\n"]},
        "generated_tests": {"input": [], "output": []},
        "solutions": {"language": [2, 3], "solution": ["int main(){}", "print(sum(map(int, input().split())))"]},
    }, "hub deepmind/code_contests test row 4", index=4, split="test")
    p = problem_from_codecontests(record)
    assert p.id == "codecontests/test/4" and p.metadata["name"] == "1_A. Sum"
    assert p.public_tests == [TestCase.stdio("1 2\n", "3\n")] and len(p.tests) == 2
    assert p.reference == "print(sum(map(int, input().split())))"


def test_called_function_and_python_literal():
    assert called_function("assert set(f(1)) == set((1,))", "def f(x): pass") == "f"
    assert called_function("assert math.isclose(area(2), 12.5)") == "area"
    values = [(1,), {1, 2}, frozenset(), set(), {(1, 2): [3.5, None]}, [math.inf, -math.inf], b"x\x00", 1 + 2j,
              {"a": (True, "q'\"")}]
    for value in values:
        assert eval(python_literal(value), {}) == value  # noqa: S307 - our own literal text
    assert math.isnan(eval(python_literal(math.nan), {}))  # noqa: S307
    assert python_literal({"b", "a", "c"}) == "{'a', 'b', 'c'}"  # stable across processes


# -- errors --------------------------------------------------------------------------------------------------------

def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown benchmark 'mbpp\+'; valid names: mbpp, .*codecontests, jsonl"):
        load_problems("mbpp+", path="x")
    assert names() == ["mbpp", "mbpp-sanitized", "mbppplus", "humaneval", "humanevalplus", "taco", "codecontests",
                       "jsonl", "synthetic"]


def test_unknown_option_and_bad_limit(tmp_path):
    with pytest.raises(TypeError, match="no option 'plus'.*limit, split, prompt_tests"):
        load("mbpp", tmp_path / "x.jsonl", plus=True)
    assert options_of("mbppplus") == ["limit", "plus", "sandbox", "split"]
    with pytest.raises(ValueError, match="limit must be a non-negative integer"):
        load_problems("humaneval", path=tmp_path / "x.jsonl", limit=-1)


def test_missing_file_names_the_path(tmp_path):
    missing = tmp_path / "nowhere" / "mbpp.jsonl"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        load_problems("mbpp", path=missing)
    with pytest.raises(FileNotFoundError, match="is a folder"):
        load_problems("taco", path=tmp_path)


def mbpp_record(**changes) -> dict:
    record = {"task_id": 11, "text": "Remove x.", "code": "def f(s):\n    return s\n",
              "test_list": ["assert f(1) == 1", "assert f(2) == 2"], "test_setup_code": "",
              "challenge_test_list": []}
    record.update(changes)
    return record


def write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_malformed_json_line_names_file_and_line(tmp_path):
    path = write_lines(tmp_path / "mbpp.jsonl", [json.dumps(mbpp_record()), "{not json"])
    with pytest.raises(MalformedRecord) as error:
        load_problems("mbpp", path=path)
    assert str(path) in str(error.value) and "line 2" in str(error.value) and "not valid JSON" in str(error.value)


def test_missing_and_ill_typed_fields_are_named(tmp_path):
    no_tests = mbpp_record()
    del no_tests["test_list"]
    path = write_lines(tmp_path / "mbpp.jsonl", [json.dumps(mbpp_record()), "", json.dumps(no_tests)])
    with pytest.raises(MalformedRecord, match=r"mbpp.jsonl line 3, field 'test_list': is missing"):
        load_problems("mbpp", path=path)
    path = write_lines(tmp_path / "bad_id.jsonl", [json.dumps(mbpp_record(task_id="eleven"))])
    with pytest.raises(MalformedRecord, match=r"line 1, field 'task_id': must be an integer, got str"):
        load_problems("mbpp", path=path)
    path = write_lines(tmp_path / "bad_test.jsonl", [json.dumps(mbpp_record(test_list=["assert f(1) == 1", 7]))])
    with pytest.raises(MalformedRecord, match=r"field 'test_list\[1\]': must be a string"):
        load_problems("mbpp", path=path)


def test_malformed_json_list_record_names_the_index(tmp_path):
    good = {"question": "Q", "solutions": [], "starter_code": "",
            "input_output": {"inputs": ["1\n"], "outputs": ["1\n"]}}
    bad = {**good, "input_output": "{broken"}
    path = tmp_path / "taco.json"
    path.write_text(json.dumps([good, bad]), encoding="utf-8")
    with pytest.raises(MalformedRecord, match=r"taco.json record 1, field 'input_output': holds a string that is not"):
        load_problems("taco", path=path)
    path.write_text(json.dumps([good, "just text"]), encoding="utf-8")
    with pytest.raises(MalformedRecord, match=r"record 1: must be a JSON object"):
        load_problems("taco", path=path)
    assert len(load_problems("taco", path=path, limit=1)) == 1  # limit reads no further than it needs


def test_humaneval_bad_test_source_is_named(tmp_path):
    record = {"task_id": "HumanEval/0", "prompt": "def f():\n", "canonical_solution": "    return 1\n",
              "entry_point": "f", "test": "def check(candidate):\n    assert candidate( == 1\n"}
    path = write_lines(tmp_path / "HumanEval.jsonl", [json.dumps(record)])
    with pytest.raises(MalformedRecord, match=r"line 1, field 'test': is not valid Python"):
        load_problems("humaneval", path=path)


# -- our own format ----------------------------------------------------------------------------------------------------

def test_jsonl_round_trip_keeps_tuples_sets_and_infinities(tmp_path):
    problems = [
        Problem(id="mine/pair", prompt="Return (a+b, a*b).", entry_point="pair",
                tests=[TestCase.call("pair", [2, 3], (5, 6)),
                       TestCase.call("pair", [(1, 2), {3}], {frozenset({1}): [math.inf, -math.inf]}, atol=1e-6),
                       TestCase.assertion("assert pair(0, 0) == (0, 0)")],
                public_tests=[TestCase.call("pair", [1, 1], (2, 1))],
                reference="def pair(a, b):\n    return (a + b, a * b)\n", setup="import math",
                metadata={"split": "train", "trace": [{"action": 1, "text": "..."}]}),
        Problem(id="mine/echo", prompt="Echo stdin.", entry_point=None,
                tests=[TestCase.stdio("hi\n", "hi\n")]),
    ]
    for name in ("problems.jsonl", "problems.jsonl.gz"):
        path = save_jsonl(problems, tmp_path / "out" / name)
        assert load_problems("jsonl", path=path) == problems
    line = json.loads((tmp_path / "out" / "problems.jsonl").read_text().splitlines()[0])
    assert line["tests"][0]["expected"] == {"__t": "tuple", "v": [5, 6]}
    assert load_problems("jsonl", path=path, limit=1) == problems[:1]


def test_jsonl_errors(tmp_path):
    good = Problem(id="a", prompt="p", entry_point="f", tests=[TestCase.assertion("assert f()")]).to_dict()
    bad_kind = {**good, "id": "b", "tests": [{"kind": "exam", "code": "x"}]}
    path = write_lines(tmp_path / "p.jsonl", [json.dumps(good), json.dumps(bad_kind)])
    with pytest.raises(MalformedRecord, match=r"p.jsonl line 2, field 'tests\[0\]': test kind must be"):
        load_problems("jsonl", path=path)
    path = write_lines(tmp_path / "dup.jsonl", [json.dumps(good), json.dumps(good)])
    with pytest.raises(MalformedRecord, match=r"line 2, field 'id': 'a' was already used at .*line 1"):
        load_problems("jsonl", path=path)
    path = write_lines(tmp_path / "empty.jsonl", [json.dumps({**good, "tests": []})])
    with pytest.raises(MalformedRecord, match="must hold at least one test"):
        load_problems("jsonl", path=path)
    with pytest.raises(ValueError, match="pass path="):
        load_problems("jsonl")
    unsaveable = Problem(id="c", prompt="p", entry_point="f", tests=[TestCase.assertion("assert f()")],
                         metadata={"when": object()})
    with pytest.raises(ValueError, match="problem 'c' cannot be written as JSON"):
        save_jsonl([unsaveable], tmp_path / "never.jsonl")
    assert not (tmp_path / "never.jsonl").exists() and not list(tmp_path.glob("never.jsonl*"))


# -- the hub ---------------------------------------------------------------------------------------------------------

def test_hub_offline_error_names_the_local_file_way(monkeypatch):
    pytest.importorskip("datasets")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    try:
        load_problems("mbpp", limit=1)
    except DatasetUnavailable as error:
        message = str(error)
    else:
        pytest.skip("a cached copy of google-research-datasets/mbpp made the offline load work")
    assert isinstance(DatasetUnavailable("x"), RuntimeError)
    assert "google-research-datasets/mbpp" in message
    assert "load_problems('mbpp', path='mbpp.jsonl')" in message and "mbpp:PATH" in message


def test_any_hub_failure_becomes_dataset_unavailable(monkeypatch):
    datasets = pytest.importorskip("datasets")

    def unreachable(*args, **kwargs):
        raise ConnectionError("Couldn't reach the hub")

    monkeypatch.setattr(datasets, "load_dataset", unreachable)
    with pytest.raises(DatasetUnavailable, match=r"BAAI/TACO.*Couldn't reach.*path='taco.json'.*taco:PATH"):
        load_problems("taco")


def test_missing_datasets_package_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "datasets", None)  # makes `import datasets` raise ImportError
    with pytest.raises(ImportError, match=r"pip install 'o1coder\[train\]'"):
        load_problems("humaneval")


@needs_sandbox
def test_evalplus_timeouts_are_dropped_but_not_cached(tmp_path, monkeypatch):
    path = write_humanevalplus(tmp_path / "slow.jsonl.gz", solution_body=(
        "    while xs == [1.5]:\n        pass\n    return sum(xs) / len(xs)\n"))
    with Sandbox(limits=Limits(cpu_seconds=0.5, wall_seconds=2), workers=1) as tight:
        mean = load_problems("humanevalplus", path=path, sandbox=tight, limit=1)[0]
    assert mean.metadata["dropped_inputs"] == {"base": 1, "plus": 1}  # the loop times out, mean([]) raises
    computed_again = []

    def fake_run(tasks, sandbox=None):
        computed_again.extend(t.task_id for t in tasks)
        ok = {"ok": True, "expected": 1.5, "cpu": 0.0}
        return {t.task_id: {"base": [ok] * len(t.base_inputs), "plus": [ok] * len(t.plus_inputs)} for t in tasks}

    monkeypatch.setattr(evalplus_module, "_run_canonical", fake_run)
    again = load_problems("humanevalplus", path=path, limit=1)[0]
    assert computed_again == ["HumanEval/0"]  # the timeout was not cached: the task ran again
    assert again.metadata["dropped_inputs"] == {"base": 0, "plus": 0}
