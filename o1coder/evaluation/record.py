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


def run_eval(recipe: Mapping[str, Any], benchmark: str, *, config: EvalConfig | None = None,
             limit: int | None = None, runs_dir: str | Path | None = None, out: str | Path | None = None,
             workers: int | None = None, generator=None, sandbox=None,
             progress: Progress | None = None, allow_contamination: bool = False) -> EvalOutcome:
    """Evaluate ``benchmark`` with ``recipe`` (its ``evaluation:`` section, or ``config``), record and write it.

    ``generator`` / ``sandbox`` default to the recipe's model and execution sections (pass them to reuse loaded
    ones, or a scripted generator in tests). The run is marked failed or interrupted if anything stops it.
    Problems the model's training lineage saw are refused before the run (:mod:`o1coder.runs.lineage`) unless
    ``allow_contamination``.
    """
    from o1coder.config import model_config
    from o1coder.guidance import with_guidance
    from o1coder.runs.driver import check_recipe
    from o1coder.runs.lineage import check_contamination
    from o1coder.runs.store import RunStore

    config = config or eval_config(recipe)
    check_recipe(recipe)
    recipe = with_guidance(recipe)  # its PRM / TCG (o1coder.guidance): checked and hashed before the run exists
    problems = resolve_problems(benchmark, limit)
    check_contamination(model_config(recipe).name_or_path, [p.id for p in problems], allow=allow_contamination)
    recorded = {**recipe, "evaluation": config.to_dict()}
    report = EvalReport(model_label(recipe, config), config.to_dict())
    with RunStore(runs_dir) as store:
        run_id = store.create_run(recorded, problems, problem_spec=benchmark, problem_limit=limit, kind="eval")
        with store.guard(run_id):
            own_sandbox = sandbox is None
            generator, sandbox = _build(recipe, generator, sandbox, workers)
            try:
                evaluator = Evaluator(generator, sandbox, recipe, config)
                for problem in problems:
                    _evaluate_one(store, run_id, evaluator, report, problem, generator)
                    if progress:
                        progress(len(report.results[config.modes[0]]), len(problems), report)
            finally:
                if own_sandbox:
                    sandbox.close()
            store.log_metrics(run_id, len(problems), report.metrics())
            frame = table1([our_row(report)])
            files = _write(frame, report, benchmark, output_dir(out, runs_dir, run_id), run_id)
    return EvalOutcome(run_id, report, frame, files)


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


def _evaluate_one(store, run_id: str, evaluator: Evaluator, report: EvalReport, problem: Problem,
                  generator) -> None:
    before, start = generator.usage.snapshot(), time.perf_counter()
    store.start_problem(run_id, problem.id)
    per_mode = evaluator.problem(problem)
    report.add(per_mode)
    spent = generator.usage - before
    store.finish_problem(run_id, problem.id, rows=[], tree_config={"evaluation": report.config},
                         result=_result_row(per_mode, spent, time.perf_counter() - start),
                         metrics=report.metrics())


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
