"""EvalPlus's comparison semantics for the evalplus formats, and loading that drops no input for its size."""

from __future__ import annotations

import gzip
import json
import math

import pytest

from o1coder.execution import Limits, Sandbox, plain
from o1coder.loaders import evalplus as evalplus_module
from o1coder.problems import TestCase, load_problems


def test_evalplus_comparison_rules():
    # exact equality first, as `out == exp`
    assert plain.equal(1, 1.0, 1e-6, 1e-7) and plain.equal([1, 2], [1, 2], 0.0, 1e-7)
    # with a tolerance: same type, same length, numpy.allclose(rtol=1e-7, atol)
    assert plain.equal(1.0 + 5e-7, 1.0, 1e-6, 1e-7)
    assert plain.equal(1e12 + 5e4, 1e12, 1e-6, 1e-7)  # relative tolerance: 1e-7 * 1e12 = 1e5
    assert not plain.equal(1e12 + 5e4, 1e12, 1e-6)  # without rtol (o1coder's own atol rule) it is too far
    assert not plain.equal(1, 1.0000001, 1e-6, 1e-7)  # int against float: evalplus checks the type
    assert not plain.equal((1.0, 2.0), [1.0, 2.0], 1e-6, 1e-7)
    assert not plain.equal([1.0], [1.0, 2.0], 1e-6, 1e-7)
    assert plain.equal([[1.0, 2.0]], [[1.0, 2.0000001]], 1e-6, 1e-7)
    assert not plain.equal(math.nan, math.nan, 1e-6, 1e-7)  # allclose: NaN is never close
    assert plain.equal(math.inf, math.inf, 1e-6, 1e-7)
    assert not plain.equal("a", "b", 1e-6, 1e-7)


def test_digests_compare_exactly_by_content():
    big = list(range(1_500_000))
    assert plain.equal(plain.digest(big), big) and plain.equal(big, plain.digest(big))
    assert not plain.equal(plain.digest(big), big[:-1] + [0])
    assert plain.digest([(1, "a")] * 3) != plain.digest([[1, "a"]] * 3)  # tuple is not list, as ==
    assert plain.digest({"a": [1], "b": {2, 3}}) == plain.digest({"b": {3, 2}, "a": [1]})  # order-free
    assert plain.decode(plain.encode(plain.digest(big))) == plain.digest(big)
    with pytest.raises(plain.Unrepresentable):
        cyclic = []
        cyclic.append(cyclic)
        plain.digest(cyclic)


def test_second_readings_match_evalplus_special_oracles():
    oracle = pytest.importorskip("evalplus.eval._special_oracle", reason="evalplus is not installed (bench extra)")
    for args in ([3, 4], [4, 5], [1.5, 2.25], [10, 0]):
        assert evalplus_module._second_reading("surface_Area", args) == oracle._surface_Area(*args)
    for args in ([1, 2], [23, 56], [123, 256], [5, 12345]):
        assert evalplus_module._second_reading("digit_distance_nums", args) == oracle._digit_distance_nums(*args)
    assert evalplus_module._second_reading("digit_distance_nums", [-5, 3]) is None


def write_mbppplus(path):
    tasks = [
        {"task_id": "Mbpp/581", "entry_point": "surface_Area", "prompt": '"""Surface of a square pyramid."""\n',
         "canonical_solution": "def surface_Area(b, s):\n    return 2 * b * s + pow(b, 2)\n",
         "base_input": [[3, 4]], "plus_input": [[4, 5]], "atol": 0, "contract": "", "assertion": ""},
        {"task_id": "Mbpp/900", "entry_point": "upto", "prompt": '"""All numbers below n."""\n',
         "canonical_solution": "def upto(n):\n    return list(range(n))\n",
         "base_input": [[3]], "plus_input": [[1_500_000]], "atol": 0, "contract": "", "assertion": ""},
    ]
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for task in tasks:
            f.write(json.dumps(task) + "\n")
    return path


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(limits=Limits(**evalplus_module.DEFAULT_LIMITS), workers=2) as sb:
        yield sb


def test_large_results_are_kept_and_oracles_and_times_travel(tmp_path, sandbox):
    surface, upto = load_problems("mbppplus", path=write_mbppplus(tmp_path / "mini.jsonl.gz"), sandbox=sandbox)
    assert upto.metadata["dropped_inputs"] == {"base": 0, "plus": 0} and len(upto.tests) == 2
    assert isinstance(upto.tests[1].expected, plain.Digest) and upto.tests[1].expected.parts == 1_500_001
    assert all(t.reference_seconds is not None and t.rtol == 1e-7 for t in upto.tests)
    # the second reading of Mbpp/581 (height to the apex) passes too, as in evalplus
    assert surface.metadata["oracle"] == "or_reading" and surface.tests[0].also == (35,)
    assert surface.tests[0].expected == 33 and surface.tests[1].also == (59,)
    other_reading = ("import math\ndef surface_Area(b, h):\n"
                     "    return round(b * b + 2 * b * math.sqrt((b / 2) ** 2 + h * h))\n")
    results = sandbox.run_many([(surface.reference, surface.tests, ""), (other_reading, surface.tests, ""),
                                (upto.reference, upto.tests, ""),
                                ("def upto(n):\n    return list(range(n + 1))[:-1] if n < 10 else list(range(1, n))\n",
                                 upto.tests, "")])
    assert [r.n_passed for r in results] == [2, 2, 2, 1], [r.to_dict() for r in results]
    assert TestCase.from_dict(upto.tests[1].to_dict()) == upto.tests[1]  # digests and times survive JSON


def test_oracle_tests_carry_the_reference_time_so_a_looper_stops_at_once(tmp_path, sandbox):
    # Mbpp/2's answer is compared as a set: its tests are assertions, timed like call tests
    task = {"task_id": "Mbpp/2", "entry_point": "similar_elements", "prompt": '"""Shared elements."""\n',
            "canonical_solution": "def similar_elements(a, b):\n    return tuple(set(a) & set(b))\n",
            "base_input": [[[1, 2, 3], [2, 3, 4]]], "plus_input": [[[5, 6], [6]], [[], [1]]], "atol": 0,
            "contract": "", "assertion": ""}
    path = tmp_path / "set.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(json.dumps(task) + "\n")
    (problem,) = load_problems("mbppplus", path=path, sandbox=sandbox)
    assert problem.metadata["oracle"] == "set" and [t.kind for t in problem.tests] == ["assertion"] * 3
    assert all(t.reference_seconds is not None and t.reference_seconds < 0.5 for t in problem.tests)
    assert TestCase.from_dict(problem.tests[0].to_dict()) == problem.tests[0]
    looper = "def similar_elements(a, b):\n    while True:\n        pass\n"
    with Sandbox(limits=Limits(cpu_seconds=30, wall_seconds=60), workers=1, cache=False) as sb:
        r = sb.run(looper, problem.tests, problem.setup, stop_on_failure=True)
    assert r.outcomes[0].status == "timeout" and "(1s)" in r.outcomes[0].message  # 4x the reference, at least 1 s
    assert r.outcomes[0].cpu_seconds < 3 and r.n_passed == 0
    with pytest.raises(ValueError, match="reference_seconds"):
        TestCase.assertion("assert True", reference_seconds=-1)


def test_many_parts_in_few_items_come_back_as_a_digest_compared_exactly(sandbox):
    # 20,000 items but 1.2 million parts: digested in the candidate's process, compared with the expected value here
    expected = [tuple(range(i, i + 60)) for i in range(20_000)]
    right = "def f(n):\n    return [tuple(range(i, i + 60)) for i in range(n)]\n"
    wrong = "def f(n):\n    return [tuple(range(i, i + 60)) for i in range(n - 1)] + [tuple(range(1, 61))]\n"
    results = sandbox.run_many([(code, [TestCase.call("f", [20_000], expected)], "") for code in (right, wrong)])
    assert [r.status for r in results] == ["passed", "failed"]
    assert isinstance(results[0].outcomes[0].actual, plain.Digest) and results[0].outcomes[0].actual.parts > 1_000_000
