"""The runs the app tests look at, recorded once per test session into a temporary runs directory.

- ``tiny``: a real search by the project's tiny model (``o1coder.runs.run_search`` with the tiny-cpu recipe). The
  model is untrained, so its trees are one level of dead steps: the real thing, just not deep.
- ``trace``: a real search (real MCTS, sandbox, run store) whose generator answers with steps of the bundled
  problems' reasoning traces (as tests/test_runs_search.py does), so trees are deep, code runs, some answers pass.
  A stand-in PRM (a fixed function of the step text, clearly not a model) scores every step, so the calibration
  view has data.
- ``failed``: the same search, crashed by its generator (an OSError) on its fifth call.
- ``eval``: an evaluation run (``o1coder.evaluation.run_eval``, both prompting modes) answered by the same
  trace-replaying generator on two bundled eval problems: the Table 1 view's input.
- ``live``: a run whose writer (this test process) is alive and has written a few rollouts of one problem; tests
  add nodes to it to watch the app follow.

Built once: the folder is reused by every test module of the session (AppTest tests and the browser test).
"""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

STAND_IN_PRM = "stand-in PRM: a fixed function of the step text (no model)"
TRACE_RECIPE = {
    "name": "bundled-traces",
    "description": "MCTS whose policy replays the bundled reasoning traces (app test fixture)",
    "model": {"backend": "scripted", "name_or_path": "bundled traces"},
    "seed": 0,
    "search": {"rollouts": 12, "k": 3, "max_depth": 5, "few_shot": False, "alpha": 0.2},
}


def trace_generator(problems, fail_at_call: int | None = None):
    """Steps from the trace of the problem in the prompt: variants of its pseudocode steps, its code or wrong code."""
    from o1coder.bundled import trace_of
    from o1coder.models import ScriptedGenerator
    from o1coder.reasoning import render

    by_text = {p.prompt.strip().splitlines()[0]: trace_of(p) for p in problems}
    unsolvable = problems[2].prompt.strip().splitlines()[0] if len(problems) > 2 else None  # never the right code
    calls = {"n": 0}

    def respond(prompt, params, n):
        calls["n"] += 1
        if fail_at_call is not None and calls["n"] == fail_at_call:
            raise OSError("the generator crashed (app test fixture)")
        text, steps = next((text, steps) for text, steps in by_text.items() if text in str(prompt))
        rng = random.Random(params.seed)
        texts = []
        for _ in range(n):
            roll = rng.random()
            if roll < 0.3:
                wrong = dataclasses.replace(steps[-1], code="def f():\n    return 0\n")
                step = steps[-1] if rng.random() < 0.5 and text != unsolvable else wrong
            elif roll < 0.36:
                texts.append("I am not sure what to do next.")
                continue
            else:
                step = steps[rng.randrange(len(steps) - 1)]
                step = dataclasses.replace(step, title=f"{step.title} (variant {rng.randrange(3)})")
            texts.append(render(step))
        return texts

    return ScriptedGenerator(respond, name="bundled traces")


def stand_in_prm(text: str) -> float:
    """High for the reference steps, middling for variants, low for wrong code and junk (deterministic)."""
    if "return 0\n" in text or "Action" not in text:
        return 0.1
    return 0.55 if "(variant" in text else 0.85


class _ScoredObserver:
    """Passes everything to the store's observer, scoring each new step with the stand-in PRM first."""

    def __init__(self, inner):
        self.inner = inner

    def node_added(self, tree, node):
        if node.parent is not None:
            node.prm = stand_in_prm(node.text)
        self.inner.node_added(tree, node)

    def node_updated(self, tree, node):
        self.inner.node_updated(tree, node)

    def rollout_finished(self, tree, rollout, stats):
        self.inner.rollout_finished(tree, rollout, stats)


def _trace_run(runs_dir: Path, problems, sandbox) -> str:
    from o1coder.runs import RunStore, StoreObserver
    from o1coder.runs.driver import problem_metrics, result_record
    from o1coder.search import search, search_config

    with RunStore(runs_dir) as store:
        run = store.create_run(TRACE_RECIPE, problems, problem_spec="bundled:train", problem_limit=len(problems))
        observer = StoreObserver(store, run)
        generator = trace_generator(problems)
        for problem in problems:
            store.start_problem(run, problem.id)
            result = search(problem, generator, sandbox, search_config(TRACE_RECIPE),
                            observer=_ScoredObserver(observer))
            observer.finish(result.tree, result_record(result), metrics=problem_metrics(result))
        store.set_status(run, "finished")
    return run


def _failed_run(runs_dir: Path, problems, sandbox) -> str:
    from o1coder.runs import RunStore
    from o1coder.runs.driver import search_problems

    with RunStore(runs_dir) as store:
        run = store.create_run({**TRACE_RECIPE, "name": "crashing"}, problems, problem_spec="bundled:train")
        try:
            search_problems(store, run, problems, generator=trace_generator(problems, fail_at_call=5),
                            sandbox=sandbox, recipe=TRACE_RECIPE)
        except OSError:
            pass
    return run


def _eval_run(runs_dir: Path, sandbox) -> str:
    from o1coder.bundled import load_bundled
    from o1coder.evaluation import run_eval

    problems = load_bundled("eval")[:2]
    recipe = {**TRACE_RECIPE, "name": "eval-traces", "model": {"backend": "transformers", "name_or_path": "traces"},
              "evaluation": {"samples": 2, "k": [1, 2], "aspr_k": 2, "model_label": "bundled traces"}}
    return run_eval(recipe, "bundled:eval", limit=len(problems), runs_dir=runs_dir,
                    generator=trace_generator(problems), sandbox=sandbox).run_id


def _live_run(runs_dir: Path, problem, source_tree, n_nodes: int) -> str:
    """A running run (this process writes it) with the first ``n_nodes`` nodes of ``source_tree``."""
    from o1coder.runs import RunStore

    with RunStore(runs_dir) as store:
        run = store.create_run({**TRACE_RECIPE, "name": "live"}, [problem], problem_spec="bundled:train")
        store.start_problem(run, problem.id)
        add_live_nodes(runs_dir, run, source_tree, 0, n_nodes, store=store)
    return run


def add_live_nodes(runs_dir: Path, run: str, source_tree, start: int, stop: int, store=None) -> None:
    """Write nodes ``start:stop`` of ``source_tree`` into the live run, as a search's rollout would."""
    from o1coder.runs import RunStore
    from o1coder.runs.rows import node_row

    own = store is None
    store = store or RunStore(runs_dir)
    try:
        rows = [node_row(run, source_tree.problem_id, node, 0.0) for node in source_tree.nodes[start:stop]]
        store.write_nodes(run, source_tree.problem_id, rows, tree_config=source_tree.config, rollouts=stop,
                          live={"rollout": stop})
    finally:
        if own:
            store.close()


def build_app_runs(runs_dir: Path) -> dict:
    """Record the five runs (once; later calls read the summary back). Returns ids and facts tests assert on."""
    summary_file = runs_dir / "fixture.json"
    if summary_file.is_file():
        return json.loads(summary_file.read_text())
    from o1coder.bundled import load_bundled
    from o1coder.config import apply_overrides, load_recipe
    from o1coder.execution import Limits, Sandbox
    from o1coder.runs import load_tree, problem_results
    from o1coder.runs.driver import run_search

    runs_dir.mkdir(parents=True, exist_ok=True)
    tiny_recipe = apply_overrides(load_recipe("tiny-cpu"), ["search.rollouts=3", "sampling.max_new_tokens=24"])
    tiny = run_search(tiny_recipe, "bundled:train", limit=1, runs_dir=runs_dir, workers=1)
    problems = load_bundled("train")[:3]
    with Sandbox(limits=Limits(cpu_seconds=2, wall_seconds=5), workers=2) as sandbox:
        trace = _trace_run(runs_dir, problems, sandbox)
        failed = _failed_run(runs_dir, problems[:1], sandbox)
        evaluation = _eval_run(runs_dir, sandbox)
    results = problem_results(trace, runs_dir)
    trees = {pid: load_tree(trace, pid, runs_dir) for pid in results["problem_id"]}
    # the problem with the most nodes, and a code node on it whose program the tests look for on screen
    deep = max(trees, key=lambda pid: len(trees[pid].nodes))
    code_node = next(n for n in trees[deep].nodes if n.action == 3 and not n.dead and n.exec)
    # the deepest program (passing ones first): its path has refinements to compare
    deep_terminal = max((n for n in trees[deep].nodes if n.exec), key=lambda n: (n.depth, n.exec["all_passed"]))
    live = _live_run(runs_dir, problems[0], trees[problems[0].id], 6)
    summary = {
        "runs_dir": str(runs_dir), "tiny": tiny, "trace": trace, "failed": failed, "eval": evaluation, "live": live,
        "problems": list(results["problem_id"]), "deep_problem": deep, "deep_nodes": len(trees[deep].nodes),
        "code_node": code_node.id, "deep_terminal": deep_terminal.id, "live_problem": problems[0].id,
    }
    summary_file.write_text(json.dumps(summary, indent=1))
    return summary


def build_for_tests(tmp_path_factory) -> dict:
    """:func:`build_app_runs` under the session's temporary folder, with the models and caches the other tests use
    (tests/conftest.py points them there per test; a module fixture runs before that)."""
    import pytest

    base = tmp_path_factory.getbasetemp()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("O1CODER_MODELS_DIR", str(base / "models"))
        mp.setenv("O1CODER_CACHE_DIR", str(base / "cache"))
        return build_app_runs(base / "app-runs")
