"""Sandbox correctness: statuses, test forms, judging, caching, limits validation."""

from __future__ import annotations

import pytest

from o1coder.execution import ExecResult, Limits, Sandbox
from o1coder.execution import plain
from o1coder.execution.judge import outputs_match, plan_test
from o1coder.problems import TestCase

LIMITS = Limits(cpu_seconds=1.0, wall_seconds=3.0, memory_mb=256)


@pytest.fixture(scope="module")
def sb():
    with Sandbox(limits=LIMITS, workers=2) as sandbox:
        yield sandbox


def test_each_status_is_distinguished(sb):
    call = [TestCase.call("f", [3], 9)]
    cases = {
        "passed": "def f(x):\n    return x * x\n",
        "failed": "def f(x):\n    return x + x\n",
        "compile_error": "def f(x)\n    return x\n",
        "runtime_error": "def f(x):\n    return x / 0\n",
        "timeout": "def f(x):\n    while True:\n        x += 1\n",
        "memory": "def f(x):\n    return [0] * (10 ** 10)\n",
        "crashed": "import os, signal\ndef f(x):\n    os.kill(os.getpid(), signal.SIGSEGV)\n",
    }
    results = sb.run_many([(code, call) for code in cases.values()])
    for expected, r in zip(cases, results):
        assert r.status == expected, (expected, r.to_dict())
    assert results[0].all_passed and results[0].pass_rate == 1.0 and results[0].n_tests == 1
    assert not results[2].compiled and "SyntaxError" in results[2].message
    assert "ZeroDivisionError" in results[3].outcomes[0].message and "line 2" in results[3].outcomes[0].message
    assert "SIGSEGV" in results[6].outcomes[0].message


def test_pass_rate_counts_each_test_and_a_slow_test_does_not_sink_the_rest(sb):
    code = "def f(x):\n    if x == 2:\n        while True:\n            pass\n    return x * 10\n"
    tests = [TestCase.call("f", [1], 10), TestCase.call("f", [2], 20), TestCase.call("f", [3], 30),
             TestCase.call("f", [4], 41)]
    r = sb.run(code, tests)
    assert [o.status for o in r.outcomes] == ["passed", "timeout", "passed", "failed"]
    assert r.n_passed == 2 and r.pass_rate == 0.5 and r.status == "timeout"
    assert "CPU time limit" in r.outcomes[1].message


def test_a_crash_in_one_test_continues_in_a_fresh_process(sb):
    code = "import os\ndef f(x):\n    if x == 1:\n        os._exit(3)\n    return x\n"
    r = sb.run(code, [TestCase.call("f", [0], 0), TestCase.call("f", [1], 1), TestCase.call("f", [2], 2)])
    assert [o.status for o in r.outcomes] == ["passed", "failed", "passed"]
    assert "exited" in r.outcomes[1].message


def test_assertion_forms(sb):
    code = "import math\ndef f(x):\n    return [x, x + 1]\ndef g(x):\n    return x / 3\ndef h(x):\n    return None\n"
    tests = [
        TestCase.assertion("assert f(1) == [1, 2]"),
        TestCase.assertion("assert f(1) != [1, 3]"),
        TestCase.assertion("assert len(f(1)) < 3"),
        TestCase.assertion("assert 2 in f(1)"),
        TestCase.assertion("assert math.isclose(g(1), 0.3333, rel_tol=0.001)"),
        TestCase.assertion("assert h(0) is None"),
        TestCase.assertion("assert not h(0)"),
        TestCase.assertion("assert f(1) and f(2) == [2, 3]"),
        TestCase.assertion("for i in range(3):\n    assert f(i)[1] == i + 1"),
        TestCase.assertion("assert f(1) == [9, 9], 'with a message'"),
    ]
    r = sb.run(code, tests)
    assert [o.status for o in r.outcomes] == ["passed"] * 9 + ["failed"], r.to_dict()
    assert r.outcomes[-1].message == "f(1): [1, 2] == [9, 9] is false"


def test_assertions_are_split_so_expected_values_stay_outside():
    plan = plan_test(TestCase.assertion("assert f(2) == [1, (2, 3)]"))
    # the literal never travels; the names let the test process give the test's names their meaning
    assert plan.wire == {"kind": "exprs", "exprs": ["f(2)"], "names": ["f"], "attrs": [], "calls": ["f"]}
    assert plan_test(TestCase.call("f", [1, 2], 99)).wire == {"kind": "call", "fn": "f", "args": [1, 2]}
    assert plan_test(TestCase.stdio("1\n", "2\n")).wire == {"kind": "stdio", "stdin": "1\n"}
    assert plan_test(TestCase.assertion("x = 1\nassert f(x)")).wire["kind"] == "script"


def test_call_tests_compare_plain_values_with_tolerance(sb):
    code = "def f(x):\n    return (x, {x: [x / 3]}, {1, 2})\n"
    exact = TestCase.call("f", [1], (1, {1: [1 / 3]}, {1, 2}))
    close = TestCase.call("f", [1], (1, {1: [0.3333333]}, {1, 2}), atol=1e-6)
    wrong = TestCase.call("f", [1], [1, {1: [1 / 3]}, {1, 2}])  # a list is not a tuple
    r = sb.run(code, [exact, close, wrong])
    assert [o.status for o in r.outcomes] == ["passed", "passed", "failed"]
    assert r.outcomes[0].actual == (1, {1: [1 / 3]}, {1, 2})


def test_stdio_programs_and_whitespace_tolerance(sb):
    code = "n = int(input())\nprint(*sorted(map(int, input().split())), sep='  ')\nprint(n / 3)\n"
    tests = [TestCase.stdio("3\n3 1 2\n", "1 2 3\n1.0\n"), TestCase.stdio("2\n5 4\n", "4 5\n0.6666667\n"),
             TestCase.stdio("1\n7\n", "8\n0.333\n")]
    r = sb.run(code, tests)
    assert [o.status for o in r.outcomes] == ["passed", "passed", "failed"]
    assert r.outcomes[0].stdout.startswith("1  2  3")
    assert outputs_match("a b\n\n", "a   b") and not outputs_match("1.5", "1.6") and outputs_match("2.0000001", "2.0")
    assert sb.run("import sys\nprint(1)\nsys.exit(0)\n", [TestCase.stdio("", "1")]).status == "passed"
    assert sb.run("import sys\nprint(1)\nsys.exit(2)\n", [TestCase.stdio("", "1")]).status == "runtime_error"


def test_setup_runs_before_the_candidate(sb):
    r = sb.run("def f():\n    return helper() + 1\n", [TestCase.assertion("assert f() == 42")],
               setup="def helper():\n    return 41\n")
    assert r.status == "passed"


def test_no_tests_means_run_once_but_nothing_passes(sb):
    ok, bad = sb.run("x = 1"), sb.run("raise ValueError('no')")
    assert ok.status == "passed" and ok.n_tests == 0 and not ok.all_passed and ok.pass_rate == 0.0
    assert bad.status == "runtime_error" and "ValueError" in bad.message


def test_cache_returns_identical_verdicts_and_counts_hits(sb):
    code, tests = "def f(x):\n    return x\n", [TestCase.call("f", [5], 5)]
    first = sb.run(code, tests)
    hits = sb.stats["cache_hits"]
    second = sb.run(code, tests)
    assert second.cached and not first.cached and sb.stats["cache_hits"] == hits + 1
    assert second.to_dict() == first.to_dict() | {"duration": second.to_dict()["duration"]}
    again = sb.run(code, tests, cache=False)
    assert not again.cached


def test_run_many_keeps_input_order_and_runs_duplicates_once(sb):
    executions = sb.stats["executions"]
    jobs = [(f"def f():\n    return {i}  # order\n", [TestCase.call("f", [], i % 3)]) for i in range(12)]
    jobs.append(jobs[0])
    results = sb.run_many(jobs)  # with the cache on, identical jobs in one batch run once
    assert [r.status == "passed" for r in results] == [i % 3 == i for i in range(12)] + [True]
    assert sb.stats["executions"] == executions + 12


@pytest.mark.timeout(60)  # a deadlock would hang in a blocking write, past every deadline of the sandbox
def test_jobs_queued_in_a_worker_never_deadlock_and_each_reply_meets_its_job():
    """A worker holds the job it runs and the next one, already in its pipe: a long reply (600 KB, more than a
    pipe holds) must not wait on the host writing a long job (200 KB) behind it, and replies stay in order."""
    long_reply = ("def f(n):\n    return 'x' * n\n", [TestCase.call("f", [600_000], "x" * 600_000)])
    long_job = ("def f(n):\n    return n  # " + "y" * 200_000 + "\n", [TestCase.call("f", [5], 5)])
    small = [(f"def f():\n    return {i}\n", [TestCase.call("f", [], i if i != 2 else -1)]) for i in range(4)]
    jobs = [long_reply, small[0], long_job, long_reply, long_job, small[1], small[2], long_reply, small[3]]
    with Sandbox(limits=LIMITS, workers=1, cache=False) as sandbox:
        results = sandbox.run_many(jobs)
        assert [r.status for r in results] == ["passed"] * 6 + ["failed", "passed", "passed"]
        assert sandbox.stats["executions"] == len(jobs) and sandbox.stats["worker_restarts"] == 0


def test_bad_input_gets_clear_errors(sb):
    with pytest.raises(TypeError, match="TestCase"):
        sb.run("x = 1", ["assert x == 1"])
    with pytest.raises(ValueError, match="cpu_seconds"):
        Limits(cpu_seconds=0)
    with pytest.raises(ValueError, match="wall_seconds"):
        Limits(cpu_seconds=5, wall_seconds=1)
    with pytest.raises(ValueError, match="function name"):
        TestCase.call("not a name", [], 1)


def test_isolation_report_is_complete_as_root(sb):
    iso = sb.isolation
    if not iso["root"]:
        pytest.skip("full isolation needs root (or CAP_SYS_ADMIN); see README")
    assert all(iso[k] for k in ("network_namespace", "mount_namespace", "minimal_root", "pid_namespace",
                                "unprivileged_uid")), iso


def test_plain_data_round_trip_and_hostile_values():
    value = {"a": (1, 2.5, float("inf")), 3: {frozenset({1}), (None, True)}, "b": [b"\x00", 1j, range(3)]}
    assert plain.decode(plain.encode(value)) == value
    import collections

    assert plain.to_plain(collections.Counter("aab")) == {"a": 2, "b": 1}
    assert plain.to_plain(collections.namedtuple("P", "x y")(1, 2)) == (1, 2)

    class Liar(list):
        def __iter__(self):
            return iter([4])

    assert plain.to_plain(Liar([1, 2])) == [1, 2]  # read through list's own iterator, not the override
    loop = []
    loop.append(loop)
    with pytest.raises(plain.Unrepresentable):
        plain.to_plain(loop)


def test_exec_result_summary_shape():
    r = ExecResult(status="passed")
    assert r.summary() == {"status": "passed", "n_passed": 0, "n_tests": 0}
