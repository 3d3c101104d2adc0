"""SearchConfig, the recipe section, the reward split (no leakage) and the pure selection functions."""

from __future__ import annotations

import math

import pytest

from o1coder.config import RECIPE_SECTIONS, field_help, load_recipe
from o1coder.execution import ExecResult, TestOutcome
from o1coder.models import ScriptedGenerator
from o1coder.problems import Problem, TestCase
from o1coder.search import SearchConfig, search, search_config, split_tests, terminal_reward
from o1coder.search.reward import exec_summary
from o1coder.search.scripted import step_policy
from o1coder.search.selection import Candidate, logprob_prior, puct_terms, score_prior, select, softmax, uct_terms


def test_tiny_cpu_recipe_has_a_small_search_section():
    assert "search" in RECIPE_SECTIONS
    config = search_config(load_recipe("tiny-cpu"))
    assert (config.algorithm, config.rollouts, config.k, config.max_depth) == ("mcts", 8, 3, 5)
    assert config.max_step_tokens is None  # each step gets the sampling section's max_new_tokens
    assert search_config({}) == SearchConfig()
    assert search_config({"seed": 5}).seed == 5 and search_config({"seed": 5, "search": {"seed": 1}}).seed == 1


def test_every_field_has_help_and_round_trips():
    assert all(field_help(SearchConfig).values())
    config = SearchConfig(algorithm="beam", exploration_schedule="linear", stop_after_passing=2)
    assert SearchConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize("key, value, message", [
    ("algorithm", "dfs", r"SearchConfig.algorithm must be one of 'mcts', 'best_of_n', 'beam'; got 'dfs'"),
    ("k", 0, r"SearchConfig.k must be an integer >= 1; got 0"),
    ("rollouts", 2.5, r"SearchConfig.rollouts must be an integer >= 1; got 2.5"),
    ("alpha", 1.5, r"SearchConfig.alpha must be a number in \[0, 1\]; got 1.5"),
    ("exploration_weight", float("nan"), r"SearchConfig.exploration_weight must be a finite number; got nan"),
    ("heldout_fraction", 1.0, r"SearchConfig.heldout_fraction must be a number in \(0, 1\); got 1.0"),
    ("max_executions", 0, r"SearchConfig.max_executions must be an integer >= 1; got 0"),
    ("few_shot", "yes", r"SearchConfig.few_shot must be true or false; got 'yes'"),
    ("answer", "vote", r"SearchConfig.answer must be one of 'first', 'majority'; got 'vote'"),
])
def test_bad_values_are_named(key, value, message):
    with pytest.raises(ValueError, match=message):
        SearchConfig(**{key: value})


def test_unknown_key_suggests_the_closest():
    with pytest.raises(ValueError, match=r"unknown key\(s\) in section 'search': 'rollout' \(did you mean 'rollouts'"):
        SearchConfig.from_dict({"rollout": 3})


def test_search_rejects_a_plain_dict():
    with pytest.raises(TypeError, match="config must be a SearchConfig"):
        search(PROBLEM, ScriptedGenerator(step_policy({})), None, {"rollouts": 2})


# ---------------------------------------------------------------------------------------------------------- reward

PROBLEM = Problem(id="t/p", prompt="p", entry_point="f",
                  tests=[TestCase.assertion(f"assert f({i}) == {i}") for i in range(5)],
                  public_tests=[TestCase.assertion("assert f(0) == 0")])


def test_terminal_reward_is_alpha_compiles_plus_pass_rate():
    passed, failed = TestOutcome("passed"), TestOutcome("failed", "no")
    assert terminal_reward(ExecResult("failed", [passed, failed, failed, passed]), 0.2) == pytest.approx(0.6)
    assert terminal_reward(ExecResult("passed", [passed]), 0.2) == 1.0
    assert terminal_reward(ExecResult("compile_error", [TestOutcome("compile_error")], compiled=False), 0.2) == 0.0
    assert terminal_reward(ExecResult("failed", [failed]), 0.5) == 0.5


def test_exec_summary_truncates_and_drops_timings():
    long = TestOutcome("failed", "x" * 500, cpu_seconds=1.0)
    summary = exec_summary(ExecResult("failed", [long] * 25, duration=3.0))
    assert len(summary["outcomes"]) == 20 and summary["outcomes_truncated"] == 5
    assert len(summary["outcomes"][0]["message"]) == 200 and summary["outcomes"][0]["message"].endswith("...")
    assert "duration" not in summary and "cached" not in summary
    assert (summary["status"], summary["n_passed"], summary["n_tests"], summary["pass_rate"]) == ("failed", 0, 25, 0)


def test_public_split_keeps_every_test_hidden():
    split = split_tests(PROBLEM, "public")
    assert split.reward == tuple(PROBLEM.public_tests) and split.hidden == tuple(PROBLEM.tests)


def test_heldout_split_is_seeded_and_disjoint():
    split = split_tests(PROBLEM, "heldout", seed=3, heldout_fraction=0.4)
    assert len(split.reward) == 2 and len(split.hidden) == 3
    assert set(split.reward).isdisjoint(split.hidden) and set(split.reward) | set(split.hidden) == set(PROBLEM.tests)
    assert split.reward == tuple(PROBLEM.tests[i] for i in split.heldout_indices)
    assert split_tests(PROBLEM, "heldout", seed=3, heldout_fraction=0.4) == split
    seeds = {split_tests(PROBLEM, "heldout", seed=s, heldout_fraction=0.4).heldout_indices for s in range(20)}
    assert len(seeds) > 1  # the subset depends on the seed
    # at least one test stays hidden; a single test is never used to reward
    assert len(split_tests(PROBLEM, "heldout", heldout_fraction=0.99).hidden) == 1
    one = Problem(id="t/one", prompt="p", entry_point="f", tests=PROBLEM.tests[:1])
    assert split_tests(one, "heldout").reward == ()


def test_generated_split_needs_the_function():
    generated = [TestCase.assertion("assert f(9) == 9")]
    split = split_tests(PROBLEM, "generated", reward_tests_fn=lambda p: generated)
    assert split.reward == tuple(generated) and split.hidden == tuple(PROBLEM.tests)
    with pytest.raises(ValueError, match="reward_tests='generated' needs reward_tests_fn"):
        split_tests(PROBLEM, "generated")
    with pytest.raises(TypeError, match="must return TestCase objects; got str"):
        split_tests(PROBLEM, "generated", reward_tests_fn=lambda p: ["assert True"])


# ------------------------------------------------------------------------------------------------------- selection


def test_uct_and_puct_terms():
    assert uct_terms(1.5, 3, 10, 2.0) == pytest.approx(
        {"q": 0.5, "explore": 2 * math.sqrt(math.log(10) / 3), "score": 0.5 + 2 * math.sqrt(math.log(10) / 3)})
    assert puct_terms(0.0, 0, 4, 0.25, 2.0) == {"q": 0.0, "explore": 1.0, "score": 1.0, "prior": 0.25}
    assert puct_terms(1.0, 1, 0, 0.5, 1.0)["explore"] == 0.25  # N_parent counts as at least 1
    with pytest.raises(ValueError, match="visits >= 1"):
        uct_terms(0.0, 0, 1, 2.0)


def test_select_unvisited_first_live_before_dead_then_ties_to_earliest():
    dead_first = [Candidate(0, 0.0, dead=True, created=1), Candidate(0, 0.0, created=2), Candidate(1, 1.0, created=3)]
    assert select(dead_first, 1, 2.0)[0] == 1
    tie = [Candidate(1, 0.5, created=5), Candidate(1, 0.5, created=4)]
    index, terms = select(tie, 2, 2.0)
    assert index == 1 and terms[0] == terms[1]
    with pytest.raises(ValueError, match="unknown selection rule 'ucb'"):
        select(tie, 2, 2.0, "ucb")


def test_priors():
    assert softmax([0.0, math.log(3.0)]) == pytest.approx([0.25, 0.75])
    assert logprob_prior([-1.0, None, -1.0], [False, True, False]) == pytest.approx([0.5, 0.0, 0.5])
    assert logprob_prior([None, None], [False, False]) == [0.5, 0.5]
    assert score_prior([0.2, 0.6, None]) == pytest.approx([0.25, 0.75, 0.0])
    assert score_prior([0.0, 0.0]) == [0.5, 0.5]
