"""The loop's measurements: intervals, equal-token comparison, ASPR and PRM AUC recorded consistently on a loop run.

The loop test uses the scripted policy (bundled traces replayed with mistakes: trees with passing and failing code)
for every search and sample, and trains the real tiny model in every training stage.
"""

from __future__ import annotations

import json

import pytest

from o1coder.config import apply_overrides, load_recipe
from o1coder.loop import run_loop
from o1coder.runs import get_run, metrics
from o1coder.runs.loop_state import LoopState
from o1coder.training.loop_metrics import (
    best_of_n_caps,
    equal_token_summary,
    matched_cap,
    mean_interval,
    outcome_at_cap,
    pass_at_1_points,
    wilson_interval,
)
from conftest import scripted_loop_policy as scripted


def test_wilson_interval_matches_known_values():
    # textbook values (Newcombe 1998, Wilson without continuity correction)
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(0, 6)[0] == 0.0 and wilson_interval(6, 6)[1] == 1.0  # exact, not 1e-17 off
    with pytest.raises(ValueError, match="successes must be in"):
        wilson_interval(3, 2)


def test_mean_interval_and_points():
    low, high = mean_interval([0.0, 0.5, 1.0])
    assert low == 0.0 and high == 1.0  # clipped: half-width 1.96 * 0.5 / sqrt(3) = 0.566 around 0.5
    assert mean_interval([0.25, 0.25]) == (0.25, 0.25)
    points = pass_at_1_points(30, 120)
    assert points["loop/pass@1"] == 0.25 and points["loop/eval_problems"] == 120 and points["loop/eval_passed"] == 30
    assert points["loop/pass@1_low"] < 0.25 < points["loop/pass@1_high"]


def test_best_of_n_caps_never_follow_the_stopping_time_of_a_lucky_search():
    tokens, early = [300, 1200, 0, 900, 150], [True, False, False, False, True]
    # no early stop: best-of-N gets, on each problem, what MCTS spent there
    assert best_of_n_caps(tokens, early, None) == [300, 1200, 0, 900, 150]
    # early stop: the same cap everywhere, the most MCTS spent where it ran its full course (problems it never
    # started keep 0); never the 300 or 150 tokens MCTS needed where it happened to pass at once
    assert best_of_n_caps(tokens, early, 1) == [1200, 1200, 0, 1200, 1200]
    # every problem stopped early: the most it spent at all
    assert best_of_n_caps([300, 500], [True, True], 1) == [500, 500]


def test_equal_token_summary_counts_search_only_problems():
    rows = [
        {"mcts_solved": True, "best_of_n_solved": False, "mcts_found": True, "best_of_n_found": False,
         "mcts_tokens": 100, "best_of_n_tokens": 110},
        {"mcts_solved": True, "best_of_n_solved": True, "mcts_found": True, "best_of_n_found": True,
         "mcts_tokens": 50, "best_of_n_tokens": 60},
        {"mcts_solved": False, "best_of_n_solved": False, "mcts_found": False, "best_of_n_found": True,
         "mcts_tokens": 30, "best_of_n_tokens": 30},
    ]
    points = equal_token_summary(rows)
    assert points["loop/mcts_solve_rate"] == pytest.approx(2 / 3)
    assert points["loop/best_of_n_solve_rate"] == pytest.approx(1 / 3)
    assert points["loop/d_plus_problems"] == 2 and points["loop/search_only_share"] == 0.5
    assert points["loop/mcts_tokens"] == 60 and points["loop/best_of_n_tokens"] == pytest.approx(200 / 3)
    assert equal_token_summary([])["loop/search_only_share"] is None


def bon_row(ends, answer, solved, mcts_tokens=0, mcts_solved=False):
    return {"mcts_solved": mcts_solved, "mcts_found": mcts_solved, "mcts_tokens": mcts_tokens,
            "best_of_n_solved": solved, "best_of_n_found": solved, "best_of_n_tokens": ends[-1],
            "best_of_n_batch_tokens": ends, "best_of_n_answer_batch": answer}


def test_outcome_at_a_lower_cap_ends_the_run_at_the_first_batch_starting_above_it():
    row = bon_row([300, 620, 900], answer=2, solved=True)  # passed in its third batch
    assert outcome_at_cap(row, 10_000) == (900, True)
    assert outcome_at_cap(row, 621) == (900, True)    # the third batch starts at 620 < 621: it runs
    assert outcome_at_cap(row, 620) == (620, False)   # it does not: the answer would have been a failing one
    assert outcome_at_cap(row, 301) == (620, False)
    assert outcome_at_cap(row, 1) == (300, False)     # the first batch always runs
    early = bon_row([300, 620], answer=0, solved=True)  # the answer came first (a tie, no pass): kept when run
    assert outcome_at_cap(early, 1) == (300, True)
    legacy = {"best_of_n_tokens": 500, "best_of_n_solved": True}  # no batch log: the run's own outcome
    assert outcome_at_cap(legacy, 100) == (500, True)


def test_matched_cap_brings_best_of_n_to_mctss_mean_tokens():
    rows = [bon_row([300], 0, True, mcts_tokens=300, mcts_solved=True),
            bon_row([300, 600, 900], 2, True, mcts_tokens=600, mcts_solved=True),
            bon_row([300, 600, 900], None, False, mcts_tokens=600)]
    # generous: 2 of 3 solved at a mean of 700 tokens; MCTS: 2 of 3 at 500
    cap, tokens, rate = matched_cap(rows, 500)
    assert (cap, tokens, rate) == (301, 500, pytest.approx(1 / 3))  # 300 + 600 + 600: the second's pass is cut
    assert matched_cap(rows, 10_000)[1:] == (700, pytest.approx(2 / 3))  # never above what best-of-N ran
    assert matched_cap([], 100) == (None, None, None)
    points = equal_token_summary(rows)
    assert points["loop/best_of_n_matched_tokens"] == 500
    assert points["loop/best_of_n_matched_solve_rate"] == pytest.approx(1 / 3)
    assert points["loop/best_of_n_solve_rate"] == pytest.approx(2 / 3)


@pytest.fixture
def loop_run(reduced_loop_run):
    """The session's reduced loop (conftest.py: 2 rounds, 3 training and 3 held-out problems), shared with the app
    tests of tests/test_app_loop.py."""
    return reduced_loop_run[:2]


def series(run_id, runs) -> dict[str, dict[int, float]]:
    points = metrics(run_id, runs_dir=runs)
    return {name: dict(zip(group["step"].astype(int), group["value"])) for name, group in points.groupby("name")}


def test_policy_versions_in_order_with_intervals_and_counts(loop_run):
    run_id, runs = loop_run
    state = LoopState.load(run_id, runs)
    assert state.done[:3] == ["baseline", "warm_start", "warm_start/eval"]
    by = series(run_id, runs)
    # 0 untrained, 1 after the warm start, then one per round
    assert sorted(by["loop/pass@1"]) == [0, 1, 2, 3]
    for version, value in by["loop/pass@1"].items():
        n, passed = by["loop/eval_problems"][version], by["loop/eval_passed"][version]
        assert n == 3 and value == pytest.approx(passed / n)
        assert by["loop/pass@1_low"][version] <= value <= by["loop/pass@1_high"][version]
        # the count agrees with the evaluation run's own results
        eval_key = {0: "baseline", 1: "warm_start/eval", 2: "0/eval", 3: "1/eval"}[version]
        run = get_run(state.runs[eval_key], runs)
        assert (run.problems_done, run.problems_passed) == (n, passed)


def test_aspr_by_version_within_its_interval(loop_run):
    run_id, runs = loop_run
    by = series(run_id, runs)
    assert sorted(by["loop/aspr_problems"]) == [0, 1, 2, 3]
    for version, included in by["loop/aspr_problems"].items():
        assert included + by["loop/aspr_excluded"][version] == 3
        value = by["loop/aspr"].get(version)
        if included:  # the scripted policy replays correct traces: some held-out problem has a correct path
            assert 0.0 <= by["loop/aspr_low"][version] <= value <= by["loop/aspr_high"][version] <= 1.0
    assert any(by["loop/aspr_problems"].values())


def test_mcts_against_best_of_n_at_equal_tokens(loop_run):
    run_id, runs = loop_run
    state = LoopState.load(run_id, runs)
    by = series(run_id, runs)
    for t in (0, 1):
        rows = [json.loads(line) for line in
                (state.folder / f"round-{t}/datasets/equal_tokens.jsonl").read_text().splitlines()]
        assert len(rows) == by["loop/compared_problems"][t] == 3
        assert by["loop/d_plus_problems"][t] == sum(r["mcts_found"] for r in rows)
        assert by["loop/mcts_solve_rate"][t] == pytest.approx(sum(r["mcts_solved"] for r in rows) / 3)
        for row in rows:  # best-of-N stops at the first batch that reaches MCTS's tokens: never far below them
            assert row["mcts_tokens"] > 0 and row["best_of_n_tokens"] >= row["mcts_tokens"]
            # its batches are logged: increasing token counts ending at what it spent, the answer in one of them
            ends = row["best_of_n_batch_tokens"]
            assert ends and ends == sorted(set(ends)) and ends[-1] == row["best_of_n_tokens"]
            assert row["best_of_n_answer_batch"] is None or 0 <= row["best_of_n_answer_batch"] < len(ends)
        # at equal mean tokens: no more than under the common cap, and the same outcome as re-reading the rows
        cap, tokens, rate = matched_cap(rows, by["loop/mcts_tokens"][t])
        assert by["loop/best_of_n_matched_tokens"][t] == pytest.approx(tokens)
        assert tokens <= by["loop/best_of_n_tokens"][t] + 1e-9
        assert by["loop/best_of_n_matched_solve_rate"][t] == pytest.approx(rate)
        assert rate <= by["loop/best_of_n_solve_rate"][t] + 1e-9
        # the MCTS side is the round's own search run
        search = get_run(state.runs[f"{t}/search"], runs)
        assert search.completion_tokens == sum(r["mcts_tokens"] for r in rows)
        assert state.metrics[f"{t}/search"]["loop/compared_problems"] == 3


def test_prm_auc_on_held_out_trees(loop_run):
    run_id, runs = loop_run
    state = LoopState.load(run_id, runs)
    by = series(run_id, runs)
    assert sorted(by["loop/prm_auc_steps"]) == [0, 1]
    for t in (0, 1):
        assert by["loop/prm_auc_steps"][t] > 0
        auc = by["loop/prm_auc"].get(t)
        assert auc is None or 0.0 <= auc <= 1.0
        assert state.metrics[f"{t}/prm"]["loop/prm_auc_steps"] == by["loop/prm_auc_steps"][t]


def test_traces_evaluator_records_one_result_per_held_out_problem_and_trees_for_aspr(tmp_path):
    overrides = ["loop.rounds=1", "loop.train_limit=2", "loop.evaluator=traces", "loop.eval_limit=5",
                 "loop.eval_search_limit=2", "loop.aspr_samples=2", "search.rollouts=3",
                 "training.sft={max_steps: 1, disable_tqdm: true}", "training.dpo={max_steps: 1, disable_tqdm: true}",
                 "training.samples_per_problem=1", "prm.epochs=1", "prm.trainer={max_steps: 1}"]
    run_id = run_loop(apply_overrides(load_recipe("tiny-cpu"), overrides), runs_dir=tmp_path,
                      generator_factory=scripted)
    state = LoopState.load(run_id, tmp_path)
    by = series(run_id, tmp_path)
    assert sorted(by["loop/pass@1"]) == [0, 1]
    for key, version in (("baseline", 0), ("0/eval", 1)):
        evaluation, trees = get_run(state.runs[key], tmp_path), get_run(state.runs[f"{key}/trees"], tmp_path)
        assert (evaluation.kind, evaluation.problems_done) == ("eval", 5) == ("eval", by["loop/eval_problems"][version])
        assert evaluation.problems_passed == by["loop/eval_passed"][version]
        assert (trees.kind, trees.problems_done) == ("search", 2)
        assert by["loop/aspr_problems"][version] + by["loop/aspr_excluded"][version] == 2
        assert state.metrics[key]["trees"] == trees.id
    # the round's PRM is scored on the trees of the evaluation before it (held-out problems)
    assert by["loop/prm_auc_steps"][0] > 0
