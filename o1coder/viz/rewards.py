"""Step rewards across a run: step values by depth and action, Monte Carlo value against PRM score (scatter and
calibration), and the reward breakdown of terminal nodes.

    frame = nodes_frame(trees)             # one row per node of every tree
    step_values_figure(frame); prm_figure(frame); reward_breakdown_figure(frame, alpha=0.2)

A terminal's reward is ``alpha * compiles + (1 - alpha) * pass_rate`` (o1coder.search.reward.terminal_reward); the
breakdown splits it into those two parts. A step's Monte Carlo value is its Q/N after the search.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from o1coder.search.tree import Tree
from o1coder.viz.tree import OUTCOME_COLORS, action_name, node_outcome

ACTION_COLORS = {"structure": "#1f77b4", "refine": "#9467bd", "code": "#2ca02c"}
COLUMNS = ["problem_id", "node", "parent", "depth", "action", "visits", "value", "reward", "prm", "outcome",
           "compiled", "pass_rate", "n_passed", "n_tests", "dead", "terminal", "created"]


def nodes_frame(trees: Iterable[Tree]) -> pd.DataFrame:
    """One row per node: problem_id, node, parent, depth, action ("root", "structure", "refine", "code", "dead"),
    visits, value (Q/N), reward, prm, outcome (terminals), compiled, pass_rate, n_passed, n_tests, dead, terminal,
    created."""
    rows = []
    for tree in trees:
        for n in tree.nodes:
            ex = n.exec or {}
            rows.append((tree.problem_id, n.id, n.parent, n.depth, action_name(n),
                         n.visits, n.value, n.reward, n.prm, node_outcome(n), ex.get("compiled"), ex.get("pass_rate"),
                         ex.get("n_passed"), ex.get("n_tests"), n.dead, n.reward is not None, n.created))
    return pd.DataFrame(rows, columns=COLUMNS)


def step_values_figure(frame: pd.DataFrame) -> go.Figure:
    """Box plots of the value Q/N of visited steps, by depth, one colour per action type."""
    steps = frame[(frame["action"] != "root") & (frame["visits"] > 0)]
    fig = go.Figure()
    for action, color in ACTION_COLORS.items():
        part = steps[steps["action"] == action]
        if len(part):
            fig.add_trace(go.Box(x=part["depth"], y=part["value"], name=action, marker_color=color,
                                 boxpoints="outliers" if len(part) > 200 else "all", jitter=0.3, pointpos=0))
    dead = steps[steps["action"] == "dead"]
    if len(dead):
        fig.add_trace(go.Box(x=dead["depth"], y=dead["value"], name="dead", marker_color=OUTCOME_COLORS["dead"],
                             boxpoints="all", jitter=0.3, pointpos=0))
    fig.update_layout(boxmode="group", xaxis_title="depth", yaxis_title="value Q/N", yaxis_range=[-0.05, 1.05],
                      height=380, margin=dict(l=10, r=10, t=30, b=10), legend_title_text="action")
    return fig


def calibration_table(frame: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    """PRM score bins (equal width on [0, 1]) with count, mean PRM score and mean Monte Carlo value of their steps."""
    scored = frame[frame["prm"].notna() & (frame["visits"] > 0)]
    if scored.empty:
        return pd.DataFrame(columns=["bin", "count", "prm", "value"])
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(scored["prm"].astype(float), edges[1:-1]), 0, bins - 1)
    grouped = scored.assign(bin=which).groupby("bin")
    table = pd.DataFrame({"count": grouped.size(), "prm": grouped["prm"].mean(), "value": grouped["value"].mean()})
    table = table.reset_index()
    table["bin"] = [f"{edges[b]:.1f}–{edges[b + 1]:.1f}" for b in table["bin"]]
    return table


def prm_figure(frame: pd.DataFrame) -> go.Figure | None:
    """MC value against PRM score (left) and the calibration curve (right); None when no step has a PRM score."""
    scored = frame[frame["prm"].notna() & (frame["visits"] > 0)]
    if scored.empty:
        return None
    fig = make_subplots(rows=1, cols=2, subplot_titles=("value Q/N vs PRM score", "calibration (binned PRM score)"))
    for action, color in ACTION_COLORS.items():
        part = scored[scored["action"] == action]
        if len(part):
            fig.add_trace(go.Scatter(x=part["prm"], y=part["value"], mode="markers", name=action, opacity=0.7,
                                     marker=dict(color=color, size=6),
                                     customdata=np.stack([part["problem_id"], part["node"]], axis=1),
                                     hovertemplate="%{customdata[0]} #%{customdata[1]}<br>PRM %{x:.3f}"
                                                   "<br>Q/N %{y:.3f}<extra></extra>"), row=1, col=1)
    table = calibration_table(frame)
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot", color="#999"),
                             name="perfect calibration", hoverinfo="skip"), row=1, col=2)
    fig.add_trace(go.Scatter(x=table["prm"], y=table["value"], mode="lines+markers", name="mean value per bin",
                             marker=dict(size=6 + 14 * np.sqrt(table["count"] / table["count"].max())),
                             text=table["count"], hovertemplate="PRM %{x:.3f}<br>mean Q/N %{y:.3f}<br>"
                                                                "%{text} steps<extra></extra>"), row=1, col=2)
    fig.update_xaxes(title_text="PRM score", range=[-0.02, 1.02])
    fig.update_yaxes(title_text="value Q/N", range=[-0.02, 1.02])
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def reward_breakdown(frame: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Per problem: terminal counts by outcome, and the mean reward split into its compile and test parts."""
    terminals = frame[frame["terminal"]]
    if terminals.empty:
        return pd.DataFrame(columns=["problem_id", "terminals", "mean_reward", "compile_part", "test_part"])
    compiled = terminals["compiled"].fillna(False).astype(float)
    pass_rate = terminals["pass_rate"].fillna(0.0).astype(float)
    parts = terminals.assign(compile_part=alpha * compiled, test_part=(1 - alpha) * pass_rate)
    grouped = parts.groupby("problem_id", sort=False)
    table = pd.DataFrame({"terminals": grouped.size(), "mean_reward": grouped["reward"].mean(),
                          "compile_part": grouped["compile_part"].mean(), "test_part": grouped["test_part"].mean()})
    counts = terminals.pivot_table(index="problem_id", columns="outcome", values="node", aggfunc="count",
                                   fill_value=0, sort=False)
    return table.join(counts).reset_index()


def reward_breakdown_figure(frame: pd.DataFrame, alpha: float) -> go.Figure:
    """Terminal outcomes per problem (left) and the mean terminal reward as compile part + test part (right)."""
    table = reward_breakdown(frame, alpha)
    title = f"mean reward = {alpha:g}·compiles + {1 - alpha:g}·pass rate"
    fig = make_subplots(rows=1, cols=2, subplot_titles=("terminal outcomes", title))
    for outcome, color in OUTCOME_COLORS.items():
        if outcome in table:
            fig.add_trace(go.Bar(x=table["problem_id"], y=table[outcome], name=outcome, marker_color=color,
                                 legendgroup="outcome"), row=1, col=1)
    fig.add_trace(go.Bar(x=table["problem_id"], y=table["compile_part"], name="compiles part", marker_color="#aec7e8",
                         legendgroup="reward"), row=1, col=2)
    fig.add_trace(go.Bar(x=table["problem_id"], y=table["test_part"], name="tests part", marker_color="#1f77b4",
                         legendgroup="reward"), row=1, col=2)
    fig.update_layout(barmode="stack", height=400, margin=dict(l=10, r=10, t=40, b=10))
    fig.update_yaxes(title_text="terminals", row=1, col=1)
    fig.update_yaxes(title_text="reward", range=[0, 1.02], row=1, col=2)
    return fig
