"""Runs inside the sandbox worker's PID namespace, as its init: one program at a time.

The init compiles the program, then forks a test process that executes setup + candidate code once and runs the
tests in order, streaming one JSON record per test on a private pipe (as MBPP/HumanEval harnesses do, the tests of
one program share its process). The init never executes candidate code; it measures each test's CPU time itself
(from /proc) and kills the test process when a test overruns its CPU or wall limit, or when it crashes; the
remaining tests then continue in a fresh test process. Programs that read stdin get one process per test.

What a test process reports is only ever an *observation* (the value returned, what was printed, whether a script
test's assertion held); the verdict is computed outside the sandbox. Stdlib-only.

A candidate shares its test process with the tests, so it could try to change what the tests' names mean: rebind
``len`` at module level, patch ``builtins.sorted`` or ``math.isclose``. Tests therefore run in globals of their own
(see :class:`_Meanings`), where builtins and modules are the ones the init saw before any candidate existed; the
harness's own code looks its builtins up in a private copy too, and each report carries a per-process token the
candidate's code is never handed, so a line it writes on the report pipe is not taken for a report.
"""

from __future__ import annotations

import builtins
import errno
import functools
import itertools
import json
import operator
import os
import select
import signal
import sys
import time
import types

import plain  # noqa: I001 - the worker puts this folder on sys.path; these are the sibling modules
from isolation import Isolation, apply_rlimits, drop_privileges, kill_all_but_me, rlimits_for

HARNESS_DIR = "/tmp/.harness"
WORK_DIR = "/tmp/work"
MAX_RECORD = 8 * 1024 * 1024  # bytes of JSON a test process may send back for one test
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WALL_GRACE = 3  # a runnable (CPU-starved) test may run up to this many wall limits
CLEAN_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "HOME": WORK_DIR,
    "TMPDIR": WORK_DIR,
    "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
# The worker is started with exactly CLEAN_ENV and its init never runs candidate code, so this holds for its life.
_ENV_IS_CLEAN = dict(os.environ) == CLEAN_ENV
_OOM_SCORE_ADJ = b"1000"
MAX_VALUE_JSON = 2 * 1024 * 1024  # a returned value larger than this (as JSON) is sent as its digest

# Taken when the worker imports this module, before any candidate code exists; every test process is forked from
# there. The harness's functions below look builtins up in PRISTINE_BUILTINS (a function's builtins are fixed when
# it is defined), so patching the `builtins` module does not reach them.
PRISTINE_BUILTINS = dict(builtins.__dict__)
__builtins__ = PRISTINE_BUILTINS  # noqa: A001
_MODULES: dict[str, tuple[types.ModuleType, dict]] = {}  # name -> (module, its namespace before any candidate)
_BY_ID: dict[int, dict] = {}  # id(module) -> that saved namespace
_SEEN = [0]  # len(sys.modules) when the modules were last saved (it also holds entries that are not modules)
_HARNESS_MODULES = ("harness", "plain")
_gettrace, _getprofile, _settrace, _setprofile = sys.gettrace, sys.getprofile, sys.settrace, sys.setprofile


def snapshot_modules() -> None:
    """Called by the worker once its modules are imported: what each module holds before any candidate runs."""
    _new_modules_seen()


def run_job(job: dict, iso: Isolation, uid: int | None) -> dict:
    """Run one program against its test plans; return {"compiled", "message", "records"}."""
    limits = job["limits"]
    if iso.fresh_scratch(limits["scratch_mb"]) or not os.path.isdir(WORK_DIR):
        os.makedirs(HARNESS_DIR, mode=0o700, exist_ok=True)
        os.makedirs(WORK_DIR, mode=0o700, exist_ok=True)
        if uid is not None and os.geteuid() == 0:
            os.chown(WORK_DIR, uid, uid)
    _new_modules_seen()  # what the init imported since the last program (its own code: no candidate ran here)
    compiled = _compile(job)
    if isinstance(compiled, str):
        return {"compiled": False, "message": compiled, "records": []}
    plans = job["plans"] or [{"kind": "load"}]
    cpu_limits = job.get("cpu_limits") or [float(limits["cpu_seconds"])] * len(plans)
    budget = float(job.get("budget") or float(limits["cpu_seconds"]) * 2)
    stop_on_failure = bool(job.get("stop_on_failure"))
    records: list[dict] = []
    index, spent, stopped = 0, 0.0, ""
    while index < len(plans):
        # stdio programs (and the bare "does it run" check) get a process per test; other tests share one
        if plans[index]["kind"] in ("stdio", "load"):
            batch = [index]
        else:
            end = index
            while end < len(plans) and plans[end]["kind"] not in ("stdio", "load"):
                end += 1
            batch = list(range(index, end))
        watch = _Watch(limits, cpu_limits, budget - spent, stop_on_failure)
        try:
            done = _run_batch(batch, plans, compiled, limits, iso, uid, watch)
        finally:
            _clean_up(iso)
        records.extend(done)
        index = batch[0] + len(done)
        spent += sum(r["cpu"] for r in done)
        if watch.over_budget or spent > budget:
            stopped = "budget"
        elif stop_on_failure and any(r["state"] != "ok" for r in done):
            stopped = "failure"
        if stopped:
            break
    return {"compiled": True, "message": "", "records": records, "stopped": stopped, "budget": budget}


class _Watch:
    """What the init enforces on one test process: each test's CPU limit, the program's remaining CPU budget, and
    (for hidden-test scoring) the first failed test as the end."""

    def __init__(self, limits: dict, cpu_limits: list, budget_left: float, stop_on_failure: bool):
        self.wall_limit = float(limits["wall_seconds"])
        self.memory_mb = int(limits["memory_mb"])
        self.cpu_limits = cpu_limits
        self.budget_left = budget_left
        self.stop_on_failure = stop_on_failure
        self.over_budget = False


def _clean_up(iso: Isolation) -> None:
    if iso.pidns:
        kill_all_but_me()  # every process a test left behind, double-forked or not


def _compile(job: dict):
    """Compile setup, candidate and test code once. Returns the code objects, or the candidate's compile error."""
    try:
        setup = _compile_cached(job.get("setup") or "", "<setup>", "exec")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as e:
        return f"setup code does not compile: {_one_line(e)}"
    try:
        code = compile(job["code"], "<candidate>", "exec")
    except (SyntaxError, ValueError, MemoryError, RecursionError, OverflowError) as e:
        return _one_line(e)
    tests = []
    for p in job["plans"]:
        try:
            if p["kind"] == "script":
                tests.append(_compile_cached(p["code"], "<test>", "exec"))
            elif p["kind"] == "exprs":
                tests.append([_compile_cached(x, "<test>", "eval") for x in p["exprs"]])
            else:
                tests.append(None)
        except (SyntaxError, ValueError) as e:
            tests.append(f"the test itself does not compile: {_one_line(e)}")
    return {"setup": setup, "code": code, "tests": tests or [None]}


@functools.lru_cache(maxsize=4096)
def _compile_cached(source: str, filename: str, mode: str):
    """Setup and test code repeat across the programs of a search: compile them once (code objects are immutable)."""
    return compile(source, filename, mode)


# -- the init's side: one test process, watched ------------------------------------------------------------------

def _run_batch(batch: list[int], plans, compiled, limits, iso, uid, watch: _Watch) -> list[dict]:
    """Run tests ``batch`` in one test process. Returns records for a prefix of the batch (at least one test):
    all of it, or up to and including the test that overran, crashed or exited."""
    first = batch[0]
    stdin_path = os.devnull
    if plans[first]["kind"] == "stdio":
        stdin_path = os.path.join(HARNESS_DIR, "stdin")
        with open(stdin_path, "w", encoding="utf-8") as f:
            f.write(plans[first].get("stdin") or "")
    out_path, err_path = os.path.join(HARNESS_DIR, "stdout"), os.path.join(HARNESS_DIR, "stderr")
    fds = [os.open(stdin_path, os.O_RDONLY),
           os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
           os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)]
    read_end, write_end = os.pipe()
    rlimits = rlimits_for(limits, n_tests=len(batch), cpu_total=watch.budget_left)
    token = os.urandom(12).hex().encode()  # proves a report line came from the harness, not the candidate
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            _test_process(batch, plans, compiled, fds, write_end, rlimits, uid, token)
        finally:
            os._exit(99)
    for fd in (*fds, write_end):
        os.close(fd)
    try:
        records = _watch(pid, read_end, batch, watch, iso.pidns, token)
    finally:
        os.close(read_end)
    if not iso.pidns:
        try:
            os.killpg(pid, signal.SIGKILL)  # without a PID namespace the test's process group is the unit
        except (ProcessLookupError, PermissionError):
            pass
    if plans[first]["kind"] == "stdio" and records and records[0]["state"] == "ok":
        records[0].update(_read_stdout(out_path, limits))
    if records and records[-1]["state"] == "crashed":
        tail = _tail(err_path)
        if tail:
            records[-1]["message"] += f": {tail}"
    return records


def _watch(pid: int, fd: int, batch: list[int], watch: _Watch, whole_ns: bool, token: bytes) -> list[dict]:
    """Collect per-test records; stop the process at a test's CPU or wall limit, at the program's budget, or (when
    asked) at the first failed test; describe how it ended."""
    wall_limit = watch.wall_limit
    cpu_limit = watch.cpu_limits[batch[0]]
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    pidfd = os.pidfd_open(pid)
    poller.register(pidfd, select.POLLIN)
    os.set_blocking(fd, False)
    records: list[dict] = []
    buffer = b""
    test_cpu_start, test_wall_start = 0.0, time.monotonic()
    stopped = None  # why the init killed the test process
    exited = False
    cpu = 0.0
    quiet = False  # the last poll timed out: a test is taking a while, so check its limits
    try:
        while len(records) < len(batch):
            if quiet:  # limits are only checked when a test has been running a while (cheap common case)
                cpu, state = _cpu_and_state_of(pid, whole_ns)
                waited = time.monotonic() - test_wall_start
                if cpu > watch.budget_left:
                    stopped = f"CPU time limit exceeded (the program's budget, {watch.budget_left:.2f}s left)"
                    watch.over_budget = True
                elif cpu - test_cpu_start > cpu_limit:
                    stopped = f"CPU time limit exceeded ({cpu_limit:g}s)"
                elif waited > wall_limit and (state != "R" or waited > WALL_GRACE * wall_limit):
                    # past the wall limit a runnable process is only starved by a busy machine: it may go on
                    # (up to WALL_GRACE times the limit), since its CPU time will decide; a sleeping one is stopped
                    stopped = f"wall time limit exceeded ({wall_limit}s)"
            if stopped or exited:
                break
            events = poller.poll(50)
            quiet = not events
            exited = any(f == pidfd for f, _ in events)
            while True:  # drain what is there
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    break
                if not chunk:
                    exited = True
                    break
                buffer += chunk
                if len(buffer) > MAX_RECORD:
                    stopped = "the test process sent more than the harness accepts"
                    break
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if len(records) >= len(batch):
                    break
                now_cpu = _cpu_and_state_of(pid)[0]
                record = _parse_report(line, token)
                record["cpu"] = max(0.0, now_cpu - test_cpu_start)
                records.append(record)
                test_cpu_start, test_wall_start = now_cpu, time.monotonic()
                if len(records) < len(batch):
                    cpu_limit = watch.cpu_limits[batch[len(records)]]
                if now_cpu > watch.budget_left:
                    watch.over_budget = True
                if watch.over_budget or (watch.stop_on_failure and record["state"] != "ok"):
                    stopped = stopped or "stopped"
                    break
    finally:
        # every record is in, or the test process is stopped: either way it is done. (A candidate that replaced
        # os._exit would otherwise keep its process alive after the last record, and this wait would never end.)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _, status, usage = os.wait4(pid, 0)
        os.close(pidfd)
    if len(records) < len(batch) and stopped != "stopped":  # the test in progress did not report: how it ended
        spent = max(cpu, usage.ru_utime + usage.ru_stime) - test_cpu_start
        record = _how_it_ended(status, usage, stopped, cpu_limit, watch.memory_mb, spent)
        record["cpu"] = max(0.0, spent)
        records.append(record)
    for record, i in zip(records, batch):
        record["index"] = i
        limit = watch.cpu_limits[i]
        if record["state"] == "ok" and record["cpu"] > limit:  # finished, but too slow: a timeout
            record.update(state="timeout", message=f"CPU time limit exceeded ({record['cpu']:.2f}s > {limit:g}s)")
    return records


def _cpu_and_state_of(pid: int, whole_namespace: bool = False) -> tuple[float, str]:
    """CPU seconds (user + system) and scheduler state ("R" runnable, "S" sleeping...) of the test process, read by
    the init from /proc, never reported by the candidate. In a PID namespace the CPU time is that of every process
    but the init (with what they reaped), so a fork bomb's children count against the test that spawned them."""
    cpu, state = _stat(pid)
    if whole_namespace:
        me = os.getpid()
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) not in (me, pid):
                cpu += _stat(int(entry))[0]
    return cpu, state


def _stat(pid: int) -> tuple[float, str]:
    try:  # os-level calls: read once per test, this is on every program's path
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
        try:
            data = os.read(fd, 4096)
        finally:
            os.close(fd)
        fields = data.rsplit(b")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])  # own + reaped children
        return ticks / CLOCK_TICKS, fields[0].decode()
    except (OSError, IndexError, ValueError):
        return 0.0, "?"


def _parse_report(line: bytes, token: bytes) -> dict:
    if not line.startswith(token):
        return {"state": "runtime_error", "message": "something other than the harness wrote on the report pipe"}
    try:
        report = json.loads(line[len(token):].decode("utf-8", errors="replace"))
        if not isinstance(report, dict):
            raise ValueError("not a report")
    except (ValueError, RecursionError):
        return {"state": "crashed", "message": "the test process sent a malformed report"}
    state = report.get("state")
    if state not in ("ok", "assert", "exited", "unplain", "runtime_error", "memory"):
        return {"state": "crashed", "message": "the test process sent a malformed report"}
    out = {"state": state, "message": str(report.get("message", ""))[:500]}
    if state == "ok" and isinstance(report.get("values"), list):
        out["values"] = report["values"]
    return out


def _how_it_ended(status: int, usage, stopped: str | None, cpu_limit: float, memory_mb: int, spent: float) -> dict:
    if stopped:
        return {"state": "timeout" if "limit exceeded" in stopped else "runtime_error", "message": stopped}
    if spent > cpu_limit:
        return {"state": "timeout", "message": f"CPU time limit exceeded ({cpu_limit:g}s)"}
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return {"state": "timeout", "message": "CPU time limit exceeded"}
        if sig == signal.SIGXFSZ:
            return {"state": "runtime_error", "message": "output limit exceeded (file size limit)"}
        if usage.ru_maxrss / 1024 > 0.8 * memory_mb:
            return {"state": "memory", "message": f"memory limit exceeded ({memory_mb} MB)"}
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return {"state": "crashed", "message": f"killed by {name}"}
    code = os.WEXITSTATUS(status)
    return {"state": "exited", "message": f"exited with status {code} before the test finished"}


# -- the candidate's side ------------------------------------------------------------------------------------------

def _test_process(batch, plans, compiled, fds, result_fd, rlimits, uid, token: bytes) -> None:
    """Limits, privilege drop, clean environment; then setup + candidate once, then the tests, one record each.

    Everything here runs after a fork: each page of the init's memory it writes (a reference count is a write) is
    copied, and these copies are most of a test process's cost. So it does as little as it can, with os-level calls,
    and what can be computed before the fork (limits, the environment check) is."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    report_fd = os.dup2(result_fd, 3) if result_fd != 3 else 3
    os.closerange(4, 1 << 16)
    os.setsid()
    try:  # under memory pressure in the worker's cgroup, the kernel kills candidates first, never the harness
        oom = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
        os.write(oom, _OOM_SCORE_ADJ)
        os.close(oom)
    except OSError:
        pass
    apply_rlimits(rlimits)
    drop_privileges(uid)
    os.chdir(WORK_DIR)
    if not _ENV_IS_CLEAN:  # the worker is normally started with exactly this environment
        os.environ.clear()
        os.environ.update(CLEAN_ENV)
    # sys.stdin/stdout/stderr already wrap fds 0-2 (now the test's files) with empty buffers: the init never reads
    # or writes them. Only a candidate that replaced them in the init could matter, and the init runs none.
    sys.argv = ["solution.py"]
    program_kind = plans[batch[0]]["kind"]
    namespace = {"__name__": "__main__" if program_kind in ("stdio", "load") else "solution",
                 "__builtins__": builtins}
    setup_names: dict = {}
    loaded = _load(namespace, compiled, program_kind, setup_names)
    _restore(_HARNESS_MODULES)  # and again after each test: what the candidate changed there is undone first
    meanings = None
    for i in batch:
        if loaded is not None:
            report = loaded
        else:
            if meanings is None and plans[i]["kind"] in ("exprs", "script"):
                meanings = _Meanings(namespace, setup_names, plans)
            report = _run_test(plans[i], compiled["tests"][i], namespace, meanings)
        _send(report_fd, token, report)
    _os_exit(0)


def _load(namespace: dict, compiled: dict, program_kind: str, setup_names: dict) -> dict | None:
    """Execute setup + candidate. None when it loaded; else the report every test gets. ``setup_names`` receives
    what the setup defined, before the candidate could rebind it."""
    whole_program = program_kind in ("stdio", "load")
    try:
        exec(compiled["setup"], namespace)
        setup_names.update(namespace)
        _new_modules_seen()
        exec(compiled["code"], namespace)
    except SystemExit as e:
        if whole_program:
            return _flushed({"state": "ok"} if e.code in (None, 0) else
                            {"state": "runtime_error", "message": f"exited with status {e.code!r}"})
        return {"state": "exited", "message": "the program exited while loading, before the test ran"}
    except BaseException as e:  # noqa: BLE001 - any failure of candidate code is a verdict, not a crash
        return _error_record(e)
    return _flushed({"state": "ok"}) if whole_program else None


def _flushed(report: dict) -> dict:
    try:
        sys.stdout.flush()
    except BaseException:  # noqa: BLE001 - the candidate may have broken stdout
        pass
    return report


def _run_test(test_plan: dict, test_code, namespace: dict, meanings: _Meanings | None) -> dict:
    if isinstance(test_code, str):  # the test itself did not compile
        return {"state": "runtime_error", "message": test_code}
    kind = test_plan["kind"]
    try:
        if kind == "call":
            fn = namespace.get(test_plan["fn"])
            if fn is None:
                return {"state": "runtime_error", "message": f"name {test_plan['fn']!r} is not defined"}
            values = [fn(*plain.decode(test_plan["args"]))]
        elif kind == "exprs":
            test_globals = meanings.globals_for(test_plan)
            values = [eval(expr, test_globals) for expr in test_code]
        else:  # script
            exec(test_code, meanings.globals_for(test_plan))
            values = None
    except SystemExit:
        return _untraced({"state": "exited", "message": "the program exited during the test"})
    except AssertionError as e:
        return _untraced({"state": "assert", "message": _one_line(e, traceback=True) or "assertion failed"})
    except BaseException as e:  # noqa: BLE001
        return _untraced(_error_record(e))
    report = _untraced({"state": "ok"})
    if report["state"] != "ok" or values is None:
        return report
    try:
        return {"state": "ok", "values_json": [_value_json(v) for v in values]}
    except (plain.Unrepresentable, ValueError, TypeError) as e:
        return {"state": "unplain", "message": f"returned a value that is not plain data: {_one_line(e)}"}
    except RecursionError:
        return {"state": "unplain", "message": "returned a value nested too deeply"}


def _untraced(report: dict) -> dict:
    """A trace function installed by the candidate could steer the test's own lines (jump over an assert): such a
    test fails, and the harness removes the function before it goes on."""
    _restore(_HARNESS_MODULES)
    if _gettrace() is not None or _getprofile() is not None:
        _settrace(None)
        _setprofile(None)
        return {"state": "runtime_error", "message": "the program installed a trace or profile function"}
    return report


def _value_json(value) -> str:
    """A returned value as tagged JSON; a value too large or deep to ship (more than plain.MAX_NODES parts, deeper
    than plain.MAX_DEPTH, over MAX_VALUE_JSON bytes, an int too long for JSON) goes as its digest instead, which the
    host compares with the expected value's."""
    try:
        if _too_many_parts(value):
            raise plain.Unrepresentable("too many parts")
        text = "".join(_encode(plain.encode(plain.to_plain(value)), 0))
        if len(text) <= MAX_VALUE_JSON:
            return text
    except (plain.Unrepresentable, ValueError, RecursionError):
        pass
    return "".join(_encode(plain.encode(plain.digest(value)), 0))


def _too_many_parts(value) -> bool:
    """Whether a container has more than plain.MAX_NODES parts, where that shows at C speed: its length, or for a
    list or tuple of lists and tuples (EvalPlus's combinations), the lengths of its items. A plain copy would find
    out only after a million parts."""
    if not isinstance(value, (list, tuple, dict, set, frozenset)):
        return False
    if len(value) > plain.MAX_NODES:
        return True
    exact = type(value) is list or type(value) is tuple
    return exact and set(map(type, value)) <= _SEQUENCES and len(value) + sum(map(len, value)) > plain.MAX_NODES


_SEQUENCES = frozenset({list, tuple})


class _Meanings:
    """Gives the names a test uses the meaning they have in a fresh interpreter.

    A test runs in globals of its own: the candidate's names (its entry point and helpers) except the names that
    mean something without it: builtins (looked up in the init's pristine copy) and modules (the module objects the
    init or the setup imported, their namespaces put back as they were). What the setup defined wins over whatever
    the candidate rebound. One exception keeps problems whose entry point is named like a builtin working (MBPP's
    ``sum``): when the tests call no function of the candidate's other than such names, the one the candidate
    defines with ``def`` that every test calls keeps the candidate's meaning.
    """

    def __init__(self, namespace: dict, setup_names: dict, plans: list):
        self.namespace = namespace
        self.setup_names = setup_names
        judged = [p for p in plans if p["kind"] in ("exprs", "script")]
        called_any = set().union(*(p.get("calls", ()) for p in judged))
        called_all = set(judged[0].get("calls", ())).intersection(*(p.get("calls", ()) for p in judged[1:]))
        own = {n for n in called_any if _defined_by_candidate(namespace.get(n)) and n not in setup_names}
        meaningful = {n for n in own if n in PRISTINE_BUILTINS or n in _MODULES}
        shadowing = meaningful & called_all
        self.entry_point = shadowing if not (own - meaningful) and len(shadowing) == 1 else set()

    def globals_for(self, plan: dict) -> dict:
        test_globals = dict(self.namespace)
        modules = []  # the harness's own modules were put back after the load and after the previous test
        for name in plan.get("names", ()):
            if name in self.setup_names and not name.startswith("__"):
                test_globals[name] = self.setup_names[name]
            elif name in self.entry_point:
                continue
            elif name in _MODULES and name in test_globals:
                test_globals[name] = _MODULES[name][0]
            elif name in PRISTINE_BUILTINS:
                test_globals.pop(name, None)
            value = test_globals.get(name)
            if isinstance(value, types.ModuleType):
                modules.append(value)
            if name in _MODULES:
                modules.append(name)
        test_globals["__builtins__"] = PRISTINE_BUILTINS
        _restore(modules, plan.get("attrs", ()))
        return test_globals


def _defined_by_candidate(value) -> bool:
    return isinstance(value, types.FunctionType) and value.__code__.co_filename == "<candidate>"


_SAME = operator.is_
_NEVER_BOUND = itertools.repeat(object())  # what a name missing from a namespace reads as: no saved value is it


def _restore(modules, attributes=(), same=_SAME, missing=_NEVER_BOUND) -> None:
    """Put modules (objects or sys.modules names) back as the init or the setup left them: sys.modules entries,
    namespaces, and the submodules among ``attributes``. (``same`` and ``missing`` are bound here, when the worker
    imports this module: a candidate patching the ``operator`` module cannot change them.)"""
    for module in modules:
        if isinstance(module, str):
            entry = _MODULES.get(module)
            if entry is None:
                continue
            if sys.modules.get(module) is not entry[0]:
                sys.modules[module] = entry[0]
            module = entry[0]
        saved = _BY_ID.get(id(module))
        if saved is None:
            continue
        current = module.__dict__
        # every name still bound to the very object it had: compared by identity, in C (no candidate __eq__ runs)
        if len(current) != len(saved) or not all(map(same, map(current.get, saved, missing), saved.values())):
            current.clear()
            current.update(saved)
        for attr in attributes:
            sub = saved.get(attr)
            if isinstance(sub, types.ModuleType) and sub is not module:
                _restore([sub])


def _new_modules_seen() -> None:
    """Save the namespaces of modules imported since the last call: by the init (before each program, so once per
    worker, not in every test process) and, in a test process, by the problem's setup, which makes them part of the
    problem. The common case, nothing new, is one length check: walking ``sys.modules`` touches every module object,
    and in a test process each touched page is a copy."""
    if len(sys.modules) == _SEEN[0]:
        return
    for name, module in list(sys.modules.items()):
        if name not in _MODULES and isinstance(module, types.ModuleType):
            saved = dict(module.__dict__)
            _MODULES[name] = (module, saved)
            _BY_ID[id(module)] = saved
    _SEEN[0] = len(sys.modules)


# Built once in the init: json.dumps would build a new encoder in every test process, for every record. (The C
# encoder's arguments: no cycle check, no default, ASCII strings, no indent, compact separators, unsorted keys, no
# key skipping, NaN allowed; the pure-Python encoder stands in where the C module is missing.)
if json.encoder.c_make_encoder is not None:
    _encode = json.encoder.c_make_encoder(None, None, json.encoder.encode_basestring_ascii, None, ":", ",", False,
                                          False, True)
else:
    _encode = json.JSONEncoder(check_circular=False, separators=(",", ":")).iterencode


def _send(fd: int, token: bytes, report: dict) -> None:
    values = report.pop("values_json", None)
    try:
        payload = "".join(_encode(report, 0))
    except (ValueError, TypeError, RecursionError):
        payload = '{"state":"runtime_error","message":"the report could not be encoded"}'
    if values is not None:
        payload = payload[:-1] + ',"values":[' + ",".join(values) + "]}"
    _write_all(fd, token + payload.encode() + b"\n")


def _error_record(e: BaseException) -> dict:
    if isinstance(e, MemoryError):
        return {"state": "memory", "message": "MemoryError"}
    if isinstance(e, OSError) and e.errno == errno.EFBIG:  # Python ignores SIGXFSZ: the write fails instead
        return {"state": "runtime_error", "message": "output limit exceeded (file size limit)"}
    return {"state": "runtime_error", "message": _one_line(e, traceback=True)}


# -- small helpers -------------------------------------------------------------------------------------------------

def _read_stdout(path: str, limits: dict) -> dict:
    cap = int(limits["output_kb"]) * 1024
    with open(path, "rb") as f:
        data = f.read(cap + 1)
    if len(data) > cap:
        return {"state": "runtime_error", "message": f"output limit exceeded ({limits['output_kb']} KB)"}
    return {"stdout": data.decode("utf-8", errors="replace")}


def _tail(path: str, size: int = 300) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - size))
            return " ".join(f.read().decode("utf-8", errors="replace").split())[-size:]
    except OSError:
        return ""


def _one_line(e: BaseException, traceback: bool = False) -> str:
    try:
        detail = str(e)
    except BaseException:  # noqa: BLE001 - a hostile exception's __str__
        detail = ""
    text = f"{type(e).__name__}: {detail}" if detail else type(e).__name__
    if traceback and e.__traceback__ is not None:
        tb, line = e.__traceback__, None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == "<candidate>":
                line = tb.tb_lineno
            tb = tb.tb_next
        if line is not None:
            text += f" (line {line})"
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."


_os_write, _os_exit = os.write, os._exit  # bound before any candidate could patch the os module


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            n = _os_write(fd, view)
        except InterruptedError:
            continue
        except OSError:
            return
        view = view[n:]
