"""The pieces one self-play round is made of, each usable alone: search into the run store, read the trees back,
write datasets, train a PRM, evaluate a policy. :mod:`o1coder.loop` chains them and records where it stands.

Nothing here keeps state between calls: the loop passes the run store, the sandbox and the current generator.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from o1coder.problems import Problem
from o1coder.runs import readers
from o1coder.runs.store import RunStore
from o1coder.search.tree import Tree

logger = logging.getLogger(__name__)


def resolve(spec: str, limit: int | None = None) -> list[Problem]:
    """The problems of a spec ("bundled:train", "mbpp:PATH", ...), the first ``limit`` of them."""
    from o1coder.bundled import resolve_problem_spec

    problems = resolve_problem_spec(spec, **({"limit": limit} if limit and not spec.startswith("bundled") else {}))
    if not problems:
        raise ValueError(f"problem spec {spec!r} has no problems")
    return problems[:limit] if limit else problems


ROUND_FIELD = "{round}"
"""In ``loop.train_problems``, replaced by the round number: ``synthetic:train,n=128,seed={round}`` searches new
problems every round."""


def round_spec(spec: str, t: int) -> str:
    """The training problem spec of round ``t`` (``{round}`` replaced by ``t``; a spec without it every round)."""
    return spec.replace(ROUND_FIELD, str(t))


def resolve_many(specs: str | Sequence[str], limit: int | None = None) -> list[Problem]:
    """The problems of one spec or of several (each its first ``limit``), in order, each problem once."""
    found: dict[str, Problem] = {}
    for spec in [specs] if isinstance(specs, str) else specs:
        for problem in resolve(spec, limit):
            found.setdefault(problem.id, problem)
    return list(found.values())


def policy_recipe(recipe: dict[str, Any], policy: str | Path | None) -> dict[str, Any]:
    """The recipe with ``model.name_or_path`` set to the policy checkpoint (unchanged when ``policy`` is None)."""
    result = copy.deepcopy(recipe)
    if policy is not None:
        result.setdefault("model", {})["name_or_path"] = str(policy)
    return result


def search_run(store: RunStore, problems: Sequence[Problem], spec: str, limit: int | None, recipe: dict[str, Any],
               generator, sandbox, run_id: str | None = None, on_created=None, progress=None) -> str:
    """Search ``problems`` into a new run of the store (or continue ``run_id``); returns the run id.

    ``on_created(run_id)`` is called as soon as a new run exists, before any search: the caller records the id so
    that a process killed during the search resumes this run instead of starting another.
    """
    from o1coder.runs.driver import search_problems

    run_id, todo = open_run(store, problems, spec, limit, recipe, run_id, on_created)
    if todo:
        search_problems(store, run_id, todo, generator=generator, sandbox=sandbox, recipe=recipe, progress=progress)
    else:
        store.set_status(run_id, "finished")
    return run_id


def open_run(store: RunStore, problems: Sequence[Problem], spec: str, limit: int | None, recipe: dict[str, Any],
             run_id: str | None, on_created=None, kind: str = "search") -> tuple[str, list[Problem]]:
    """Resume run ``run_id`` (its unfinished problems) or create a new one (``on_created(run_id)`` told at once, so
    that a process killed before the first result resumes this run instead of starting another). Returns the run id
    and the problems still to do, in order."""
    if run_id is not None:
        pending = set(store.resume_run(run_id))
        return run_id, [p for p in problems if p.id in pending]
    run_id = store.create_run(recipe, problems, problem_spec=spec, problem_limit=limit, kind=kind)
    if on_created is not None:
        on_created(run_id)
    return run_id, list(problems)


def search_run_ray(store: RunStore, problems: Sequence[Problem], spec: str, limit: int | None,
                   recipe: dict[str, Any], *, actors: int | None = None, run_id: str | None = None,
                   on_created=None, progress=None) -> str:
    """:func:`search_run` on Ray actors (``o1coder loop --ray``): each actor builds the recipe's policy and a
    sandbox, streams its trees back, and this process writes them into ``store``. Ray must be initialised
    (:func:`o1coder.scale.cluster.connect`). The actors end with the search, and with them the GPU memory their
    engines held, before the next stage starts."""
    from o1coder.scale.cluster import require_ray
    from o1coder.scale.driver import Scheduler

    run_id, todo = open_run(store, problems, spec, limit, recipe, run_id, on_created)
    scheduler = Scheduler(require_ray(), store, run_id, recipe, progress=progress)
    with store.guard(run_id):
        try:
            if todo:
                scheduler.run(todo, actors=actors)
        finally:
            scheduler.close()
    return run_id


def finished_trees(run_id: str, runs_dir: str | Path | None = None) -> list[Tree]:
    """The trees of the run's finished problems, in run order."""
    status = readers.problems(run_id, runs_dir)
    return [readers.load_tree(run_id, pid, runs_dir)
            for pid, state in zip(status["problem_id"], status["status"]) if state == "finished"]


def write_jsonl(path: Path, rows: Iterable[dict]) -> int:
    """Rows as JSON lines (``datasets.load_dataset("json", data_files=...)`` reads them); returns the count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as file:
        for row in rows:
            file.write(json.dumps(row, default=str) + "\n")
            count += 1
    return count


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]


def prm_available() -> bool:
    try:
        import o1coder.prm  # noqa: F401
    except ImportError:
        return False
    return True


def train_prm(trees: Sequence[Tree], problems, recipe: dict[str, Any], output_dir: Path,
              info: dict[str, Any]) -> tuple[Path | None, dict[str, Any]]:
    """Train the recipe's PRM (``prm:`` section) on ``trees``; (output folder, metrics), or (None, why) when there
    is nothing to learn from (no visited code path) or o1coder.prm is not installed."""
    if not prm_available():
        return None, {"skipped": "o1coder.prm is not available"}
    from o1coder.config import model_config
    from o1coder.prm import pairwise_rows, pointwise_rows, prm_config, train_pairwise, train_pointwise

    config = prm_config(recipe)
    if config.mode == "pointwise":
        rows = pointwise_rows(trees, problems, config.labels, config.threshold)
    else:
        rows = pairwise_rows(trees, problems, config.min_margin)
    if not rows:
        return None, {"skipped": f"no {config.mode} PRM rows in the trees (no visited code path / sibling pair)",
                      "rows": 0}
    train = train_pointwise if config.mode == "pointwise" else train_pairwise
    try:
        result = train(rows, model_config(recipe), config, output_dir, info)
    except ValueError as error:  # e.g. every row longer than prm.max_length
        return None, {"skipped": str(error), "rows": len(rows)}
    return result.output_dir, {"rows": len(rows), "loss": result.metrics.get("last_loss"), "mode": config.mode}


def load_scorer(folder: str | Path | None, recipe: dict[str, Any]):
    """The PRM scorer of a trained folder, or None."""
    if folder is None:
        return None
    from o1coder.prm import PRMScorer, prm_config

    return PRMScorer.load(folder, batch_size=prm_config(recipe).score_batch_size)


def evaluation_available() -> bool:
    try:
        import o1coder.evaluation  # noqa: F401
    except ImportError:
        return False
    return True


def evaluate_with_harness(recipe: dict[str, Any], spec: str, limit: int | None, generator, sandbox,
                          runs_dir: str | Path | None, allow_contamination: bool = False) -> tuple[str, float | None]:
    """Pass@1 of sampled pseudocode trajectories on hidden tests (o1coder.evaluation, pseudocode mode only);
    returns (eval run id, Pass@1)."""
    from o1coder.evaluation import eval_config, run_eval

    config = eval_config(recipe, modes=["pseudocode"])
    outcome = run_eval(recipe, spec, config=config, limit=limit, runs_dir=runs_dir, generator=generator,
                       sandbox=sandbox, allow_contamination=allow_contamination)
    return outcome.run_id, outcome.report.summary("pseudocode")["pass@k"].get(1)


def check_loop_guidance(recipe: dict[str, Any], config) -> None:
    """The loop's TCG and PRM sources agree with the search: generated reward tests need a TCG (``loop.tcg`` or
    ``--tcg DIR``), and a TCG is only trained or given when they are generated. The PRM prior (``search.prior:
    prm``) needs ``loop.prm``: each round's search uses the PRM of the round before."""
    from o1coder.guidance import needs_prm, needs_tcg, with_guidance
    from o1coder.search.config import search_config

    search = search_config(recipe)
    given = (recipe.get("guidance") or {}).get("tcg")
    if needs_tcg(search) and config.tcg == "off" and not given:
        raise ValueError("search.reward_tests=generated needs a test case generator: set loop.tcg to 'once' or "
                         "'each_round' (the loop trains it), or give --tcg DIR")
    if config.tcg != "off" and given:
        raise ValueError(f"loop.tcg={config.tcg!r} trains a TCG, and --tcg {given} gives one: keep one of them")
    if config.tcg != "off" and not needs_tcg(search):
        raise ValueError(f"loop.tcg={config.tcg!r} trains a TCG whose tests nothing would use: set "
                         "search.reward_tests=generated, or loop.tcg=off")
    if needs_prm(search) and not config.prm:
        raise ValueError("search.prior=prm needs the loop's PRM: set loop.prm=true (each round searches with the "
                         "PRM of the round before; round 0 with the policy's log-probabilities)")
    with_guidance(recipe, require=False)  # a given folder exists and is a TCG


def evaluate_with_traces(store: RunStore, problems: Sequence[Problem], spec: str, limit: int | None,
                         recipe: dict[str, Any], generator, sandbox, run_id: str | None = None, on_created=None,
                         progress=None, batch: int = 64, max_tokens: int | None = None) -> str:
    """Held-out Pass@1 of whole sampled traces, greedy, many problems per generation batch
    (:func:`o1coder.evaluation.traces.evaluate_traces`), recorded as an ``eval`` run of the store with one result
    per problem (the answer and its hidden-test verdict), resumable problem by problem like a search;
    ``max_tokens`` bounds a trace (default: the search's step tokens times its depth). Returns the run id.
    Greedy: the curve then moves only when the policy does, not with sampling noise."""
    import dataclasses
    import time

    from o1coder.config import sampling_config
    from o1coder.evaluation.traces import evaluate_traces
    from o1coder.search.config import search_config

    run_id, todo = open_run(store, problems, spec, limit, recipe, run_id, on_created, kind="eval")
    search = search_config(recipe)
    base = sampling_config(recipe)
    params = dataclasses.replace(base, temperature=0.0, max_new_tokens=max_tokens or (
        (search.max_step_tokens or base.max_new_tokens) * search.max_depth))
    done = len(problems) - len(todo)
    for start in range(0, len(todo), batch):
        chunk, began = todo[start:start + batch], time.perf_counter()
        result = evaluate_traces(generator, chunk, sandbox, params)
        seconds = (time.perf_counter() - began) / len(chunk)
        for problem, score in zip(chunk, result.scores):
            store.start_problem(run_id, problem.id)
            store.finish_problem(run_id, problem.id, rows=[], tree_config={"evaluation": "traces"}, result={
                "answer": score.program, "passed": int(score.passed), "hidden_status": "passed" if score.passed
                else ("no_code" if score.program is None else "failed"), "hidden_n_tests": len(problem.tests),
                "completion_tokens": score.tokens, "executions": int(score.program is not None),
                "wall_seconds": seconds, "stats": {"steps": score.steps, "parsed_steps": score.parsed_steps}})
        done += len(chunk)
        if progress is not None:
            progress(done, len(problems))
    store.set_status(run_id, "finished")
    return run_id


def check_recipe(recipe: dict[str, Any]) -> None:
    """Validate every section the loop will read, so a typo fails before anything runs."""
    from o1coder.runs.driver import check_recipe as check_search_sections
    from o1coder.training.config import loop_config, training_config

    check_search_sections(recipe)
    training_config(recipe)
    config = loop_config(recipe)
    check_loop_guidance(recipe, config)
    if config.prm and prm_available():
        from o1coder.prm import prm_config

        prm_config(recipe)
    if config.evaluator != "search" and evaluation_available():
        from o1coder.evaluation import eval_config

        eval_config(recipe, modes=["pseudocode"])
    check_cluster(config)


def check_cluster(config) -> None:
    """``loop.ray`` needs Ray installed and ``loop.accelerate_config`` a config that exists and accelerate: fail
    here, before the run starts, naming the option, rather than in round 0 after a search."""
    if config.ray:
        from o1coder.scale.cluster import require_ray

        try:
            require_ray()
        except ImportError as error:
            raise ImportError(f"loop.ray (--ray): {error}") from None
    if config.accelerate_config:
        from o1coder.scale.launch import resolve_config

        try:
            resolve_config(config.accelerate_config)
        except FileNotFoundError as error:
            raise FileNotFoundError(f"loop.accelerate_config (--accelerate-config): {error}") from None
        try:
            import accelerate  # noqa: F401
        except ImportError:
            raise ImportError("loop.accelerate_config (--accelerate-config) needs accelerate: "
                              "pip install 'o1coder[train]'") from None


class PolicyGenerators:
    """The current policy as a Generator: built once per policy version, the previous one closed (its memory
    freed) when the policy changes. ``factory(policy)`` replaces the recipe's backend (tests: a scripted policy)."""

    def __init__(self, recipe: dict[str, Any], factory=None):
        self.recipe, self.factory = recipe, factory
        self._current: tuple[str | None, Any] | None = None

    def get(self, policy: str | None):
        from o1coder.config import model_config
        from o1coder.models import build_generator

        if self._current is None or self._current[0] != policy:
            self.close()
            if self.factory is not None:
                generator = self.factory(policy)
            else:
                generator = build_generator(model_config(policy_recipe(self.recipe, policy)))
            self._current = (policy, generator)
        return self._current[1]

    def close(self) -> None:
        if self._current is not None:
            close = getattr(self._current[1], "close", None)
            if close is not None:
                close()
            self._current = None
