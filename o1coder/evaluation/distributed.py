"""``o1coder eval --ray``: the evaluation's problems spread over Ray actors, each with many problems in flight.

The run is opened (or resumed) exactly as :func:`~o1coder.evaluation.record.run_eval` opens it, and this process
alone writes the store. Each :class:`EvalWorker` actor builds the recipe's model and its own sandbox and evaluates a
batch of ``search.concurrency`` problems at a time with :class:`~o1coder.search.inflight.InFlight` (their samples
and searches share generation batches). Scheduling is pull-based: an actor that returns its batch gets the next
one; an actor that dies hands its batch back to the queue (each problem at most ``max_attempts`` times) and a
replacement starts. Every result carries its own tokens and time, so the stored rows match a local evaluation's.
"""

from __future__ import annotations

import logging
import os
import socket
from collections import Counter, deque
from pathlib import Path
from typing import Any

from o1coder.evaluation.config import EvalConfig
from o1coder.evaluation.harness import ModeResult
from o1coder.evaluation.record import (
    EvalOutcome,
    Progress,
    finish_row,
    open_eval,
    write_outputs,
)
from o1coder.models.base import Usage
from o1coder.problems import Problem

log = logging.getLogger(__name__)


class EvalWorker:
    """One actor's model and sandbox; ``evaluate(problems)`` returns one record per problem, in order.

    A plain class (``ray.remote(EvalWorker)`` at run time), so it is tested in-process like any object.
    """

    def __init__(self, recipe: dict[str, Any], workers: int | None = None, threads: int | None = None):
        from o1coder.config import model_config
        from o1coder.execution import Sandbox
        from o1coder.models import build_generator
        from o1coder.runs.driver import sandbox_settings

        if threads:
            import torch

            torch.set_num_threads(int(threads))
        self.recipe = recipe
        limits, n_workers = sandbox_settings(recipe, workers or (recipe.get("execution") or {}).get("workers")
                                             or threads or 1)
        self.generator = build_generator(model_config(recipe))
        self.sandbox = Sandbox(limits=limits, workers=n_workers)
        self.sandbox.start()

    def ready(self) -> dict[str, Any]:
        return {"host": socket.gethostname(), "pid": os.getpid()}

    def evaluate(self, problems: list[Problem]) -> list[dict[str, Any]]:
        """``{"problem_id", "modes" (ModeResult dicts), "usage" (this problem's tokens), "seconds"}`` per problem."""
        from o1coder.evaluation.config import eval_config
        from o1coder.evaluation.record import evaluate_problems

        records = []

        def done(problem: Problem, outcome) -> None:
            per_mode, spent, seconds = outcome
            records.append({"problem_id": problem.id, "modes": {m: r.to_dict() for m, r in per_mode.items()},
                            "usage": spent.as_dict(include_total=False), "seconds": seconds})

        evaluate_problems(self.recipe, eval_config(self.recipe), problems, self.generator, self.sandbox,
                          on_done=done)
        order = {p.id: i for i, p in enumerate(problems)}
        return sorted(records, key=lambda r: order[r["problem_id"]])

    def close(self) -> None:
        self.sandbox.close()
        close = getattr(self.generator, "close", None)
        if close is not None:
            close()


def run_eval_ray(recipe: dict[str, Any] | None, benchmark: str | None, *, config: EvalConfig | None = None,
                 limit: int | None = None, runs_dir: str | Path | None = None, out: str | Path | None = None,
                 workers: int | None = None, progress: Progress | None = None, resume: str | None = None,
                 address: str | None = "local", actors: int | None = None, max_attempts: int = 3,
                 init_kwargs: dict[str, Any] | None = None, allow_contamination: bool = False) -> EvalOutcome:
    """:func:`~o1coder.evaluation.record.run_eval` on Ray actors (arguments as there, plus ``address``,
    ``actors`` and ``max_attempts``: times a problem may be lost with its actor before the run fails)."""
    from o1coder.runs.store import RunStore
    from o1coder.scale.cluster import connect, require_ray

    ray = require_ray()
    with RunStore(runs_dir) as store:
        opened = open_eval(store, recipe, config, benchmark, limit, resume, runs_dir, allow_contamination)
        joined, handles = False, []
        try:
            with store.guard(opened.run_id, finish=False):
                joined = connect(address, num_cpus=actors, **(init_kwargs or {}))
                _schedule(ray, store, opened, workers, progress, actors, max_attempts, handles)
                frame, files = write_outputs(store, opened, out, runs_dir)
        finally:
            for handle in handles:
                try:
                    ray.kill(handle)
                except Exception as error:  # noqa: BLE001 - already gone is fine
                    log.debug("killing an eval actor: %s", error)
            if joined:
                ray.shutdown()
        store.set_status(opened.run_id, "finished")
    return EvalOutcome(opened.run_id, opened.report, frame, files, opened.benchmark)


def _schedule(ray, store, opened, workers, progress, actors, max_attempts: int, handles: list) -> None:
    """Pull scheduling of batches of problems over actors, with lost actors replaced and their batch retried."""
    from o1coder.config import model_config
    from o1coder.scale.cluster import actor_env, plan_actors
    from o1coder.search.config import recipe_concurrency

    model = model_config(opened.recipe)
    batch = recipe_concurrency(opened.recipe)
    queue = deque(opened.todo[i : i + batch] for i in range(0, len(opened.todo), batch))
    if not queue:
        return
    plan = plan_actors(model, ray.cluster_resources(), len(queue), actors)
    remote = ray.remote(EvalWorker).options(num_cpus=plan.num_cpus, num_gpus=plan.num_gpus, max_restarts=0,
                                             runtime_env={"env_vars": actor_env()})
    threads = max(1, int(plan.num_cpus))
    attempts: Counter[str] = Counter()
    running: dict[Any, tuple[Any, list[Problem]]] = {}  # ObjectRef -> (actor, its batch)
    idle: list[Any] = []
    restarts = plan.count * max_attempts
    log.info("eval run %s: %d problems in batches of %d on %s", opened.run_id, len(opened.todo), batch,
             plan.describe())
    for _ in range(plan.count):
        handles.append(remote.remote(opened.recipe, workers, threads))
        idle.append(handles[-1])
    while queue or running:
        while queue and idle:
            actor, problems = idle.pop(0), queue.popleft()
            for problem in problems:
                store.start_problem(opened.run_id, problem.id)
            running[actor.evaluate.remote(problems)] = (actor, problems)
        [ref], _ = ray.wait(list(running), num_returns=1)
        actor, problems = running.pop(ref)
        try:
            records = ray.get(ref)
        except ray.exceptions.RayActorError as error:
            log.warning("an eval actor was lost (%s); its %d problems go back to the queue", error, len(problems))
            for problem in problems:
                attempts[problem.id] += 1
                if attempts[problem.id] >= max_attempts:
                    raise RuntimeError(f"problem {problem.id} was lost with its actor {attempts[problem.id]} "
                                       "times; fix the cause (memory?) and resume the run") from None
            queue.appendleft(problems)
            handles.remove(actor)
            if restarts > 0:
                restarts -= 1
                handles.append(remote.remote(opened.recipe, workers, threads))
                idle.append(handles[-1])
            elif not handles:
                raise RuntimeError("every eval actor was lost and the restart budget is spent") from None
            continue
        for record in records:
            per_mode = {mode: ModeResult.from_dict(d) for mode, d in record["modes"].items()}
            spent = Usage(**record["usage"])
            finish_row(store, opened, record["problem_id"], per_mode, spent, record["seconds"])
            if progress:
                progress(len(opened.report.results[opened.config.modes[0]]), opened.planned, opened.report)
        idle.append(actor)
