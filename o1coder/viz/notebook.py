"""Notebook helpers over the shared figures: the interactive tree inspector, PRM scores on trees, the ROC curve.

    inspector = TreeInspector(tree)     # the last expression of a cell shows it: the tree, and a panel below
    inspector.select(12)                # what a click on node 12 does: ring it, show its step, Q/N, N, reward

The inspector is a plotly ``FigureWidget`` (the figure of :func:`o1coder.viz.tree_figure`) above an ipywidgets
``HTML`` panel. A click replaces the panel's value; nothing is printed into an ``Output`` widget from a callback,
which hangs headless kernels (nbclient, CI) and stays silent in some frontends. Needs the ``notebooks`` extra
(ipywidgets, anywidget) and the ``app`` extra (plotly).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from o1coder.search.tree import Tree
from o1coder.viz.tree import (
    ACTION_NAMES,
    best_path,
    headline,
    node_outcome,
    tree_figure,
)

RING_TRACE = "selected"  # the name tree_figure gives the ring around the selected node


def node_details(tree: Tree, node_id: int) -> str:
    """HTML for one node: what the search knows about it (Q/N, N, reward, UCT terms, prior, PRM score, the
    sandbox verdict per test, why a dead step is dead), the path to it, and the step's text."""
    n = tree.nodes[node_id]
    facts = [f"Q/N <b>{n.value:.3f}</b>", f"N <b>{n.visits}</b>"]
    if n.reward is not None:
        facts.append(f"reward <b>{n.reward:.3f}</b> ({node_outcome(n)})")
    if n.uct:
        facts.append("at its last selection: " + " · ".join(f"{k} {v:.3f}" for k, v in n.uct.items() if isinstance(v, (int, float))))
    for name, value in (("prior", n.prior), ("PRM", n.prm)):
        if value is not None:
            facts.append(f"{name} {value:.3f}")
    lines = [f"<b>#{n.id} · {ACTION_NAMES.get(n.action, n.action)} · depth {n.depth}</b> · "
             + html.escape(headline(n, 100)), " · ".join(facts)]
    if n.exec:
        tests = "".join(f"<li>{html.escape(o['status'])} {html.escape(o.get('message') or '')}</li>"
                        for o in n.exec.get("outcomes", []))
        lines.append(f"sandbox: {html.escape(str(n.exec.get('status')))}, {n.exec.get('n_passed')}/"
                     f"{n.exec.get('n_tests')} reward tests passed<ul style='margin:0'>{tests}</ul>")
    if n.errors:
        lines.append("dead: " + html.escape("; ".join(n.errors)))
    lines.append("path: " + " → ".join(f"#{p.id}" for p in tree.path(n.id)))
    text = n.text or f"(the problem: {tree.problem_id})"
    return ("<div style='font-family:sans-serif;font-size:13px'>" + "<br>".join(lines)
            + f"<pre style='white-space:pre-wrap;max-height:22em;overflow:auto'>{html.escape(text)}</pre></div>")


class TreeInspector:
    """A search tree to click through: ``widget`` is the figure above the details of the selected node."""

    def __init__(self, tree: Tree, selected: int | None = None, height: int | None = None) -> None:
        import ipywidgets as widgets

        path = best_path(tree)
        self.tree = tree
        self.selected = selected if selected is not None else (path[-1] if path else 0)
        self.figure = go.FigureWidget(tree_figure(tree, selected=self.selected, height=height))
        self.details = widgets.HTML(node_details(tree, self.selected))
        self.widget = widgets.VBox([self.figure, self.details])
        self._where: dict[int, tuple[float, float, float]] = {}  # node id -> (x, y, marker size)
        for trace in self.figure.data:
            if trace.customdata is not None and trace.name != RING_TRACE:
                sizes = np.broadcast_to(np.asarray(trace.marker.size, dtype=float), (len(trace.customdata),))
                for i, node_id in enumerate(trace.customdata):
                    self._where[int(node_id)] = (float(trace.x[i]), float(trace.y[i]), float(sizes[i]))
                trace.on_click(self._clicked)

    def _clicked(self, trace, points, state) -> None:
        if points.point_inds:
            self.select(int(trace.customdata[points.point_inds[0]]))

    def select(self, node_id: int) -> str:
        """Ring node ``node_id`` and show its details; returns the details' HTML."""
        if node_id not in self._where:
            raise ValueError(f"node {node_id} is not in this tree (ids 0..{len(self.tree.nodes) - 1})")
        x, y, size = self._where[node_id]
        ring = next(t for t in self.figure.data if t.name == RING_TRACE)
        with self.figure.batch_update():
            ring.x, ring.y, ring.marker.size = [x], [y], size + 14
        self.selected = node_id
        self.details.value = node_details(self.tree, node_id)
        return self.details.value

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def score_steps(scorer, trees: Iterable[Tree], problems) -> int:
    """Put ``scorer``'s score on ``node.prm`` for every step of every visited code path (the D_process steps that
    :func:`o1coder.prm.evaluate` judges), so that :mod:`o1coder.viz.rewards` and the tree figures show it.
    ``scorer`` has ``score_many([(prompt, steps), ...])`` (a :class:`~o1coder.prm.PRMScorer`); returns how many
    distinct steps were scored."""
    from o1coder.search.datasets import process_rows

    trees = {tree.problem_id: tree for tree in trees}
    rows = process_rows(trees.values(), problems)
    scored: set[tuple[str, int]] = set()
    for row, scores in zip(rows, scorer.score_many([(r["prompt"], r["completions"]) for r in rows])):
        for node_id, score in zip(row["node_ids"], scores):
            trees[row["problem_id"]].nodes[node_id].prm = score
            scored.add((row["problem_id"], node_id))
    return len(scored)


def roc_points(scores: Sequence[float], labels: Sequence[bool]) -> tuple[list[float], list[float]]:
    """(false positive rates, true positive rates) as the threshold falls through the scores (ties together)."""
    positives = sum(1 for y in labels if y)
    negatives = len(labels) - positives
    if not positives or not negatives:
        return [0.0, 1.0], [0.0, 1.0]
    fpr, tpr, tp, fp = [0.0], [0.0], 0, 0
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    for rank, i in enumerate(order):
        tp, fp = tp + bool(labels[i]), fp + (not labels[i])
        if rank + 1 == len(order) or scores[order[rank + 1]] != scores[i]:
            fpr.append(fp / negatives)
            tpr.append(tp / positives)
    return fpr, tpr


def roc_figure(curves: Mapping[str, tuple[Sequence[float], Sequence[bool], float | None]]) -> go.Figure:
    """ROC curves, one per name: ``(scores, labels, auc)`` (the AUC of :func:`o1coder.prm.auc`, for the legend)."""
    figure = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dot", "color": "#999"},
                                  name="chance", hoverinfo="skip"))
    for name, (scores, labels, area) in curves.items():
        fpr, tpr = roc_points(scores, labels)
        label = name if area is None else f"{name} (AUC {area:.2f})"
        figure.add_trace(go.Scatter(x=fpr, y=tpr, mode="lines+markers", name=label, line_shape="linear"))
    figure.update_layout(title="ROC: steps with Q/N >= threshold as positives", xaxis_title="false positive rate",
                         yaxis_title="true positive rate", height=380, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return figure
