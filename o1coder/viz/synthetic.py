"""Synthetic search trees of any size, shaped like MCTS trees, for benchmarks and for trying figures out.

    tree = synthetic_tree(2000, seed=0)

Growth mimics a search: pick a leaf that is not terminal (deeper and better-valued leaves more often), sample k
children (structure first, then refine or code steps, some dead), execute the code children (a random verdict),
backpropagate the reward. The texts are real rendered steps, so parsing and panels work on them too.
"""

from __future__ import annotations

import random

from o1coder.reasoning import Action, Step, render
from o1coder.search.tree import Tree

_STATUSES = ("passed", "failed", "failed", "compile_error", "runtime_error", "timeout")


def synthetic_tree(n_nodes: int, *, k: int = 3, max_depth: int = 8, alpha: float = 0.2, seed: int = 0,
                   problem_id: str = "synthetic/tree") -> Tree:
    """A tree with exactly ``n_nodes`` nodes (at least 1)."""
    rng = random.Random(seed)
    tree = Tree(problem_id=problem_id, config={"alpha": alpha, "k": k, "max_depth": max_depth, "synthetic": True})
    tree.add(None, None, "")
    frontier = [0]  # expandable nodes
    while len(tree.nodes) < n_nodes:
        if not frontier:  # every leaf is terminal: widen the root, as more rollouts would
            frontier.append(0)
        weights = [1.0 + tree.nodes[i].depth + 2.0 * tree.nodes[i].value for i in frontier]
        parent = frontier.pop(rng.choices(range(len(frontier)), weights)[0])
        for _ in range(min(k, n_nodes - len(tree.nodes))):
            depth = tree.nodes[parent].depth + 1
            action = 1 if depth == 1 else (3 if depth >= max_depth or rng.random() < 0.3 else 2)
            node = tree.add(parent, action, _step_text(rng, action, len(tree.nodes)), expanded=False)
            if rng.random() < 0.08:
                node.dead, node.errors, node.reward = True, ["no step header found"], 0.0
            elif action == 3:
                status = rng.choice(_STATUSES)
                n_tests = 3
                n_passed = 3 if status == "passed" else (rng.randrange(3) if status == "failed" else 0)
                compiled = status != "compile_error"
                pass_rate = n_passed / n_tests
                node.exec = {"status": status, "n_passed": n_passed, "n_tests": n_tests, "compiled": compiled,
                             "pass_rate": pass_rate, "all_passed": status == "passed",
                             "outcomes": [{"status": "passed" if t < n_passed else status, "message": ""}
                                          for t in range(n_tests)]}
                node.reward = alpha * compiled + (1 - alpha) * pass_rate
            else:
                frontier.append(node.id)
            reward = node.reward if node.reward is not None else rng.random() * 0.6
            for ancestor in tree.path(node.id):
                ancestor.visits += 1
                ancestor.value_sum += reward
        tree.nodes[parent].expanded = True
    for node in tree.nodes[1:]:
        parent_visits = tree.nodes[node.parent].visits
        explore = 2.0 * (max(parent_visits, 1) ** 0.5) / max(node.visits, 1)
        node.uct = {"q": node.value, "explore": explore, "score": node.value + explore, "c": 2.0}
    return tree


def _step_text(rng: random.Random, action: int, i: int) -> str:
    if action == 3:
        step = Step(Action.CODE, f"Write the code (variant {i})", "Translate the pseudocode.",
                    code=f"def solve(xs):\n    return sorted(xs)[{rng.randrange(-2, 2)}]\n")
    else:
        word = "Outline" if action == 1 else "Refine"
        step = Step(Action(action), f"{word} the algorithm (variant {i})", "One more level of detail.",
                    pseudocode=f"function solve(xs):\n    sort xs\n    return element {rng.randrange(5)}")
    return render(step)
