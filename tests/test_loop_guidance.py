"""The paper's loop: a TCG trained as a stage writes the reward tests, and each round searches with the PRM of the
round before as its PUCT prior. Tiny model, scripted search policy (as in test_loop.py), one step per trainer."""

from __future__ import annotations

import pytest

from o1coder.bundled import load_bundled
from o1coder.config import apply_overrides, load_recipe
from o1coder.loop import run_loop
from o1coder.runs import get_run, load_tree, metrics
from o1coder.runs.loop_state import LoopState
from conftest import scripted_loop_policy as scripted

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")
PAPER = [
    "loop.rounds=2", "loop.train_limit=2", "loop.eval_limit=1", "loop.baseline=false", "loop.evaluator=search",
    "loop.tcg=once", "search.reward_tests=generated", "search.selection=puct", "search.prior=prm",
    "search.rollouts=3", "training.sft={max_steps: 1, disable_tqdm: true}",
    "training.dpo={max_steps: 1, disable_tqdm: true}", "training.samples_per_problem=2", "prm.epochs=1",
    "prm.trainer={max_steps: 1}", "tcg.sft={max_steps: 1}", "tcg.dpo={max_steps: 1}",
    "tcg.sampling={max_new_tokens: 24}",
]


def test_tcg_stage_and_prm_prior_reach_every_search(tmp_path):
    recipe = apply_overrides(load_recipe("tiny-cpu"), PAPER)
    run_id = run_loop(recipe, runs_dir=tmp_path, generator_factory=scripted)
    state = LoopState.load(run_id, tmp_path)
    assert state.done[:2] == ["tcg", "0/search"]
    tcg = state.outputs["tcg"]
    assert tcg.endswith("init/tcg/dpo") and state.metrics["tcg"]["sft_rows"] == 2
    searches = {t: get_run(state.runs[f"{t}/search"], tmp_path) for t in (0, 1)}
    # round 0: no PRM yet, so the log-probability prior (recorded); round 1: round 0's PRM
    assert searches[0].config["search"]["prior"] == "logprob" and "prm" not in searches[0].config["guidance"]
    assert searches[1].config["search"]["prior"] == "prm"
    assert searches[1].config["guidance"]["prm"] == state.outputs["0/prm"]
    for run in searches.values():
        assert run.config["guidance"]["tcg"] == tcg and len(run.config["guidance"]["tcg_sha256"]) == 64
    problem = load_bundled("train")[0]
    tree = load_tree(searches[1].id, problem.id, tmp_path)
    assert tree.config["reward_tests"]["mode"] == "generated"
    live = [n for n in tree.nodes[1:] if not n.dead]
    assert live and all(n.prm is not None for n in live)  # the PRM rated every live step of round 1
    evaluation = get_run(state.runs["1/eval"], tmp_path)
    assert evaluation.config["guidance"]["prm"] == state.outputs["1/prm"]  # evaluated with the newest PRM
    logged = metrics(run_id, runs_dir=tmp_path)
    assert set(logged[logged.name == "loop/tcg_sft_loss"].step) == {0}


@pytest.mark.parametrize("overrides, message", [
    (["search.reward_tests=generated"], "needs a test case generator: set loop.tcg to 'once' or 'each_round'"),
    (["loop.tcg=once"], "trains a TCG whose tests nothing would use"),
    (["search.selection=puct", "search.prior=prm", "loop.prm=false"], "search.prior=prm needs the loop's PRM"),
    (["loop.tcg=sometimes"], "loop.tcg must be 'off', 'once' or 'each_round'"),
])
def test_the_loop_checks_its_prm_and_tcg_before_it_starts(tmp_path, overrides, message):
    from o1coder.runs import list_runs

    with pytest.raises(ValueError, match=message):
        run_loop(apply_overrides(load_recipe("tiny-cpu"), overrides), runs_dir=tmp_path)
    assert list_runs(tmp_path) == []


def test_yaml_off_means_off():
    from o1coder.training.config import loop_config

    assert loop_config({"loop": {"tcg": False}}).tcg == "off"  # `tcg: off` in YAML
