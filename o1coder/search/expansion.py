"""Growing the tree: sampled text in, nodes out (parsed, merged, dead or rewarded), shared by every algorithm.

A completion becomes a node whose text is the canonical rendering of the step it parses to, so two samples that
say the same thing in slightly different spacing become one node (the later one counts as a duplicate), and every
stored step ends with the end marker a PRM reads its score at. A completion that does not parse is kept as a dead
child with reward 0: the data should show the policy's failures, not hide them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from o1coder.models.base import Completion
from o1coder.reasoning import (
    TRACE_STOP_STRINGS,
    VANILLA_STOP_STRINGS,
    Action,
    Step,
    parse,
    parse_steps,
    pseudocode_input,
    render,
    vanilla_input,
)
from o1coder.search.context import SearchContext
from o1coder.search.seeding import derive_seed
from o1coder.search.selection import logprob_prior, score_prior
from o1coder.search.tree import Node


@dataclass(frozen=True)
class Candidate:
    """One sampled step, read. It is dead when ``errors`` says why it is unusable; ``step`` is the parsed step
    (None for dead ones and for vanilla answers, which are not in the step format)."""

    text: str
    step: Step | None
    action: int | None
    errors: tuple[str, ...] = ()

    @property
    def dead(self) -> bool:
        return bool(self.errors)


def read_step(completion: Completion, truncated_dead: bool = True) -> Candidate:
    """Parse one sampled step; a step cut off by the token limit is dead when ``truncated_dead``."""
    result = parse(completion.text)
    action = int(result.action) if result.action is not None else None
    if result.ok and truncated_dead and completion.finish_reason == "length":
        return Candidate(completion.text, None, int(result.step.action),
                         (f"the step was cut off at the token limit ({completion.completion_tokens} tokens) "
                          "before its end marker",))
    if result.ok:
        return Candidate(render(result.step), result.step, int(result.step.action))
    return Candidate(completion.text, None, action, tuple(result.errors) or ("the step could not be parsed",))


def add_child(ctx: SearchContext, parent: Node, candidate: Candidate, **extra) -> Node:
    """The child of ``parent`` for ``candidate``: an existing child with the same text (merged), or a new one.
    A new leaf that ends a path without code gets reward 0 right away."""
    for child_id in parent.children:
        child = ctx.tree.nodes[child_id]
        if child.text == candidate.text and child.dead == candidate.dead:
            child.duplicates += 1
            ctx.updated(child)
            return child
    if candidate.dead:
        extra.update(dead=True, errors=list(candidate.errors), reward=0.0)
    elif candidate.action != Action.CODE and parent.depth + 1 >= ctx.config.max_depth:
        extra.update(reward=0.0)  # out of depth without an answer
    return ctx.add_node(parent, candidate.action, candidate.text, candidate.step, **extra)


def add_step_children(ctx: SearchContext, parent: Node, completions: Sequence[Completion]) -> list[Node]:
    """One child per distinct sampled step (duplicates merged); new code children are executed together."""
    children: list[Node] = []
    for completion in completions:
        candidate = read_step(completion, ctx.config.truncated_steps_dead)
        node = add_child(ctx, parent, candidate, logprob=completion.logprob, tokens=completion.completion_tokens)
        if all(node.id != c.id for c in children):
            children.append(node)
    ctx.evaluate([n for n in children if n.action == Action.CODE and not n.dead and n.exec is None])
    return children


def expand(ctx: SearchContext, node: Node) -> list[Node]:
    """Sample k next steps from ``node`` in one batched generator call and add them as children.

    A re-expansion (the node's children were all dead or settled) draws with a new seed, so it can find steps the
    first samples missed; samples equal to existing children merge into them."""
    parts = ("expand", node.id) if node.expansions == 0 else ("expand", node.id, node.expansions)
    seed = derive_seed(ctx.config.seed, ctx.problem.id, *parts)
    [completions] = ctx.generate([ctx.step_prompt(node)], ctx.step_params(seed), n=ctx.config.k)
    children = add_step_children(ctx, node, completions)
    node.expanded = True
    node.expansions += 1
    if ctx.config.selection == "puct":
        set_priors(ctx, node)
    ctx.updated(node)
    return children


def set_priors(ctx: SearchContext, parent: Node) -> None:
    """PUCT priors over all children of ``parent``, from the policy's log-probabilities or the PRM.

    With the PRM, the live children not scored yet are scored in one batched call (``score_many``); children kept
    from an earlier expansion keep their score."""
    children = [ctx.tree.nodes[i] for i in parent.children]
    if ctx.config.prior == "prm":
        unscored = [c for c in children if not c.dead and c.prm is None]
        for child, score in zip(unscored, ctx.score_newest_steps([ctx.path_steps(c) for c in unscored])):
            child.prm = score
        priors = score_prior([None if c.dead else c.prm for c in children])
    else:
        means = [c.logprob / c.tokens if c.logprob is not None and c.tokens else None for c in children]
        priors = logprob_prior(means, [c.dead for c in children])
    for child, prior in zip(children, priors):
        child.prior = prior
        ctx.updated(child)


# ------------------------------------------------------------------------------------------------ whole answers


def answer_prompt(ctx: SearchContext):
    """best_of_n: the prompt for a complete answer (raw or chat: ``search.chat``) and its stop strings."""
    chat = ctx.config.chat
    if ctx.config.best_of_n_prompt == "vanilla":
        return vanilla_input(ctx.problem, examples=ctx.examples, chat=chat), VANILLA_STOP_STRINGS
    return pseudocode_input(ctx.problem, examples=ctx.examples, chat=chat), TRACE_STOP_STRINGS


def add_answer(ctx: SearchContext, completion: Completion) -> list[Node]:
    """Add one complete answer under the root and return its path (root first).

    Vanilla answers are one code node holding the raw text (with the answer's tokens and log-probability).
    Pseudocode answers become a chain of step nodes that shares prefixes with earlier answers; it ends at the first
    code step, a step that does not parse (dead), the depth limit, or where the text ends.
    """
    root = ctx.tree.root
    if ctx.config.best_of_n_prompt == "vanilla":
        extra = {"logprob": completion.logprob, "tokens": completion.completion_tokens}
        text = completion.text.strip()
        errors: tuple[str, ...] = ()
        if ctx.program_of(text) is None:
            errors = ("no Python code found in the answer",)
        elif ctx.config.truncated_steps_dead and completion.finish_reason == "length":
            errors = (f"the answer was cut off at the token limit ({completion.completion_tokens} tokens)",)
        node = add_child(ctx, root, Candidate(text, None, int(Action.CODE), errors), **extra)
        return [root, node]
    results = parse_steps(completion.text) or [parse(completion.text)]
    path = [root]
    for i, result in enumerate(results):
        last = i == len(results) - 1
        if result.ok and last and ctx.config.truncated_steps_dead and completion.finish_reason == "length":
            candidate = Candidate(result.raw, None, int(result.step.action), ("the answer was cut off at the token "
                                                                             "limit inside this step",))
        elif result.ok:
            candidate = Candidate(render(result.step), result.step, int(result.step.action))
        else:
            action = int(result.action) if result.action is not None else None
            candidate = Candidate(result.raw, None, action, tuple(result.errors) or ("the step could not be parsed",))
        node = add_child(ctx, path[-1], candidate)  # per-step token counts are unknown inside one answer
        path.append(node)
        if ctx.ended(node):
            break
    return path

