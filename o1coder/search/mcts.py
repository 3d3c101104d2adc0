"""Monte Carlo Tree Search over typed pseudocode steps (method step 3 of the paper).

One rollout:

1. **Selection.** From the root, descend through expanded nodes, choosing children by UCT (unvisited ones first) or
   PUCT, with the exploration weight c of this rollout's place in the schedule.
2. **Expansion and rollout.** At the first node that was never expanded, sample k next steps in one batched call
   and add them all as children (duplicates merged, unparseable ones dead, code ones executed together); move to
   the child selection prefers and repeat, one step at a time, until a code step, a dead step or the depth limit.
   Every node a rollout creates stays in the tree, so each rollout adds up to k nodes per level to the data.
3. **Reward.** The leaf's reward: ``alpha * compiles + (1 - alpha) * pass_rate`` on the reward tests for code, 0
   for a dead step or a path that reached the depth limit without code.
4. **Backpropagation.** The reward is added to every node on the path; a node's value is Q/N.

Since every non-terminal node the search stands on has been expanded with all k samples, a node is either
unexpanded (a leaf) or has its full set of children; there is no half-expanded state to reason about.
"""

from __future__ import annotations

from o1coder.search.context import SearchContext
from o1coder.search.expansion import expand
from o1coder.search.selection import Candidate, exploration_weight, select
from o1coder.search.tree import Node


def run_mcts(ctx: SearchContext) -> None:
    """Run rollouts until the rollout budget, a token or execution cap, or enough passing terminals."""
    config, root = ctx.config, ctx.tree.root
    for rollout in range(config.rollouts):
        if ctx.budget_exhausted():
            return
        c = exploration_weight(config.exploration_weight, config.exploration_schedule, rollout, config.rollouts,
                               config.exploration_final_ratio)
        path = [root]
        node = root
        while node.expanded and not ctx.ended(node):  # selection
            node = choose_child(ctx, node, c)
            path.append(node)
        while not ctx.ended(node):  # expansion, then rollout one step at a time
            expand(ctx, node)
            node = choose_child(ctx, node, c)
            path.append(node)
        reward = node.reward if node.reward is not None else 0.0
        ctx.backpropagate(path, reward)
        ctx.finish_rollout(node, reward, exploration_weight=c, path=[n.id for n in path])
        if ctx.enough_passing():
            return
    ctx.stop_reason = "rollouts"


def choose_child(ctx: SearchContext, node: Node, c: float) -> Node:
    """The child selection descends to; the score terms are stored on the children for viewers."""
    children = [ctx.tree.nodes[i] for i in node.children]
    candidates = [Candidate(ch.visits, ch.value_sum, ch.prior, ch.dead, ch.created) for ch in children]
    index, terms = select(candidates, node.visits, c, ctx.config.selection)
    for child, child_terms in zip(children, terms):
        if child_terms is not None:
            child.uct = {**child_terms, "c": c}
            ctx.updated(child)
    return children[index]
