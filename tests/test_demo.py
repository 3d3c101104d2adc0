"""``o1coder demo`` on the synthetic world: its recipe, its seed, and a reduced demo whose recorded curve is
consistent (policy versions in order, intervals around their points, counts that add up with the child runs)."""

from __future__ import annotations

import pytest

from o1coder.demo import SYNTHETIC, demo_recipe, reinitialised, run_demo
from o1coder.runs import get_run, list_runs, metrics
from o1coder.runs.loop_state import LoopState
from o1coder.training import loop_config


def test_the_synthetic_recipe_is_a_valid_loop_with_every_seed_set():
    from o1coder.runs.driver import check_recipe

    recipe = demo_recipe(seed=7)
    check_recipe(recipe)
    loop = loop_config(recipe)
    assert (loop.evaluator, loop.rounds, loop.compare_best_of_n) == ("traces", SYNTHETIC["rounds"], True)
    assert loop.warm_start == f"synthetic:train,n={SYNTHETIC['warm_start_problems']},seed=7"
    assert loop.eval_problems == f"synthetic:eval,n={SYNTHETIC['eval_problems']},seed=7"
    # the rounds search problems the warm start never saw: the same seed's list after the warm start's
    assert loop.train_problems == (f"synthetic:train,n={SYNTHETIC['train_problems']},seed=7,"
                                   f"skip={SYNTHETIC['warm_start_problems']},part={{round}}")
    assert SYNTHETIC["eval_problems"] >= 100  # the floor for each held-out evaluation
    assert {recipe[s]["seed"] for s in ("sampling", "search", "training", "prm", "tcg")} == {7}
    assert recipe["seed"] == 7 and recipe["name"] == "tiny-world-demo"


def test_bad_demo_options_name_what_is_allowed():
    with pytest.raises(ValueError, match="demo problems must be one of synthetic, bundled"):
        demo_recipe(problems="mbpp")
    with pytest.raises(ValueError, match="--seed must be an integer >= 0"):
        demo_recipe(seed=-1)
    with pytest.raises(ValueError, match=r"unknown demo size\(s\) \['steps'\]"):
        demo_recipe(sizes={"steps": 3})


def test_the_seed_changes_the_initial_weights(tmp_path):
    import torch
    import transformers

    from o1coder.models import build_tiny_model

    base = build_tiny_model(tmp_path / "base")
    weights = [transformers.AutoModelForCausalLM.from_pretrained(path).model.embed_tokens.weight
               for path in (base, reinitialised(base, 1), reinitialised(base, 1), reinitialised(base, 2))]
    assert not torch.equal(weights[0], weights[1]) and not torch.equal(weights[1], weights[3])
    assert torch.equal(weights[1], weights[2])  # the same seed gives the same weights (cached)


SMALL = {"warm_start_problems": 24, "warm_start_steps": 2, "train_problems": 2, "eval_problems": 6,
         "eval_trees": 1, "rounds": 2}
SMALL_OVERRIDES = ["search.rollouts=2", "sampling.max_new_tokens=24", "loop.eval_max_tokens=48",
                   "loop.aspr_samples=2", "training.sft={max_steps: 1, disable_tqdm: true}",
                   "training.dpo={max_steps: 1, disable_tqdm: true}", "training.samples_per_problem=1",
                   "training.sample_max_tokens=24", "prm.trainer={max_steps: 1}"]


@pytest.mark.slow
def test_a_reduced_demo_records_a_consistent_curve(tmp_path, monkeypatch):
    monkeypatch.setenv("O1CODER_MODELS_DIR", str(tmp_path / "models"))
    seen = []
    report = run_demo(tmp_path / "runs", seed=3, sizes=SMALL, extra=SMALL_OVERRIDES,
                      progress=lambda stage, message: seen.append((stage, message)))
    runs = tmp_path / "runs"
    state = LoopState.load(report.run_id, runs)
    assert state.done[:4] == ["baseline", "warm_start", "warm_start/eval", "0/search"]
    assert state.is_done("1/eval") and list(report.stages)[:3] == ["model", "baseline", "warm_start"]
    points = metrics(report.run_id, runs_dir=runs)
    by = {name: dict(zip(g["step"].astype(int), g["value"])) for name, g in points.groupby("name")}
    assert sorted(by["loop/pass@1"]) == [0, 1, 2, 3]  # untrained, warm start, then one per round
    evals = {0: "baseline", 1: "warm_start/eval", 2: "0/eval", 3: "1/eval"}
    for version, key in evals.items():
        run = get_run(state.runs[key], runs)
        assert (run.kind, run.problem_spec) == ("eval", "synthetic:eval,n=6,seed=3")
        assert run.problems_done == by["loop/eval_problems"][version] == 6
        assert run.problems_passed == by["loop/eval_passed"][version]
        assert by["loop/pass@1_low"][version] <= by["loop/pass@1"][version] <= by["loop/pass@1_high"][version]
        assert by["loop/aspr_problems"][version] + by["loop/aspr_excluded"][version] == 1
    for t in (0, 1):
        assert by["loop/compared_problems"][t] == 2 and 0 <= by["loop/d_plus_problems"][t] <= 2
    # every child run is listed under the loop in the store, and the demo's recipe names the seed
    children = set(state.runs.values())
    assert children <= {r.id for r in list_runs(runs)}
    assert get_run(report.run_id, runs).config["seed"] == 3
    assert ("model", "start") in seen and any(stage == "1/eval" and m.startswith("done") for stage, m in seen)
