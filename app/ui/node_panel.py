"""The panel of one search node: its step, statistics, UCT terms, reward breakdown, tests and path from the root."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from o1coder.reasoning import parse
from o1coder.search.tree import Node, Tree
from o1coder.viz import action_name, headline, node_outcome

from . import state


def render(tree: Tree, node_id: int, *, alpha: float | None, statement: str | None = None) -> None:
    node = tree.nodes[node_id]
    kind = "dead step" if node.dead else action_name(node)
    st.subheader(f"Node #{node.id} · {kind} · depth {node.depth}")
    _path(tree, node)
    cols = st.columns(4)
    cols[0].metric("value Q/N", f"{node.value:.3f}", help="mean reward of the rollouts through this step")
    cols[1].metric("visits N", node.visits)
    cols[2].metric("reward", "–" if node.reward is None else f"{node.reward:.3f}",
                   help="terminal nodes: alpha·compiles + (1 − alpha)·pass rate on the reward tests")
    cols[3].metric("PRM score", "–" if node.prm is None else f"{node.prm:.3f}",
                   help="process reward model score of this step, when a PRM scored the run")
    if node.uct:
        terms = " · ".join(f"{k} = {v:.3f}" if isinstance(v, float) else f"{k} = {v}" for k, v in node.uct.items())
        st.caption(f"UCT at its last selection: {terms}")
    if node.parent is None:
        st.markdown("**The root**: the problem statement, before any step.")
        if statement:
            st.code(statement, language="text", wrap_lines=True)
    else:
        _step(node)
    if node.reward is not None:
        _reward(node, alpha)


def _path(tree: Tree, node: Node) -> None:
    """Buttons for every node from the root: one click selects it."""
    path = tree.path(node.id)
    cols = st.columns(min(len(path), 6))
    for i, n in enumerate(path):
        label = "root" if n.parent is None else f"#{n.id} {action_name(n)}"
        cols[i % len(cols)].button(label, key=f"path_{n.id}", help=headline(n), on_click=state.select_node,
                                   args=(n.id,), type="primary" if n.id == node.id else "secondary",
                                   width="stretch")


def _step(node: Node) -> None:
    result = parse(node.text)
    step = result.step
    if step is None:
        st.warning("This step could not be parsed, so it ended its path with reward 0: "
                   + "; ".join(node.errors or result.errors or ["no reason recorded"]), icon=":material/block:")
        st.code(node.text or "(empty)", language="text", wrap_lines=True)
        return
    st.markdown(f"**{step.title or '(untitled step)'}**")
    if step.explanation:
        st.markdown(step.explanation)
    if step.pseudocode:
        st.code(step.pseudocode, language="text")
    if step.code:
        st.code(step.code, language="python", line_numbers=True)
    if result.warnings:
        st.caption("Parsed with tolerance: " + "; ".join(result.warnings))


def _reward(node: Node, alpha: float | None) -> None:
    outcome = node_outcome(node)
    ex = node.exec
    if not ex:
        st.info(f"Reward {node.reward:.3f}: "
                + ("a dead step." if node.dead else "the depth limit was reached without code."))
        return
    compiled = bool(ex.get("compiled", outcome != "compile_error"))
    pass_rate = float(ex.get("pass_rate", (ex.get("n_passed") or 0) / max(ex.get("n_tests") or 1, 1)))
    if alpha is not None:
        st.markdown(f"**Reward** {node.reward:.3f} = {alpha:g} × compiles ({int(compiled)}) + {1 - alpha:g} × "
                    f"pass rate ({pass_rate:.3f}) — outcome **{outcome}**, {ex.get('n_passed')}/{ex.get('n_tests')} "
                    "reward tests passed")
    else:
        st.markdown(f"**Reward** {node.reward:.3f} — outcome **{outcome}**, compiles {compiled}, "
                    f"{ex.get('n_passed')}/{ex.get('n_tests')} reward tests passed")
    if ex.get("message"):
        st.caption(ex["message"])
    outcomes = ex.get("outcomes") or []
    if outcomes:
        frame = pd.DataFrame([{"test": i + 1, "status": o.get("status"), "message": o.get("message") or ""}
                              for i, o in enumerate(outcomes)])
        st.dataframe(frame, hide_index=True, width="stretch")
        if ex.get("outcomes_truncated"):
            st.caption(f"{ex['outcomes_truncated']} more tests not stored on the node")
