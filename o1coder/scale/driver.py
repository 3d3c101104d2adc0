"""``o1coder search --ray``: the problems of a run spread over Ray actors, the run store written by the driver alone.

:func:`run_search_ray` is :func:`o1coder.runs.run_search` on a cluster. It creates (or resumes) the run exactly as a
local run does, starts search actors (:class:`~o1coder.scale.actors.SearchWorker`), and hands out problems
pull-style: an actor that finishes gets the next problem, so fast and slow problems balance themselves. Each
actor streams its rollouts back (a Ray streaming generator, waited on with ``ray.wait``) and the driver writes them
through one :class:`~o1coder.runs.StoreObserver` per problem in flight: the app watches trees grow as in a local
run, and only one process ever writes the store.

Failures. An actor that dies (node lost, OOM, ``ray.kill``) loses only its problem in progress: its partial nodes
are dropped, it goes back to the front of the queue for another actor, and a replacement actor is started (it
waits for resources like any actor). A problem lost ``max_attempts`` times, an actor that fails in its
constructor (a bad model name...), or an error raised by the search itself ends the run as ``failed``, resumable
with ``--resume`` like a local run. Seeds derive from (seed, problem id, node): the trees do not depend on which
actor searched a problem, or how often it was retried.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from o1coder.problems import Problem
from o1coder.runs import db, readers
from o1coder.runs.driver import Progress, RunProgress, check_recipe, planned_problems
from o1coder.runs.recorder import StoreObserver
from o1coder.runs.store import RunStore
from o1coder.scale.actors import ProblemDone, RolloutUpdate, SearchWorker
from o1coder.scale.cluster import actor_env, connect, plan_actors, require_ray
from o1coder.search.tree import Tree

log = logging.getLogger(__name__)

START_TIMEOUT = 1800.0  # seconds without any actor ready or working before giving up (vLLM engines load slowly)


def run_search_ray(recipe: dict[str, Any] | None, problem_spec: str | None = None, *, limit: int | None = None,
                   runs_dir: str | Path | None = None, resume: str | None = None, workers: int | None = None,
                   progress: Progress | None = None, address: str | None = "local", actors: int | None = None,
                   actor_cpus: float | None = None, max_attempts: int = 3, start_timeout: float = START_TIMEOUT,
                   init_kwargs: dict[str, Any] | None = None) -> str:
    """Search a problem set on Ray actors (or resume run ``resume``), recording everything; returns the run id.

    Arguments as :func:`o1coder.runs.run_search`, plus: ``address`` ("local": start a cluster here, else a Ray
    address such as "auto" or "ray://head:10001"; a Ray already initialised in this process is reused),
    ``actors`` / ``actor_cpus`` (default: sized from the cluster, see :func:`o1coder.scale.cluster.plan_actors`),
    ``workers`` (sandbox workers per actor), ``max_attempts`` (times a problem may be lost with its actor).
    """
    ray = require_ray()
    with RunStore(runs_dir) as store:
        run_id, recipe, todo = open_run(store, recipe, problem_spec, limit, resume, runs_dir)
        if not todo:
            log.info("run %s has no problem left to search", run_id)
            store.set_status(run_id, "finished")
            return run_id
        joined, scheduler = False, None
        with store.guard(run_id):
            try:
                # a local cluster gets this machine's cores, or more logical CPUs when more actors were asked for
                local_cpus = None if actors is None else max(os.cpu_count() or 1,
                                                             math.ceil(actors * (actor_cpus or 1)))
                joined = connect(address, num_cpus=local_cpus, **(init_kwargs or {}))
                scheduler = Scheduler(ray, store, run_id, recipe, workers=workers, progress=progress,
                                      max_attempts=max_attempts, start_timeout=start_timeout)
                scheduler.run(todo, actors=actors, actor_cpus=actor_cpus)
            finally:
                if scheduler is not None:
                    scheduler.close()
                if joined:
                    ray.shutdown()
    return run_id


def open_run(store: RunStore, recipe: dict[str, Any] | None, problem_spec: str | None, limit: int | None,
             resume: str | None, runs_dir) -> tuple[str, dict[str, Any], list[Problem]]:
    """(run id, recipe, problems to search): a new run, or what a resumed run has left; as a local run does."""
    from o1coder.guidance import with_guidance
    from o1coder.runs.driver import _check_same, _resolve

    if resume:
        run = readers.get_run(resume, runs_dir)
        _check_same(run, recipe, problem_spec, limit)
        problems = planned_problems(run, runs_dir)
        pending = set(store.resume_run(run.id))
        return run.id, run.config, [p for p in problems if p.id in pending]
    if recipe is None:
        raise ValueError("--recipe is required for a new run (e.g. --recipe tiny-cpu)")
    if not problem_spec:
        raise ValueError("--problems is required for a new run (e.g. --problems bundled)")
    check_recipe(recipe)
    recipe = with_guidance(recipe)  # the PRM / TCG the actors load, checked and hashed before the run exists
    problems = _resolve(problem_spec, limit)
    return store.create_run(recipe, problems, problem_spec=problem_spec, problem_limit=limit), recipe, problems


@dataclass
class _Flight:
    """One problem an actor is searching, and the observer its streamed rollouts are written through."""

    problem: Problem
    observer: StoreObserver


@dataclass
class _Actor:
    """One search actor and the problems it is working on (none: idle, or still starting while ``ready`` is set)."""

    handle: Any
    name: str
    ready: Any = None  # the ObjectRef of its ready() call until it has answered
    flights: dict[Any, _Flight] = field(default_factory=dict)  # the ObjectRefGenerator of a search() call -> it
    info: dict[str, Any] = field(default_factory=dict)


class Scheduler:
    """Hands problems to actors as they become free, writes what they stream back, replaces actors that die."""

    def __init__(self, ray, store: RunStore, run_id: str, recipe: dict[str, Any], *, workers: int | None = None,
                 progress: Progress | None = None, max_attempts: int = 3, start_timeout: float = START_TIMEOUT):
        self.ray, self.store, self.run_id, self.recipe = ray, store, run_id, recipe
        self.workers, self.progress = workers, progress
        self.max_attempts, self.start_timeout = max_attempts, start_timeout
        self.actors: list[_Actor] = []
        self.attempts: Counter[str] = Counter()
        self.lost = 0  # actors lost during the run
        self.started = 0  # actors started, replacements included (numbers their names)
        self.restarts_left = 0  # replacements still allowed (set from the plan: max_attempts per planned actor)
        self._remote = None
        self._options: dict[str, Any] = {}
        self.per_actor = 1  # problems in flight per actor (search.concurrency, resolved for the model)

    # --- the loop -----------------------------------------------------------------------------------------------

    def run(self, problems: list[Problem], actors: int | None = None, actor_cpus: float | None = None) -> None:
        from o1coder.config import model_config
        from o1coder.search.config import recipe_concurrency

        self.per_actor = recipe_concurrency(self.recipe)
        plan = plan_actors(model_config(self.recipe), self.ray.cluster_resources(),
                           math.ceil(len(problems) / self.per_actor), actors, actor_cpus)
        log.info("run %s: %d problems on %s, %d in flight each", self.run_id, len(problems), plan.describe(),
                 self.per_actor)
        self._remote = self.ray.remote(SearchWorker)
        self._options = {"num_cpus": plan.num_cpus, "num_gpus": plan.num_gpus, "max_restarts": 0,
                         "runtime_env": {"env_vars": actor_env()}}
        if self.per_actor > 1:  # a threaded actor: one search() stream open per problem in flight
            self._options["max_concurrency"] = self.per_actor + 2
        self.restarts_left = plan.count * self.max_attempts  # replacements allowed over the whole run
        for _ in range(plan.count):
            self._start_actor()
        self._report(None)
        queue, quiet_since = deque(problems), time.monotonic()
        while queue or any(a.flights for a in self.actors):
            for actor in self.actors:
                while queue and actor.ready is None and len(actor.flights) < self.per_actor:
                    self._dispatch(actor, queue.popleft())
            starting = {a.ready: a for a in self.actors if a.ready is not None}
            searching = {stream: a for a in self.actors for stream in a.flights}
            if not starting and not searching:
                raise RuntimeError(f"no search actor is left to search {len(queue)} problems (actors lost: "
                                   f"{self.lost}); see `ray status` and the actors' logs")
            ready, _ = self.ray.wait([*starting, *searching], num_returns=1, timeout=30.0)
            if not ready:
                if not searching and time.monotonic() - quiet_since > self.start_timeout:
                    raise RuntimeError(f"no search actor started within {self.start_timeout:.0f} s: the cluster "
                                       f"lacks the resources ({self._options['num_cpus']:g} CPU, "
                                       f"{self._options['num_gpus']:g} GPU per actor); see `ray status`")
                continue
            quiet_since = time.monotonic()
            for waitable in ready:
                if waitable in starting:
                    self._on_ready(starting[waitable], queue)
                elif waitable in searching[waitable].flights:  # not already handed back by a loss this round
                    self._on_stream(searching[waitable], waitable, queue)

    def _start_actor(self) -> None:
        name = f"o1coder-search-{self.run_id}-{self.started}"
        self.started += 1
        handle = self._remote.options(name=name, **self._options).remote(self.recipe, self.workers,
                                                                          max(1, int(self._options["num_cpus"])))
        self.actors.append(_Actor(handle, name, ready=handle.ready.remote()))

    def _dispatch(self, actor: _Actor, problem: Problem) -> None:
        self.store.start_problem(self.run_id, problem.id)
        stream = actor.handle.search.options(num_returns="streaming").remote(problem)
        actor.flights[stream] = _Flight(problem, StoreObserver(self.store, self.run_id))
        log.debug("%s -> %s", problem.id, actor.name)

    def _on_ready(self, actor: _Actor, queue: deque) -> None:
        try:
            actor.info = self.ray.get(actor.ready)
        except self.ray.exceptions.RayActorError as error:
            if getattr(error, "actor_init_failed", False):
                raise RuntimeError(f"search actor {actor.name} failed to start: {error}") from None
            self._lost(actor, queue, error)
            return
        actor.ready = None
        log.info("%s ready on %s (pid %s)", actor.name, actor.info.get("host"), actor.info.get("pid"))

    def _on_stream(self, actor: _Actor, stream: Any, queue: deque) -> None:
        flight = actor.flights[stream]
        try:
            item = self.ray.get(next(stream))
        except StopIteration:
            raise RuntimeError(f"{actor.name} ended the search of {flight.problem.id} without a result") from None
        except self.ray.exceptions.RayActorError as error:
            self._lost(actor, queue, error)
            return
        if isinstance(item, RolloutUpdate):
            tree = Tree(problem_id=item.problem_id, config=item.config)
            for node in item.nodes:
                flight.observer.node_updated(tree, node)
            flight.observer.rollout_finished(tree, item.rollout, {**item.stats, "actor": actor.name})
        elif isinstance(item, ProblemDone):
            # the result names its actor: a problem whose root was exhausted before its first rollout has no live
            # progress that would
            result = {**item.result, "stats": {**(item.result.get("stats") or {}), "actor": actor.name}}
            totals = flight.observer.finish(item.tree, result, metrics=item.metrics)
            log.info("%s: %s (%s)", item.problem_id, "passed" if item.passed else "not passed", actor.name)
            del actor.flights[stream]
            self._report(item.problem_id, totals)
        else:
            raise TypeError(f"{actor.name} sent {type(item).__name__}, not a rollout or a result")

    # --- failures -----------------------------------------------------------------------------------------------

    def _lost(self, actor: _Actor, queue: deque, error: BaseException) -> None:
        """An actor died: its problems go back to the front of the queue, a replacement starts if allowed."""
        self.lost += 1
        self.actors.remove(actor)
        self._kill(actor)
        lost = [flight.problem for flight in actor.flights.values()]
        actor.flights = {}
        log.warning("search actor %s lost (%s)%s", actor.name, type(error).__name__,
                    f"; {', '.join(p.id for p in lost)} go back to the queue" if lost else "")
        for problem in lost:
            self.attempts[problem.id] += 1
            if self.attempts[problem.id] >= self.max_attempts:
                raise RuntimeError(f"problem {problem.id} was lost with its actor {self.attempts[problem.id]} times "
                                   f"(last: {error}); fix the cause (memory?) and resume the run") from None
            forget_partial(self.store, self.run_id, problem.id)
        queue.extendleft(reversed(lost))  # at the front, in the order they were dispatched
        done = readers.get_run(self.run_id, self.store.path.parent).problems_done
        self.store.log_metrics(self.run_id, done, {"ray_actors_lost": self.lost,
                                                   "ray_problems_retried": sum(self.attempts.values())})
        if self.restarts_left > 0:
            self.restarts_left -= 1
            self._start_actor()
        else:
            log.warning("no replacement for %s: %d actors lost, the restart budget is spent", actor.name, self.lost)

    def _kill(self, actor: _Actor) -> None:
        try:
            self.ray.kill(actor.handle)
        except Exception as error:  # noqa: BLE001 - already gone is fine
            log.debug("killing %s: %s", actor.name, error)

    def close(self) -> None:
        """Let idle actors close their sandbox and model, then end every actor (busy ones at once: Ctrl-C)."""
        if not self.actors:
            return
        idle = [a for a in self.actors if a.ready is None and not a.flights]
        try:
            self.ray.get([a.handle.close.remote() for a in idle], timeout=30)
        except Exception as error:  # noqa: BLE001 - dead or busy actors are killed below anyway
            log.debug("closing actors: %s", error)
        for actor in self.actors:
            self._kill(actor)
        self.actors.clear()

    # --- progress -----------------------------------------------------------------------------------------------

    def _report(self, problem_id: str | None, totals: dict[str, Any] | None = None) -> None:
        if self.progress is None:
            return
        if totals is None:
            run = readers.get_run(self.run_id, self.store.path.parent)
            self.progress(RunProgress(self.run_id, run.problems_planned, run.problems_done, run.problems_passed,
                                      run.pass_rate, run.tokens, run.executions))
            return
        self.progress(RunProgress(self.run_id, totals["planned"], totals["done"], totals["passed"],
                                  totals["pass_rate"], totals["prompt_tokens"] + totals["completion_tokens"],
                                  totals["executions"], problem_id))


def forget_partial(store: RunStore, run_id: str, problem_id: str) -> None:
    """Drop the nodes and live progress a lost attempt wrote, so a retry starts from an empty tree.

    What :meth:`RunStore.resume_run` does for every unfinished problem of a run, for one problem in flight.
    """
    with db.transaction(store.conn):
        store.conn.execute("DELETE FROM nodes WHERE run_id = ? AND problem_id = ?", (run_id, problem_id))
        store.conn.execute("UPDATE problems SET status = 'pending', rollouts = 0, live = NULL WHERE run_id = ? AND"
                           " problem_id = ?", (run_id, problem_id))
