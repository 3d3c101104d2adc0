"""Step rewards: step values by depth and action, MC value against PRM score, and terminal reward breakdowns."""

from __future__ import annotations

import streamlit as st
from ui import common, data

from o1coder.viz.rewards import (
    nodes_frame,
    prm_figure,
    reward_breakdown,
    reward_breakdown_figure,
    step_values_figure,
)


def render() -> None:
    st.title("Step rewards")
    run = common.current_run()
    if run is None:
        return
    common.status_banner(run)
    live = common.watching(run)
    seen = common.progress_signature(run.id) if live else None
    st.fragment(run_every=data.LIVE_REFRESH * 3 if live else None)(common.guarded(rewards_view))(run.id, seen)


def rewards_view(run_id: str, seen: tuple | None) -> None:
    if seen is not None:
        common.follow(run_id, seen)
    where = data.runs_dir()
    run = data.get_run(where, run_id)
    trees = data.run_trees(where, run.id, run.heartbeat)
    if not trees:
        st.info("No tree has been stored for this run yet.")
        return
    frame = nodes_frame(trees)
    problems = list(dict.fromkeys(frame["problem_id"]))
    chosen = st.multiselect("Problems", problems, default=problems, key="rewards_problems",
                            help="filter every view below; rounds appear here once self-play runs record them")
    frame = frame[frame["problem_id"].isin(chosen)]
    if frame.empty:
        st.info("Choose at least one problem.")
        return
    steps = frame[frame["action"] != "root"]
    cols = st.columns(4)
    cols[0].metric("steps", len(steps))
    cols[1].metric("terminals", int(frame["terminal"].sum()))
    cols[2].metric("dead steps", int(frame["dead"].sum()))
    cols[3].metric("passing terminals", int((frame["outcome"] == "passed").sum()))

    st.subheader("Step values by depth and action")
    st.caption("Value = Q/N, the mean reward of the rollouts through a step (visited steps only).")
    st.plotly_chart(step_values_figure(frame), width="stretch", key="values_fig")

    st.subheader("Monte Carlo value vs PRM score")
    fig = prm_figure(frame)
    if fig is None:
        st.info("No step of this run has a PRM score. Once a process reward model is trained (`o1coder prm ...`) "
                "and scores a search, its scores appear here against the steps' Monte Carlo values, with a "
                "calibration curve.", icon=":material/info:")
    else:
        scored = int(frame["prm"].notna().sum())
        st.caption(f"{scored} scored steps. Left: each step; right: mean value per PRM-score bin (dotted: perfect "
                   "calibration).")
        st.plotly_chart(fig, width="stretch", key="prm_fig")

    st.subheader("Reward breakdown of terminal nodes")
    alpha = float((run.config.get("search") or {}).get("alpha", 0.2))
    st.caption(f"reward = {alpha:g} × compiles + {1 - alpha:g} × pass rate on the reward tests; dead steps and "
               "paths that hit the depth limit without code get 0.")
    st.plotly_chart(reward_breakdown_figure(frame, alpha), width="stretch", key="breakdown_fig")
    st.dataframe(reward_breakdown(frame, alpha).round(3), hide_index=True, width="stretch")


render()
