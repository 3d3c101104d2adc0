"""What the user is looking at (run, problem, node), shared between pages and kept in the URL.

A link like ``/tree?run=20261126-071500-ab12&problem=bundled/add&node=12`` opens the same view. The URL wins when
it names something (a pasted link, a page link); otherwise the session remembers the last choice (moving between
pages through the menu drops the query string). Pickers write both through ``on_change`` callbacks, which run
before the script, so the URL never lags behind a widget.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

KEYS = ("run", "problem", "node")
_MEMORY = "_o1coder_view"
_DEPENDENTS = {"run": ("problem", "node"), "problem": ("node",), "node": ()}


def _memory() -> dict[str, str]:
    return st.session_state.setdefault(_MEMORY, {})


def current(key: str) -> str | None:
    value = st.query_params.get(key)
    return value if value else _memory().get(key)


def current_node() -> int | None:
    value = current("node")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def remember(key: str, value: Any) -> None:
    """Choose ``value`` for ``key`` (None forgets it); choosing a new run forgets the problem and node."""
    old = current(key)
    if value is None:
        _memory().pop(key, None)
        if key in st.query_params:
            del st.query_params[key]
    else:
        _memory()[key] = str(value)
        st.query_params[key] = str(value)
    if old != (None if value is None else str(value)):
        for dependent in _DEPENDENTS[key]:
            remember(dependent, None)


def sync_url() -> None:
    """Put the remembered view back in the URL (the page menu drops the query string)."""
    for key in KEYS:
        value = current(key)
        if value is not None and st.query_params.get(key) != value:
            st.query_params[key] = value


def pick(key: str, label: str, options: Sequence[Any], *, format_func: Callable[[Any], str] = str,
         where: Any = st, help: str | None = None, default: Any = None) -> Any:
    """A selectbox bound to ``key``: starts at the current value (else ``default``, else the first option) and
    remembers changes."""
    if not options:
        return None
    options = list(options)
    as_text = {str(o): o for o in options}
    chosen = as_text.get(current(key) or "", default if default in options else options[0])
    if current(key) != str(chosen):
        remember(key, chosen)
    widget = f"_pick_{key}"
    st.session_state[widget] = chosen
    return where.selectbox(label, options, key=widget, format_func=format_func, help=help,
                           on_change=lambda: remember(key, st.session_state[widget]))


def select_node(node_id: int | None) -> None:
    """Callback target: a click in the tree, a path button, the node number input."""
    remember("node", node_id)
