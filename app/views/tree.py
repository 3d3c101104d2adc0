"""Search tree: one problem's tree, interactive; click a node (or type its number) to inspect it; replay the search.

While the run is live the figure refreshes itself in a fragment, reading only the nodes written since the last
refresh (``nodes_since``); figures are cached per tree state, so a refresh with nothing new costs one small query.
"""

from __future__ import annotations

import streamlit as st
from ui import common, data, node_panel, state

from o1coder.viz import clicked_node


def render() -> None:
    st.title("Search tree")
    run = common.current_run()
    if run is None:
        return
    common.status_banner(run)
    frame = data.problems(data.runs_dir(), run.id)
    counts = dict(zip(frame["problem_id"], frame["rollouts"]))
    statuses = dict(zip(frame["problem_id"], frame["status"]))
    stored = data.node_counts(data.runs_dir(), run.id)
    with_nodes = [pid for pid in frame["problem_id"] if stored.get(pid) or statuses[pid] == "running"]
    seen = common.progress_signature(run.id)
    if not with_nodes and run.kind != "search":
        common.no_trees(run)
        return
    if not with_nodes:
        st.info("No problem of this run has started yet: the tree appears here as soon as the first one does.")
        if common.watching(run):
            st.fragment(run_every=data.LIVE_REFRESH)(lambda: common.follow(run.id, seen))()
        return
    running = next((pid for pid in with_nodes if statuses[pid] == "running"), None)
    if running and st.session_state.get("_following") == (run.id, state.current("problem")):
        state.remember("problem", running)  # watching the problem being searched: move on with the search
    problem = state.pick("problem", "Problem", with_nodes, help="problems of this run that have a tree",
                         format_func=lambda pid: f"{pid} · {statuses[pid]} · {counts[pid]} rollouts",
                         default=running)
    st.session_state["_following"] = (run.id, problem) if problem == running else None
    statement = data.problem_statements(run.problem_spec).get(problem)
    if statement:
        with st.expander("Problem statement"):
            st.code(statement, language="text", wrap_lines=True)
    live = common.watching(run)
    st.fragment(run_every=data.LIVE_REFRESH if live else None)(common.guarded(tree_view))(
        run, problem, statement, seen if live else None)


def tree_view(run, problem: str, statement: str | None, seen: tuple | None) -> None:
    if seen is not None:
        common.follow(run.id, seen)
    where = data.runs_dir()
    tree, cursor = data.live_tree(where, run.id, problem).refresh()
    if not tree.nodes:
        st.info("This problem has no stored node yet.")
        return
    n = len(tree.nodes)
    upto = _replay(problem, n)
    shown = n if upto is None else upto
    selected = state.current_node()
    if selected is not None and not 0 <= selected < shown:
        selected = None
    best = _best(run, problem)
    fig = data.tree_figure_for(where, run.id, problem, cursor, upto, selected, best, tree)
    st.caption(f"{shown} of {n} nodes · colour = value Q/N · size = visits · ■ structure ◆ refine ● code ✕ dead "
               "· terminals coloured by test outcome · gold = path to the best answer · drag to pan, scroll to zoom")
    chart = f"tree_{run.id}_{problem}"
    st.plotly_chart(fig, key=chart, on_select=lambda: _clicked(chart), selection_mode="points",
                    config={"scrollZoom": True, "displaylogo": False}, width="stretch")
    st.session_state["node_input"] = selected
    st.number_input("Node number (or click a node in the tree)", min_value=0, max_value=shown - 1, step=1,
                    key="node_input", placeholder="a node id, 0 is the root", on_change=_typed)
    if selected is None:
        st.info("Click a node in the tree, or type its number above, to see its step, value, UCT terms, reward and "
                "tests.", icon=":material/touch_app:")
        return
    alpha = (run.config.get("search") or {}).get("alpha")
    node_panel.render(tree, selected, alpha=alpha, statement=statement)


def _clicked(chart: str) -> None:
    """The chart's selection changed: select the clicked node (node markers carry their id as customdata)."""
    event = st.session_state.get(chart) or {}
    for point in (event.get("selection") or {}).get("points", []):
        node = clicked_node(point)
        if node is not None:
            state.select_node(node)
            return


def _typed() -> None:
    value = st.session_state.get("node_input")
    state.select_node(None if value is None else int(value))


def _replay(problem: str, n: int) -> int | None:
    """A slider over creation order; at its right end it follows the live tree (None: everything)."""
    if n < 2:
        return None
    memory = st.session_state.setdefault("_replay", {})
    last_n, last_value = memory.get(problem, (n, n))
    value = n if last_value >= last_n else min(last_value, n)  # at the end: stay at the end as the tree grows
    st.session_state["replay"] = value

    def moved() -> None:
        memory[problem] = (n, st.session_state["replay"])

    value = st.slider("Replay: nodes in creation order", 1, n, key="replay", on_change=moved,
                      help="Shows the tree as it stood after its first k nodes were created (with their final "
                           "statistics); at the right end the tree follows the search live.")
    memory[problem] = (n, value)
    return None if value >= n else value


def _best(run, problem: str) -> int | None:
    """The answer's node once the problem is finished (as recorded), else None: the best terminal so far."""
    results = data.problem_results(data.runs_dir(), run.id, run.heartbeat)
    row = results[results["problem_id"] == problem]
    if row.empty or row["best_node"].isna().all():
        return None
    return int(row["best_node"].iloc[0])


render()
