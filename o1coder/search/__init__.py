"""Search over typed pseudocode steps: MCTS, best-of-N and beam baselines, trees and the datasets built from them.

    from o1coder.search import search, SearchConfig, SearchResult
    result = search(problem, generator, sandbox, SearchConfig.from_dict(recipe["search"]), observer, sampling)

The search depends only on the Generator protocol, the sandbox and the reasoning format; datasets (``datasets``
module, needs the ``train`` extra) are built from finished trees.
"""

from o1coder.search.api import SearchResult, best_terminal, search, search_many
from o1coder.search.config import SearchConfig, search_concurrency, search_config
from o1coder.search.observer import NullObserver, SearchObserver
from o1coder.search.reward import TestSplit, split_tests, terminal_reward
from o1coder.search.tree import SCHEMA_VERSION, Node, Tree

__all__ = [
    "Node", "Tree", "SCHEMA_VERSION",
    "search", "search_many", "SearchConfig", "SearchResult", "search_config", "search_concurrency", "best_terminal",
    "SearchObserver", "NullObserver",
    "TestSplit", "split_tests", "terminal_reward",
]
