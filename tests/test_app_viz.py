"""The figures and helpers behind the app (o1coder.viz, app/ui/launch.py), without Streamlit."""

from __future__ import annotations

import itertools
import random
import sys
import time

import pandas as pd
import plotly.io as pio
import pytest

from o1coder.paths import PROJECT_ROOT
from o1coder.reasoning import Action, Step, render
from o1coder.search import best_terminal
from o1coder.search.tree import Tree
from o1coder.viz import clicked_node, figure_node_ids, tidy_layout, tree_figure
from o1coder.viz.layout import children_lists
from o1coder.viz.metrics import is_quality, metric_label, metrics_figure
from o1coder.viz.refinement import passing_below, path_steps, pseudocode_diff
from o1coder.viz.rewards import (
    calibration_table,
    nodes_frame,
    prm_figure,
    reward_breakdown,
)
from o1coder.viz.synthetic import synthetic_tree


def random_parents(n: int, seed: int) -> list[int | None]:
    rng = random.Random(seed)
    return [None] + [rng.randrange(max(0, i - 30), i) if rng.random() < 0.7 else rng.randrange(i) for i in range(1, n)]


def rows_left_to_right(parents, depth):
    children = children_lists(parents)
    rows: dict[int, list[int]] = {}
    stack = [i for i, p in enumerate(parents) if p is None][::-1]
    while stack:
        v = stack.pop()
        rows.setdefault(depth[v], []).append(v)
        stack.extend(reversed(children[v]))
    return children, rows


@pytest.mark.parametrize("seed", range(40))
def test_tidy_layout_is_tidy(seed):
    """Parents centred over their children, siblings in order, no two nodes of a row closer than 1."""
    parents = random_parents(random.Random(seed).randrange(1, 400), seed)
    x, depth = tidy_layout(parents)
    children, rows = rows_left_to_right(parents, depth)
    assert min(x) == 0
    for v, kids in enumerate(children):
        assert all(depth[k] == depth[v] + 1 for k in kids)
        if kids:
            assert x[v] == pytest.approx((x[kids[0]] + x[kids[-1]]) / 2)
    for row in rows.values():
        assert all(x[b] - x[a] >= 1 - 1e-9 for a, b in itertools.pairwise(row))


def test_tidy_layout_packs_subtrees_closer_than_counting_leaves():
    """Two bushes at different depths may overlap horizontally: contours, not leaf counts, decide the spacing."""
    parents = [None, 0, 0, 1, 3, 3, 3, 3, 2, 2, 2, 2]  # 4 leaves at depth 3 under 1 -> 3; 4 leaves at depth 2 under 2
    x, _ = tidy_layout(parents)
    assert max(x) - min(x) == pytest.approx(5.5)  # one leaf per column (leaf-order layouts) would need 7
    forest_x, forest_depth = tidy_layout([None, 0, None, 2])
    assert forest_depth == [0, 1, 0, 1] and forest_x[2] - forest_x[0] >= 1


def test_tidy_layout_is_linear():
    def best_of_3(parents) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            tidy_layout(parents)
            times.append(time.perf_counter() - start)
        return min(times)

    t_small, t_big = best_of_3(random_parents(2_000, 1)), best_of_3(random_parents(40_000, 1))
    assert t_big / max(t_small, 1e-4) < 100, (t_small, t_big)  # 20x the nodes: linear ~20x, quadratic ~400x


def test_a_2000_node_tree_figure_builds_in_under_a_second():
    tree = synthetic_tree(2_000, seed=3)
    tree_figure(synthetic_tree(50))  # warm plotly's validators up (imported lazily)
    start = time.perf_counter()
    fig = tree_figure(tree, selected=7)
    spec = pio.to_json(fig, validate=False)
    seconds = time.perf_counter() - start
    assert sorted(figure_node_ids(spec)) == list(range(2_000))
    assert seconds < 1.0, f"layout + figure + JSON took {seconds:.2f} s"
    assert len(fig.data) < 20  # traces by kind, not by node


def small_tree() -> Tree:
    """root -> structure -> refine -> code (passes); structure -> code (fails); root -> dead."""
    tree = Tree("demo/tree", config={"alpha": 0.2})
    tree.add(None, None, "")
    s = tree.add(0, 1, render(Step(Action.STRUCTURE, "Outline", pseudocode="function f(x):\n    return x")))
    r = tree.add(s.id, 2, render(Step(Action.REFINE, "Refine", pseudocode="function f(x):\n    y <- x * 2\n"
                                                                     "    return y")))
    good = tree.add(r.id, 3, render(Step(Action.CODE, "Code", code="def f(x):\n    return 2 * x\n")))
    bad = tree.add(s.id, 3, render(Step(Action.CODE, "Code", code="def f(x):\n    return x\n")))
    dead = tree.add(0, None, "gibberish", dead=True, errors=["no step header found"], reward=0.0)
    good.exec = {"status": "passed", "n_passed": 2, "n_tests": 2, "compiled": True, "pass_rate": 1.0,
                 "all_passed": True, "outcomes": [{"status": "passed", "message": ""}] * 2}
    bad.exec = {"status": "failed", "n_passed": 0, "n_tests": 2, "compiled": True, "pass_rate": 0.0,
                "all_passed": False, "outcomes": [{"status": "failed", "message": "f(2): 2 == 4 is false"}] * 2}
    good.reward, bad.reward = 1.0, 0.2
    for leaf in (good, bad, dead):
        for node in tree.path(leaf.id):
            node.visits += 1
            node.value_sum += leaf.reward
    return tree


def test_tree_figure_marks_outcomes_the_best_path_and_the_selection():
    tree = small_tree()
    fig = tree_figure(tree, selected=4)
    names = [t.name for t in fig.data]
    assert {"passed", "failed", "dead", "best path", "selected"} <= set(names)
    best = fig.data[names.index("best path")]
    assert len(best.x) == len(tree.path(best_terminal(tree).id)) == 4
    ring = fig.data[names.index("selected")]
    failed = fig.data[names.index("failed")]
    assert (ring.x[0], ring.y[0]) == (failed.x[0], failed.y[0])
    assert sorted(figure_node_ids(fig)) == list(range(6))
    assert sorted(figure_node_ids(tree_figure(tree, upto=3))) == [0, 1, 2]


@pytest.mark.parametrize("point, expected", [
    ({"customdata": 7}, 7), ({"customdata": [7]}, 7), ({"customdata": {"0": 7}}, 7),
    ({"hovertext": "#12 · code · depth 3<br>..."}, 12), ({"x": 1.0, "y": 2.0}, None),
])
def test_clicked_node_reads_every_form_of_a_point(point, expected):
    assert clicked_node(point) == expected


def test_path_steps_diff_each_refinement_and_count_passing_code_below():
    tree = small_tree()
    steps = path_steps(tree, 3)
    assert [s.kind for s in steps] == ["structure", "refine", "code"]
    refine = steps[1]
    assert refine.diff is not None and "+    y <- x * 2" in refine.diff and "-    return x" in refine.diff
    assert (refine.added, refine.removed) == (2, 1)
    assert (steps[0].passing, steps[0].terminals) == (1, 2)  # below the structure: one of two programs passes
    assert passing_below(tree)[0] == (1, 2)
    assert pseudocode_diff("a\nb", "a\nb") == ("", 0, 0)


def test_reward_frames_and_calibration():
    tree = small_tree()
    for node in tree.nodes[1:]:
        node.prm = 0.9 if node.reward != 0.2 else 0.15
    frame = nodes_frame([tree])
    assert list(frame["action"]) == ["root", "structure", "refine", "code", "code", "dead"]
    table = reward_breakdown(frame, alpha=0.2)
    row = table.iloc[0]
    assert row["terminals"] == 3 and row["passed"] == 1 and row["failed"] == 1 and row["dead"] == 1
    assert row["compile_part"] == pytest.approx(0.2 * 2 / 3) and row["test_part"] == pytest.approx(0.8 / 3)
    calibration = calibration_table(frame)
    assert calibration["count"].sum() == 5 and list(calibration["bin"]) == ["0.1–0.2", "0.9–1.0"]
    assert prm_figure(frame) is not None
    assert prm_figure(nodes_frame([small_tree()])) is None


@pytest.mark.parametrize("name, label", [
    ("pass_rate", "Pass@1 (answers passing all hidden tests)"), ("eval/pass@1/vanilla", "Pass@1 (vanilla)"),
    ("eval/aspr/pseudocode", "ASPR (pseudocode)"), ("loop/pass@1", "Pass@1 [loop]"),
    ("budget/mcts/pass@1", "Pass@1 [budget/mcts]"), ("eval/aspr_problems/vanilla", "eval/aspr_problems/vanilla"),
])
def test_metric_labels_name_pass_at_k_and_aspr_wherever_they_are_logged(name, label):
    assert metric_label(name) == label
    assert is_quality(name) == (label != name and name != "pass_rate")


def test_metrics_figure_one_row_per_metric_one_line_per_run():
    frame = pd.DataFrame({"name": ["pass_rate", "pass_rate", "tokens"], "step": [1, 2, 1],
                          "value": [0.0, 0.5, 100.0], "time": [10.0, 70.0, 10.0]})
    fig = metrics_figure({"a": frame, "b": frame}, ["pass_rate", "tokens"], x="minutes", starts={"a": 10.0})
    assert len(fig.data) == 4 and list(fig.data[0].x) == [0.0, 1.0]
    with pytest.raises(ValueError, match="x must be one of"):
        metrics_figure({"a": frame}, ["tokens"], x="hours")


def test_a_background_process_writes_its_log_in_the_runs_dir(tmp_path):
    sys.path.insert(0, str(PROJECT_ROOT / "app"))
    from ui import launch

    proc = launch.start("runs", ["runs", "--runs-dir", str(tmp_path)], str(tmp_path))
    assert proc.process.wait(timeout=60) == 0 and proc.returncode == 0 and not proc.running
    assert proc.log.parent == tmp_path / "logs"
    assert proc.tail().splitlines() == [f"$ o1coder runs --runs-dir {tmp_path}", f"no runs in {tmp_path}"]
    assert {"search", "runs", "export"} <= launch.cli_verbs()
    assert launch.search_args("tiny-cpu", "bundled", limit=2, overrides=["a=1"]) == [
        "search", "--recipe", "tiny-cpu", "--problems", "bundled", "--limit", "2", "--set", "a=1"]
    with pytest.raises(FileNotFoundError, match="no file"):
        launch.check_search("tiny-cpu", "mbpp:no/such/file.jsonl", [])
    with pytest.raises(ValueError, match="rollots"):
        launch.check_search("tiny-cpu", "bundled", ["search.rollots=3"])
