"""Run metrics over time: Pass@1, pass@k, ASPR and the budget (tokens, executions), for one run or side by side.

    frame = o1coder.runs.metrics(run_id)                 # name, step, value, time
    metrics_figure({run_id: frame}, ["pass_rate", "tokens"], x="step", starts={run_id: run.created})

``step`` is what the writer logged against: problems done for a search or evaluation run; the round (or the policy
version, for ``loop/pass@1``) for a self-play loop run, so the same figure shows a loop's metrics per round.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

# Names the run store uses, with the labels readers know them by. Unknown names are shown as they are.
METRIC_LABELS = {
    "pass_rate": "Pass@1 (answers passing all hidden tests)",
    "tokens": "tokens (prompt + completion)",
    "executions": "programs executed",
    "problem_passed": "problem passed (1/0)",
    "problem_nodes": "nodes per problem",
    "problem_seconds": "seconds per problem",
    "aspr": "ASPR",
}
PREFERRED = ("pass_rate", "tokens", "executions")
# Pass@k and ASPR series, under the names the stages log them
# (eval runs "eval/pass@K/MODE", "eval/aspr/MODE"; self-play "loop/pass@1"; budget runs "budget/ALGORITHM/pass@1")
_QUALITY = re.compile(r"^(?P<scope>(?:[\w-]+/)*?)(?P<what>pass@\d+|aspr)(?:/(?P<mode>[\w-]+))?$")
X_AXES = {"step": "step (problems done; the round or policy version for self-play)",
          "minutes": "minutes since the run started"}
_DASHES = ("solid", "dash", "dot", "dashdot")
_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


def is_quality(name: str) -> bool:
    """A Pass@k or ASPR series (a share between 0 and 1)."""
    return bool(_QUALITY.match(name))


def metric_label(name: str) -> str:
    match = _QUALITY.match(name)
    if match and name not in METRIC_LABELS:
        label = "ASPR" if match["what"] == "aspr" else match["what"].replace("pass", "Pass", 1)
        label += f" ({match['mode']})" if match["mode"] else ""
        scope = match["scope"].rstrip("/")
        return label + (f" [{scope}]" if scope and scope != "eval" else "")
    return METRIC_LABELS.get(name, name)


def default_metrics(names: Sequence[str]) -> list[str]:
    """The headline series present in ``names``: Pass@1, pass@k and ASPR first, then the budget."""
    quality = [n for n in names if is_quality(n)]
    chosen = [n for n in ("pass_rate", *quality) if n in names][:4]
    chosen += [n for n in PREFERRED if n in names and n not in chosen]
    return chosen or list(names)[:3]


def generated_agreement(frame: pd.DataFrame) -> dict[str, float] | None:
    """A run's generated reward tests against its hidden tests, pooled over its problems (the per-problem points
    ``generated/programs``, ``generated/false_passes``, ``generated/false_fails``): ``programs``, and the shares
    ``false_pass`` and ``false_fail`` of programs whose verdict differs. None when the run has no such points."""
    if frame.empty or "generated/programs" not in set(frame["name"]):
        return None
    totals = frame.groupby("name")["value"].sum()
    programs = float(totals.get("generated/programs", 0.0))

    def share(name: str) -> float | None:
        return float(totals.get(name, 0.0)) / programs if programs else None

    return {"programs": programs, "false_pass": share("generated/false_passes"),
            "false_fail": share("generated/false_fails")}


def last_values(frame: pd.DataFrame) -> dict[str, float]:
    """name -> the value at its last step (the final numbers of a finished run)."""
    if frame.empty:
        return {}
    last = frame.sort_values(["name", "step"]).groupby("name").tail(1)
    return dict(zip(last["name"], last["value"]))


def table1_row(label: str, values: Mapping[str, float], problems: int | None = None) -> dict[str, Any]:
    """One Table 1 row (o1coder.evaluation.table's columns) from an evaluation run's last metric values."""
    row: dict[str, Any] = {"model": label, "source": "ours", "problems": problems}
    for mode in ("vanilla", "pseudocode"):
        row[f"{mode}_pass@1"] = values.get(f"eval/pass@1/{mode}")
        row[f"{mode}_aspr"] = values.get(f"eval/aspr/{mode}")
        row[f"{mode}_aspr_problems"] = values.get(f"eval/aspr_problems/{mode}")
    row["delta_pass@1"] = values.get("eval/delta/pass@1")
    row["delta_aspr"] = values.get("eval/delta/aspr")
    return row


def metrics_figure(frames: Mapping[str, pd.DataFrame], names: Sequence[str], x: str = "step",
                   starts: Mapping[str, float] | None = None) -> go.Figure:
    """One row per metric name, one line per run label (``frames``: label -> a metrics frame).

    ``x``: "step" or "minutes" (since ``starts[label]``, else since the run's first point).
    """
    if x not in X_AXES:
        raise ValueError(f"x must be one of {', '.join(X_AXES)}; got {x!r}")
    names = list(names)
    fig = make_subplots(rows=max(len(names), 1), cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=[metric_label(n) for n in names] or None)
    for k, (label, frame) in enumerate(frames.items()):
        origin = (starts or {}).get(label)
        if origin is None and len(frame):
            origin = float(frame["time"].min())
        for row, name in enumerate(names, start=1):
            series = frame[frame["name"] == name].sort_values("step")
            if series.empty:
                continue
            xs = series["step"] if x == "step" else (series["time"] - origin) / 60.0
            fig.add_trace(go.Scatter(x=xs, y=series["value"], mode="lines+markers", name=label, legendgroup=label,
                                     showlegend=row == 1, line=dict(dash=_DASHES[k % len(_DASHES)],
                                                                         color=_COLORS[k % len(_COLORS)])),
                          row=row, col=1)
            if name == "pass_rate" or is_quality(name):
                fig.update_yaxes(range=[-0.02, 1.02], row=row, col=1)
    fig.update_xaxes(title_text=X_AXES[x], row=max(len(names), 1), col=1)
    if x == "step":  # steps are whole numbers: no tick at 1.5
        last = max((int(f["step"].max()) for f in frames.values() if len(f)), default=1)
        fig.update_xaxes(tick0=0, dtick=max(1, -(-last // 8)))
    fig.update_layout(height=max(300, 230 * len(names)), margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=1.05, x=0, yanchor="bottom"))
    return fig


def summary_table(runs: Mapping[str, object]) -> pd.DataFrame:
    """Side-by-side totals of runs (label -> :class:`o1coder.runs.RunInfo`): the compare view."""
    rows = {}
    for label, run in runs.items():
        rows[label] = {
            "status": run.status, "recipe": run.recipe, "model": (run.config.get("model") or {}).get("name_or_path"),
            "problems": f"{run.problems_done}/{run.problems_planned}", "Pass@1": run.pass_rate,
            "passed": run.problems_passed, "tokens": run.tokens, "executions": run.executions,
            "minutes": round(run.duration / 60.0, 2),
        }
    return pd.DataFrame(rows)
