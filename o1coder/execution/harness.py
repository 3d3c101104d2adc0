"""Runs inside the sandbox worker: one program (the job's init process) and one process per test.

The job's init compiles the program once, then forks one test process per test. The init never executes candidate
code; each test process executes setup + candidate code + one test, then reports a JSON record on a private pipe.
What a test process reports is only ever an *observation* (the value returned, what was printed, whether a script
test's assertion held); the verdict is computed outside the sandbox. Stdlib-only.
"""

from __future__ import annotations

import builtins
import errno
import io
import json
import os
import resource
import signal
import sys
import time

import plain  # noqa: I001 - the worker puts this folder on sys.path; these are the sibling modules
from isolation import Isolation, apply_limits, drop_privileges, kill_all_but_me

HARNESS_DIR = "/tmp/.harness"
WORK_DIR = "/tmp/work"
MAX_RECORD = 8 * 1024 * 1024  # bytes of JSON a test process may send back
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


def run_job(job: dict, out_fd: int, iso: Isolation, uid: int | None) -> None:
    """Body of the job's init process: report compile status, then one record per test, then done."""

    def emit(record: dict) -> None:
        _write_all(out_fd, (json.dumps(record) + "\n").encode())

    limits = job["limits"]
    iso.setup_job_mounts(limits["scratch_mb"])
    # the init compiles hostile source: bound its memory too (test processes lower this further)
    cap = (int(limits["memory_mb"]) * 2 + 512) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    os.makedirs(HARNESS_DIR, mode=0o700, exist_ok=True)
    os.makedirs(WORK_DIR, mode=0o700, exist_ok=True)
    if uid is not None and os.geteuid() == 0:
        os.chown(WORK_DIR, uid, uid)
    compiled = _compile(job)
    if isinstance(compiled, str):
        emit({"compiled": False, "message": compiled})
        return
    emit({"compiled": True})
    plans = job["plans"] or [{"kind": "load"}]
    for index, test_plan in enumerate(plans):
        emit({"start": index})
        record = _run_one(index, test_plan, compiled, limits, iso, uid)
        record["index"] = index
        emit(record)
    emit({"done": True})


def _compile(job: dict):
    """Compile setup, candidate and test code once. Returns the code objects, or the candidate's compile error."""
    try:
        setup = compile(job.get("setup") or "", "<setup>", "exec")
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
                tests.append(compile(p["code"], "<test>", "exec"))
            elif p["kind"] == "exprs":
                tests.append([compile(x, "<test>", "eval") for x in p["exprs"]])
            else:
                tests.append(None)
        except (SyntaxError, ValueError) as e:
            tests.append(f"the test itself does not compile: {_one_line(e)}")
    return {"setup": setup, "code": code, "tests": tests}


def _run_one(index: int, test_plan: dict, compiled: dict, limits: dict, iso: Isolation, uid: int | None) -> dict:
    """Fork one test process, watch it, and describe what happened."""
    test_code = compiled["tests"][index] if index < len(compiled["tests"]) else None
    if isinstance(test_code, str):
        return {"state": "runtime_error", "message": test_code}
    stdin_path = os.path.join(HARNESS_DIR, f"in{index}")
    with open(stdin_path, "w", encoding="utf-8") as f:
        f.write(test_plan.get("stdin") or "")
    out_path, err_path = os.path.join(HARNESS_DIR, f"out{index}"), os.path.join(HARNESS_DIR, f"err{index}")
    fds = [os.open(stdin_path, os.O_RDONLY),
           os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
           os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)]
    read_end, write_end = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            _test_process(test_plan, compiled, test_code, fds, write_end, limits, uid)
        finally:
            os._exit(99)
    for fd in (*fds, write_end):
        os.close(fd)
    deadline = started + float(limits["wall_seconds"])
    data, overflow = _read_until(read_end, pid, deadline, MAX_RECORD)
    os.close(read_end)
    status, usage = _wait(pid, deadline)
    wall_timeout = status is None
    if iso.pidns:
        kill_all_but_me()  # grandchildren, double-forked or not, die with the test
    else:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    cpu = usage.ru_utime + usage.ru_stime if usage else 0.0
    record = _describe(data, overflow, status, usage, wall_timeout, limits)
    record["cpu"] = cpu
    if test_plan["kind"] == "stdio" and record["state"] == "ok":
        record.update(_read_stdout(out_path, limits))
    if record["state"] != "ok" and "message" in record and record["message"].endswith("(see stderr)"):
        record["message"] = record["message"][:-len("(see stderr)")] + _tail(err_path)
    return record


def _test_process(test_plan, compiled, test_code, fds, result_fd, limits, uid) -> None:
    """The candidate's process: limits, privilege drop, clean environment; then setup, candidate, one test."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    keep = os.dup2(result_fd, 3) if result_fd != 3 else 3
    os.closerange(4, 1 << 16)
    os.setsid()  # without a PID namespace the process group is the unit the harness kills
    apply_limits(limits)
    drop_privileges(uid)
    os.chdir(WORK_DIR)
    os.environ.clear()
    os.environ.update(CLEAN_ENV)
    sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8",
                                 errors="replace")
    sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)), encoding="utf-8",
                                  errors="replace")
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="replace",
                                  write_through=True)
    sys.argv = ["solution.py"]
    report = _execute(test_plan, compiled, test_code)
    try:
        sys.stdout.flush()
    except BaseException:  # noqa: BLE001 - the candidate may have broken stdout; the report still goes out
        pass
    try:
        payload = json.dumps(report)
    except (ValueError, TypeError, RecursionError):
        payload = json.dumps({"state": "runtime_error", "message": "result is too large to report"})
    _write_all(keep, payload.encode())
    os._exit(0)


def _execute(test_plan: dict, compiled: dict, test_code) -> dict:
    kind = test_plan["kind"]
    namespace = {"__name__": "__main__" if kind in ("stdio", "load") else "solution",
                 "__builtins__": builtins}
    try:
        exec(compiled["setup"], namespace)
        exec(compiled["code"], namespace)
    except SystemExit as e:
        if kind in ("stdio", "load") and e.code in (None, 0):
            return {"state": "ok"}
        if kind in ("stdio", "load"):
            return {"state": "runtime_error", "message": f"exited with status {e.code!r}"}
        return {"state": "exited", "message": "the program exited while loading, before the test ran"}
    except MemoryError:
        return {"state": "memory", "message": "MemoryError"}
    except BaseException as e:  # noqa: BLE001 - any failure of candidate code is a verdict, not a crash
        return _error_record(e)
    if kind in ("stdio", "load"):
        return {"state": "ok"}
    try:
        if kind == "call":
            fn = namespace.get(test_plan["fn"])
            if fn is None:
                return {"state": "runtime_error", "message": f"name {test_plan['fn']!r} is not defined"}
            value = fn(*plain.decode(test_plan["args"]))
            values = [value]
        elif kind == "exprs":
            values = [eval(expr, namespace) for expr in test_code]
        else:  # script
            exec(test_code, namespace)
            return {"state": "ok"}
    except SystemExit:
        return {"state": "exited", "message": "the program exited during the test"}
    except AssertionError as e:
        return {"state": "assert", "message": _one_line(e, traceback=True) or "assertion failed"}
    except MemoryError:
        return {"state": "memory", "message": "MemoryError"}
    except BaseException as e:  # noqa: BLE001
        return _error_record(e)
    try:
        encoded = [plain.encode(plain.to_plain(v)) for v in values]
    except (plain.Unrepresentable, ValueError) as e:
        return {"state": "unplain", "message": f"returned a value that is not plain data: {e}"}
    except RecursionError:
        return {"state": "unplain", "message": "returned a value nested too deeply"}
    return {"state": "ok", "values": encoded}


def _error_record(e: BaseException) -> dict:
    if isinstance(e, OSError) and e.errno == errno.EFBIG:  # Python ignores SIGXFSZ: the write fails instead
        return {"state": "runtime_error", "message": "output limit exceeded (file size limit)"}
    return {"state": "runtime_error", "message": _one_line(e, traceback=True)}


def _describe(data: bytes, overflow: bool, status, usage, wall_timeout: bool, limits: dict) -> dict:
    """Combine the test process's own report with how it ended (signal, CPU used, memory)."""
    cpu = usage.ru_utime + usage.ru_stime if usage else 0.0
    if cpu > float(limits["cpu_seconds"]):
        return {"state": "timeout", "message": f"CPU time limit exceeded ({cpu:.2f}s > {limits['cpu_seconds']}s)"}
    if wall_timeout:
        return {"state": "timeout", "message": f"wall time limit exceeded ({limits['wall_seconds']}s)"}
    if overflow:
        return {"state": "runtime_error", "message": "the test process sent more than the harness accepts"}
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return {"state": "timeout", "message": "CPU time limit exceeded"}
        if sig == signal.SIGXFSZ:
            return {"state": "runtime_error", "message": f"output limit exceeded ({limits['file_size_mb']} MB)"}
        maxrss_mb = usage.ru_maxrss / 1024 if usage else 0
        if maxrss_mb > 0.8 * limits["memory_mb"]:
            return {"state": "memory", "message": f"memory limit exceeded ({limits['memory_mb']} MB)"}
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return {"state": "crashed", "message": f"killed by {name} (see stderr)"}
    if not data:
        code = os.WEXITSTATUS(status)
        return {"state": "exited", "message": f"exited with status {code} before reporting a result"}
    try:
        report = json.loads(data.decode("utf-8", errors="replace"))
        if not isinstance(report, dict) or "state" not in report:
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


def _read_until(fd: int, pid: int, deadline: float, cap: int) -> tuple[bytes, bool]:
    """Read the test process's report until it exits, closes the pipe, or ``deadline``; keep at most ``cap`` bytes.

    Watching the process (a pidfd) and not only the pipe matters: a grandchild that inherited the pipe would
    otherwise hold it open until the deadline.
    """
    import select

    chunks, size = [], 0
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    try:
        pidfd = os.pidfd_open(pid)
        poller.register(pidfd, select.POLLIN)
    except (AttributeError, OSError):
        pidfd = None
    exited = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            events = poller.poll(left * 1000)
            if not events:
                break
            if any(f == pidfd for f, _ in events):
                exited = True
            if any(f == fd for f, _ in events):
                os.set_blocking(fd, False)
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    chunk = None
                if chunk == b"":
                    break
                if chunk:
                    size += len(chunk)
                    if size > cap:
                        return b"", True
                    chunks.append(chunk)
                    continue
            if exited:
                break
    finally:
        if pidfd is not None:
            os.close(pidfd)
    return b"".join(chunks), False


def _wait(pid: int, deadline: float):
    """Wait for ``pid`` until ``deadline``; kill it at the deadline. Returns (status or None if killed, rusage)."""
    while True:
        try:
            done, status, usage = os.wait4(pid, os.WNOHANG)
        except ChildProcessError:
            return 0, None
        if done:
            return status, usage
        if time.monotonic() >= deadline:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _, status, usage = os.wait4(pid, 0)
            return None, usage
        time.sleep(0.0005)


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
            return f.read().decode("utf-8", errors="replace").strip()[-size:]
    except OSError:
        return ""


def _one_line(e: BaseException, traceback: bool = False) -> str:
    try:
        detail = str(e)
    except BaseException:  # noqa: BLE001 - a hostile exception's __str__
        detail = ""
    text = f"{type(e).__name__}: {detail}" if detail else type(e).__name__
    if traceback and e.__traceback__ is not None:
        tb = e.__traceback__
        line = None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == "<candidate>":
                line = tb.tb_lineno
            tb = tb.tb_next
        if line is not None:
            text += f" (line {line})"
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except InterruptedError:
            continue
        except OSError:
            return
        view = view[n:]
