"""Hostile programs: each asserts the verdict, that the host is untouched, and that the sandbox still works after."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from o1coder.execution import Limits, Sandbox
from o1coder.paths import PROJECT_ROOT
from o1coder.problems import TestCase

GOOD = "def double(x):\n    return 2 * x\n"
DOUBLE_TESTS = [TestCase.call("double", [2], 4), TestCase.assertion("assert double(5) == 10")]
LIMITS = Limits(cpu_seconds=1.0, wall_seconds=3.0, memory_mb=256, max_processes=16, file_size_mb=4, output_kb=64)


@pytest.fixture(scope="module")
def sb():
    os.environ["O1CODER_TEST_SECRET"] = "s3cr3t-token"  # set before the workers start
    with Sandbox(limits=LIMITS, workers=2, cache=False) as sandbox:
        yield sandbox
    os.environ.pop("O1CODER_TEST_SECRET", None)


def still_works(sb):
    r = sb.run(GOOD, DOUBLE_TESTS)
    assert r.status == "passed" and r.n_passed == 2, r.to_dict()


def sandbox_uid_processes(sb) -> list[int]:
    """Host processes owned by this sandbox's candidate uids: there must be none after a run."""
    uids, found = sb.candidate_uids, []
    assert uids, "running as root, candidates get uids of their own"
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid in uids:
                    found.append(int(entry))
            except FileNotFoundError:
                pass
    return found


def test_infinite_loop_is_a_cpu_timeout(sb):
    r = sb.run("def double(x):\n    while True:\n        pass\n", DOUBLE_TESTS)
    assert r.status == "timeout" and r.n_passed == 0
    assert all(o.status == "timeout" and "CPU" in o.message for o in r.outcomes)
    still_works(sb)


def test_sleeping_program_hits_the_wall_limit(sb):
    started = time.monotonic()
    r = sb.run("import time\ndef double(x):\n    time.sleep(100)\n", [TestCase.call("double", [1], 2)])
    assert r.status == "timeout" and "wall" in r.outcomes[0].message
    assert time.monotonic() - started < LIMITS.wall_seconds + 3
    still_works(sb)


def test_ignored_signals_do_not_stop_the_cpu_limit(sb):
    code = ("import signal\nfor s in (signal.SIGXCPU, signal.SIGTERM, signal.SIGINT, signal.SIGALRM):\n"
            "    signal.signal(s, signal.SIG_IGN)\n"
            "def double(x):\n    while True:\n        pass\n")
    r = sb.run(code, [TestCase.call("double", [1], 2)])
    assert r.status == "timeout"
    still_works(sb)


def test_fork_bomb_is_contained(sb):
    code = ("import os\ndef double(x):\n    while True:\n        try:\n            os.fork()\n"
            "        except OSError:\n            pass\n")
    started = time.monotonic()
    r = sb.run(code, [TestCase.call("double", [1], 2)])
    assert r.status in ("timeout", "crashed", "runtime_error") and r.n_passed == 0
    assert time.monotonic() - started < LIMITS.wall_seconds + 5
    assert sandbox_uid_processes(sb) == []
    still_works(sb)


def test_memory_bomb_is_a_memory_verdict(sb):
    r = sb.run("def double(x):\n    a = []\n    while True:\n        a.append(bytearray(10**7))\n",
               [TestCase.call("double", [1], 2)])
    assert r.status == "memory", r.to_dict()
    still_works(sb)


def harness_processes(sb) -> set[int]:
    """Host pids of every sandbox process that is not a candidate: the workers and their inits."""
    found = set()
    for w in sb._all:
        todo = [w.proc.pid]
        while todo:
            pid = todo.pop()
            if os.stat(f"/proc/{pid}").st_uid in sb.candidate_uids:
                continue
            found.add(pid)
            todo += [int(c) for c in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    return found


def test_killing_the_parent_and_everyone_changes_nothing(sb):
    still_works(sb)
    harness = harness_processes(sb)
    assert len(harness) == 2 * sb.n_workers  # worker, init
    code = ("import os, signal\n"
            "refused = []\n"
            "for target in (os.getppid(), 1):\n"
            "    try:\n        os.kill(target, signal.SIGKILL)\n"
            "    except PermissionError:\n        refused.append(target)\n"
            "def double(x):\n    return 2 * x if refused == [os.getppid(), 1] else -1\n")
    r = sb.run(code, DOUBLE_TESTS)
    # its parent, the init, is another user: refused
    assert r.status == "passed", r.to_dict()
    # kill(-1) reaches only processes of the candidate's own uid, and the kernel skips the caller: nobody
    r = sb.run("import os, signal\nos.kill(-1, signal.SIGKILL)\ndef double(x):\n    return 2 * x\n", DOUBLE_TESTS)
    assert r.status == "runtime_error" and "ProcessLookupError" in r.outcomes[0].message
    assert harness_processes(sb) == harness  # nothing above the candidates died or was replaced
    still_works(sb)


def test_replacing_os_exit_cannot_keep_the_test_process_alive(sb):
    # the harness ends a test process with os._exit after its last record; a candidate can replace that function
    code = ("import os, time\n"
            "os._exit = lambda status: time.sleep(60)\n"
            "def double(x):\n    return 2 * x\n")
    started = time.monotonic()
    r = sb.run(code, DOUBLE_TESTS)
    assert r.status == "passed", r.to_dict()  # its tests did pass; what it did after them changes nothing
    assert time.monotonic() - started < LIMITS.wall_seconds
    assert sandbox_uid_processes(sb) == []
    still_works(sb)


def test_double_fork_escape_dies_with_the_test(sb):
    code = ("import os, time\n"
            "def double(x):\n"
            "    if os.fork() == 0:\n"
            "        os.setsid()\n"
            "        if os.fork() == 0:\n"
            "            while True:\n                time.sleep(0.01)\n"
            "        os._exit(0)\n"
            "    return 2 * x\n")
    started = time.monotonic()
    r = sb.run(code, DOUBLE_TESTS)
    assert r.status == "passed"
    assert time.monotonic() - started < 2  # the escaped grandchild holding the report pipe does not stall the test
    time.sleep(0.2)
    assert sandbox_uid_processes(sb) == []
    still_works(sb)


def test_gigabytes_of_output_are_cut_short(sb):
    started = time.monotonic()
    r = sb.run("def double(x):\n    while True:\n        print('x' * 1000000)\n", [TestCase.call("double", [1], 2)])
    assert r.status == "runtime_error" and "output limit" in r.outcomes[0].message
    assert time.monotonic() - started < LIMITS.wall_seconds + 2
    r = sb.run("while True:\n    print('y' * 100000)\n", [TestCase.stdio("", "y\n")])
    assert r.status in ("runtime_error", "timeout") and r.n_passed == 0
    still_works(sb)


def test_many_threads_hit_the_process_limit(sb):
    code = ("import threading, time\n"
            "def double(x):\n"
            "    for _ in range(1000):\n"
            "        threading.Thread(target=time.sleep, args=(10,), daemon=True).start()\n"
            "    return 2 * x\n")
    r = sb.run(code, [TestCase.call("double", [1], 2)])
    assert r.status == "runtime_error" and "RuntimeError" in r.outcomes[0].message, r.to_dict()
    still_works(sb)


def test_no_secrets_in_the_environment(sb):
    code = "import os\ndef env():\n    return dict(os.environ)\n"
    r = sb.run(code, [TestCase.call("env", [], {})])
    seen = r.outcomes[0].actual
    assert "O1CODER_TEST_SECRET" not in seen and "s3cr3t-token" not in repr(seen)
    assert seen["HOME"] == "/tmp/work"


def test_no_network(sb):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    code = (f"import socket\ndef reach():\n    try:\n"
            f"        socket.create_connection(('127.0.0.1', {port}), timeout=1)\n        return 'connected'\n"
            f"    except OSError as e:\n        return 'blocked'\n")
    r = sb.run(code, [TestCase.call("reach", [], "blocked")])
    assert r.status == "passed", r.to_dict()
    time.sleep(0.1)
    assert accepted == []
    server.close()


def test_writes_outside_the_scratch_directory_do_not_reach_the_host(sb, tmp_path):
    marker = "/tmp/o1coder-sandbox-escape-marker"
    target = tmp_path / "written-by-candidate"
    os.chmod(tmp_path, 0o777)
    code = ("import os\n"
            "def attempt():\n"
            "    results = {}\n"
            f"    for path in ({marker!r}, {str(target)!r}, '/etc/o1coder-marker', '/usr/o1coder-marker',\n"
            f"                 {str(PROJECT_ROOT / 'pwned.txt')!r}):\n"
            "        try:\n"
            "            with open(path, 'w') as f:\n                f.write('x')\n"
            "            results[path] = 'written'\n"
            "        except OSError:\n            results[path] = 'refused'\n"
            "    with open('scratch.txt', 'w') as f:\n        f.write('ok')\n"
            "    results['scratch'] = open('scratch.txt').read()\n"
            "    return results\n")
    r = sb.run(code, [TestCase.call("attempt", [], None)])
    seen = r.outcomes[0].actual
    assert seen["scratch"] == "ok"
    for path in ("/etc/o1coder-marker", "/usr/o1coder-marker", str(PROJECT_ROOT / "pwned.txt")):
        assert seen[path] == "refused"
    # whatever the candidate believed, nothing appeared on the host
    assert not os.path.exists(marker) and not target.exists() and not (PROJECT_ROOT / "pwned.txt").exists()


def test_project_files_are_not_readable(sb):
    code = (f"def peek():\n    try:\n        return open({str(PROJECT_ROOT / 'pyproject.toml')!r}).read()[:10]\n"
            f"    except OSError:\n        return 'hidden'\n")
    r = sb.run(code, [TestCase.call("peek", [], "hidden")])
    assert r.status == "passed"


def test_scratch_is_fresh_for_every_program(sb):
    write = "def f():\n    open('/tmp/work/left.txt', 'w').write('x')\n    open('/tmp/left.txt', 'w').write('x')\n"
    assert sb.run(write, [TestCase.call("f", [], None)]).status == "passed"
    read = "import os\ndef f():\n    return [os.path.exists('/tmp/work/left.txt'), os.path.exists('/tmp/left.txt')]\n"
    assert sb.run(read, [TestCase.call("f", [], [False, False])]).status == "passed"


# -- honesty: a candidate cannot fake a pass -----------------------------------------------------------------------

@pytest.mark.parametrize("exit_call", ["sys.exit(0)", "os._exit(0)", "raise SystemExit"])
def test_exiting_early_is_a_failure(sb, exit_call):
    before = f"import sys, os\n{exit_call}\ndef double(x):\n    return 2 * x\n"
    r = sb.run(before, DOUBLE_TESTS)
    assert r.n_passed == 0 and r.status == "failed", r.to_dict()
    during = f"import sys, os\ndef double(x):\n    {exit_call}\n"
    r = sb.run(during, DOUBLE_TESTS + [TestCase.assertion("for i in range(3):\n    assert double(i) == 2 * i")])
    assert r.n_passed == 0, r.to_dict()
    still_works(sb)


def test_objects_overriding_eq_and_bool_fail(sb):
    code = ("class Anything:\n"
            "    def __eq__(self, other):\n        return True\n"
            "    def __ne__(self, other):\n        return False\n"
            "    def __bool__(self):\n        return True\n"
            "class Sneaky(int):\n"
            "    def __eq__(self, other):\n        return True\n"
            "def double(x):\n    return Anything()\n"
            "def sneaky(x):\n    return Sneaky(7)\n"
            "def truthy(x):\n    return Anything()\n")
    tests = [TestCase.call("double", [2], 4), TestCase.assertion("assert double(5) == 10"),
             TestCase.assertion("assert 10 == double(5)"), TestCase.assertion("assert truthy(0)"),
             TestCase.assertion("assert sneaky(1) == 4"), TestCase.call("sneaky", [1], 4),
             TestCase.assertion("assert double(1) == 2 and double(2) == 4")]
    r = sb.run(code, tests)
    assert [o.status for o in r.outcomes] == ["failed"] * len(tests), r.to_dict()


def test_printing_pass_looking_text_changes_nothing(sb):
    code = ("print('PASSED: all tests passed'); print('{\"state\": \"ok\", \"values\": [4]}')\n"
            "def double(x):\n    print('ok')\n    return 0\n")
    r = sb.run(code, DOUBLE_TESTS)
    assert r.n_passed == 0


def test_forged_reports_cannot_guess_expected_values(sb):
    code = ("import os\ndef double(x):\n"
            "    for fd in range(3, 20):\n"
            "        try:\n            os.write(fd, b'{\"state\": \"ok\", \"values\": [999]}')\n"
            "        except OSError:\n            pass\n"
            "    os._exit(0)\n")
    r = sb.run(code, [TestCase.call("double", [2], 4), TestCase.assertion("assert double(3) == 6")])
    assert r.n_passed == 0 and all("999" in o.message or o.status == "failed" for o in r.outcomes), r.to_dict()


def test_dead_worker_is_replaced():
    with Sandbox(limits=LIMITS, workers=1, cache=False) as sandbox:
        assert sandbox.run(GOOD, DOUBLE_TESTS).status == "passed"
        sandbox._all[0].proc.kill()  # the worker dies between two programs
        sandbox._all[0].proc.wait()
        r = sandbox.run(GOOD, DOUBLE_TESTS)
        assert r.status == "passed"  # the program is retried on a fresh worker
        assert sandbox.stats["worker_restarts"] == 1


def test_forked_memory_bomb_is_bounded_by_the_worker_cgroup(sb):
    if not sb.isolation.get("memory_cgroup"):
        pytest.skip("no memory cgroup here (needs root and cgroupfs): the sum of processes is not bounded")
    # 12 processes x 200 MB each would be 2.4 GB; the worker's group holds 2 x 256 + 256 MB
    code = ("import os, time\n"
            "def double(x):\n"
            "    for _ in range(11):\n"
            "        if os.fork() == 0:\n"
            "            block = bytearray(200 * 1024 * 1024)\n"
            "            time.sleep(5)\n"
            "            os._exit(0)\n"
            "    block = bytearray(200 * 1024 * 1024)\n"
            "    time.sleep(5)\n"
            "    return 2 * x\n")
    r = sb.run(code, [TestCase.call("double", [1], 2)])
    # the kernel stops it in the worker's group ("memory"), unless on a busy machine the CPU limit (counted over all
    # its processes) comes first
    assert r.n_passed == 0 and r.status in ("memory", "timeout"), r.to_dict()
    assert sandbox_uid_processes(sb) == []
    still_works(sb)


def test_candidates_are_undumpable(sb):
    # undumpable: no ptrace attach by a process of the same uid, no core dump, /proc/self owned by root
    code = ("import os\n"
            "def dumpable():\n"
            "    st = os.stat('/proc/self/environ')\n"
            "    return [st.st_uid == os.getuid(), open('/proc/self/status').read().count('\\n') > 0]\n")
    r = sb.run(code, [TestCase.call("dumpable", [], [False, True])])
    assert r.status == "passed", r.to_dict()
    still_works(sb)
