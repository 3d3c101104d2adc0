"""End to end on CPU: the tiny-cpu recipe's model and search section, two bundled problems, a real sandbox.

The untrained tiny model writes random text, so nearly every step is dead and the search usually stops early with
an exhausted root; what is checked is that the tree, the counters and the seeds are consistent, not that anything
is solved.
"""

from __future__ import annotations

import pytest

from o1coder.bundled import load_bundled
from o1coder.config import load_recipe, model_config, sampling_config
from o1coder.execution import Sandbox
from o1coder.models import build_generator
from o1coder.search import SearchConfig, search, search_config


@pytest.fixture(scope="module")
def setup():
    recipe = load_recipe("tiny-cpu")
    generator = build_generator(model_config(recipe))
    problems = load_bundled()[:2]
    with Sandbox(workers=2) as sandbox:
        yield generator, sandbox, search_config(recipe), sampling_config(recipe), problems


def run_all(setup, problems, config: SearchConfig | None = None):
    generator, sandbox, recipe_config, sampling, _ = setup
    return {p.id: search(p, generator, sandbox, config or recipe_config, sampling=sampling) for p in problems}


def check_consistent(result, config: SearchConfig, sampling) -> None:
    tree, stats = result.tree, result.stats
    nodes = tree.nodes
    assert stats["rollouts"] == tree.root.visits <= config.rollouts
    assert stats["rollouts"] == config.rollouts or (stats["stop_reason"] == "exhausted" and tree.root.exhausted)
    expanded = [n for n in nodes if n.expanded]
    assert stats["generator_calls"] == sum(n.expansions for n in expanded) >= 1
    assert all(n.expansions <= 1 + config.max_reexpansions for n in expanded)
    for node in expanded:  # every rollout through an expanded node continues into one of its children
        children = [nodes[i] for i in node.children]
        assert 1 <= len(children) <= config.k * node.expansions
        assert node.visits == sum(c.visits for c in children)
        assert node.value_sum == pytest.approx(sum(c.value_sum for c in children))
        assert sum(1 + c.duplicates for c in children) == config.k * node.expansions
        assert all(c.visits == 0 for c in children if c.dead)  # a dead step is never selected
    for node in nodes[1:]:
        assert node.depth == nodes[node.parent].depth + 1 <= config.max_depth
        assert 1 <= node.tokens <= sampling.max_new_tokens
        if node.dead:
            assert node.reward == 0.0 and node.errors and node.exec is None
        if node.action == 3 and not node.dead:
            assert node.exec is not None and 0.0 <= node.reward <= 1.0
            assert node.text.endswith("<|end_step|>")
    code_nodes = [n for n in nodes if n.action == 3 and not n.dead]
    assert stats["executions_by_test_set"]["reward"] == len(code_nodes)
    assert stats["executions_by_test_set"]["hidden"] == (0 if result.answer is None else 1)
    assert stats["tokens"]["completion"] == sum(n.tokens * (1 + n.duplicates) for n in nodes[1:])
    assert stats["tokens"]["prompt"] > 1000 * len(expanded)  # the few-shot pseudocode prompt, once per call
    assert stats["dead"] == sum(n.dead for n in nodes)
    assert 0 < stats["generation_seconds"] <= stats["wall_seconds"]


def test_tiny_model_search_end_to_end(setup):
    _, _, config, sampling, problems = setup
    results = run_all(setup, problems)
    assert list(results) == [p.id for p in problems]
    for result in results.values():
        check_consistent(result, config, sampling)
        assert result.tree.config["search"] == config.to_dict()
        assert result.tree.config["sampling"]["max_new_tokens"] == 64
    # the seed decides the tree; the order of the problems does not
    again = run_all(setup, problems[::-1])
    assert {pid: r.tree.to_dict() for pid, r in again.items()} == {pid: r.tree.to_dict() for pid, r in results.items()}


def test_tiny_model_best_of_n_and_beam(setup):
    _, _, config, sampling, problems = setup
    best = run_all(setup, problems[:1], SearchConfig(algorithm="best_of_n", n_samples=4, max_answer_tokens=64))
    [result] = best.values()
    assert result.stats["generator_calls"] == 1 and result.stats["rollouts"] == 4
    assert result.tree.root.visits == 4 and len(result.tree.root.children) >= 1
    beam = run_all(setup, problems[:1], SearchConfig(algorithm="beam", beam_width=2, k=2, max_depth=3))
    [result] = beam.values()
    assert 1 <= result.stats["generator_calls"] <= 3
    assert result.tree.root.visits == result.stats["rollouts"] >= 1
