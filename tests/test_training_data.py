"""Policy training data and rewards without a model: SFT rows, DPO pairs ranked by phi, R from the sandbox.

The tree is the hand-computed MCTS tree of test_search_mcts: code paths A good (R 1.0), A bad (0.2), B syntax
(0.0), B bad (0.2) and A -> A2 -> A2 good (1.0), so every phi below can be written down.
"""

from __future__ import annotations

import pytest
from test_search_mcts import A2, A2_GOOD, A_BAD, A_GOOD, B_BAD, B_SYNTAX, JUNK, PROBLEM, A, B, run

from o1coder.bundled import load_bundled, trace_of
from o1coder.execution import Sandbox
from o1coder.models import ScriptedGenerator
from o1coder.problems import TestCase
from o1coder.reasoning import pseudocode_prompt, render_trace
from o1coder.search import SearchConfig, Tree
from o1coder.training import (
    LoopConfig,
    SearchedTrees,
    TrainingConfig,
    d_plus_rows,
    final_program,
    outcome_rewards,
    phi_reward,
    preference_pairs,
    reference_candidates,
    response_steps,
    reward_tests_for,
    sample_candidates,
    score_candidates,
    trace_rows,
    tree_candidates,
)

PROMPT = pseudocode_prompt(PROBLEM, examples=())
PUBLIC = reward_tests_for(SearchConfig(reward_tests="public"))


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(workers=2) as sb:
        yield sb


@pytest.fixture(scope="module")
def tree(sandbox) -> Tree:
    result, _ = run(sandbox)
    return Tree.from_dict(result.tree.to_dict())


def trace(*steps: str) -> str:
    return "".join(step + "\n" for step in steps)


def test_trace_rows_are_the_rendered_bundled_traces():
    problem = load_bundled("train")[0]
    [row] = trace_rows([problem, PROBLEM])  # PROBLEM has no stored trace: skipped
    assert row == {"problem_id": problem.id, "prompt": pseudocode_prompt(problem, examples=()),
                   "completion": render_trace(trace_of(problem)), "source": "trace", "run_id": None, "round": None}


def test_d_plus_rows_carry_lineage_and_drop_duplicates(tree):
    rows = d_plus_rows([SearchedTrees("run-a", [tree], 0), SearchedTrees("run-b", [tree], 1)], [PROBLEM])
    assert [(r["completion"], r["run_id"], r["round"], r["source"]) for r in rows] == [
        (trace(A, A_GOOD), "run-a", 0, "tree"), (trace(A, A2, A2_GOOD), "run-a", 0, "tree")]
    assert all(r["prompt"] == PROMPT for r in rows)


def test_pairs_rank_tree_paths_by_outcome_without_a_prm(tree):
    found = tree_candidates([SearchedTrees("run-a", [tree], 0)])
    assert [(c.completion, c.outcome) for c in found] == [
        (trace(A, A_GOOD), 1.0), (trace(A, A_BAD), pytest.approx(0.2)), (trace(B, B_SYNTAX), 0.0),
        (trace(B, B_BAD), pytest.approx(0.2)), (trace(A, A2, A2_GOOD), 1.0)]
    score_candidates(found, [PROBLEM], None, alpha=0.7, gamma=0.9)
    assert [c.phi for c in found] == pytest.approx([1.0, 0.2, 0.0, 0.2, 1.0])  # r = []: phi is R
    pairs = preference_pairs(found, [PROBLEM], pairs_per_problem=3)
    # best vs worst, second best vs second worst; 5 candidates give at most 2 pairs
    assert [(p["chosen"], p["rejected"], p["margin"]) for p in pairs] == [
        (trace(A, A_GOOD), trace(B, B_SYNTAX), pytest.approx(1.0)),
        (trace(A, A2, A2_GOOD), trace(B, B_BAD), pytest.approx(0.8))]
    assert pairs[0]["prompt"] == PROMPT
    assert (pairs[0]["chosen_run"], pairs[0]["chosen_round"], pairs[0]["chosen_source"]) == ("run-a", 0, "tree")
    assert preference_pairs(found, [PROBLEM], pairs_per_problem=3, min_margin=0.9) == pairs[:1]


def test_a_prm_reorders_pairs_through_phi(tree):
    def scorer(problem, steps):  # a PRM that likes the B steps and dislikes the rest
        return [1.0 if text.startswith(("Action 1 (structure): B", "Action 3 (code): B")) else 0.0
                for text in steps]

    found = score_candidates(tree_candidates([SearchedTrees("r", [tree])]), [PROBLEM], scorer, alpha=0.5, gamma=1.0)
    # A good: 0.5 * 1 + 0.5 * 0 = 0.5; B bad: 0.5 * 0.2 + 0.5 * 1 = 0.6; B syntax: 0.5 * 0 + 0.5 * 1 = 0.5
    assert [c.phi for c in found] == pytest.approx([0.5, 0.1, 0.5, 0.6, 0.5])
    assert [c.process for c in found][:3] == [[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]]
    [first, *_] = preference_pairs(found, [PROBLEM])
    assert (first["chosen"], first["rejected"]) == (trace(B, B_BAD), trace(A, A_BAD))


def test_pairs_need_scores_and_skip_identical_responses(tree):
    found = tree_candidates([SearchedTrees("r", [tree])])
    with pytest.raises(ValueError, match="score the candidates"):
        preference_pairs(found, [PROBLEM])
    twice = score_candidates(found + tree_candidates([SearchedTrees("s", [tree])]), [PROBLEM], None, 1.0, 1.0)
    assert len(preference_pairs(twice, [PROBLEM], pairs_per_problem=5)) == 2  # 5 distinct texts, not 10


def test_response_steps_stop_at_the_code_step_or_a_broken_step():
    assert [s.title for s in response_steps(trace(A, A2, A2_GOOD, B))] == ["A", "A2", "A2 good"]
    broken = "Action 2 (refine): no pseudocode\n<|end_step|>"  # parses as a step that is not valid
    assert [s.title for s in response_steps(trace(A, broken, A_GOOD))] == ["A"]
    assert [s.title for s in response_steps(trace(A, JUNK, A_GOOD))] == ["A", "A good"]  # stray prose is ignored
    assert response_steps(JUNK) == []
    assert final_program(response_steps(trace(A, A_GOOD)), PROBLEM) == "def double(x):\n    return 2 * x"
    assert final_program(response_steps(trace(A, A2)), PROBLEM) is None


def test_outcome_rewards_run_the_reward_tests_in_one_batch(sandbox):
    programs = ["def double(x):\n    return 2 * x", "def double(x):\n    return x", "def double(x):\n    return x +",
                None]
    rewards = outcome_rewards([(PROBLEM, p) for p in programs], sandbox, PUBLIC, alpha=0.2)
    assert rewards == pytest.approx([1.0, 0.2, 0.0, 0.0])


def test_reward_tests_follow_the_search_split():
    assert list(PUBLIC(PROBLEM)) == PROBLEM.public_tests
    heldout = reward_tests_for(SearchConfig(reward_tests="heldout", heldout_fraction=0.5))(PROBLEM)
    assert 1 <= len(heldout) < len(PROBLEM.tests) and set(heldout) <= set(PROBLEM.tests)
    generated = [TestCase.assertion("assert double(5) == 10")]
    assert list(reward_tests_for(SearchConfig(), lambda p: generated)(PROBLEM)) == generated


def test_phi_reward_is_a_trl_reward_function(sandbox):
    logged = {}
    reward = phi_reward([PROBLEM], sandbox, PUBLIC, alpha=0.5, gamma=1.0, outcome_alpha=0.2,
                        scorer=lambda problem, steps: [0.5] * len(steps))
    values = reward([trace(A, A_GOOD), trace(A, A_BAD), JUNK], problem_id=[PROBLEM.id] * 3,
                    log_metric=lambda name, value: logged.__setitem__(name, value), trainer_state=None)
    # R = 1.0, 0.2, 0 (no code); r = [0.5, 0.5], [0.5, 0.5], [] -> 0.75, 0.35 and R alone
    assert values == pytest.approx([0.75, 0.35, 0.0])
    assert logged == pytest.approx({"phi/outcome": 0.4, "phi/process": 0.5})
    assert reward.__name__ == "phi"
    with pytest.raises(ValueError, match="not among"):
        reward([JUNK], problem_id=["other/problem"])


def test_fresh_samples_and_references_are_scored_by_the_sandbox(sandbox):
    answers = [trace(A, A_GOOD), JUNK]
    generator = ScriptedGenerator(lambda prompt, params, n: answers[:n])
    samples = sample_candidates([PROBLEM], generator, sandbox, PUBLIC, n=2, max_tokens=200, temperature=1.0,
                                outcome_alpha=0.2, round=3)
    assert [(c.completion, c.outcome, c.source, c.round) for c in samples] == [
        (answers[0], 1.0, "sample", 3), (JUNK, 0.0, "sample", 3)]
    assert generator.prompts_seen == [PROMPT]
    problem = load_bundled("train")[1]
    [reference] = reference_candidates([problem], sandbox, PUBLIC, outcome_alpha=0.2)
    assert reference.outcome == 1.0 and reference.source == "reference" and reference.steps == trace_of(problem)


@pytest.mark.parametrize("section, values, message", [
    (TrainingConfig, {"method": "ppo"}, "training.method"),
    (TrainingConfig, {"alpha_start": 1.5}, "alpha_start"),
    (TrainingConfig, {"pair_sources": ["trees", "web"]}, "pair_sources"),
    (TrainingConfig, {"sft": [1]}, "training.sft"),
    (TrainingConfig, {"lr": 1e-3}, "unknown key"),
    (LoopConfig, {"rounds": 0}, "loop.rounds"),
    (LoopConfig, {"evaluator": "magic"}, "loop.evaluator"),
    (LoopConfig, {"merge": "some"}, "loop.merge"),
])
def test_configs_name_the_bad_value(section, values, message):
    with pytest.raises(ValueError, match=message):
        section.from_dict(values)
