"""The worker side of distributed search: a :class:`SearchWorker` per Ray actor, with its own generator and sandbox.

A plain class: the driver turns it into an actor with ``ray.remote(SearchWorker)`` at run time, so importing this
module needs no Ray and the worker is tested in-process like any object. Each worker builds the recipe's model (one
vLLM engine on the GPUs Ray gave the actor, or the transformers backend on its CPUs) and its own sandbox, so
executions grow with the cluster instead of queueing on the driver.

:meth:`SearchWorker.search` is a generator: a Ray streaming generator once remote. It yields one
:class:`RolloutUpdate` per rollout (the nodes added or changed by it, as they were at its end) and then one
:class:`ProblemDone` (the whole tree and the ``results`` row). The driver writes both through the run store's own
:class:`~o1coder.runs.StoreObserver`, so a distributed run's store looks exactly like a local run's, rollout by
rollout. The search reports rollouts through an observer callback, and a generator can only yield from its own
frame, so the searches run in one engine thread (many in flight, their generation batched) and hand each snapshot
over through their stream's queue.
"""

from __future__ import annotations

import copy
import logging
import os
import queue
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from o1coder.guidance import Guidance
from o1coder.problems import Problem
from o1coder.search.tree import Node, Tree

log = logging.getLogger(__name__)


@dataclass
class RolloutUpdate:
    """One finished rollout of a problem: what a local StoreObserver would write at ``rollout_finished``."""

    problem_id: str
    rollout: int
    stats: dict[str, Any]
    config: dict[str, Any]  # the tree's config (written once per problem, before its first nodes)
    nodes: list[Node] = field(default_factory=list)  # deep copies, parents first


@dataclass
class ProblemDone:
    """A searched problem: its final tree, its ``results`` columns and per-problem metric points."""

    problem_id: str
    tree: Tree
    result: dict[str, Any]
    metrics: dict[str, float]
    passed: bool


class _Failure:
    """An exception raised in the search thread, carried to the generator that re-raises it."""

    def __init__(self, error: BaseException):
        self.error = error


class SnapshotObserver:
    """A SearchObserver that notes changed nodes and, at the end of each rollout, hands over deep copies of them.

    Copies are taken in the search thread, before the search mutates the nodes again: what is sent is the tree as
    it was when the rollout finished, exactly what the local StoreObserver writes at that moment.
    """

    def __init__(self, send):
        self._send = send
        self._pending: dict[int, Node] = {}

    def node_added(self, tree: Tree, node: Node) -> None:
        self._pending[node.id] = node

    def node_updated(self, tree: Tree, node: Node) -> None:
        self._pending[node.id] = node

    def rollout_finished(self, tree: Tree, rollout: int, stats: dict) -> None:
        nodes = [copy.deepcopy(self._pending[i]) for i in sorted(self._pending)]
        self._pending.clear()
        self._send(RolloutUpdate(tree.problem_id, rollout, copy.deepcopy(stats), copy.deepcopy(tree.config), nodes))


_ENGINE_LOCK = threading.Lock()


class SearchWorker:
    """Searches problems with the recipe's model, sampling, search and execution sections, many at once.

    ``workers``: sandbox workers (default: the recipe's ``execution.workers``, else ``threads``); ``threads``: torch
    CPU threads, the CPUs Ray reserved for the actor (a local run uses the process's setting; with one thread on
    both sides their float arithmetic, and so their samples and trees, are the same).

    Every :meth:`search` call hands its problem to one engine thread, which searches up to ``concurrency``
    problems at once (``search.concurrency``; null: enough to fill the backend) with
    :meth:`~o1coder.search.inflight.InFlight.serve`: their generation requests share one batch per round. The
    driver makes the actor threaded (``max_concurrency``) so that many ``search`` streams are open at once.
    """

    guidance = Guidance()  # the run's PRM and TCG: none unless the recipe's guidance section names them (__init__)

    def __init__(self, recipe: dict[str, Any], workers: int | None = None, threads: int | None = None):
        from o1coder.config import model_config, sampling_config
        from o1coder.execution import Sandbox
        from o1coder.guidance import load_guidance
        from o1coder.models import build_generator
        from o1coder.runs.driver import sandbox_settings
        from o1coder.search.config import recipe_concurrency, search_config

        if threads:
            import torch

            torch.set_num_threads(int(threads))
        self.config = search_config(recipe)
        self.sampling = sampling_config(recipe) if recipe.get("sampling") else None
        self.concurrency = recipe_concurrency(recipe)
        limits, n_workers = sandbox_settings(recipe, workers or (recipe.get("execution") or {}).get("workers")
                                             or threads or 1)
        self.generator = build_generator(model_config(recipe))
        self.sandbox = Sandbox(limits=limits, workers=n_workers)
        self.sandbox.start()
        self.guidance = load_guidance(recipe, self.sandbox)  # the run's PRM and TCG, loaded in this actor
        log.info("search worker ready on %s (pid %d): %d sandbox workers, %d problems in flight",
                 socket.gethostname(), os.getpid(), n_workers, self.concurrency)

    def ready(self) -> dict[str, Any]:
        """Where this worker runs; the driver waits on it before giving the worker a problem."""
        return {"host": socket.gethostname(), "pid": os.getpid(), "sandbox_workers": self.sandbox.n_workers,
                "isolation": dict(self.sandbox.isolation), "concurrency": self.concurrency}

    def search(self, problem: Problem) -> Iterator[RolloutUpdate | ProblemDone]:
        """Search ``problem``: one RolloutUpdate per rollout, then one ProblemDone. Errors of the search are raised."""
        handoff: queue.Queue = queue.Queue()
        self._start_engine()
        self._intake.put((problem, handoff))
        while True:
            item = handoff.get()
            if isinstance(item, _Failure):
                raise item.error
            yield item
            if isinstance(item, ProblemDone):
                break

    def _start_engine(self) -> None:
        """The engine thread and its intake, at the first problem (concurrent ``search`` calls race here)."""
        with _ENGINE_LOCK:
            if getattr(self, "_engine", None) is None:
                self._intake = queue.Queue()
                self._engine = threading.Thread(target=self._serve, daemon=True, name="search-engine")
                self._engine.start()

    def _serve(self) -> None:
        from o1coder.search.inflight import InFlight

        InFlight(self.generator, self.sandbox, self.concurrency).serve(self._intake, self._search_into,
                                                                       lambda entry, result: None)

    def _search_into(self, entry: tuple[Problem, queue.Queue], generator, sandbox) -> None:
        """One problem in the engine: its snapshots and result (or its error) go to its own stream's queue."""
        from greenlet import GreenletExit

        from o1coder.runs.driver import problem_metrics, result_record
        from o1coder.search import search

        problem, handoff = entry
        try:
            result = search(problem, generator, sandbox, self.config, observer=SnapshotObserver(handoff.put),
                            sampling=self.sampling, **self.guidance.search_kwargs())
            handoff.put(ProblemDone(problem.id, result.tree, result_record(result), problem_metrics(result),
                                    result.solved))
        except GreenletExit:
            raise
        except BaseException as error:  # noqa: BLE001 - every failure must reach its stream, or it waits forever
            handoff.put(_Failure(error))

    def close(self) -> None:
        """Stop the engine, the sandbox's workers and release the model (GPU memory) before the actor goes away."""
        from o1coder.search.inflight import STOP

        if getattr(self, "_engine", None) is not None:
            self._intake.put(STOP)
            self._engine.join(timeout=60)
        self.sandbox.close()
        close = getattr(self.generator, "close", None)
        if close is not None:
            close()
