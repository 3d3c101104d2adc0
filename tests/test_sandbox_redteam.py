"""Red team: programs written the way a policy searching for reward would write them.

Every program here is wrong (it cannot pass honestly) and tries to pass anyway: by changing what the test's names
mean, forging reports, exiting early, raising what the harness may not expect, returning values that lie or that
are too large to ship, or breaking the harness's pipes. Each must end as a failure, within its limits, with the
sandbox healthy afterwards. The loopholes of issue 18 (patched builtins, a shadowed ``len``, a patched builtin before
a test that does not decompose) passed before the fix; their tests are marked as such.
"""

from __future__ import annotations

import time

import pytest

from o1coder.execution import Limits, Sandbox
from o1coder.problems import TestCase

LIMITS = Limits(cpu_seconds=1.0, wall_seconds=3.0, memory_mb=512, max_processes=16, file_size_mb=4, output_kb=64)
GOOD = "def f(x):\n    return [1, 2, 3]\n"
SORTED_TEST = TestCase.assertion("assert sorted(f(1)) == [1, 2, 3]")
SCRIPT_TEST = TestCase.assertion("r = f(1)\nfor _ in range(2):\n    pass\nassert sorted(r) == [1, 2, 3]")


@pytest.fixture(scope="module")
def sb():
    with Sandbox(limits=LIMITS, workers=2, cache=False) as sandbox:
        yield sandbox


def fails(sb, code, tests, setup="", budget: float = 10.0):
    """The program must not pass any test, must end within ``budget`` seconds, and the sandbox must still work."""
    started = time.monotonic()
    r = sb.run(code, tests, setup)
    assert time.monotonic() - started < budget, r.to_dict()
    assert r.n_passed == 0 and r.status != "passed", r.to_dict()
    healthy = sb.run(GOOD, [SORTED_TEST, SCRIPT_TEST, TestCase.call("f", [1], [1, 2, 3])])
    assert healthy.status == "passed" and healthy.n_passed == 3, healthy.to_dict()
    return r


# -- names that mean something else (issue 18's loopholes first) ---------------------------------------------------

def test_patching_builtins_module_does_not_reach_the_test(sb):  # passed before the fix
    code = "import builtins\nbuiltins.sorted = lambda *a, **k: [1, 2, 3]\ndef f(x):\n    return [9]\n"
    r = fails(sb, code, [SORTED_TEST])
    assert r.outcomes[0].message == "sorted(f(1)): [9] == [1, 2, 3] is false"


def test_shadowing_a_builtin_at_module_level_does_not_reach_the_test(sb):  # passed before the fix
    fails(sb, "len = lambda x: 3\ndef f(x):\n    return []\n", [TestCase.assertion("assert len(f(1)) == 3")])
    fails(sb, "def len(x):\n    return 3\ndef f(x):\n    return []\n", [TestCase.assertion("assert len(f(1)) == 3")])


def test_patched_builtin_before_a_script_test(sb):  # passed before the fix
    code = "import builtins\nbuiltins.sorted = lambda *a, **k: [1, 2, 3]\ndef f(x):\n    return [9]\n"
    r = fails(sb, code, [SCRIPT_TEST])
    assert r.outcomes[0].status == "failed"


def test_patching_during_the_call_does_not_reach_the_rest_of_the_test(sb):
    code = ("def f(x):\n    import builtins\n    builtins.len = lambda x: 3\n"
            "    builtins.sorted = lambda *a: [1, 2, 3]\n    return []\n")
    fails(sb, code, [TestCase.assertion("r = f(1)\nassert len(r) == 3"),
                     TestCase.assertion("r = f(1)\nassert sorted(r) == [1, 2, 3]")])


def test_patching_a_module_the_test_uses(sb):
    code = "import math\nmath.isclose = lambda *a, **k: True\ndef f(x):\n    return 0.0\n"
    fails(sb, code, [TestCase.assertion("x = f(1)\nassert math.isclose(x, 3.0)")], setup="import math")
    fails(sb, code, [TestCase.assertion("x = f(1)\nassert math.isclose(x, 3.0)")])  # the candidate's own import
    fake = "class math:\n    isclose = staticmethod(lambda *a, **k: True)\ndef f(x):\n    return 0.0\n"
    fails(sb, fake, [TestCase.assertion("x = f(1)\nassert math.isclose(x, 3.0)")], setup="import math")


def test_replacing_a_module_in_sys_modules(sb):
    code = ("import sys, types\nfake = types.ModuleType('math')\nfake.isclose = lambda *a, **k: True\n"
            "sys.modules['math'] = fake\ndef f(x):\n    return 0.0\n")
    fails(sb, code, [TestCase.assertion("import math\nassert math.isclose(f(1), 3.0)")])


def test_rebinding_what_the_setup_defined(sb):
    setup = "def expected_of(x):\n    return 2 * x\n"
    code = "def expected_of(x):\n    return 0\ndef f(x):\n    return 0\n"
    fails(sb, code, [TestCase.assertion("assert f(1) == expected_of(1)")], setup=setup)


def test_fake_assertion_error_changes_nothing(sb):
    code = ("import builtins\nclass Fake(Exception):\n    pass\nbuiltins.AssertionError = Fake\n"
            "def f(x):\n    return [9]\n")
    r = fails(sb, code, [SCRIPT_TEST])
    assert r.outcomes[0].status == "failed"


def test_trace_function_that_jumps_over_the_assert(sb):
    code = ("import sys\n"
            "def skip(frame, event, arg):\n"
            "    if event == 'line' and frame.f_code.co_filename == '<test>' and frame.f_lineno == 2:\n"
            "        frame.f_lineno = 3\n"
            "    return skip\n"
            "def f(x):\n"
            "    caller = sys._getframe(1)\n"
            "    caller.f_trace = skip\n"
            "    sys.settrace(skip)\n"
            "    return [9]\n")
    r = fails(sb, code, [TestCase.assertion("r = f(1)\nassert r == [1, 2, 3]\ny = 0")])
    assert "trace" in r.outcomes[0].message


def test_patching_the_harness_helpers(sb):
    code = ("import sys\nfor name, module in list(sys.modules.items()):\n"
            "    if hasattr(module, 'to_plain'):\n        module.to_plain = lambda v, **k: [1, 2, 3]\n"
            "    if hasattr(module, 'encode') and name in ('plain', 'harness'):\n"
            "        module.encode = lambda v: [1, 2, 3]\n"
            "def f(x):\n    return 0\n")
    fails(sb, code, [TestCase.call("f", [1], [1, 2, 3]), SORTED_TEST])


def test_entry_point_named_like_a_builtin_still_works(sb):
    # MBPP/126's entry point is `sum`: the candidate's `sum` is what its tests call
    code = "def sum(a, b):\n    return a + b\n"
    tests = [TestCase.assertion("assert sum(1, 2) == 3"), TestCase.assertion("assert sum(2, 2) == 4")]
    assert sb.run(code, tests).status == "passed"
    # ...but not when the tests also call a function of the candidate's own: then `sum` is the builtin
    rigged = "def sum(*a):\n    return 6\ndef f(x):\n    return [0]\n"
    fails(sb, rigged, [TestCase.assertion("assert sum(f(1)) == 6")])


# -- forged reports and early exits ----------------------------------------------------------------------------------

def test_forged_reports_on_every_file_descriptor(sb):
    code = ("import os\nfor fd in range(0, 64):\n    try:\n"
            "        os.write(fd, b'{\"state\": \"ok\"}\\n' * 8)\n    except OSError:\n        pass\n"
            "def f(x):\n    return [9]\n")
    fails(sb, code, [SCRIPT_TEST, SCRIPT_TEST, TestCase.call("f", [1], [1, 2, 3])])


def test_patched_os_write_cannot_rewrite_reports(sb):
    code = ("import os\nreal = os.write\n"
            "os.write = lambda fd, data: real(fd, bytes(data).replace(b'\"assert\"', b'\"ok\"'))\n"
            "def f(x):\n    return [9]\n")
    fails(sb, code, [SCRIPT_TEST])


@pytest.mark.parametrize("exit_code", ["import sys\nsys.exit(0)", "import os\nos._exit(0)", "raise SystemExit(0)"])
def test_early_exits(sb, exit_code):
    fails(sb, exit_code + "\ndef f(x):\n    return [9]\n", [SCRIPT_TEST, TestCase.call("f", [1], [1, 2, 3])])
    during = "def f(x):\n" + "".join(f"    {line}\n" for line in exit_code.splitlines())
    fails(sb, during, [SCRIPT_TEST, TestCase.call("f", [1], [1, 2, 3])])


@pytest.mark.parametrize("raised", ["KeyboardInterrupt", "GeneratorExit", "Boom", "SystemExitLike"])
def test_base_exception_subclasses(sb, raised):
    code = ("class Boom(BaseException):\n    def __str__(self):\n        raise Boom()\n"
            "class SystemExitLike(SystemExit):\n    pass\n"
            f"def f(x):\n    raise {raised}()\n")
    fails(sb, code, [SCRIPT_TEST, SORTED_TEST, TestCase.call("f", [1], [1, 2, 3])])


def test_exceptions_and_exits_from_del(sb):
    raising = "class X:\n    def __del__(self):\n        raise AssertionError('ok')\ndef f(x):\n    return [X()]\n"
    fails(sb, raising, [TestCase.call("f", [1], [1, 2, 3]), SORTED_TEST])
    exiting = ("import os\nclass X:\n    def __del__(self):\n        os._exit(0)\n"
               "def f(x):\n    X()\n    return [9]\n")
    fails(sb, exiting, [TestCase.call("f", [1], [1, 2, 3]), SCRIPT_TEST])


def test_closing_or_replacing_the_harness_pipes(sb):
    for hostile in ("import os\nos.close(3)", "import os\nos.dup2(1, 3)", "import os\nos.closerange(0, 256)",
                    "import os\nr, w = os.pipe()\nos.dup2(w, 3)"):
        fails(sb, hostile + "\ndef f(x):\n    return [9]\n", [SCRIPT_TEST, TestCase.call("f", [1], [1, 2, 3])])


def test_binary_garbage_on_stdout_and_stderr(sb):
    code = ("import os, sys\nsys.stdout.buffer.write(os.urandom(20000))\nos.write(2, os.urandom(20000))\n"
            "print('3')\n")
    r = fails(sb, code, [TestCase.stdio("", "3\n")])
    assert r.status == "failed"
    garbage_call = "import os\ndef f(x):\n    os.write(1, os.urandom(5000))\n    return [9]\n"
    fails(sb, garbage_call, [TestCase.call("f", [1], [1, 2, 3])])


# -- values that lie, or are too large ---------------------------------------------------------------------------

@pytest.mark.parametrize("liar", [
    "class L(list):\n    def __eq__(self, other):\n        return True\n    __hash__ = None\nVALUE = L([9])",
    "class I(int):\n    def __eq__(self, other):\n        return True\n    __hash__ = int.__hash__\nVALUE = I(9)",
    "class S(str):\n    def __eq__(self, other):\n        return True\n    __hash__ = str.__hash__\nVALUE = S('no')",
    "class D(dict):\n    def __eq__(self, other):\n        return True\n    def __iter__(self):\n"
    "        return iter([1, 2, 3])\nVALUE = D()",
])
def test_subclasses_that_lie_about_equality(sb, liar):
    code = liar + "\ndef f(x):\n    return VALUE\n"
    fails(sb, code, [TestCase.call("f", [1], [1, 2, 3]), TestCase.assertion("assert f(1) == [1, 2, 3]")])


@pytest.mark.parametrize("body", [
    "return list(range(3_000_000))",  # huge: shipped as a digest, compared on the host
    "x = []\n    for _ in range(100_000):\n        x = [x]\n    return x",  # deep
    "x = []\n    x.append(x)\n    return x",  # cyclic
    "d = {}\n    d['self'] = d\n    return [d]",
    "return 10 ** 20000",  # an int longer than JSON's limit
])
def test_huge_deep_and_cyclic_values(sb, body):
    fails(sb, f"def f(x):\n    {body}\n", [TestCase.call("f", [1], [1, 2, 3]), SORTED_TEST])


def test_large_values_are_compared_not_dropped(sb):
    big = list(range(2_000_000))
    right = "def f(n):\n    return list(range(n))\n"
    r = sb.run(right, [TestCase.call("f", [2_000_000], big), TestCase.call("f", [10], big)])
    assert [o.status for o in r.outcomes] == ["passed", "failed"], r.to_dict()
    off_by_one = "def f(n):\n    out = list(range(n))\n    out[-1] += 1\n    return out\n"
    assert sb.run(off_by_one, [TestCase.call("f", [2_000_000], big)]).status == "failed"
    huge_int = "def f(n):\n    return 7 ** n\n"
    r = sb.run(huge_int, [TestCase.call("f", [30000], 7 ** 30000), TestCase.call("f", [30001], 7 ** 30000)])
    assert [o.status for o in r.outcomes] == ["passed", "failed"], r.to_dict()


# -- time: work, not the number of tests -------------------------------------------------------------------------

def test_a_loop_on_every_input_costs_the_budget_not_every_input():
    tests = [TestCase.call("f", [i], i, reference_seconds=0.001) for i in range(100)]
    with Sandbox(limits=Limits(cpu_seconds=4.0, wall_seconds=10.0), workers=1, cache=False) as sb:
        started = time.monotonic()
        r = sb.run("def f(x):\n    while True:\n        pass\n", tests)
        elapsed = time.monotonic() - started
        assert r.status == "timeout" and r.n_passed == 0 and r.n_tests == 100
        assert sum(o.cpu_seconds for o in r.outcomes) < 6.0, [o.cpu_seconds for o in r.outcomes[:5]]
        assert elapsed < 30.0  # wall time: a shared machine may give the loop less than a core
        assert r.outcomes[0].message == "CPU time limit exceeded (1s)"  # 4x the reference's time, at least 1 s
        assert "budget" in r.outcomes[-1].message and r.outcomes[-1].status == "timeout"
        # a correct program is judged on every input, and a looping one stops at once when only the verdict counts
        assert sb.run("def f(x):\n    return x\n", tests).n_passed == 100
        started = time.monotonic()
        r = sb.run("def f(x):\n    while True:\n        pass\n", tests, stop_on_failure=True)
        assert r.status == "timeout" and r.outcomes[0].cpu_seconds < 1.5 and time.monotonic() - started < 15.0
        assert r.outcomes[1].message == "not run: stopped at the first failed test"


def test_stop_on_failure_keeps_the_verdict_and_the_default_keeps_the_pass_rate(sb):
    code = "def f(x):\n    if x == 1:\n        raise ValueError(x)\n    return x\n"
    tests = [TestCase.call("f", [i], i) for i in range(5)]
    full = sb.run(code, tests)
    assert full.n_passed == 4 and full.status == "runtime_error"
    quick = sb.run(code, tests, stop_on_failure=True)
    assert quick.status == "runtime_error" and quick.n_passed == 1
    assert [o.status for o in quick.outcomes] == ["passed", "runtime_error", "failed", "failed", "failed"]
    wrong = sb.run("def f(x):\n    return 0\n", tests, stop_on_failure=True)  # a wrong value, judged on the host
    assert wrong.status == "failed" and wrong.n_passed == 1


def test_program_budget_stops_a_slow_program(sb):
    slow = "def f(x):\n    t = 0\n    for i in range(4_000_000):\n        t += i\n    return x\n"
    tight = Limits(cpu_seconds=1.0, wall_seconds=3.0, program_cpu_seconds=0.5)
    with Sandbox(limits=tight, workers=1, cache=False) as own:
        r = own.run(slow, [TestCase.call("f", [i], i) for i in range(10)])
    assert r.status == "timeout" and r.n_passed < 10
    assert "budget" in r.outcomes[-1].message
