"""Plotly figures of evaluation results, for the app and the notebooks (plotly comes with the ``app`` extra).

- :func:`budget_figure`: Pass@1 against mean generated tokens per problem, one line per search algorithm (every
  run of the sweep), with the budget-matched runs ringed.
- :func:`table1_figure`: Pass@1 and ASPR per prompting mode, ours beside the paper's, as grouped bars.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from o1coder.evaluation.budget import BudgetComparison

ALGORITHM_NAMES = {"mcts": "MCTS", "best_of_n": "Best-of-N", "beam": "Beam search"}


def _plotly():
    try:
        import plotly.graph_objects as go
    except ImportError as error:  # pragma: no cover (plotly is installed with the app extra)
        raise ImportError("evaluation figures need plotly: pip install 'o1coder[app]'") from error
    return go


def budget_figure(comparison: BudgetComparison) -> Any:
    """Pass@1 vs budget: a line per algorithm through its runs (sorted by tokens), matched runs ringed."""
    go = _plotly()
    figure = go.Figure()
    matched = {(r["algorithm"], r["value"]) for r in comparison.rows if r["matched"]}
    for algorithm in comparison.algorithms:
        points = sorted((p for p in comparison.points if p.algorithm == algorithm), key=lambda p: p.tokens)
        name = ALGORITHM_NAMES.get(algorithm, algorithm)
        figure.add_trace(go.Scatter(
            x=[p.tokens for p in points], y=[p.pass_at_1 for p in points], mode="lines+markers", name=name,
            text=[f"{p.knob}={p.value}" for p in points],
            hovertemplate="%{text}<br>%{x:.0f} tokens/problem<br>Pass@1 %{y:.1%}<extra>" + name + "</extra>"))
        ringed = [p for p in points if (algorithm, p.value) in matched]
        if ringed:
            figure.add_trace(go.Scatter(
                x=[p.tokens for p in ringed], y=[p.pass_at_1 for p in ringed], mode="markers", showlegend=False,
                marker={"size": 14, "symbol": "circle-open", "line": {"width": 2}}, hoverinfo="skip"))
    for target in sorted({r["target"] for r in comparison.rows}):
        figure.add_vline(x=target, line_dash="dot", line_color="grey", opacity=0.5)
    figure.update_layout(title="Pass@1 vs generated tokens (dotted: compared budgets; rings: matched runs)",
                         xaxis_title="mean generated tokens per problem", yaxis_title="Pass@1 (hidden tests)",
                         yaxis_tickformat=".0%", legend_title="algorithm")
    return figure


def table1_figure(frame: pd.DataFrame) -> Any:
    """Grouped bars of a Table 1 frame (:func:`o1coder.evaluation.table.table1`): one group per model, bars for
    Pass@1 and ASPR under vanilla and pseudocode prompting."""
    go = _plotly()
    figure = go.Figure()
    for column, label in (("vanilla_pass@1", "Vanilla Pass@1"), ("pseudocode_pass@1", "Pseudocode Pass@1"),
                          ("vanilla_aspr", "Vanilla ASPR"), ("pseudocode_aspr", "Pseudocode ASPR")):
        figure.add_trace(go.Bar(x=list(frame.index), y=list(frame[column]), name=label))
    figure.update_layout(barmode="group", title="Vanilla vs pseudocode prompting (Table 1 layout)",
                         yaxis_tickformat=".0%", yaxis_title="share")
    return figure
