"""Search a list of problems into the run store: what ``o1coder search`` and the notebooks call.

:func:`run_search` does everything from a recipe and a problem spec: it creates (or resumes) a run, builds the
generator and the sandbox, and searches the problems one by one with a :class:`StoreObserver` recording every
rollout. :func:`search_problems` is the loop alone, for callers that bring their own generator and sandbox.

How a session ends is always recorded: ``finished``; ``interrupted`` on Ctrl-C (KeyboardInterrupt), resumable;
``failed`` with the error on any other exception (also resumable, e.g. after fixing a sandbox setting).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from o1coder.guidance import load_guidance, with_guidance
from o1coder.problems import Problem
from o1coder.runs import readers
from o1coder.runs.provenance import problems_hash
from o1coder.runs.recorder import StoreObserver
from o1coder.runs.store import RunStore

log = logging.getLogger(__name__)


@dataclass
class RunProgress:
    """Where a run stands; passed to the progress callback at the start and after each problem."""

    run_id: str
    planned: int
    done: int
    passed: int = 0
    pass_rate: float | None = None
    tokens: int = 0
    executions: int = 0
    problem_id: str | None = None  # the problem just finished (None for the first call)


Progress = Callable[[RunProgress], None]


def run_search(recipe: dict[str, Any] | None, problem_spec: str | None = None, *, limit: int | None = None,
               runs_dir: str | Path | None = None, resume: str | None = None, workers: int | None = None,
               progress: Progress | None = None) -> str:
    """Search a problem set with a recipe (or resume run ``resume``), recording everything; returns the run id.

    ``recipe``: the loaded recipe after overrides (:func:`o1coder.config.load_recipe`). When resuming, the run's
    recorded recipe and problems are used (``recipe`` may be None); a different ``recipe`` or ``problem_spec`` is an
    error, not a silent switch, since the run's results would then mix two configurations.
    """
    with RunStore(runs_dir) as store:
        if resume:
            run = readers.get_run(resume, runs_dir)
            _check_same(run, recipe, problem_spec, limit)
            recipe, problems = run.config, planned_problems(run, runs_dir)
            pending = set(store.resume_run(run.id))
            run_id, todo = run.id, [p for p in problems if p.id in pending]
        else:
            if recipe is None:
                raise ValueError("--recipe is required for a new run (e.g. --recipe tiny-cpu)")
            if not problem_spec:
                raise ValueError("--problems is required for a new run (e.g. --problems bundled)")
            check_recipe(recipe)  # a typo in --set fails here, before a run is recorded
            recipe = with_guidance(recipe)  # a missing or wrong PRM / TCG too; their content hashes are recorded
            problems = _resolve(problem_spec, limit)
            run_id = store.create_run(recipe, problems, problem_spec=problem_spec, problem_limit=limit)
            todo = problems
        if not todo:
            log.info("run %s has no problem left to search", run_id)
            store.set_status(run_id, "finished")
            return run_id
        with store.guard(run_id, finish=False):  # search_problems finishes the run; this covers the model, sandbox
            generator, sandbox = _build(recipe, workers)
            with sandbox:
                search_problems(store, run_id, todo, generator=generator, sandbox=sandbox, recipe=recipe,
                                progress=progress)
    return run_id


def check_recipe(recipe: dict[str, Any]) -> None:
    """Validate the sections a search reads (model, sampling, search, execution); raises ValueError naming the key."""
    from o1coder.config import model_config, sampling_config
    from o1coder.search.config import search_config

    model_config(recipe)
    sampling_config(recipe)
    search_config(recipe)
    sandbox_settings(recipe)


def search_problems(store: RunStore, run_id: str, problems: Sequence[Problem], *, generator, sandbox,
                    recipe: dict[str, Any], progress: Progress | None = None) -> None:
    """Search ``problems`` into run ``run_id``, ``search.concurrency`` of them in flight (null: enough to fill the
    backend), then mark the run finished (or interrupted / failed).

    Problems start in order; each one's nodes are written live by its own observer, and its result in one
    transaction when it finishes (in any order at concurrency > 1). A run killed at any point resumes with every
    unfinished problem searched again from scratch: none lost, none written twice.
    """
    from o1coder.config import sampling_config
    from o1coder.search import search_many
    from o1coder.search.config import recipe_concurrency, search_config

    config = search_config(recipe)
    sampling = sampling_config(recipe) if recipe.get("sampling") else None
    guidance = load_guidance(recipe, sandbox)  # the recipe's PRM and TCG (o1coder.guidance), when it names them
    concurrency = recipe_concurrency(recipe)
    observers: dict[str, StoreObserver] = {}  # one per problem in flight
    writes = {"seconds": 0.0, "commits": 0}
    run = readers.get_run(run_id, store.path.parent)
    if progress:
        progress(RunProgress(run_id, run.problems_planned, run.problems_done, run.problems_passed, run.pass_rate,
                             run.tokens, run.executions))

    def observe(problem: Problem) -> StoreObserver:
        store.start_problem(run_id, problem.id)
        observers[problem.id] = StoreObserver(store, run_id)
        return observers[problem.id]

    def finished(problem: Problem, result) -> None:
        observer = observers.pop(problem.id)
        totals = observer.finish(result.tree, result_record(result), metrics=problem_metrics(result))
        writes["seconds"] += observer.seconds
        writes["commits"] += observer.commits
        log.info("%s: %s", problem.id, "passed" if result.hidden is not None and result.hidden.all_passed
                 else "not passed")
        if progress:
            progress(RunProgress(run_id, totals["planned"], totals["done"], totals["passed"], totals["pass_rate"],
                                 totals["prompt_tokens"] + totals["completion_tokens"], totals["executions"],
                                 problem.id))

    if concurrency > 1:
        log.info("run %s: %d problems, %d in flight", run_id, len(problems), concurrency)
    with store.guard(run_id):
        search_many(problems, generator, sandbox, config, concurrency=concurrency, observer_for=observe,
                    on_result=finished, sampling=sampling, **guidance.search_kwargs())
    log.info("run %s: store writes took %.3f s over %d commits", run_id, writes["seconds"], writes["commits"])


def result_record(result) -> dict[str, Any]:
    """The ``results`` columns of a :class:`~o1coder.search.SearchResult`."""
    stats = dict(result.stats or {})
    tokens = stats.get("tokens") or {}
    hidden = result.hidden
    return {
        "answer": result.answer,
        "best_node": None if result.best is None else result.best.id,
        "passed": int(hidden is not None and hidden.all_passed),
        "hidden_status": None if hidden is None else hidden.status,
        "hidden_n_passed": None if hidden is None else hidden.n_passed,
        "hidden_n_tests": None if hidden is None else hidden.n_tests,
        "hidden": None if hidden is None else hidden.to_dict(),
        "prompt_tokens": int(tokens.get("prompt", 0)),
        "completion_tokens": int(tokens.get("completion", 0)),
        "executions": int(stats.get("programs_executed", 0)),
        "wall_seconds": stats.get("wall_seconds"),
        "n_nodes": len(result.tree.nodes),
        "stats": stats,
    }


def problem_metrics(result) -> dict[str, float]:
    """Per-problem points logged next to the running totals (pass_rate, tokens, executions)."""
    stats = result.stats or {}
    points = {"problem_passed": float(result.hidden is not None and result.hidden.all_passed),
              "problem_nodes": float(len(result.tree.nodes)),
              "problem_seconds": float(stats.get("wall_seconds") or 0.0)}
    agreement = stats.get("generated_agreement")
    if agreement:  # generated reward tests against the hidden ones (the app's Metrics page pools them per run)
        points.update({f"generated/{key}": float(agreement[key])
                       for key in ("programs", "false_passes", "false_fails")})
    return points


def sandbox_settings(recipe: dict[str, Any], workers: int | None = None) -> tuple[Any, int]:
    """(Limits, workers) from the recipe's optional ``execution:`` section (Limits fields plus ``workers``)."""
    from o1coder.config import from_dict
    from o1coder.execution import Limits

    section = dict(recipe.get("execution") or {})
    workers = workers or section.pop("workers", None) or os.cpu_count() or 1
    section.pop("workers", None)
    return from_dict(Limits, section, section="execution"), int(workers)


# --- internals --------------------------------------------------------------------------------------------------


def _build(recipe: dict[str, Any], workers: int | None):
    from o1coder.config import model_config
    from o1coder.execution import Sandbox
    from o1coder.models import build_generator

    limits, workers = sandbox_settings(recipe, workers)
    generator = build_generator(model_config(recipe))
    return generator, Sandbox(limits=limits, workers=workers)


def _resolve(spec: str, limit: int | None) -> list[Problem]:
    from o1coder.bundled import resolve_problem_spec

    problems = resolve_problem_spec(spec, **({"limit": limit} if limit and not spec.startswith("bundled") else {}))
    return problems[:limit] if limit else problems


def planned_problems(run: readers.RunInfo, runs_dir: str | Path | None = None) -> list[Problem]:
    """The run's planned problems in order, re-read from its recorded spec and checked against its data hash."""
    if not run.problem_spec:
        raise ValueError(f"run {run.id} has no recorded problem spec: it cannot be resumed by o1coder search")
    by_id = {p.id: p for p in _resolve(run.problem_spec, None)}
    planned = list(readers.problems(run.id, runs_dir)["problem_id"])
    missing = [pid for pid in planned if pid not in by_id]
    if missing:
        raise ValueError(f"run {run.id}: problems {', '.join(missing[:5])} are no longer in {run.problem_spec!r}")
    problems = [by_id[pid] for pid in planned]
    if run.data_hash and problems_hash(problems) != run.data_hash:
        raise ValueError(f"run {run.id}: the problems of {run.problem_spec!r} changed since the run started (data "
                         "hash differs); start a new run instead of resuming")
    return problems


def _check_same(run: readers.RunInfo, recipe: dict | None, spec: str | None, limit: int | None) -> None:
    if recipe is not None and _comparable(recipe) != _comparable(run.config):
        raise ValueError(f"run {run.id} was started with another recipe or --set values; resume it with only "
                         f"--resume {run.id} (its recorded recipe is used)")
    if spec is not None and spec != run.problem_spec:
        raise ValueError(f"run {run.id} searches {run.problem_spec!r}, not {spec!r}; drop --problems to resume it")
    if limit is not None and limit != run.problem_limit:
        raise ValueError(f"run {run.id} was started with --limit {run.problem_limit}; drop --limit to resume it")


def _comparable(recipe: dict) -> str:
    return json.dumps(recipe, sort_keys=True, default=str)

