"""Pseudocode refinement: the steps of one path side by side, what each refinement changed, then the code."""

from __future__ import annotations

import streamlit as st
from ui import common, data, state

from o1coder.viz import node_outcome
from o1coder.viz.refinement import path_steps, terminal_choices


def render() -> None:
    st.title("Pseudocode refinement")
    run = common.current_run()
    if run is None:
        return
    common.status_banner(run)
    frame = data.problems(data.runs_dir(), run.id)
    stored = data.node_counts(data.runs_dir(), run.id)
    started = [pid for pid in frame["problem_id"] if stored.get(pid)]
    if not started:
        if run.kind != "search":
            common.no_trees(run)
        else:
            st.info("No search tree of this run has nodes yet.")
        return
    problem = state.pick("problem", "Problem", started)
    live = common.watching(run)
    seen = common.progress_signature(run.id) if live else None
    st.fragment(run_every=data.LIVE_REFRESH * 3 if live else None)(common.guarded(refinement_view))(run, problem, seen)


def refinement_view(run, problem: str, seen: tuple | None) -> None:
    if seen is not None:
        common.follow(run.id, seen)
    tree, _ = data.live_tree(data.runs_dir(), run.id, problem).refresh()
    leaves = terminal_choices(tree)
    if not leaves:
        st.info("No path of this problem has reached a terminal step yet.")
        return
    by_id = {n.id: n for n in leaves}
    selected = state.current_node()
    ends = list(by_id)
    if selected is not None and selected not in by_id and 0 < selected < len(tree.nodes):
        ends.insert(0, selected)  # the node chosen on the tree page, even if it is not a leaf
    end = state.pick("node", "Path to", ends, format_func=lambda i: _label(tree.nodes[i]),
                     help="terminal nodes, best reward first (the node chosen on the tree page comes first)")
    steps = path_steps(tree, end)
    pseudo = [s for s in steps if s.node.action in (1, 2) and s.step is not None]
    st.caption("Each pseudocode step beside what it changed (+ added, − removed against the previous pseudocode). "
               "A badge says how many executed programs below that step pass all their reward tests.")
    refinements = 0
    for item in pseudo:
        refinements += item.node.action == 2
        _pseudocode_step(item, refinements)
    code = [s for s in steps if s.node.action == 3 or s.step is None]
    for item in code:
        st.markdown(f"**#{item.node.id} · {'code' if item.step else 'dead step'}** "
                    f"— {item.step.title if item.step else '; '.join(item.errors)}")
        if item.step is not None:
            st.code(item.step.code, language="python", line_numbers=True)
        outcome = node_outcome(item.node)
        if outcome:
            reward = item.node.reward if item.node.reward is not None else 0.0
            (st.success if outcome == "passed" else st.warning)(f"Outcome: {outcome} · reward {reward:.3f}")


def _pseudocode_step(item, refinements: int) -> None:
    label = "Structure" if item.node.action == 1 else f"Refinement {refinements}"
    badge = (f":green-badge[leads to passing code: {item.passing}/{item.terminals}]" if item.passing
             else f":gray-badge[no passing code below ({item.terminals} executed)]")
    st.markdown(f"**{label}** · #{item.node.id} · {item.step.title} {badge}")
    left, right = st.columns(2)
    left.code(item.step.pseudocode, language="text", wrap_lines=True)
    if item.diff:
        right.code(item.diff, language="diff", wrap_lines=True)
        right.caption(f"+{item.added} / −{item.removed} lines against the previous pseudocode")
    elif item.diff is not None:
        right.caption("no change to the pseudocode")
    else:
        right.caption("the first outline: nothing to compare with")


def _label(node) -> str:
    outcome = node_outcome(node) or "no outcome yet"
    reward = "" if node.reward is None else f" · reward {node.reward:.2f}"
    return f"#{node.id} · depth {node.depth} · {outcome}{reward}"


render()
