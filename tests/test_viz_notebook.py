"""The notebook helpers: the tree inspector (a click rings the node and rewrites the details panel, no Output
widget), PRM scores written onto trees, and the ROC curve of PRM scores."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytest.importorskip("ipywidgets", reason="install the notebooks extra: pip install -e '.[notebooks]'")

from o1coder.search.tree import Tree
from o1coder.viz.notebook import TreeInspector, node_details, roc_points, score_steps


def small_tree() -> Tree:
    tree = Tree("t/double")
    tree.add(None, None, "", visits=3, value_sum=1.2)
    tree.add(0, 1, "Action 1 (structure): Plan\n```pseudocode\nreturn 2x\n```\n<|end_step|>", visits=2,
             value_sum=1.2, uct={"q": 0.6, "explore": 1.1, "score": 1.7, "c": 2.0})
    tree.add(0, None, "junk", visits=1, dead=True, errors=["no step header"], reward=0.0)
    tree.add(1, 3, "Action 3 (code): Code\n```python\ndef double(x):\n    return 2 * x\n```\n<|end_step|>",
             visits=1, value_sum=1.0, reward=1.0,
             exec={"status": "passed", "n_passed": 1, "n_tests": 1, "all_passed": True,
                   "outcomes": [{"status": "passed", "message": ""}]})
    tree.add(1, 3, "Action 3 (code): Bad\n```python\ndef double(x):\n    return x\n```\n<|end_step|>",
             visits=1, value_sum=0.2, reward=0.2,
             exec={"status": "failed", "n_passed": 0, "n_tests": 1, "all_passed": False,
                   "outcomes": [{"status": "failed", "message": "double(2): 2 == 4 is false"}]})
    return tree


def test_the_inspector_starts_on_the_best_answer_and_a_click_selects_a_node():
    inspector = TreeInspector(small_tree())
    assert inspector.selected == 3 and "reward <b>1.000</b> (passed)" in inspector.details.value
    trace = next(t for t in inspector.figure.data if t.customdata is not None and 4 in list(t.customdata))

    points = SimpleNamespace(point_inds=[list(trace.customdata).index(4)])
    inspector._clicked(trace, points, None)  # what plotly calls on a click
    ring = next(t for t in inspector.figure.data if t.name == "selected")
    assert inspector.selected == 4 and (ring.x[0], ring.y[0]) == inspector._where[4][:2]
    assert "double(2): 2 == 4 is false" in inspector.details.value and "#0 → #1 → #4" in inspector.details.value
    with pytest.raises(ValueError, match="not in this tree"):
        inspector.select(99)


def test_node_details_say_why_a_step_is_dead_and_show_uct_terms():
    tree = small_tree()
    assert "dead: no step header" in node_details(tree, 2)
    assert "explore 1.100" in node_details(tree, 1) and "&lt;|end_step|&gt;" in node_details(tree, 1)
    assert "(the problem: t/double)" in node_details(tree, 0)


def test_roc_points():
    assert roc_points([0.9, 0.8, 0.3, 0.1], [True, True, False, False]) == ([0, 0, 0, 0.5, 1], [0, 0.5, 1, 1, 1])
    assert roc_points([0.5, 0.5], [True, False]) == ([0.0, 1.0], [0.0, 1.0])
    assert roc_points([0.2], [True]) == ([0.0, 1.0], [0.0, 1.0])


def test_score_steps_puts_a_score_on_every_step_of_a_visited_code_path():
    from o1coder.problems import Problem

    tree = small_tree()
    tree.nodes[4].visits = 0  # a code node no rollout reached: not in D_process
    problem = Problem(id="t/double", prompt="Return twice x.", entry_point="double", tests=[])
    seen = []

    class Scorer:
        def score_many(self, items):
            seen.extend(items)
            return [[0.5 + 0.1 * i for i in range(len(steps))] for _, steps in items]

    assert score_steps(Scorer(), [tree], [problem]) == 2
    assert [n.prm for n in tree.nodes] == [None, 0.5, None, 0.6, None]
    assert len(seen) == 1 and seen[0][1] == [tree.nodes[1].text, tree.nodes[3].text]
