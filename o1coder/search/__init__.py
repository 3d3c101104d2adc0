"""Search over typed pseudocode steps: MCTS, best-of-N and beam baselines, trees and the datasets built from them."""

from o1coder.search.tree import SCHEMA_VERSION, Node, Tree

__all__ = ["Node", "Tree", "SCHEMA_VERSION"]
