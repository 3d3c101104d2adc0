"""The search tree as one plotly figure that stays readable and fast at thousands of nodes.

    fig = tree_figure(tree)                          # a Tree from o1coder.runs.load_tree or Tree.load
    fig = tree_figure(tree, upto=50, selected=12)    # replay: the first 50 nodes created; node 12 ringed

Rows are depths (root on top), laid out by :func:`o1coder.viz.layout.tidy_layout`. Colour is the step's value Q/N;
size grows with visits; the marker symbol is the action (root star, structure square, refine diamond, code circle,
dead step x); terminal nodes are coloured by their test outcome instead (legend); the path to the best answer is
drawn thick. Each node marker carries its id in ``customdata``, so a click (Streamlit ``on_select``) names it
(:func:`clicked_node`).
Edges are one trace with gaps and every node kind is one trace: the trace count does not grow with the tree.
"""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import plotly.graph_objects as go

from o1coder.search.tree import Node, Tree
from o1coder.viz.layout import tidy_layout

ACTION_NAMES = {None: "root", 1: "structure", 2: "refine", 3: "code"}
# plotly's numeric marker codes (numbers validate as one array; names are checked one by one): star, square,
# diamond, circle; x for a dead step
ACTION_SYMBOLS = {None: 17, 1: 1, 2: 2, 3: 0}
DEAD_SYMBOL = 4
VALUE_COLORSCALE = "Viridis"
# terminal outcome -> colour (the sandbox statuses, plus the two leaves that carry reward 0 without running code)
OUTCOME_COLORS = {
    "passed": "#2ca02c", "failed": "#ff7f0e", "compile_error": "#d62728", "runtime_error": "#e377c2",
    "timeout": "#8c564b", "memory": "#9467bd", "crashed": "#17becf", "dead": "#7f7f7f", "no code": "#bcbd22",
}  # fmt: skip
BEST_PATH_COLOR = "#f5b700"
_HEADER = re.compile(r"^\s*action\s*\d\s*(\([^)]*\))?\s*:?\s*", re.IGNORECASE)


def node_outcome(node: Node) -> str | None:
    """A terminal's outcome ("passed", a sandbox status, "dead", "no code" at the depth limit); None otherwise."""
    if node.dead:
        return "dead"
    if node.exec:
        return str(node.exec.get("status") or "crashed")
    if node.reward is not None and node.action != 3:
        return "no code"
    return None


def action_name(node: Node) -> str:
    """"root", "structure", "refine", "code", or "dead" for a step that could not be parsed."""
    if node.parent is None:
        return "root"
    if node.dead:
        return "dead"
    return ACTION_NAMES.get(node.action, str(node.action))


def headline(node: Node, width: int = 80) -> str:
    """A short one-line label of a step (its title), without parsing the whole step."""
    if node.parent is None:
        return "problem"
    rest = node.text
    while rest:
        line, _, rest = rest.partition("\n")
        line = _HEADER.sub("", line, count=1).strip()
        if line:
            return line if len(line) <= width else line[: width - 1] + "…"
    return "(empty step)"


def best_path(tree: Tree, best: int | None = None) -> list[int]:
    """Ids from the root to ``best`` (default: the best terminal, :func:`o1coder.search.best_terminal`)."""
    if best is None:
        from o1coder.search.api import best_terminal

        node = best_terminal(tree) if tree.nodes else None
        best = None if node is None else node.id
    if best is None or not 0 <= best < len(tree.nodes):
        return []
    return [n.id for n in tree.path(best)]


def visible_nodes(tree: Tree, upto: int | None = None) -> list[Node]:
    """The nodes created before ``upto`` (all when None): the tree as it stood at that point of the search."""
    if upto is None or upto >= len(tree.nodes):
        return list(tree.nodes)
    return [n for n in tree.nodes if n.created < upto]


def tree_figure(tree: Tree, *, upto: int | None = None, selected: int | None = None, best: int | None = None,
                height: int | None = None, title: str | None = None) -> go.Figure:
    """The interactive figure of ``tree`` (see the module doc). ``best``: the answer's node id (default: computed)."""
    nodes = visible_nodes(tree, upto)
    index = {n.id: i for i, n in enumerate(nodes)}
    parents = [index.get(n.parent) if n.parent is not None else None for n in nodes]
    x_list, depth_list = tidy_layout(parents)
    xs, ys = np.asarray(x_list, dtype=float), -np.asarray(depth_list, dtype=float)
    visits = np.array([n.visits for n in nodes], dtype=float)
    sizes = 7 + 18 * np.sqrt(visits / max(visits.max(initial=0.0), 1.0))

    traces: list[dict] = [_edges(nodes, parents, xs, ys)]
    path = [index[i] for i in best_path(tree, best) if i in index]
    if len(path) > 1:
        traces.append(dict(type="scatter", x=xs[path], y=ys[path], mode="lines", name="best path",
                           line=dict(color=BEST_PATH_COLOR, width=5), hoverinfo="skip"))
    # one trace per (kind, symbol): a scalar symbol per trace keeps validation O(1) per trace, not per point
    groups: dict[tuple[str, int], list[int]] = {}
    for i, n in enumerate(nodes):
        symbol = DEAD_SYMBOL if n.dead else ACTION_SYMBOLS.get(n.action, 0)
        groups.setdefault((node_outcome(n) or "step", symbol), []).append(i)
    colorbar = True
    for action in (None, 1, 2, 3):  # steps by action, coloured by value; one colour bar
        members = groups.pop(("step", ACTION_SYMBOLS[action]), None)
        if members:
            traces.append(_markers(nodes, members, xs, ys, sizes, ACTION_SYMBOLS[action],
                                   name=f"{ACTION_NAMES[action]} (colour: Q/N)", marker=dict(
                color=np.array([nodes[i].value for i in members]), colorscale=VALUE_COLORSCALE, cmin=0.0, cmax=1.0,
                showscale=colorbar, colorbar=dict(title=dict(text="Q/N"), thickness=12, len=0.6, x=1.0, y=0.5),
                line=dict(width=0.5, color="#333"))))
            colorbar = False
    known = {o: i for i, o in enumerate(OUTCOME_COLORS)}
    named: set[str] = set()
    for (outcome, symbol), members in sorted(groups.items(), key=lambda g: (known.get(g[0][0], 99), g[0])):
        traces.append(_markers(nodes, members, xs, ys, sizes, symbol, name=outcome, showlegend=outcome not in named,
                               marker=dict(color=OUTCOME_COLORS.get(outcome, "#444"),
                                           line=dict(width=0.5, color="#333"))))
        named.add(outcome)
    if selected is not None and selected in index:
        i = index[selected]
        traces.append(dict(type="scatter", x=xs[[i]], y=ys[[i]], mode="markers", name="selected", hoverinfo="skip",
                           marker=dict(symbol="circle-open", size=float(sizes[i]) + 14, color="#e4002b",
                                       line=dict(width=3, color="#e4002b"))))
    n_depths = int(max(depth_list, default=0)) + 1
    layout = dict(
        title=dict(text=title) if title else None, height=height or max(360, min(900, 140 + 90 * n_depths)),
        margin=dict(l=10, r=10, t=40, b=10), showlegend=True, dragmode="pan", hovermode="closest",
        legend=dict(orientation="h", y=1.02, x=0, yanchor="bottom"), plot_bgcolor="rgba(0,0,0,0)",
        uirevision=tree.problem_id, clickmode="event+select", xaxis=dict(visible=False),
        yaxis=dict(tickmode="array", tickvals=[-d for d in range(n_depths)],
                   ticktext=[f"depth {d}" for d in range(n_depths)], zeroline=False, showgrid=False),
    )
    return go.Figure(data=traces, layout={k: v for k, v in layout.items() if v is not None})


def clicked_node(point: dict) -> int | None:
    """The node id of a clicked or selected point (a Streamlit ``on_select`` point, a plotly click event's point);
    None for points that are not nodes (edges, the best-path line, the selection ring)."""
    custom = point.get("customdata")
    if isinstance(custom, dict):  # a row of a typed array, as some plotly.js versions report it
        custom = next(iter(custom.values()), None)
    if isinstance(custom, (list, tuple)):
        custom = custom[0] if custom else None
    if isinstance(custom, (int, float)) and not isinstance(custom, bool):
        return int(custom)
    match = re.match(r"#(\d+) ", str(point.get("hovertext") or ""))
    return int(match.group(1)) if match else None


def figure_node_ids(figure: go.Figure | dict | str) -> list[int]:
    """The node ids a tree figure shows (its markers' customdata), from a figure, its dict or its JSON.

    Plotly writes numpy arrays as ``{"dtype", "bdata" (base64), "shape"}`` in JSON; both forms are read.
    """
    if isinstance(figure, str):
        figure = json.loads(figure)
    data = figure["data"] if isinstance(figure, dict) else figure.to_dict()["data"]
    ids: list[int] = []
    for trace in data:
        custom = trace.get("customdata")
        if custom is None:
            continue
        if isinstance(custom, dict) and "bdata" in custom:
            custom = np.frombuffer(base64.b64decode(custom["bdata"]), dtype=np.dtype(custom["dtype"]))
        ids.extend(int(v) for v in np.asarray(custom).reshape(-1))
    return ids


def _edges(nodes: list[Node], parents: list[int | None], xs: np.ndarray, ys: np.ndarray) -> dict:
    """One line trace for every edge: parent, child, gap (NaN), ... (numpy arrays travel to the browser as binary)."""
    child = np.array([i for i, p in enumerate(parents) if p is not None], dtype=np.int64)
    parent = np.array([parents[i] for i in child], dtype=np.int64)
    ex = np.full(3 * len(child), np.nan)
    ey = np.full(3 * len(child), np.nan)
    ex[0::3], ex[1::3] = xs[parent], xs[child]
    ey[0::3], ey[1::3] = ys[parent], ys[child]
    return dict(type="scatter", x=ex, y=ey, mode="lines", line=dict(color="#b0b0b0", width=1), hoverinfo="skip",
                name="edges", showlegend=False)


def _markers(nodes, members, xs, ys, sizes, symbol: int, *, name: str, marker: dict, showlegend: bool = True) -> dict:
    members = np.asarray(members, dtype=np.int64)
    return dict(
        type="scatter", x=xs[members], y=ys[members], mode="markers", name=name, legendgroup=name,
        showlegend=showlegend,
        marker=dict(symbol=symbol, size=sizes[members], opacity=1.0, **marker),
        customdata=np.array([nodes[i].id for i in members], dtype=np.int64),
        hovertext=np.array([_hover(nodes[i]) for i in members], dtype=object), hoverinfo="text",
        unselected=dict(marker=dict(opacity=1.0)),
    )


def _hover(n: Node) -> str:
    parts = [f"#{n.id} · {action_name(n)} · depth {n.depth}", headline(n, 60),
             f"Q/N {n.value:.3f} · N {n.visits}"]
    if n.reward is not None:
        outcome = node_outcome(n)
        tests = f" · {n.exec.get('n_passed')}/{n.exec.get('n_tests')} tests" if n.exec else ""
        parts.append(f"reward {n.reward:.3f} · {outcome}{tests}")
    if n.prm is not None:
        parts.append(f"PRM {n.prm:.3f}")
    return "<br>".join(_escape(p) for p in parts)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
