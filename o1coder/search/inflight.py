"""Many searches in flight: one generation batch for all of them, their sandbox runs beside it.

A search (MCTS, best-of-N, beam, an evaluation of one problem) is written as straight-line code over one tree: it
calls ``generator.generate`` and ``sandbox.run_many`` and waits for the answer. On a GPU that leaves the engine
nearly idle, since one expansion is k = 3 sequences and an engine reaches its throughput with hundreds in flight.
:class:`InFlight` runs many such searches at once without rewriting them: each one runs as a coroutine (a
greenlet) that sees a :class:`TaskGenerator` and a :class:`TaskSandbox`; their calls suspend the search and hand
the request to the scheduler. When every search in flight is waiting, the scheduler answers all generation
requests with one ``generate_calls`` (one engine pass) and, at the same time in a second thread, all sandbox
requests with one ``run_many``; then it resumes the searches one by one, in a fixed order, until each waits again.

Why greenlets, not threads or ``async``: the per-tree code (selection, expansion, backpropagation) stays exactly as
it is, a function of one tree, and everything a search touches (its tree, the run store's SQLite connection, the
observer) is used from the one thread that created it, one search at a time.

Reproducibility: which requests share a batch depends only on the searches' states, never on timing (a round waits
for every search in flight), so the same inputs at the same concurrency give the same batches, the same samples and
the same trees, run after run. With concurrency 1 each batch is one call, exactly what the search makes alone.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from o1coder.models.base import (
    Completion,
    GenerationCall,
    Prompt,
    SamplingParams,
    Usage,
    check_prompts,
    generate_calls,
)

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

Work = Callable[[Any, "TaskGenerator", "TaskSandbox"], Any]
"""``work(item, generator, sandbox) -> result``: one search, written as if it ran alone."""


def _greenlet():
    try:
        import greenlet
    except ImportError as error:  # a core dependency; a broken install should still say what is missing
        raise ImportError("search.concurrency > 1 needs the greenlet package: pip install greenlet") from error
    return greenlet


@dataclass
class _Execute:
    """A ``run_many`` call of one search, waiting for the round's sandbox batch."""

    jobs: list
    cache: bool | None
    stop_on_failure: bool = False  # hidden-test scoring: only the verdict counts (Sandbox.run_many)


@dataclass
class _Task:
    item: Any
    index: int  # position in the input, for the result order
    greenlet: Any = None
    request: GenerationCall | _Execute | None = None
    generator: TaskGenerator | None = None
    done: bool = False
    result: Any = None


@dataclass
class RoundStats:
    """What the scheduler did, summed over its rounds (for benchmarks and logs)."""

    rounds: int = 0
    generation_batches: int = 0
    generation_calls: int = 0
    sequences: int = 0  # prompts x samples over all batches
    execution_batches: int = 0
    executions: int = 0
    generation_seconds: float = 0.0
    execution_seconds: float = 0.0
    overlapped_seconds: float = 0.0  # sandbox time hidden behind a generation batch
    largest_batch: int = 0  # most sequences in one generation batch
    per_round: list[int] = field(default_factory=list, repr=False)  # sequences per round (tests check batching)


class TaskGenerator:
    """What one search sees as its generator: a ``generate`` that waits for the round's batch.

    ``usage`` is this search's own (its completions; its share of each batch's seconds by sequences), so per-problem
    accounting is the same as when the search ran alone.
    """

    def __init__(self, scheduler: InFlight, name: str) -> None:
        self._scheduler = scheduler
        self.name = name
        self.usage = Usage()

    def generate(self, prompts: Sequence[Prompt], params: SamplingParams | None = None,
                 n: int = 1) -> list[list[Completion]]:
        # bad input fails here, in the search that made it, not in the batch it would share with the others
        call = GenerationCall(check_prompts(prompts), params if params is not None else SamplingParams(), n)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n (samples per prompt) must be an integer >= 1; got {n!r}")
        if not isinstance(call.params, SamplingParams):
            raise TypeError(f"params must be a SamplingParams; got {type(call.params).__name__}")
        return self._scheduler._wait(call) if call.prompts else []

    def __getattr__(self, name: str) -> Any:  # tokenizer, model, device... of the real generator
        return getattr(self._scheduler.generator, name)


class TaskSandbox:
    """What one search sees as its sandbox: ``run`` / ``run_many`` wait for the round's sandbox batch."""

    def __init__(self, scheduler: InFlight) -> None:
        self._scheduler = scheduler

    def run_many(self, jobs: Iterable, cache: bool | None = None, *, stop_on_failure: bool = False) -> list:
        jobs = list(jobs)
        return self._scheduler._wait(_Execute(jobs, cache, stop_on_failure)) if jobs else []

    def run(self, code: str, tests=(), setup: str = "", cache: bool | None = None, *, stop_on_failure: bool = False):
        return self.run_many([(code, tests, setup)], cache=cache, stop_on_failure=stop_on_failure)[0]

    def __getattr__(self, name: str) -> Any:  # limits, n_workers, isolation... of the real sandbox
        return getattr(self._scheduler.sandbox, name)


class InFlight(Generic[Item, Result]):
    """Runs ``work`` on many items at once, ``concurrency`` in flight, batching their generation and execution.

    >>> scheduler = InFlight(generator, sandbox, concurrency=8)
    >>> results = scheduler.map(problems, lambda p, g, s: search(p, g, s, config))

    ``map`` returns the results in input order; ``on_done(item, result)`` is called as each one finishes (in the
    scheduler, between rounds: it may write to the run store). An exception in one search ends them all and is
    raised from ``map`` (the other searches are abandoned; a run store resumes them from scratch).
    """

    def __init__(self, generator, sandbox, concurrency: int) -> None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError(f"concurrency must be an integer >= 1; got {concurrency!r}")
        self.generator, self.sandbox, self.concurrency = generator, sandbox, concurrency
        self.stats = RoundStats()
        self._main = None  # the scheduler's greenlet while map() runs

    # -- the searches' side --------------------------------------------------------------------------------------
    def _wait(self, request: GenerationCall | _Execute) -> Any:
        """Suspend the calling search until the scheduler answers ``request``."""
        if self._main is None:
            raise RuntimeError("a TaskGenerator / TaskSandbox is used outside InFlight.map()")
        reply = self._main.switch(request)
        if isinstance(reply, _Raise):
            raise reply.error
        return reply

    # -- the scheduler -------------------------------------------------------------------------------------------
    def map(self, items: Iterable[Item], work: Work, on_done: Callable[[Item, Result], None] | None = None
            ) -> list[Result]:
        items = list(items)
        results: list[Any] = [None] * len(items)
        pending = iter(enumerate(items))

        def take(block: bool):
            return next(pending, _END)

        def done(task: _Task) -> None:
            results[task.index] = task.result
            if on_done is not None:
                on_done(task.item, task.result)

        self._run(take, work, done)
        return results

    def serve(self, intake: queue.Queue, work: Work, on_done: Callable[[Item, Result], None]) -> None:
        """Like :meth:`map`, over items that arrive while others are in flight (a Ray actor's problems): new items
        join between rounds; with nothing in flight it waits for the next. :data:`STOP` in ``intake`` ends it once
        the searches in flight are done. ``work`` should catch its own errors: one raised here ends them all."""
        counter = iter(range(1 << 62))

        def take(block: bool):
            try:
                item = intake.get(block=block)
            except queue.Empty:
                return None
            return _END if item is STOP else (next(counter), item)

        self._run(take, work, lambda task: on_done(task.item, task.result))

    def _run(self, take, work: Work, done: Callable[[_Task], None]) -> None:
        """The rounds. ``take(block)`` gives the next (index, item), None when none is ready, or _END."""
        greenlet = _greenlet()
        self._main = greenlet.getcurrent()
        waiting: list[_Task] = []  # in flight, in the order they started: the order they are resumed in
        ended = False
        try:
            while not ended or waiting:
                while not ended and len(waiting) < self.concurrency:
                    entry = take(not waiting)
                    if entry is None:
                        break
                    if entry is _END:
                        ended = True
                        break
                    task = _Task(entry[1], entry[0])
                    task.generator = TaskGenerator(self, getattr(self.generator, "name", "generator"))
                    task.greenlet = greenlet.greenlet(_bind(work, task.item, task.generator, TaskSandbox(self)),
                                                      parent=self._main)
                    if not self._advance(task, _START, done):
                        waiting.append(task)
                if not waiting:
                    continue
                replies = self._answer(waiting)
                waiting = [task for task, reply in zip(waiting, replies) if not self._advance(task, reply, done)]
        finally:
            for task in waiting:  # an error ended the run: unwind the abandoned searches (their finally blocks)
                if task.greenlet is not None and not task.greenlet.dead:
                    task.greenlet.throw(greenlet.GreenletExit)
            self._main = None

    def _advance(self, task: _Task, reply: Any, done: Callable[[_Task], None]) -> bool:
        """Resume ``task`` with ``reply`` until it waits again (its next request) or returns; True when it returned."""
        outcome = task.greenlet.switch() if reply is _START else task.greenlet.switch(reply)
        if not task.greenlet.dead:
            task.request = outcome
            return False
        task.done, task.result, task.request = True, outcome, None
        done(task)
        return True

    def _answer(self, waiting: Sequence[_Task]) -> list[Any]:
        """One round: all generation requests in one batch, all sandbox requests in one ``run_many`` beside it."""
        gen = [t for t in waiting if isinstance(t.request, GenerationCall)]
        run = [t for t in waiting if isinstance(t.request, _Execute)]
        replies: dict[int, Any] = {}
        seconds = 0.0
        self.stats.rounds += 1
        executor = _Background(self._execute, run) if run and gen else None
        if run and not gen:
            replies.update(self._execute(run))
        if gen:
            start = time.perf_counter()
            try:
                answered = generate_calls(self.generator, [t.request for t in gen])
            except Exception as error:  # noqa: BLE001 - raised inside each waiting search, where it belongs
                answered = [_Raise(error)] * len(gen)
            seconds = time.perf_counter() - start
            self._count_generation(gen, answered, seconds)
            replies.update({id(t): a for t, a in zip(gen, answered)})
        if executor is not None:
            replies.update(executor.join())
            self.stats.overlapped_seconds += min(executor.seconds, seconds)
        return [replies[id(t)] for t in waiting]

    def _count_generation(self, gen: Sequence[_Task], answered: Sequence[Any], seconds: float) -> None:
        sequences = sum(t.request.sequences for t in gen)
        s = self.stats
        s.generation_batches += 1
        s.generation_calls += len(gen)
        s.sequences += sequences
        s.generation_seconds += seconds
        s.largest_batch = max(s.largest_batch, sequences)
        s.per_round.append(sequences)
        for task, result in zip(gen, answered):
            if not isinstance(result, _Raise):
                share = seconds * task.request.sequences / sequences if sequences else 0.0
                task.generator.usage.record(result, share)

    def _execute(self, run: Sequence[_Task]) -> dict[int, Any]:
        """Every search's jobs in one ``run_many`` (the sandbox runs them in parallel), split back per search."""
        start = time.perf_counter()
        by_options: dict[tuple[bool | None, bool], list[_Task]] = {}
        for task in run:
            by_options.setdefault((task.request.cache, task.request.stop_on_failure), []).append(task)
        replies: dict[int, Any] = {}
        for (cache, stop_on_failure), tasks in by_options.items():
            jobs = [job for t in tasks for job in t.request.jobs]
            try:
                verdicts = self.sandbox.run_many(jobs, cache=cache, stop_on_failure=stop_on_failure) if jobs else []
            except Exception as error:  # noqa: BLE001 - raised inside each waiting search
                replies.update({id(t): _Raise(error) for t in tasks})
                continue
            offset = 0
            for task in tasks:
                replies[id(task)] = list(verdicts[offset : offset + len(task.request.jobs)])
                offset += len(task.request.jobs)
        self.stats.execution_batches += 1
        self.stats.executions += sum(len(t.request.jobs) for t in run)
        self.stats.execution_seconds += time.perf_counter() - start
        return replies


_START = object()  # the first switch into a search: it starts with no reply
_END = object()  # no more items
STOP = object()
"""Put in :meth:`InFlight.serve`'s intake to end it after the searches in flight."""


def _bind(work: Work, item: Any, generator: TaskGenerator, sandbox: TaskSandbox) -> Callable[[], Any]:
    return lambda: work(item, generator, sandbox)


@dataclass
class _Raise:
    """An error of a batch, delivered to each search that waited for it and raised there."""

    error: BaseException


class _Background:
    """``fn(arg)`` in a thread, started at once; ``join()`` returns its value or raises its error."""

    def __init__(self, fn, arg) -> None:
        self._value: Any = None
        self._error: BaseException | None = None
        self.seconds = 0.0
        self._thread = threading.Thread(target=self._run, args=(fn, arg), name="inflight-sandbox", daemon=True)
        self._thread.start()

    def _run(self, fn, arg) -> None:
        start = time.perf_counter()
        try:
            self._value = fn(arg)
        except BaseException as error:  # noqa: BLE001 - handed to the scheduler thread
            self._error = error
        self.seconds = time.perf_counter() - start

    def join(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value
