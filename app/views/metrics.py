"""Metrics: Pass@1, pass@k, ASPR and the budget over time, per problem, against another run, and Table 1."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from ui import common, data

from o1coder.viz.metrics import (
    X_AXES,
    default_metrics,
    generated_agreement,
    is_quality,
    last_values,
    metric_label,
    metrics_figure,
    summary_table,
    table1_row,
)

TABLE1_HELP = """Table 1 of the paper compares vanilla and pseudocode prompting (Pass@1 and ASPR on MBPP, Qwen2.5
1.5B / 3B / 7B / Coder-7B). ASPR (average sampling pass rate): for each problem where search found a correct path,
sample K programs from the last pseudocode state on that path and take the share that passes; average over
problems. Our rows come from the evaluation runs of this runs directory (`o1coder eval`), the paper's follow."""

LOOP_HELP = """Held-out Pass@1 (share of held-out problems whose answer passes every hidden test) by policy version,
with its 95% Wilson interval; ASPR (samples from the last pseudocode state of each correct path that pass) with the
normal interval of its per-problem mean. Per round: MCTS against best-of-N given the same tokens on the round's
training problems, and the PRM's AUC on held-out trees. The paper's shape: Pass@1 rising round after round, ASPR
above Pass@1 (dotted: the paper's Table 1 numbers for Qwen2.5-Coder-7B on MBPP, for scale)."""


def render() -> None:
    st.title("Metrics")
    run = common.current_run()
    if run is None:
        return
    common.status_banner(run)
    live = common.watching(run)
    seen = common.progress_signature(run.id) if live else None
    if run.kind == "loop":
        st.fragment(run_every=data.LIVE_REFRESH if live else None)(common.guarded(loop_view))(run.id)
    st.fragment(run_every=data.LIVE_REFRESH if live else None)(common.guarded(metrics_view))(run.id, seen)
    common.guarded(compare_view)(run.id)
    common.guarded(table1_view)()


def metrics_view(run_id: str, seen: tuple | None) -> None:
    if seen is not None:
        common.follow(run_id, seen)
    where = data.runs_dir()
    run = data.get_run(where, run_id)
    points = data.metrics(where, run.id, run.heartbeat)
    cols = st.columns(5)
    cols[0].metric("Pass@1", common.percent(run.pass_rate), help="share of finished problems whose answer passes "
                   "every hidden test (one answer per problem)")
    cols[1].metric("problems", f"{run.problems_done}/{run.problems_planned}", help=f"{run.problems_passed} passed")
    cols[2].metric("tokens", f"{run.tokens:,}", help=f"prompt {run.prompt_tokens:,} + completion "
                   f"{run.completion_tokens:,}")
    cols[3].metric("executions", f"{run.executions:,}", help="programs executed, all test sets")
    cols[4].metric("duration", common.duration(run.duration))
    final = last_values(points)
    agreement = generated_agreement(points)  # a run rewarded by generated tests: how far they agree with hidden
    if agreement is not None:
        cols = st.columns(4)
        cols[0].metric("generated-test false passes", common.percent(agreement["false_pass"]),
                       help="share of the searched programs that pass the generated (TCG) reward tests but fail the "
                       "hidden tests")
        cols[1].metric("generated-test false fails", common.percent(agreement["false_fail"]),
                       help="share of the searched programs that fail the generated tests but pass the hidden ones")
        cols[2].metric("programs compared", f"{agreement['programs']:.0f}")
    quality = [n for n in final if is_quality(n)]  # pass@k and ASPR, when the run recorded them (evaluation runs)
    for start in range(0, len(quality), 4):
        for col, name in zip(st.columns(4), quality[start:start + 4]):
            col.metric(metric_label(name), common.percent(final[name]))
    if points.empty:
        st.info("No metric points yet: a search logs them each time a problem finishes.")
        return
    names = list(dict.fromkeys(points["name"]))
    c1, c2 = st.columns([3, 1])
    chosen = c1.multiselect("Series", names, default=default_metrics(names), key="metric_names",
                            format_func=metric_label)
    x = c2.radio("x axis", list(X_AXES), format_func=X_AXES.get, key="metric_x")
    if chosen:
        st.plotly_chart(metrics_figure({run.id: points}, chosen, x=x, starts={run.id: run.created}),
                        width="stretch", key="metrics_fig")
    results = data.problem_results(where, run.id, run.heartbeat)
    if not results.empty:
        st.subheader("Per problem")
        table = results[["position", "problem_id", "passed", "hidden_status", "hidden_n_passed", "hidden_n_tests",
                         "prompt_tokens", "completion_tokens", "executions", "n_nodes", "wall_seconds"]]
        st.dataframe(table.round(2), hide_index=True, width="stretch", key="results_table")


def loop_view(run_id: str) -> None:
    """A self-play loop: the learning curve by policy version, and the per-round comparisons."""
    from o1coder.viz.loop import curve_table, has_curve, learning_curve_figure, round_table

    where = data.runs_dir()
    run = data.get_run(where, run_id)
    points = data.loop_metrics(where, run.id)
    st.subheader("Learning curve")
    st.caption(LOOP_HELP)
    if not has_curve(points):
        st.info("No held-out evaluation yet: the loop evaluates its initial policy first (policy version 0), then "
                "after the warm start and after every round; the curve grows here as they finish.",
                icon=":material/hourglass_top:")
        return
    st.plotly_chart(learning_curve_figure(points), width="stretch", key="loop_curve_fig")
    c1, c2 = st.columns([3, 2])
    c1.dataframe(curve_table(points).round(3), hide_index=True, width="stretch", key="loop_curve_table")
    rounds = round_table(points).dropna(how="all", subset=["MCTS", "best-of-N", "PRM AUC"])
    if not rounds.empty:
        c2.dataframe(rounds.round(3), hide_index=True, width="stretch", key="loop_round_table")


def compare_view(run_id: str) -> None:
    st.subheader("Compare with another run")
    where = data.runs_dir()
    runs = {r.id: r for r in data.list_runs(where)}
    others = [rid for rid in runs if rid != run_id]
    if not others:
        st.caption("There is no other run to compare with yet.")
        return
    other = st.selectbox("Other run", others, format_func=lambda rid: common.run_label(runs[rid]), key="compare_run")
    pair = {run_id: runs[run_id], other: runs[other]}
    st.dataframe(summary_table(pair).astype(str), width="stretch")
    frames = {rid: data.metrics(where, rid, r.heartbeat) for rid, r in pair.items()}
    names = [n for n in dict.fromkeys(pd.concat(frames.values())["name"]) if all(n in set(f["name"])
                                                                                  for f in frames.values())]
    if names:
        st.plotly_chart(metrics_figure(frames, default_metrics(names)[:3], x="step",
                                       starts={rid: r.created for rid, r in pair.items()}),
                        width="stretch", key="compare_fig")


def table1_view() -> None:
    from o1coder.evaluation import paper
    from o1coder.evaluation.figures import table1_figure
    from o1coder.evaluation.table import table1, to_markdown

    st.subheader("Table 1: vanilla vs pseudocode prompting")
    st.caption(TABLE1_HELP)
    where = data.runs_dir()
    rows = []
    for r in data.list_runs(where):
        if r.kind == "eval":
            values = last_values(data.metrics(where, r.id, r.heartbeat))
            if any(name.startswith("eval/") for name in values):
                rows.append(table1_row(f"{_eval_label(r)} · {r.id}", values, r.problems_done))
    if not rows:
        st.info("No evaluation run in this runs directory yet: `o1coder eval --recipe tiny-cpu --benchmark "
                "bundled:eval --limit 3` records Pass@1 and ASPR for both prompting modes, and its row appears "
                "here above the paper's. Until then, the paper's rows alone:", icon=":material/table_chart:")
    frame = table1(rows)
    notes = [f"Paper rows: {paper.CITATION}"
             + ("" if paper.VERIFIED_AGAINST_PAPER else " (transcribed from a public copy, not yet checked against "
                                                        "the PDF)") + "."]
    st.markdown(to_markdown(frame, notes))
    st.plotly_chart(table1_figure(frame), width="stretch", key="table1_fig")


def _eval_label(run) -> str:
    from o1coder.evaluation import eval_config, model_label

    try:
        return model_label(run.config, eval_config(run.config))
    except (ValueError, TypeError, KeyError):
        return common.model_name(run)


render()
