"""PRM evaluation with known answers: AUC of a perfect and an inverted scorer, calibration of a constant one,
best-of-N reranking, on the hand-computed MCTS tree of test_search_mcts (no model: scorers are functions of the
tree's own values)."""

from __future__ import annotations

import pytest
from test_search_mcts import PROBLEM, run

from o1coder.execution import Sandbox
from o1coder.prm import accuracy, auc, best_of_n, calibration, evaluate, path_score
from o1coder.search import Tree

# Distinct steps on the tree's code paths and their values Q/N (node id: value):
# A 2.2/3, B 0.1, A good 1, A bad 0.2, A2 1, B syntax 0, B bad 0.2, A2 good 1 -> 4 positive, 4 negative at 0.5.
# Terminals: A good (passes), A bad, B syntax, B bad, A2 good (passes) -> a random pick passes 2/5 of the time.


@pytest.fixture(scope="module")
def tree() -> Tree:
    with Sandbox(workers=2) as sandbox:
        result, _ = run(sandbox)
    return Tree.from_dict(result.tree.to_dict())


class ValueScorer:
    """Scores each step by ``transform(Q/N)`` of its node, found by walking the tree along the step texts."""

    def __init__(self, tree: Tree, transform):
        self.tree, self.transform = tree, transform

    def score_many(self, items):
        out = []
        for prompt, steps in items:
            node = self._start(prompt)
            scores = []
            for text in steps:
                node = next(self.tree.nodes[c] for c in node.children if self.tree.nodes[c].text == text)
                scores.append(self.transform(node.value))
            out.append(scores)
        return out

    def _start(self, prompt: str):
        """A pair's prompt ends with the steps before the siblings: follow them from the root."""
        node = self.tree.root
        while True:
            nxt = [self.tree.nodes[c] for c in node.children if prompt.endswith(self._trace(self.tree.nodes[c]))]
            if not nxt:
                return node
            node = nxt[0]

    def _trace(self, node) -> str:
        return "".join(n.text + "\n" for n in self.tree.path(node.id)[1:])


def test_auc_perfect_inverted_ties_and_one_class():
    labels = [1, 0, 1, 0, 0]
    assert auc([0.9, 0.1, 0.8, 0.3, 0.2], labels) == 1.0
    assert auc([0.1, 0.9, 0.2, 0.7, 0.8], labels) == 0.0
    assert auc([0.5] * 5, labels) == 0.5
    assert auc([0.9, 0.5, 0.5, 0.1, 0.2], labels) == pytest.approx((3 + 2.5) / 6)  # one tie between classes
    assert auc([0.1, 0.2], [1, 1]) is None


def test_accuracy_and_calibration_of_a_constant_scorer():
    labels = [1, 0, 0, 0]
    assert accuracy([0.7] * 4, labels) == 0.25 and accuracy([0.7] * 4, labels, decision=0.8) == 0.75
    assert accuracy([], []) is None
    ece, bins = calibration([0.7] * 4, labels, bins=10, values=[1.0, 0.2, 0.0, 0.2])
    assert ece == pytest.approx(0.45)
    assert len(bins) == 10 and [b["count"] for b in bins] == [0] * 7 + [4, 0, 0]
    assert bins[7] == pytest.approx({"lower": 0.7, "upper": 0.8, "count": 4, "mean_score": 0.7,
                                     "positive_rate": 0.25, "mean_value": 0.35})
    ece, bins = calibration([0.0, 0.25, 1.0, 0.95], [0, 0, 1, 1], bins=4)
    assert [b["count"] for b in bins] == [1, 1, 0, 2] and ece == pytest.approx((0.25 + 0.025 * 2) / 4)
    assert calibration([], [], bins=3)[0] is None


def test_path_score_aggregates():
    assert path_score([0.2, 0.9, 0.5]) == 0.5
    assert path_score([0.2, 0.9, 0.5], "min") == 0.2 and path_score([0.2, 0.9, 0.4], "mean") == pytest.approx(0.5)
    with pytest.raises(ValueError, match="'last', 'min' or 'mean'"):
        path_score([0.1], "max")


def test_a_perfect_scorer(tree):
    result = evaluate(ValueScorer(tree, lambda v: v), [tree], [PROBLEM], threshold=0.5)
    assert result.steps == 8 and result.positive_rate == 0.5
    assert result.auc == 1.0 and result.accuracy == 1.0 and result.mse == 0.0
    assert result.pairs == 4 and result.pair_accuracy == 1.0
    bon = result.best_of_n
    assert (bon["problems"], bon["mean_candidates"]) == (1, 5.0)
    assert (bon["prm_pass_rate"], bon["random_pass_rate"], bon["oracle_pass_rate"]) == (1.0, 0.4, 1.0)
    assert bon["per_problem"][0]["picked_node"] == 4  # A good and A2 good tie at 1.0: the earlier one


def test_an_inverted_scorer(tree):
    result = evaluate(ValueScorer(tree, lambda v: 1 - v), [tree], [PROBLEM])
    assert result.auc == 0.0 and result.accuracy == 0.0 and result.pair_accuracy == 0.0
    assert result.best_of_n["prm_pass_rate"] == 0.0 and result.best_of_n["per_problem"][0]["picked_node"] == 7


def test_a_constant_scorer(tree):
    result = evaluate(ValueScorer(tree, lambda v: 0.7), [tree], [PROBLEM], bins=10)
    assert result.auc == 0.5 and result.accuracy == 0.5 and result.ece == pytest.approx(0.2)
    assert result.pair_accuracy == 0.0  # ties are not wins
    assert [b["count"] for b in result.bins if b["count"]] == [8]
    assert result.best_of_n["per_problem"][0]["picked_node"] == 4  # all tie: the earliest terminal
    text = "\n".join(result.summary_lines())
    assert "AUC 0.500" in text and "PRM 1.000  random 0.400  oracle 1.000" in text
    assert result.to_dict()["best_of_n"]["random_pass_rate"] == 0.4


def test_min_rerank_and_trees_without_terminals(tree):
    bon = best_of_n(ValueScorer(tree, lambda v: v), [tree, Tree("t/double")], [PROBLEM], rerank="min")
    assert bon["problems"] == 1 and bon["per_problem"][0]["picked_node"] == 4
    empty = evaluate(ValueScorer(tree, lambda v: v), [], [PROBLEM])
    assert empty.steps == 0 and empty.auc is None and empty.best_of_n["prm_pass_rate"] is None
