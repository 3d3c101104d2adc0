"""The self-play loop end to end on the tiny model: two rounds, then a loop killed mid-round that resumes.

Searches, samples and evaluations use a scripted policy that replays the bundled traces with mistakes (so trees
have passing and failing code, D+, PRM rows and pairs); every training stage trains the real tiny model.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from o1coder.cli import main
from o1coder.config import apply_overrides, load_recipe
from o1coder.loop import run_loop
from o1coder.models import ScriptedGenerator
from o1coder.runs import get_run, list_runs, metrics
from o1coder.runs.loop_state import LoopState
from o1coder.search.scripted import trace_policy
from conftest import scripted_loop_policy as scripted

OVERRIDES = [
    "loop.rounds=2", "loop.train_limit=2", "loop.eval_limit=1", "search.rollouts=3",
    "training.sft={max_steps: 1, disable_tqdm: true}", "training.dpo={max_steps: 1, disable_tqdm: true}",
    "training.samples_per_problem=2", "prm.epochs=1", "prm.trainer={max_steps: 1}",
]
STAGES = ["baseline", "0/search", "0/data", "0/prm", "0/sft", "0/rl", "0/eval",
          "1/search", "1/data", "1/prm", "1/rl", "1/eval"]


def recipe(*extra: str) -> dict:
    return apply_overrides(load_recipe("tiny-cpu"), [*OVERRIDES, *extra])


def test_two_rounds_end_to_end(reduced_loop_run):
    """The session's reduced loop (conftest.py: two rounds of 3 training and 3 held-out problems after a warm start,
    also read by the metrics and app tests), stage by stage."""
    run_id, tmp_path, started = reduced_loop_run
    run = get_run(run_id, tmp_path)
    assert (run.kind, run.status) == ("loop", "finished")
    state = LoopState.load(run_id, tmp_path)
    assert state.done == ["baseline", "warm_start", "warm_start/eval", *STAGES[1:]]
    assert started == state.done
    searches = [get_run(state.runs[f"{t}/search"], tmp_path) for t in (0, 1)]
    assert {(r.kind, r.status, r.problems_done) for r in searches} == {("search", "finished", 3)}
    # round 1 trains on the trees of rounds 0 and 1, every row saying where it came from
    rows = [json.loads(line) for line in (state.folder / "round-1/datasets/d_process.jsonl").read_text().splitlines()]
    assert {(r["run_id"], r["round"]) for r in rows} == {(state.runs["0/search"], 0), (state.runs["1/search"], 1)}
    d_plus = (state.folder / "round-0/datasets/d_plus.jsonl").read_text().splitlines()
    assert d_plus and all(json.loads(line)["source"] == "tree" for line in d_plus)
    pairs = [json.loads(line) for line in (state.folder / "round-0/datasets/dpo_pairs.jsonl").read_text().splitlines()]
    assert pairs and all(p["chosen_phi"] > p["rejected_phi"] for p in pairs)
    # checkpoints: SFT on D+ in round 0, then DPO each round; the PRM of each round
    assert state.outputs["0/prm"].endswith("round-0/prm") and (state.folder / "round-0/prm/prm.json").is_file()
    assert state.policy == str(state.folder / "round-1/policy")
    assert state.metrics["0/sft"]["output"] == str(state.folder / "round-0/sft")
    assert (state.folder / "round-0/policy/config.json").is_file()
    # metrics in the store
    points = metrics(run_id, runs_dir=tmp_path)
    by_name = {name: dict(zip(group["step"], group["value"])) for name, group in points.groupby("name")}
    assert sorted(by_name["loop/pass@1"]) == [0, 1, 2, 3]  # untrained, warm-started, then one per round
    assert by_name["loop/round"] == {0: 0.0, 1: 1.0}
    assert by_name["loop/alpha"] == pytest.approx({0: 0.9, 1: 0.5})  # linear from 0.9 to 0.5 over 2 rounds
    assert by_name["loop/pairs"][0] == len(pairs)
    assert by_name["loop/d_plus"][0] == len(d_plus)


def test_one_round_with_grpo(tmp_path):
    grpo = "training.grpo={max_steps: 1, per_device_train_batch_size: 2, num_generations: 2, max_completion_length: 8}"
    run_id = run_loop(recipe("loop.rounds=1", "loop.baseline=false", "training.method=grpo", grpo),
                      runs_dir=tmp_path, generator_factory=scripted)
    state = LoopState.load(run_id, tmp_path)
    assert state.metrics["0/rl"]["steps"] == 1 and state.policy == str(state.folder / "round-0/policy")
    record = json.loads((state.folder / "round-0/policy/training.json").read_text())
    assert record["stage"] == "grpo" and record["prm"] is True and record["alpha"] == 0.9  # alpha(0)


CHILD = """
import sys, time
from o1coder.bundled import load_bundled
from o1coder.config import apply_overrides, load_recipe
from o1coder.loop import run_loop
from o1coder.models import ScriptedGenerator
from o1coder.search.scripted import trace_policy

respond = trace_policy(load_bundled(), seed=7)


def slow(prompt, params, n):  # a search that takes seconds, so the test can kill it half-way
    time.sleep(0.1)
    return respond(prompt, params, n)


recipe = apply_overrides(load_recipe("tiny-cpu"), {overrides!r})
run_loop(recipe, runs_dir=sys.argv[1], generator_factory=lambda policy: ScriptedGenerator(slow))
"""


def _in_search(runs):
    def condition(state: LoopState) -> bool:
        run = state.runs.get("0/search")
        return run is not None and not state.is_done("0/search") and get_run(run, runs).problems_done >= 1

    return condition


@pytest.mark.slow
@pytest.mark.parametrize("kill_in", ["search", "prm"])
def test_a_loop_killed_mid_round_resumes(tmp_path, kill_in):
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD.format(overrides=[*OVERRIDES, "loop.rounds=1"])))
    runs = tmp_path / "runs"
    child = subprocess.Popen([sys.executable, str(script), str(runs)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    condition = _in_search(runs) if kill_in == "search" else (lambda s: s.is_done("0/data"))
    try:
        state = _wait_for(runs, condition, child)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    killed = LoopState.load(state.run_id, runs)
    assert "0/eval" not in killed.done  # killed mid-round
    assert get_run(state.run_id, runs).stale  # marked running, its process gone
    search_run = killed.runs["0/search"]
    searched_before = get_run(search_run, runs).problems_done

    run_loop(resume=state.run_id, runs_dir=runs, generator_factory=scripted)
    done = LoopState.load(state.run_id, runs)
    assert done.done == ["baseline", "0/search", "0/data", "0/prm", "0/sft", "0/rl", "0/eval"]
    assert done.runs["0/search"] == search_run  # the round's search run was continued, not started again
    search = get_run(search_run, runs)
    assert (search.status, search.problems_done) == ("finished", 2)
    if kill_in == "search" and searched_before < 2:
        assert search.sessions == 2  # continued where it stopped: the problems finished before the kill stay
    assert get_run(state.run_id, runs).status == "finished" and get_run(state.run_id, runs).sessions == 2
    assert sorted(r.kind for r in list_runs(runs)) == ["loop", "search", "search", "search"]  # no duplicate run


def _wait_for(runs, condition, child, timeout: float = 120.0) -> LoopState:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert child.poll() is None, "the loop process ended before it could be killed"
        folders = list((runs / "loop").glob("*/loop_state.json")) if (runs / "loop").is_dir() else []
        if folders:
            try:
                state = LoopState.load(folders[0].parent.name, runs)
            except ValueError:
                state = None
            if state is not None and condition(state):
                return state
        time.sleep(0.05)
    raise AssertionError("the loop did not reach the stage to kill it at")


def test_resume_checks(tmp_path):
    run_id = run_loop(recipe("loop.rounds=1", "loop.baseline=false", "training.method=none", "loop.sft_round0=false",
                             "loop.prm=false"), runs_dir=tmp_path, generator_factory=scripted)
    state = LoopState.load(run_id, tmp_path)
    assert state.done == ["0/search", "0/data", "0/prm", "0/rl", "0/eval"] and state.policy is None
    assert run_loop(resume=run_id, runs_dir=tmp_path, generator_factory=scripted) == run_id  # nothing left to do
    with pytest.raises(ValueError, match="keeps its recorded recipe"):
        run_loop(recipe(), resume=run_id, runs_dir=tmp_path)
    with pytest.raises(ValueError, match="not a loop"):
        run_loop(resume=state.runs["0/search"], runs_dir=tmp_path)


def test_loop_command_errors(tmp_path, capsys):
    assert main(["loop", "--resume", "x", "--rounds", "2", "--runs-dir", str(tmp_path)]) == 2
    assert "give only --resume" in capsys.readouterr().err
    assert main(["loop", "--recipe", "tiny-cpu", "--set", "loop.rounds=0", "--runs-dir", str(tmp_path)]) == 2
    assert "loop.rounds must be an integer >= 1" in capsys.readouterr().err
    assert main(["sft", "--runs-dir", str(tmp_path)]) == 2
    assert "--traces" in capsys.readouterr().err
    assert not list_runs(tmp_path)  # nothing recorded for bad input


def test_demo_recipe_is_a_valid_loop():
    from o1coder.demo import demo_recipe
    from o1coder.runs.driver import check_recipe
    from o1coder.training import loop_config, training_config

    recipe = demo_recipe(problems="bundled")
    check_recipe(recipe)
    loop = loop_config(recipe)
    assert (loop.rounds, loop.warm_start, loop.evaluator, loop.baseline) == (1, "bundled:train", "search", True)
    assert training_config(recipe).sft["num_train_epochs"] > 1 and not recipe["search"]["few_shot"]


SMALL = ["loop.train_limit=1", "loop.eval_limit=1", "search.rollouts=1", "sampling.max_new_tokens=16",
         "training.sft={max_steps: 1, disable_tqdm: true}", "training.dpo={max_steps: 1, disable_tqdm: true}",
         "training.samples_per_problem=1", "training.sample_max_tokens=16", "prm.trainer={max_steps: 1}"]


@pytest.mark.slow
def test_loop_command_on_the_tiny_model(tmp_path, capsys):
    args = ["loop", "--recipe", "tiny-cpu", "--rounds", "1", "--runs-dir", str(tmp_path)]
    assert main([*args, *(x for s in SMALL for x in ("--set", s))]) == 0
    captured = capsys.readouterr()
    assert "0/rl: done: DPO on 1 pairs" in captured.err  # the trace (R = 1) against a sample (R = 0)
    assert "Pass@1 by policy version: v0 0.0%, v1 0.0%" in captured.out
    [loop] = [r for r in list_runs(tmp_path) if r.kind == "loop"]
    assert main(["loop", "--resume", loop.id, "--runs-dir", str(tmp_path)]) == 0  # finished: nothing to redo


@pytest.mark.slow
def test_demo_small(tmp_path):
    from o1coder.demo import run_demo

    report = run_demo(tmp_path, extra=SMALL, problems="bundled")
    state = LoopState.load(report.run_id, tmp_path)
    assert state.done[:4] == ["baseline", "warm_start", "warm_start/eval", "0/search"] and state.is_done("0/eval")
    assert list(report.stages)[:3] == ["model", "baseline", "warm_start"]
    assert "demo loop" in report.describe() and get_run(report.run_id, tmp_path).recipe == "tiny-cpu-demo"


def test_new_problems_every_round_and_sft_every_round(tmp_path):
    """``{round}`` in loop.train_problems: each round searches its own problems, round 1 trains on both rounds'
    (merge: all); ``loop.sft_every_round``: SFT on D+ in every round, not only round 0."""
    from o1coder.training.rounds import resolve

    spec = "synthetic:train,n=2,seed={round}"
    rounds = [resolve(spec.replace("{round}", str(t))) for t in (0, 1)]
    world = [*rounds[0], *rounds[1], *resolve("synthetic:eval,n=1")]
    assert not {p.id for p in rounds[0]} & {p.id for p in rounds[1]}
    run_id = run_loop(recipe(f"loop.train_problems={spec}", "loop.eval_problems=synthetic:eval,n=1",
                             "loop.train_limit=null", "loop.baseline=false", "loop.sft_every_round=true",
                             "loop.prm=false", "training.method=none"),
                      runs_dir=tmp_path, generator_factory=lambda policy: ScriptedGenerator(trace_policy(world, seed=7)))
    state = LoopState.load(run_id, tmp_path)
    assert [k for k in state.done if k.endswith("/sft")] == ["0/sft", "1/sft"]
    for t in (0, 1):
        searched = get_run(state.runs[f"{t}/search"], tmp_path)
        assert searched.problem_spec == spec.replace("{round}", str(t)) and searched.problems_done == 2
    rows = [json.loads(line) for line in (state.folder / "round-1/datasets/d_process.jsonl").read_text().splitlines()]
    assert {r["problem_id"] for r in rows} == {p.id for p in rounds[0] + rounds[1]}
    assert state.metrics["1/sft"]["output"] == str(state.folder / "round-1/sft")
