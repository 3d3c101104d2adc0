"""The sandbox front end: a pool of pre-started workers, a result cache, and honest verdicts.

``run()`` never raises on hostile code: whatever a program does, it returns an :class:`ExecResult` within the limits,
and a worker that dies is replaced. See worker.py / harness.py / isolation.py for what happens inside.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import itertools
import json
import logging
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from o1coder.execution import judge, worker
from o1coder.execution.cgroup import MemoryCgroup
from o1coder.execution.limits import Limits
from o1coder.execution.result import ExecResult, TestOutcome

if TYPE_CHECKING:
    from o1coder.problems import TestCase

log = logging.getLogger(__name__)

WORKER_SCRIPT = Path(worker.__file__).resolve()
_WORKER_ENV = dict(worker.harness.CLEAN_ENV)  # workers start with exactly what candidates may see

Job = tuple  # (code, tests, setup)
PIPELINE_DEPTH = 2  # jobs one worker holds: the one it runs and the next, already in its pipe
_write_all = worker.harness._write_all


class SandboxError(RuntimeError):
    """The sandbox itself cannot work here (e.g. no worker could start)."""


class _Worker:
    """One worker process, its two pipes, and its memory cgroup."""

    _count = itertools.count()

    def __init__(self, readable_paths: Sequence[str], limits: Limits):
        # the sum of a worker's processes: one test process at its limit, the init, and some slack
        group_bytes = (limits.memory_mb * 2 + 256) * 1024 * 1024
        self.cgroup = MemoryCgroup(f"o1coder-sandbox-{os.getpid()}-{next(self._count)}", group_bytes)
        cgroup_args = ["--cgroup", self.cgroup.procs_file] if self.cgroup.active else []
        self.proc = subprocess.Popen(
            [sys.executable, "-E", "-s", str(WORKER_SCRIPT), *cgroup_args, *readable_paths],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=_WORKER_ENV, cwd="/", start_new_session=True, close_fds=True,
        )
        hello = self._receive(deadline=time.monotonic() + 30)
        if not hello or not hello.get("ready"):
            self.kill()
            raise SandboxError("a sandbox worker failed to start")
        self.isolation = {**hello["isolation"], "memory_cgroup": self.cgroup.active}
        self.uid = hello.get("uid")  # the uid its candidates run as (None without root)
        # a job sent while another runs waits in the pipe: at most half of it, so writing it never blocks on a
        # worker that is itself blocked writing a long reply
        self.ahead_bytes = fcntl.fcntl(self.proc.stdin.fileno(), fcntl.F_GETPIPE_SZ) // 2

    def send(self, message: bytes) -> None:
        """Write one framed job (see worker.frame). A dead worker is noticed by the reply that never comes."""
        _write_all(self.proc.stdin.fileno(), message)  # a closed pipe ends the write quietly

    def receive(self, timeout: float) -> dict | None:
        return self._receive(deadline=time.monotonic() + timeout)

    def _receive(self, deadline: float) -> dict | None:
        fd = self.proc.stdout.fileno()
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        try:
            return worker.receive(fd)
        except (OSError, ValueError):
            return None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.cgroup.remove()

    def close(self) -> None:
        try:
            self.proc.stdin.close()  # EOF: the worker exits on its own
            self.proc.wait(timeout=5)
            self.proc.stdout.close()
            self.cgroup.remove()
        except (OSError, subprocess.TimeoutExpired):
            self.kill()


class _Pending:
    """A job on its way through one worker."""

    __slots__ = ("index", "plans", "message", "timeout", "attempts", "started")

    def __init__(self, index: int, plans: list[judge.Plan], message: bytes, timeout: float):
        self.index, self.plans, self.message, self.timeout = index, plans, message, timeout
        self.attempts = 0
        self.started = 0.0  # when the worker began it (as far as this process can tell)


class Sandbox:
    """Run untrusted programs against tests.

    >>> with Sandbox(limits=Limits(cpu_seconds=2), workers=2) as sb:
    ...     sb.run("def f(x): return 2 * x", [TestCase.call("f", [2], 4)]).status
    'passed'

    ``workers`` defaults to one per core. Results are cached by a hash of (code, tests, setup, limits).
    ``readable_paths`` are extra folders candidates may read (read-only), e.g. a package outside the interpreter's
    installation; by default candidates see only the Python installation and system libraries.
    """

    def __init__(self, limits: Limits | None = None, workers: int | None = None, cache: bool = True,
                 cache_size: int = 100_000, readable_paths: Sequence[str] = ()):
        self.limits = limits or Limits()
        if not isinstance(self.limits, Limits):
            raise TypeError(f"limits must be a Limits, got {type(limits).__name__}")
        self.n_workers = int(workers or os.cpu_count() or 1)
        if self.n_workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.cache_enabled = cache
        self._cache: OrderedDict[str, ExecResult] = OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()
        self._readable = [str(Path(p).resolve()) for p in readable_paths]
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self.stats = {"executions": 0, "cache_hits": 0, "worker_restarts": 0}
        self.isolation: dict = {}

    # -- lifecycle -------------------------------------------------------------------------------------------------
    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        with self._lock:
            if self._pool is not None:
                return
            starters = ThreadPoolExecutor(max_workers=self.n_workers)
            workers = list(starters.map(lambda _: _Worker(self._readable, self.limits), range(self.n_workers)))
            starters.shutdown()
            for w in workers:
                self._all.append(w)
                self._idle.put(w)
            self.isolation = workers[0].isolation
            if self.isolation.get("error") or not self.isolation.get("pid_namespace", True):
                log.warning("sandbox isolation is reduced: %s", self.isolation)
            self._pool = ThreadPoolExecutor(max_workers=self.n_workers, thread_name_prefix="sandbox")

    def close(self) -> None:
        with self._lock:
            if self._pool is None:
                return
            self._pool.shutdown(wait=True)
            self._pool = None
            for w in self._all:
                w.close()
            self._all.clear()
            self._idle = queue.Queue()

    @property
    def candidate_uids(self) -> set[int]:
        """The uids this sandbox's candidates run as (for audits: no process of theirs outlives a run)."""
        return {w.uid for w in self._all if w.uid is not None}

    # -- running -----------------------------------------------------------------------------------------------------
    def run(self, code: str, tests: Sequence[TestCase] = (), setup: str = "", cache: bool | None = None, *,
            stop_on_failure: bool = False) -> ExecResult:
        """Run ``code`` (after ``setup``) against ``tests``; see :class:`ExecResult` for the verdict.

        ``stop_on_failure``: when only the verdict matters (hidden-test scoring), stop at the first test that fails
        or errs; the tests after it are reported as failed without running. Rewards that need the pass rate keep the
        default, which runs every test (within the program's CPU budget, ``Limits.program_cpu_seconds``)."""
        return self.run_many([(code, tests, setup)], cache=cache, stop_on_failure=stop_on_failure)[0]

    def run_many(self, jobs: Iterable[Job], cache: bool | None = None, *,
                 stop_on_failure: bool = False) -> list[ExecResult]:
        """Run many programs in parallel on the worker pool; results come back in input order."""
        self.start()
        use_cache = self.cache_enabled if cache is None else cache
        jobs = [_normalise(j) for j in jobs]
        stop_on_failure = bool(stop_on_failure)
        keys = [self._key(*j, stop_on_failure) for j in jobs] if use_cache else [None] * len(jobs)
        results: list[ExecResult | None] = [None] * len(jobs)
        todo: dict[str | int, list[int]] = {}
        for i, key in enumerate(keys):
            hit = self._cache_get(key) if key else None
            if hit is not None:
                results[i] = hit
                with self._cache_lock:
                    self.stats["cache_hits"] += 1
            else:
                todo.setdefault(key if key else i, []).append(i)  # identical jobs in one batch run once
        firsts = [indices[0] for indices in todo.values()]
        for i, result in zip(firsts, self._execute_all([jobs[i] for i in firsts], stop_on_failure)):
            for j in todo[keys[i] if keys[i] else i]:
                results[j] = result
            if keys[i]:
                self._cache_put(keys[i], result)
        return results  # type: ignore[return-value]

    def _execute_all(self, jobs: list[tuple], stop_on_failure: bool) -> list[ExecResult]:
        """Run ``jobs`` on the workers, each worker fed by a thread of the pool (see :meth:`_serve`). Callers in
        several threads share the workers: each feeds those it holds until its jobs are done."""
        results: list[ExecResult | None] = [None] * len(jobs)
        order = iter(range(len(jobs)))
        lock = threading.Lock()

        def take() -> int | None:
            with lock:
                return next(order, None)

        serve = functools.partial(self._serve, jobs, results, take, stop_on_failure)
        for _ in self._pool.map(lambda _: serve(), range(min(self.n_workers, len(jobs)))):
            pass
        return results  # type: ignore[return-value]

    def _serve(self, jobs: list[tuple], results: list, take, stop_on_failure: bool) -> None:
        """Feed one worker jobs taken from ``take`` until there are none left, ``PIPELINE_DEPTH`` at a time: the
        next job waits in the worker's pipe while one runs, so the worker never idles on the round trip to this
        process. A worker that dies or stops answering is replaced; the jobs it held are sent again, and the one it
        was running is tried twice at most."""
        w = self._idle.get()
        held: deque[_Pending] = deque()  # sent to w, in order
        waiting: _Pending | None = None  # taken, too long to wait in a pipe behind another job
        oom_seen = w.cgroup.oom_kills()
        try:
            while True:
                while len(held) < PIPELINE_DEPTH:
                    if waiting is None:
                        i = take()
                        if i is None:
                            break
                        waiting = _Pending(i, *self._prepare(*jobs[i], stop_on_failure))
                    if held and len(waiting.message) > w.ahead_bytes:
                        break
                    w.send(waiting.message)
                    held.append(waiting)
                    waiting = None
                if not held:
                    return
                head = held[0]
                head.started = head.started or time.monotonic()
                reply = w.receive(head.timeout)
                if reply is not None:
                    oom_now = w.cgroup.oom_kills()
                    if oom_now > oom_seen:  # the kernel's OOM killer acted during this program
                        _blame_memory(reply)
                    oom_seen = oom_now
                if reply is None or not w.alive():
                    head.attempts += 1
                    w = self._replace(w)
                    oom_seen = w.cgroup.oom_kills()
                    retry = head.attempts < 2
                    for pending in list(held)[0 if retry else 1:]:
                        w.send(pending.message)
                    if retry:
                        head.started = 0.0
                        continue
                held.popleft()
                if held:
                    held[0].started = time.monotonic()
                with self._cache_lock:
                    self.stats["executions"] += 1
                result = _verdict(head.plans, reply, stop_on_failure)
                result.duration = time.monotonic() - head.started
                results[head.index] = result
        finally:
            try:
                if held:  # an error here, with jobs still in the worker: their replies must not meet later jobs
                    w = self._replace(w)
            finally:
                self._idle.put(w)

    def _prepare(self, code: str, tests: list[TestCase], setup: str,
                 stop_on_failure: bool) -> tuple[list[judge.Plan], bytes, float]:
        """The plans (judging stays here), the framed job for the worker, and how long to wait for its reply."""
        plans = judge.plan_tests(tests)
        cpu = self.limits.cpu_seconds
        job = {"code": code, "setup": setup, "plans": [p.wire for p in plans], "limits": self._limits_dict(),
               "budget": judge.program_budget(tests, cpu, self.limits.program_cpu_seconds),
               "stop_on_failure": stop_on_failure}
        if any(t.reference_seconds is not None for t in tests):
            job["cpu_limits"] = judge.cpu_limits(tests, cpu)
        timeout = (len(plans) + 2) * (self.limits.wall_seconds + 6) + 10
        return plans, worker.frame(job), timeout

    def _replace(self, dead: _Worker) -> _Worker:
        dead.kill()
        self.stats["worker_restarts"] += 1
        log.warning("a sandbox worker stopped answering; starting a new one")
        fresh = _Worker(self._readable, self.limits)
        with self._lock:
            self._all = [fresh if w is dead else w for w in self._all]
        return fresh

    def _limits_dict(self) -> dict:
        return _limits_as_dict(self.limits)

    # -- cache -------------------------------------------------------------------------------------------------------
    def _key(self, code: str, tests: list[TestCase], setup: str, stop_on_failure: bool = False) -> str:
        blob = json.dumps([code, setup, [t.to_dict() for t in tests], self._limits_dict(), stop_on_failure],
                          sort_keys=True, default=repr)
        return hashlib.sha256(blob.encode()).hexdigest()

    def _cache_get(self, key: str) -> ExecResult | None:
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return _copy_cached(hit)
        return None

    def _cache_put(self, key: str, result: ExecResult) -> None:
        if result.status == "crashed" and "sandbox" in result.message:
            return  # a sandbox failure is not a property of the program
        with self._cache_lock:
            self._cache[key] = result
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)


@functools.lru_cache(maxsize=64)
def _limits_as_dict(limits: Limits) -> dict:
    """Limits go with every job and into every cache key: convert each (frozen) Limits once."""
    return limits.to_dict()


def _normalise(job) -> tuple[str, list[TestCase], str]:
    from o1coder.problems import TestCase

    if not isinstance(job, (tuple, list)) or len(job) not in (2, 3):
        raise TypeError("each job must be (code, tests) or (code, tests, setup)")
    code, tests, setup = (*job, "") if len(job) == 2 else job
    if not isinstance(code, str):
        raise TypeError(f"code must be a string, got {type(code).__name__}")
    tests = list(tests or [])
    for t in tests:
        if not isinstance(t, TestCase):
            raise TypeError(f"tests must be TestCase objects, got {type(t).__name__}: build them with "
                            "TestCase.assertion / TestCase.call / TestCase.stdio")
    return code, tests, setup or ""


def _verdict(plans: list[judge.Plan], reply: dict | None, stop_on_failure: bool = False) -> ExecResult:
    """Judge the worker's reply against the plans (expected values never left this process)."""
    if reply is None:
        outcomes = [TestOutcome("crashed", "the sandbox worker died; it was replaced") for _ in plans]
        return ExecResult(status="crashed", outcomes=outcomes, message="sandbox worker failure")
    if reply.get("compiled") is False:
        msg = reply.get("message", "")
        outcomes = [TestOutcome("compile_error", msg) for _ in plans]
        return ExecResult(status="compile_error", outcomes=outcomes, compiled=False, message=msg)
    records = {r["index"]: r for r in reply.get("records", [])}
    fallback = reply.get("message") or "the program stopped before this test ran"
    if not plans:  # no tests: the program was run once
        rec = records.get(0)
        outcome = judge.judge(judge.Plan({"kind": "load"}, None), rec) if rec else TestOutcome("timeout", fallback)
        status = "passed" if outcome.passed else outcome.status
        return ExecResult(status=status, outcomes=[], message=outcome.message)
    outcomes = []
    stopped = reply.get("stopped")
    for i, plan in enumerate(plans):
        rec = records.get(i)
        if stop_on_failure and outcomes and not outcomes[-1].passed:
            outcomes.append(TestOutcome("failed", "not run: stopped at the first failed test"))
        elif rec is None and stopped == "budget":
            outcomes.append(TestOutcome(
                "timeout", f"not run: the program's CPU budget ({reply.get('budget', 0):g}s) was spent"))
        elif rec is None and stopped == "failure":
            outcomes.append(TestOutcome("failed", "not run: stopped at the first failed test"))
        elif rec is None:
            status = "timeout" if "wall time" in fallback else "crashed"
            outcomes.append(TestOutcome(status, fallback))
        else:
            outcomes.append(judge.judge(plan, rec))
    return ExecResult.from_outcomes(outcomes)


def _blame_memory(reply: dict) -> None:
    """The kernel's OOM killer acted in the worker's group during this program: its SIGKILLs mean "memory"."""
    for record in reply.get("records", []):
        if record.get("state") == "crashed" and "SIGKILL" in record.get("message", ""):
            record["state"] = "memory"
            record["message"] = "memory limit of the sandbox exceeded (the processes of one program together)"


def _copy_cached(result: ExecResult) -> ExecResult:
    return ExecResult(status=result.status, outcomes=list(result.outcomes), compiled=result.compiled,
                      duration=result.duration, message=result.message, cached=True)
