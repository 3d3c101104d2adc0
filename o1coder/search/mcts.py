"""Monte Carlo Tree Search over typed pseudocode steps (method step 3 of the paper).

One rollout:

1. **Selection.** From the root, descend through expanded nodes, choosing children by UCT (unvisited ones first) or
   PUCT, with the exploration weight c of this rollout's place in the schedule. Only children a rollout can still
   learn from are candidates: never a dead step, a terminal already visited once, or an exhausted node.
2. **Expansion and rollout.** At the first node that was never expanded, sample k next steps in one batched call
   and add them all as children (duplicates merged, unparseable ones dead, code ones executed together); move to
   the child selection prefers and repeat, one step at a time, until a code step or the depth limit.
   Every node a rollout creates stays in the tree, so each rollout adds up to k nodes per level to the data.
3. **Reward.** The leaf's reward: ``alpha * compiles + (1 - alpha) * pass_rate`` on the reward tests for code, 0
   for a path that reached the depth limit without code. Code is executed once, when its node is created; the
   rollout that first visits it reuses that reward.
4. **Backpropagation.** The reward is added to every node on the path; a node's value is Q/N.

A node where selection finds no candidate (all children dead or settled) has nothing more to teach as it stands:
it is re-expanded with a fresh seed up to ``max_reexpansions`` times, then marked exhausted and the descent starts
again from the root (no reward is backpropagated: nothing new was learned). An exhausted root ends the search with
``stop_reason = "exhausted"``. So each backpropagated reward is a new outcome, and a known one (a dead step's 0, a
scored program) never pulls its ancestors' Q/N towards itself a second time.

Since every non-terminal node the search stands on has been expanded with all k samples, a node is either
unexpanded (a leaf) or has its full set of children; there is no half-expanded state to reason about.
"""

from __future__ import annotations

import logging

from o1coder.search.context import SearchContext
from o1coder.search.expansion import expand
from o1coder.search.selection import Candidate, exploration_weight, select, selectable
from o1coder.search.tree import Node

logger = logging.getLogger(__name__)


def run_mcts(ctx: SearchContext) -> None:
    """Run rollouts until the rollout budget, a token or execution cap, enough passing terminals, or nothing left
    to learn (an exhausted root)."""
    config = ctx.config
    for rollout in range(config.rollouts):
        if ctx.budget_exhausted():
            return
        c = exploration_weight(config.exploration_weight, config.exploration_schedule, rollout, config.rollouts,
                               config.exploration_final_ratio)
        path = descend(ctx, c)
        if path is None:
            ctx.stop_reason = "exhausted"
            logger.info("%s: every path of the tree is settled after %d rollouts (root exhausted); stopping early",
                        ctx.problem.id, rollout)
            return
        node = path[-1]
        reward = node.reward if node.reward is not None else 0.0
        ctx.backpropagate(path, reward)
        ctx.finish_rollout(node, reward, exploration_weight=c, path=[n.id for n in path])
        if ctx.enough_passing():
            return
    ctx.stop_reason = "rollouts"


def descend(ctx: SearchContext, c: float) -> list[Node] | None:
    """Selection, expansion and rollout: the path (root first) to a leaf not visited before, or None when the
    root is exhausted. A node with no candidate child is re-expanded or marked exhausted, and the descent
    restarts from the root."""
    root = ctx.tree.root
    while True:
        path, node = [root], root
        while not ctx.ended(node):
            if not node.expanded:
                expand(ctx, node)
            child = choose_child(ctx, node, c)
            while child is None and node.expansions <= ctx.config.max_reexpansions:
                expand(ctx, node)
                child = choose_child(ctx, node, c)
            if child is None:
                mark_exhausted(ctx, node)
                break
            path.append(child)
            node = child
        else:
            return path
        if node is root:
            return None


def settled(ctx: SearchContext, node: Node) -> bool:
    """Whether visiting ``node`` again could teach nothing: an exhausted node, or a leaf visited once (its reward
    is known and would only be counted again)."""
    return node.exhausted or (ctx.ended(node) and node.visits > 0)


def mark_exhausted(ctx: SearchContext, node: Node) -> None:
    node.exhausted = True
    ctx.updated(node)
    logger.debug("%s: node %d exhausted after %d expansions", ctx.problem.id, node.id, node.expansions)


def choose_child(ctx: SearchContext, node: Node, c: float) -> Node | None:
    """The child selection descends to (None when every child is dead or settled); the score terms are stored on
    the children for viewers."""
    children = [ctx.tree.nodes[i] for i in node.children]
    candidates = [Candidate(ch.visits, ch.value_sum, ch.prior, ch.dead, ch.created, settled(ctx, ch))
                  for ch in children]
    if not selectable(candidates):
        return None
    index, terms = select(candidates, node.visits, c, ctx.config.selection)
    for child, child_terms in zip(children, terms):
        if child_terms is not None:
            child.uct = {**child_terms, "c": c}
            ctx.updated(child)
    return children[index]
