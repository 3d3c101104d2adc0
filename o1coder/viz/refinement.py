"""Pseudocode refinement along one path: each step parsed, what every refinement changed (difflib), and which
refinements led to passing code.

    steps = path_steps(tree, node_id)     # root excluded: structure, refine..., code
    for s in steps: s.step.title, s.diff, s.passing, s.terminals
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from o1coder.reasoning import Step, parse
from o1coder.search.tree import Node, Tree
from o1coder.viz.tree import action_name, node_outcome


@dataclass
class PathStep:
    """One step of a path, with what it changed and what grew from it."""

    node: Node
    step: Step | None  # None when the text could not be parsed (a dead step)
    errors: tuple[str, ...]
    diff: str | None  # unified diff of the pseudocode against the previous step's (None for the first outline)
    added: int  # pseudocode lines added / removed by this step
    removed: int
    passing: int  # terminals below this node (itself included) whose code passes all reward tests
    terminals: int  # executed code terminals below it

    @property
    def kind(self) -> str:
        return action_name(self.node)


def pseudocode_diff(before: str, after: str) -> tuple[str, int, int]:
    """(unified diff without file headers, lines added, lines removed)."""
    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=2))[2:]
    added = sum(1 for line in lines if line.startswith("+"))
    removed = sum(1 for line in lines if line.startswith("-"))
    return "\n".join(lines), added, removed


def passing_below(tree: Tree) -> dict[int, tuple[int, int]]:
    """node id -> (passing terminals, executed terminals) in its subtree, in one pass from the leaves up."""
    passing = [0] * len(tree.nodes)
    total = [0] * len(tree.nodes)
    for node in reversed(tree.nodes):  # ids grow with creation: every child comes after its parent
        if node.exec is not None:
            total[node.id] += 1
            passing[node.id] += int(bool(node.exec.get("all_passed", node_outcome(node) == "passed")))
        if node.parent is not None and node.parent < len(tree.nodes):
            passing[node.parent] += passing[node.id]
            total[node.parent] += total[node.id]
    return {i: (passing[i], total[i]) for i in range(len(tree.nodes))}


def path_steps(tree: Tree, node_id: int) -> list[PathStep]:
    """The steps from the root (excluded) to ``node_id``, each parsed and diffed against the previous pseudocode."""
    below = passing_below(tree)
    out: list[PathStep] = []
    previous = ""
    for node in tree.path(node_id)[1:]:
        result = parse(node.text)
        step = result.step
        diff, added, removed = None, 0, 0
        if step is not None and step.pseudocode:
            if previous:  # a refinement, or an outline written again further down
                diff, added, removed = pseudocode_diff(previous, step.pseudocode)
            previous = step.pseudocode
        passing, terminals = below.get(node.id, (0, 0))
        out.append(PathStep(node, step, tuple(result.errors), diff, added, removed, passing, terminals))
    return out


def terminal_choices(tree: Tree) -> list[Node]:
    """Code and leaf nodes worth following, best first (reward, then value), for a path picker."""
    leaves = [n for n in tree.nodes if n.reward is not None and not n.dead]
    return sorted(leaves, key=lambda n: (-(n.reward or 0.0), -n.value, n.created))
