"""Plotly figures of search trees, step rewards, pseudocode refinements and run metrics.

Shared by the Streamlit app (app/) and the notebooks; every function takes plain library objects (a
:class:`~o1coder.search.tree.Tree`, the DataFrames of :mod:`o1coder.runs`) and returns a figure or a frame, so a
notebook cell shows the same view as the app:

    from o1coder.runs import load_tree
    from o1coder.viz import tree_figure
    tree_figure(load_tree("latest", "bundled/add"))

Needs the ``app`` extra (plotly).
"""

from o1coder.viz.layout import tidy_layout
from o1coder.viz.tree import (
    ACTION_NAMES,
    OUTCOME_COLORS,
    action_name,
    best_path,
    clicked_node,
    figure_node_ids,
    headline,
    node_outcome,
    tree_figure,
)

__all__ = [
    "ACTION_NAMES", "OUTCOME_COLORS", "action_name", "best_path", "clicked_node", "figure_node_ids", "headline",
    "node_outcome", "tidy_layout", "tree_figure",
]
