"""``run_eval``: what ``o1coder eval`` does. Evaluate a problem set, record it in the run store, write the tables.

The run store gets an ordinary run (``kind = "eval"``, the recipe with its resolved ``evaluation:`` section) so
``o1coder runs`` and the app list it and follow it live:

- one ``results`` row per problem when it is done (the columns describe the first sample of the pseudocode mode,
  or of the only mode; tokens and executions count every mode; ``stats`` holds every mode's full record), so the
  run's ``pass_rate`` column is a one-sample Pass@1 of that mode;
- metric points after every problem: the running ``eval/pass@K/MODE`` and ``eval/aspr/MODE`` (see
  :meth:`EvalReport.metrics`), the last step holding the final numbers; Table 1 is built from exactly these.

Files (``out``, default ``<runs dir>/eval/<run id>``): ``table1.md``, ``table1.csv`` and ``results.json`` (every
answer, verdict and ASPR record).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from o1coder.evaluation.config import EvalConfig, eval_config
from o1coder.evaluation.harness import EvalReport, Evaluator, ModeResult, model_label
from o1coder.evaluation.table import our_row, table1, table_notes, write_table
from o1coder.problems import Problem

logger = logging.getLogger(__name__)


@dataclass
class EvalOutcome:
    run_id: str
    report: EvalReport
    table: Any  # pandas DataFrame (Table 1 layout)
    files: dict[str, Path]
    benchmark: str = ""


Progress = Callable[[int, int, EvalReport], None]
"""``progress(done, planned, report)`` after each problem."""


def resolve_problems(spec: str, limit: int | None = None) -> list[Problem]:
    """Problems for a benchmark spec ("bundled:eval", "mbpp:PATH", ...), the first ``limit`` of them."""
    from o1coder.bundled import resolve_problem_spec

    if limit is not None and limit < 1:
        raise ValueError(f"--limit must be >= 1; got {limit}")
    problems = resolve_problem_spec(spec, **({"limit": limit} if limit and not spec.startswith("bundled") else {}))
    if not problems:
        raise ValueError(f"benchmark {spec!r} has no problems")
    return problems[:limit] if limit else problems


def output_dir(out: str | Path | None, runs_dir: str | Path | None, run_id: str, kind: str = "eval") -> Path:
    from o1coder.paths import runs_dir as default_runs_dir

    return Path(out) if out else default_runs_dir(runs_dir) / kind / run_id


@dataclass
class OpenedEval:
    """An eval run ready to evaluate: new, or resumed with its finished problems read back into ``report``."""

    run_id: str
    recipe: dict[str, Any]  # as recorded: the evaluation section is ``config`` (what actors and resumes read)
    config: EvalConfig
    benchmark: str
    planned: int  # problems of the whole run
    report: EvalReport
    todo: list[Problem]  # problems still to evaluate, in order


def run_eval(recipe: Mapping[str, Any] | None, benchmark: str | None, *, config: EvalConfig | None = None,
             limit: int | None = None, runs_dir: str | Path | None = None, out: str | Path | None = None,
             workers: int | None = None, generator=None, sandbox=None, progress: Progress | None = None,
             resume: str | None = None, allow_contamination: bool = False) -> EvalOutcome:
    """Evaluate ``benchmark`` with ``recipe`` (its ``evaluation:`` section, or ``config``), record and write it.

    ``search.concurrency`` problems are evaluated at once (null: enough to fill the backend), their samples and
    searches batched together (:class:`~o1coder.search.inflight.InFlight`). ``resume``: continue that eval run
    (killed, interrupted or failed) with its recorded recipe, benchmark and limit: its finished problems are read
    back, never evaluated again; the others are evaluated from scratch (a ``results`` row is written only when a
    problem is done, so nothing is duplicated). ``generator`` / ``sandbox`` default to the recipe's model and
    execution sections (pass them to reuse loaded ones, or a scripted generator in tests). The run is marked failed
    or interrupted if anything stops it. Problems the model's training lineage saw are refused before the run
    (:mod:`o1coder.runs.lineage`) unless ``allow_contamination``.
    """
    from o1coder.runs.store import RunStore

    with RunStore(runs_dir) as store:
        opened = open_eval(store, recipe, config, benchmark, limit, resume, runs_dir, allow_contamination)
        with store.guard(opened.run_id):
            own_sandbox = sandbox is None
            generator, sandbox = _build(opened.recipe, generator, sandbox, workers)
            try:
                def done(problem: Problem, outcome) -> None:
                    finish_row(store, opened, problem.id, *outcome)
                    if progress:
                        progress(len(opened.report.results[opened.config.modes[0]]), opened.planned, opened.report)

                evaluate_problems(opened.recipe, opened.config, opened.todo, generator, sandbox,
                                  on_start=lambda problem: store.start_problem(opened.run_id, problem.id),
                                  on_done=done)
            finally:
                if own_sandbox:
                    sandbox.close()
            frame, files = write_outputs(store, opened, out, runs_dir)
    return EvalOutcome(opened.run_id, opened.report, frame, files, opened.benchmark)


def open_eval(store, recipe: Mapping[str, Any] | None, config: EvalConfig | None, benchmark: str | None,
              limit: int | None, resume: str | None, runs_dir, allow_contamination: bool = False) -> OpenedEval:
    """Create the eval run (its PRM / TCG checked and hashed, contamination refused unless allowed), or take over
    run ``resume`` (its recorded recipe, benchmark and limit; giving others is an error, not a silent switch) and
    read its finished problems back."""
    from o1coder.config import model_config
    from o1coder.guidance import with_guidance
    from o1coder.runs import readers
    from o1coder.runs.driver import check_recipe, planned_problems
    from o1coder.runs.lineage import check_contamination

    if not resume:
        if recipe is None or not benchmark:
            raise ValueError("a new evaluation needs a recipe and a benchmark (or resume=RUN)")
        config = config or eval_config(recipe)
        check_recipe(recipe)
        recipe = with_guidance(recipe)  # its PRM / TCG (o1coder.guidance): checked and hashed before the run exists
        problems = resolve_problems(benchmark, limit)
        check_contamination(model_config(recipe).name_or_path, [p.id for p in problems], allow=allow_contamination)
        recorded = {**recipe, "evaluation": config.to_dict()}
        run_id = store.create_run(recorded, problems, problem_spec=benchmark, problem_limit=limit, kind="eval")
        report = EvalReport(model_label(recipe, config), config.to_dict())
        return OpenedEval(run_id, recorded, config, benchmark, len(problems), report, problems)
    run = readers.get_run(resume, runs_dir)
    if run.kind != "eval":
        raise ValueError(f"run {run.id} is a {run.kind} run, not an evaluation; resume it with o1coder "
                         f"{'search' if run.kind == 'search' else run.kind} --resume {run.id}")
    given = [name for name, differs in (("the recipe", recipe is not None or config is not None),
                                        ("the benchmark", benchmark not in (None, run.problem_spec)),
                                        ("the limit", limit not in (None, run.problem_limit))) if differs]
    if given:
        raise ValueError(f"run {run.id} keeps its recorded recipe, benchmark and limit: drop {', '.join(given)} to "
                         "resume it")
    recipe, config = run.config, eval_config(run.config)
    problems = planned_problems(run, runs_dir)
    pending = set(store.resume_run(run.id))
    report = EvalReport(model_label(recipe, config), config.to_dict())
    finished = readers.problem_results(run.id, runs_dir)
    for stats in finished["stats"]:
        report.add({mode: ModeResult.from_dict(record) for mode, record in stats.items()})
    logger.info("eval run %s resumed: %d problems done, %d left", run.id, len(finished), len(pending))
    return OpenedEval(run.id, recipe, config, run.problem_spec, len(problems), report,
                      [p for p in problems if p.id in pending])


def evaluate_problems(recipe: Mapping[str, Any], config: EvalConfig, problems, generator, sandbox, *,
                      on_start: Callable[[Problem], None] | None = None,
                      on_done: Callable[[Problem, tuple], None] | None = None) -> None:
    """Every problem through its own :class:`Evaluator`, ``search.concurrency`` in flight (null: enough to fill the
    backend). ``on_done(problem, (per_mode, usage, seconds))`` as each finishes; ``usage`` is that problem's own."""
    from o1coder.search.config import recipe_concurrency
    from o1coder.search.inflight import InFlight

    from o1coder.guidance import load_guidance

    concurrency = recipe_concurrency(recipe)
    guidance = load_guidance(recipe, sandbox)  # once for every problem: a PRM or TCG model is loaded here only

    def work(problem: Problem, task_generator, task_sandbox):
        if on_start is not None:
            on_start(problem)
        start = time.perf_counter()
        per_mode = Evaluator(task_generator, task_sandbox, recipe, config, guidance).problem(problem)
        return per_mode, task_generator.usage, time.perf_counter() - start

    InFlight(generator, sandbox, concurrency).map(problems, work, on_done)


def finish_row(store, opened: OpenedEval, problem_id: str, per_mode: Mapping[str, ModeResult], spent,
               seconds: float) -> None:
    """Add a problem to the report and write its results row and the running metrics, in one transaction."""
    opened.report.add(per_mode)
    store.finish_problem(opened.run_id, problem_id, rows=[], tree_config={"evaluation": opened.report.config},
                         result=_result_row(per_mode, spent, seconds), metrics=opened.report.metrics())


def write_outputs(store, opened: OpenedEval, out, runs_dir) -> tuple[Any, dict[str, Path]]:
    """The final metric points, Table 1 and the files; returns (the table, the files)."""
    store.log_metrics(opened.run_id, opened.planned, opened.report.metrics())
    frame = table1([our_row(opened.report)])
    files = _write(frame, opened.report, opened.benchmark, output_dir(out, runs_dir, opened.run_id), opened.run_id)
    return frame, files


def _build(recipe, generator, sandbox, workers):
    from o1coder.config import model_config
    from o1coder.execution import Sandbox
    from o1coder.models import build_generator
    from o1coder.runs.driver import sandbox_settings

    if sandbox is None:
        limits, count = sandbox_settings(dict(recipe), workers)
        sandbox = Sandbox(limits=limits, workers=count)
    if generator is None:
        generator = build_generator(model_config(recipe))
    return generator, sandbox


def _result_row(per_mode: Mapping[str, ModeResult], spent, seconds: float) -> dict[str, Any]:
    primary = per_mode.get("pseudocode") or next(iter(per_mode.values()))
    first = primary.answers[0]
    executions = sum(len([a for a in r.answers if a["program"] is not None]) + r.aspr.executions
                     + r.aspr_search_executions for r in per_mode.values())
    return {"answer": first["program"], "best_node": None, "passed": int(first["passed"]),
            "hidden_status": first["status"], "hidden_n_passed": first["n_passed"],
            "hidden_n_tests": first["n_tests"], "hidden": None, "prompt_tokens": int(spent.prompt_tokens),
            "completion_tokens": int(spent.completion_tokens), "executions": executions, "wall_seconds": seconds,
            "n_nodes": None, "stats": {mode: r.to_dict() for mode, r in per_mode.items()}}


def _write(frame, report: EvalReport, benchmark: str, out: Path, run_id: str) -> dict[str, Path]:
    files = write_table(frame, out, table_notes(report, benchmark))
    files["json"] = out / "results.json"
    payload = {"run_id": run_id, "benchmark": benchmark, **report.to_dict()}
    files["json"].write_text(json.dumps(payload, indent=1, default=str) + "\n", encoding="utf-8")
    logger.info("eval run %s: tables and results in %s", run_id, out)
    return files


def run_budget(recipe: Mapping[str, Any], benchmark: str, *, config: EvalConfig | None = None,
               limit: int | None = None, runs_dir: str | Path | None = None, out: str | Path | None = None,
               workers: int | None = None, generator=None, sandbox=None,
               progress: Callable[[Any], None] | None = None,
               allow_contamination: bool = False) -> tuple[str, Any, dict[str, Path]]:
    """The budget-matched comparison (:func:`o1coder.evaluation.budget.compare_budgets`), recorded as a run
    (``kind = "budget"``) and written to ``out`` (default ``<runs dir>/budget/<run id>``).

    Metric points: ``budget/ALGORITHM/tokens`` and ``budget/ALGORITHM/pass@1`` at step = knob value (every run);
    ``budget/target``, ``budget/matched/ALGORITHM/tokens`` and ``.../pass@1`` at step = target index. The run's
    problems stay ``pending``: each one is searched once per run, not once. Returns (run id, comparison, files).
    """
    from o1coder.config import model_config
    from o1coder.evaluation.budget import compare_budgets
    from o1coder.evaluation.figures import budget_figure
    from o1coder.guidance import with_guidance
    from o1coder.runs.driver import check_recipe
    from o1coder.runs.lineage import check_contamination
    from o1coder.runs.store import RunStore

    config = config or eval_config(recipe)
    check_recipe(recipe)
    recipe = with_guidance(recipe)  # its PRM / TCG (o1coder.guidance): checked and hashed before the run exists
    problems = resolve_problems(benchmark, limit)
    check_contamination(model_config(recipe).name_or_path, [p.id for p in problems], allow=allow_contamination)
    with RunStore(runs_dir) as store:
        run_id = store.create_run({**recipe, "evaluation": config.to_dict()}, problems, problem_spec=benchmark,
                                  problem_limit=limit, kind="budget")
        with store.guard(run_id):
            own_sandbox = sandbox is None
            generator, sandbox = _build(recipe, generator, sandbox, workers)
            try:
                comparison = compare_budgets(problems, generator, sandbox, recipe, config.budget, progress)
            finally:
                if own_sandbox:
                    sandbox.close()
            for p in comparison.points:
                store.log_metrics(run_id, p.value, {f"budget/{p.algorithm}/tokens": p.tokens,
                                                    f"budget/{p.algorithm}/pass@1": p.pass_at_1})
            targets = sorted({r["target"] for r in comparison.rows})
            for r in comparison.rows:
                store.log_metrics(run_id, targets.index(r["target"]), {
                    "budget/target": r["target"], f"budget/matched/{r['algorithm']}/tokens": r["tokens"],
                    f"budget/matched/{r['algorithm']}/pass@1": r["pass@1"]})
            folder = output_dir(out, runs_dir, run_id, kind="budget")
            folder.mkdir(parents=True, exist_ok=True)
            files = {"markdown": folder / "budget.md", "csv": folder / "budget.csv",
                     "points": folder / "budget_points.csv", "json": folder / "budget.json"}
            files["markdown"].write_text(comparison.to_markdown(), encoding="utf-8")
            comparison.table().to_csv(files["csv"], index=False)
            comparison.points_frame().to_csv(files["points"], index=False)
            files["json"].write_text(json.dumps({"run_id": run_id, "benchmark": benchmark,
                                                 **comparison.to_dict()}, indent=1) + "\n", encoding="utf-8")
            try:
                budget_figure(comparison).write_html(folder / "pass_at_budget.html", include_plotlyjs="cdn")
                files["figure"] = folder / "pass_at_budget.html"
            except ImportError as error:
                logger.warning("no figure written: %s", error)
    return run_id, comparison, files
