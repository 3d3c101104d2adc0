"""The baselines MCTS is measured against, on the same generator, sandbox and budget accounting.

- **Best-of-N**: N complete answers (a whole pseudocode trace, or a vanilla think-then-code answer) sampled in one
  batched call; the answer is the one with the best reward on the reward tests. It asks "is the tree worth it, or
  would the same tokens spent on independent samples do as well?".
- **Step-level beam search**: keep ``beam_width`` partial traces; expand each by k next steps (all beams in one
  batched call); completed code is scored by its reward and leaves the beam; partial traces are ranked by a
  rollout-free value: the PRM score of the newest step when a ``prior_fn`` is given, else the mean token
  log-probability of the trace. It asks "does search need rollouts, or is a step-wise value enough?".

Both put what they sample into the same tree as MCTS (so the exports and the app work unchanged) and backpropagate
each completed path's reward, so node values mean the same thing.
"""

from __future__ import annotations

import dataclasses

from o1coder.search.context import SearchContext
from o1coder.search.expansion import add_answer, add_step_children, answer_prompt
from o1coder.search.seeding import derive_seed
from o1coder.search.tree import Node


def run_best_of_n(ctx: SearchContext) -> None:
    """N answers in one call; in batches of k when a token or execution cap is set or when the search stops at its
    first passing answers (``stop_after_passing``), checked between batches: best-of-N then stops early as MCTS does,
    so that at equal tokens neither spends less on easy problems than the other could."""
    config = ctx.config
    total = config.n_samples or config.rollouts
    stepwise = (config.max_generated_tokens is not None or config.max_executions is not None
                or config.stop_after_passing is not None)
    batch = config.k if stepwise else total
    prompt, stop = answer_prompt(ctx)
    step_tokens = config.max_step_tokens or ctx.sampling.max_new_tokens
    done = 0
    while done < total:
        if ctx.budget_exhausted():
            return
        size = min(batch, total - done)
        params = dataclasses.replace(
            ctx.step_params(derive_seed(config.seed, ctx.problem.id, "best_of_n", done)),
            stop=tuple(dict.fromkeys(stop + ctx.sampling.stop)),
            max_new_tokens=config.max_answer_tokens or step_tokens * config.max_depth)
        [completions] = ctx.generate([prompt], params, n=size)
        paths = [add_answer(ctx, completion) for completion in completions]
        leaves = {path[-1].id: path[-1] for path in paths}
        ctx.evaluate([n for n in leaves.values() if n.action == 3 and not n.dead and n.exec is None])
        for path in paths:
            leaf = path[-1]
            reward = leaf.reward if leaf.reward is not None else 0.0  # an answer that stopped before its code: 0
            ctx.backpropagate(path, reward)
            ctx.finish_rollout(leaf, reward)
        done += size
        if ctx.enough_passing():
            return
    ctx.stop_reason = "rollouts"


def run_beam(ctx: SearchContext) -> None:
    """Beam search over steps until no partial trace is left or the depth limit."""
    config = ctx.config
    beams = [ctx.tree.root]
    for depth in range(config.max_depth):
        if ctx.budget_exhausted():
            return
        seed = derive_seed(config.seed, ctx.problem.id, "beam", depth)
        results = ctx.generate([ctx.step_prompt(b) for b in beams], ctx.step_params(seed), n=config.k)
        candidates: list[Node] = []
        for beam, completions in zip(beams, results):
            candidates.extend(add_step_children(ctx, beam, completions))
            beam.expanded = True
            ctx.updated(beam)
        for leaf in (n for n in candidates if ctx.ended(n)):  # finished paths leave the beam
            ctx.backpropagate(ctx.tree.path(leaf.id), leaf.reward or 0.0)
            ctx.finish_rollout(leaf, leaf.reward or 0.0, depth=depth)
        live = [n for n in candidates if not ctx.ended(n)]
        values = dict(zip((n.id for n in live), beam_values(ctx, live)))
        beams = sorted(live, key=lambda n: (-values[n.id], n.created))[: config.beam_width]
        if ctx.enough_passing():
            return
        if not beams:
            ctx.stop_reason = "finished"  # every path ended (code, dead or depth limit)
            return
    ctx.stop_reason = "depth"


def beam_values(ctx: SearchContext, nodes: list[Node]) -> list[float]:
    """Partial traces' values without a rollout: the PRM score of each newest step (all of them in one batched
    call), else each trace's mean token log-probability (the policy's own confidence, length-normalised so longer
    traces are not penalised)."""
    if ctx.prior_fn is not None:
        scores = ctx.score_newest_steps([ctx.path_steps(n) for n in nodes])
        for node, score in zip(nodes, scores):
            node.prm = score
            ctx.updated(node)
        return scores
    values = []
    for node in nodes:
        path = ctx.tree.path(node.id)[1:]
        tokens = sum(n.tokens or 0 for n in path)
        logprob = sum(n.logprob or 0.0 for n in path)
        values.append(logprob / tokens if tokens else 0.0)
    return values
