"""The self-play loop's curves: held-out Pass@1 and ASPR by policy version with their 95% intervals, MCTS vs
best-of-N at equal tokens and the PRM's AUC by round, beside the paper's numbers.

    frame = o1coder.runs.metrics(loop_run_id)        # the metrics of o1coder.training.loop_metrics
    learning_curve_figure(frame)

The O1-CODER paper reports no learning curve; what it claims is its shape: training on search data raises Pass@1
round after round, and once a correct line of reasoning exists the model turns it into passing code far more often
than it solves the problem from scratch (ASPR above Pass@1; Table 1, MBPP). Its Table 1 numbers for
Qwen2.5-Coder-7B with pseudocode prompting are drawn as dotted reference lines, labelled as the paper's.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

VERSION_AXIS = "policy version (0 untrained, 1 warm start, then one per round)"
REFERENCE_MODEL = "Qwen2.5-Coder-7B"
_BLUE, _RED, _GREEN, _GREY = "#1f77b4", "#d62728", "#2ca02c", "#7f7f7f"


def series(frame: pd.DataFrame, name: str) -> pd.Series:
    """step -> value of one metric (sorted by step; empty when the metric was not logged)."""
    points = frame[frame["name"] == name].sort_values("step")
    return pd.Series(points["value"].to_numpy(), index=points["step"].astype(int).to_numpy(), dtype=float)


def curve_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per policy version: Pass@1 and its interval, the counts, ASPR and its interval (what the figure
    draws, as a table for the app and notebooks)."""
    columns = {"Pass@1": "loop/pass@1", "low": "loop/pass@1_low", "high": "loop/pass@1_high",
               "passed": "loop/eval_passed", "problems": "loop/eval_problems", "ASPR": "loop/aspr",
               "ASPR low": "loop/aspr_low", "ASPR high": "loop/aspr_high", "ASPR problems": "loop/aspr_problems"}
    table = pd.DataFrame({label: series(frame, name) for label, name in columns.items()})
    table.index.name = "version"
    return table.reset_index()


def round_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per round: MCTS vs best-of-N solve rates at equal mean tokens and under the common cap (with the
    tokens each spent), the search-only share of D+, PRM AUC."""
    columns = {"MCTS": "loop/mcts_solve_rate", "MCTS tokens": "loop/mcts_tokens",
               "best-of-N": "loop/best_of_n_matched_solve_rate", "best-of-N tokens": "loop/best_of_n_matched_tokens",
               "best-of-N (common cap)": "loop/best_of_n_solve_rate",
               "tokens (common cap)": "loop/best_of_n_tokens",
               "D+ problems": "loop/d_plus_problems", "search-only share": "loop/search_only_share",
               "PRM AUC": "loop/prm_auc"}
    table = pd.DataFrame({label: series(frame, name) for label, name in columns.items()})
    table.index.name = "round"
    return table.reset_index()


def has_curve(frame: pd.DataFrame) -> bool:
    return not frame.empty and (frame["name"] == "loop/pass@1").any()


def learning_curve_figure(frame: pd.DataFrame, reference: bool = True) -> go.Figure:
    """Left: Pass@1 and ASPR by policy version with 95% intervals. Right: per round, MCTS vs best-of-N at equal
    tokens and the PRM's AUC on held-out trees (when the loop recorded them)."""
    from o1coder.evaluation import paper

    fig = make_subplots(rows=1, cols=2, column_widths=[0.6, 0.4], horizontal_spacing=0.08,
                        subplot_titles=["held-out Pass@1 and ASPR by policy version (95% intervals)",
                                        "per round: MCTS vs best-of-N at equal tokens, PRM AUC"])
    for name, label, color in (("pass@1", "Pass@1", _BLUE), ("aspr", "ASPR", _RED)):
        points = series(frame, f"loop/{name}").dropna()
        if points.empty:
            continue
        low = series(frame, f"loop/{name}_low").reindex(points.index)
        high = series(frame, f"loop/{name}_high").reindex(points.index)
        fig.add_trace(go.Scatter(
            x=points.index.tolist(), y=points.tolist(), mode="lines+markers", name=label, line=dict(color=color),
            error_y=dict(type="data", symmetric=False, array=(high - points).fillna(0).tolist(),
                         arrayminus=(points - low).fillna(0).tolist(), visible=True)), row=1, col=1)
    if reference:
        values = paper.TABLE1[REFERENCE_MODEL]
        for name, label, color in (("pass@1", "Pass@1", _BLUE), ("aspr", "ASPR", _RED)):
            fig.add_hline(y=values[name][1] / 100, line=dict(dash="dot", color=color, width=1), row=1, col=1,
                          annotation_text=f"paper: {label} {values[name][1]:.1f}% ({REFERENCE_MODEL}, MBPP)",
                          annotation_font_color=_GREY, annotation_position="top left")
    for name, label, color, dash in (("mcts_solve_rate", "MCTS (train problems)", _GREEN, "solid"),
                                     ("best_of_n_matched_solve_rate", "best-of-N, equal mean tokens", _GREY,
                                      "dash"),
                                     ("prm_auc", "PRM AUC (held-out trees)", _RED, "dot")):
        points = series(frame, f"loop/{name}").dropna()
        if not points.empty:
            fig.add_trace(go.Scatter(x=points.index.tolist(), y=points.tolist(), mode="lines+markers", name=label,
                                     line=dict(color=color, dash=dash)), row=1, col=2)
    fig.update_yaxes(range=[-0.02, 1.02], tickformat=".0%")
    fig.update_xaxes(title_text=VERSION_AXIS, tick0=0, dtick=1, row=1, col=1)
    fig.update_xaxes(title_text="round", tick0=0, dtick=1, row=1, col=2)
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=50, b=10),
                      legend=dict(orientation="h", y=-0.25, x=0))
    return fig
