"""Best-of-N and step-level beam search on the scripted policy of test_search_mcts, values computed by hand."""

from __future__ import annotations

import pytest
from test_search_mcts import A2, A2_GOOD, A_BAD, A_GOOD, B_BAD, B_SYNTAX, JUNK, PROBLEM, TABLE, A, B

from o1coder.execution import Sandbox
from o1coder.models import ScriptedGenerator
from o1coder.reasoning import VANILLA_STOP_STRINGS
from o1coder.search import SearchConfig, search
from o1coder.search.scripted import step_policy


class CallRecorder(ScriptedGenerator):
    def __init__(self, respond):
        super().__init__(respond)
        self.calls = []

    def _generate(self, prompts, params, n):
        self.calls.append((prompts, params, n))
        return super()._generate(prompts, params, n)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(workers=2) as sb:
        yield sb


# ------------------------------------------------------------------------------------------------------ best-of-N

TRACES = [A + "\n" + A_GOOD, A + "\n" + A_BAD, JUNK, A + "\n" + A2, B + "\n" + B_BAD]


def traces(prompt, params, n):
    return [TRACES[i % len(TRACES)] for i in range(n)]


def test_best_of_n_pseudocode_traces_share_prefixes(sandbox):
    generator = CallRecorder(traces)
    config = SearchConfig(algorithm="best_of_n", n_samples=5, max_depth=5, max_step_tokens=100)
    result = search(PROBLEM, generator, sandbox, config)
    nodes = result.tree.nodes
    # 0 root, 1 A, 2 A good, 3 A bad, 4 junk, 5 A2 (the trace stopped before its code), 6 B, 7 B bad
    assert [n.text for n in nodes] == ["", A, A_GOOD, A_BAD, JUNK, A2, B, B_BAD]
    assert [n.parent for n in nodes] == [None, 0, 1, 1, 0, 1, 0, 6]
    assert [n.visits for n in nodes] == [5, 3, 1, 1, 1, 1, 1, 1]
    assert [n.value_sum for n in nodes] == pytest.approx([1.4, 1.2, 1.0, 0.2, 0.0, 0.0, 0.2, 0.2])
    assert nodes[1].duplicates == 2 and nodes[4].dead and nodes[5].reward is None
    assert result.stats["generator_calls"] == 1 and result.stats["rollouts"] == 5
    assert result.stats["executions_by_test_set"] == {"reward": 3, "hidden": 1}
    assert result.best.id == 2 and result.answer == "def double(x):\n    return 2 * x" and result.solved
    # one call for all N answers, stopping only at a new problem heading, with the whole-answer token budget
    [(_, params, n)] = generator.calls
    assert n == 5 and params.stop == ("\n### Problem",) and params.max_new_tokens == 500


def test_best_of_n_batches_of_k_under_a_cap(sandbox):
    generator = CallRecorder(traces)
    config = SearchConfig(algorithm="best_of_n", n_samples=5, k=2, max_executions=2)
    result = search(PROBLEM, generator, sandbox, config)
    # batch 1 (A good, A bad): 2 executions reach the cap; batch 2 never starts
    assert [n for _, _, n in generator.calls] == [2]
    assert result.stats["stop_reason"] == "execution_budget" and result.stats["rollouts"] == 2


def test_best_of_n_stops_at_its_first_passing_answer_as_mcts_does(sandbox):
    """With stop_after_passing, best-of-N samples k at a time and stops once enough answers pass (MCTS stops the
    same way), so at equal mean tokens neither spends more than it needs on easy problems."""
    order = [A + "\n" + A_BAD, JUNK, A + "\n" + A_GOOD, B + "\n" + B_BAD, A + "\n" + A_GOOD, JUNK]
    generator = CallRecorder(lambda prompt, params, n: [order.pop(0) for _ in range(n)])
    config = SearchConfig(algorithm="best_of_n", n_samples=6, k=2, stop_after_passing=1)
    result = search(PROBLEM, generator, sandbox, config)
    # batch 1 (bad, junk): nothing passes; batch 2 (good, B bad): one passes, so batch 3 never starts
    assert [n for _, _, n in generator.calls] == [2, 2]
    assert result.stats["stop_reason"] == "passing" and result.stats["rollouts"] == 4 and result.solved
    # without the stop, all six answers come from one call
    generator = CallRecorder(traces)
    search(PROBLEM, generator, sandbox, SearchConfig(algorithm="best_of_n", n_samples=6, k=2))
    assert [n for _, _, n in generator.calls] == [6]


def test_best_of_n_vanilla(sandbox):
    answers = ["Double it.\n```python\ndef double(x):\n    return x * 2\n```", "I do not know.",
               "```python\ndef double(x):\n    return x\n```"]
    generator = CallRecorder(lambda prompt, params, n: answers[:n])
    config = SearchConfig(algorithm="best_of_n", best_of_n_prompt="vanilla", n_samples=3)
    result = search(PROBLEM, generator, sandbox, config)
    nodes = result.tree.nodes
    assert [n.action for n in nodes] == [None, 3, 3, 3] and [n.dead for n in nodes] == [False, False, True, False]
    assert nodes[2].errors == ["no Python code found in the answer"]
    assert [n.reward for n in nodes] == pytest.approx([None, 1.0, 0.0, 0.2])
    assert result.answer == "def double(x):\n    return x * 2" and result.solved
    [(prompts, params, _)] = generator.calls
    assert prompts[0].endswith("### Answer\n") and params.stop == VANILLA_STOP_STRINGS


# ----------------------------------------------------------------------------------------------------------- beam

SCORES = {"A": 0.9, "B": 0.5, "A2": 0.8}


def prm(problem, steps):
    return [SCORES.get(s.title, 0.0) for s in steps]


def test_beam_search_by_hand(sandbox):
    generator = CallRecorder(step_policy(TABLE))
    config = SearchConfig(algorithm="beam", beam_width=2, k=3, max_depth=5)
    result = search(PROBLEM, generator, sandbox, config, prior_fn=prm)
    nodes = result.tree.nodes
    # depth 0: root -> A, B, junk (dead, finished); beams A (0.9), B (0.5)
    # depth 1: A -> A good, A bad, A2; B -> B syntax (x2, merged), B bad; the code finishes; beam A2
    # depth 2: A2 -> A2 good (x2, merged), junk; all finished
    assert [n.text for n in nodes] == ["", A, B, JUNK, A_GOOD, A_BAD, A2, B_SYNTAX, B_BAD, A2_GOOD, JUNK]
    assert [len(prompts) for prompts, _, _ in generator.calls] == [1, 2, 1]
    # every finished path is backpropagated once: A carries A good, A bad, A2 good and A2's junk
    assert [n.visits for n in nodes] == [7, 4, 2, 1, 1, 1, 2, 1, 1, 1, 1]
    assert [n.value_sum for n in nodes] == pytest.approx([2.4, 2.2, 0.2, 0, 1, 0.2, 1, 0, 0.2, 1, 0])
    assert [n.prm for n in nodes[1:3]] == [0.9, 0.5] and nodes[6].prm == 0.8
    assert result.stats["stop_reason"] == "finished" and result.stats["rollouts"] == 7
    assert result.stats["generator_calls"] == 3
    assert result.best.id == 4 and result.solved


def test_beam_width_one_keeps_the_best_value(sandbox):
    config = SearchConfig(algorithm="beam", beam_width=1, k=3)
    result = search(PROBLEM, ScriptedGenerator(step_policy(TABLE)), sandbox, config,
                    prior_fn=lambda problem, steps: [0.1 if s.title == "A" else 0.9 for s in steps])
    # B outranks A, so only B is expanded: its best code fails the tests
    expanded = [n.text for n in result.tree.nodes if n.expanded]
    assert expanded == ["", B]
    assert result.best.text == B_BAD and not result.solved


def test_beam_stops_after_passing(sandbox):
    config = SearchConfig(algorithm="beam", beam_width=2, k=3, stop_after_passing=1)
    result = search(PROBLEM, ScriptedGenerator(step_policy(TABLE)), sandbox, config, prior_fn=prm)
    assert result.stats["stop_reason"] == "passing" and result.stats["generator_calls"] == 2


def test_beam_without_prm_ranks_by_mean_logprob(sandbox):
    # the scripted generator gives no log-probabilities: every value is 0 and ties keep creation order (A, B)
    config = SearchConfig(algorithm="beam", beam_width=1, k=3)
    result = search(PROBLEM, ScriptedGenerator(step_policy(TABLE)), sandbox, config)
    assert [n.text for n in result.tree.nodes if n.expanded] == ["", A, A2]
