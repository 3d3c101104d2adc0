"""Which child a search descends to: UCT and PUCT scores, decay schedules for c, and priors. Pure functions.

UCT (``Q/N + c * sqrt(ln N_parent / N)``) is what the paper's reference search uses, with c = 2.0. A child that was
never visited has no Q/N, so UCT tries every child once first (in creation order). PUCT
(``Q/N + c * P * sqrt(N_parent) / (1 + N)``) replaces the try-each-once rule by a prior P over siblings, so a good
prior lets the search skip unpromising steps entirely.

Only children a rollout can still learn from are candidates: a dead step (its reward 0 is known when it is created)
and a *settled* child (a terminal already visited once, or an exhausted subtree) are never selected, because
visiting a known outcome again spends a rollout and drags its parents' Q/N towards that outcome without adding
information. :func:`selectable` says which children remain.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    """What selection needs to know about one child."""

    visits: int
    value_sum: float
    prior: float | None = None
    dead: bool = False
    created: int = 0
    settled: bool = False  # its outcome is known: a visited terminal or an exhausted subtree


def selectable(children: Sequence[Candidate]) -> list[int]:
    """Indices of the children a rollout may descend to: neither dead nor settled."""
    return [i for i, ch in enumerate(children) if not ch.dead and not ch.settled]


def exploration_weight(c: float, schedule: str, rollout: int, rollouts: int, final_ratio: float = 0.1) -> float:
    """c at ``rollout`` (0-based) of ``rollouts``: constant, or decaying from c to ``c * final_ratio``.

    Decay shifts the search from exploring siblings early to deepening the best path late.
    """
    progress = min(max(rollout / max(rollouts, 1), 0.0), 1.0)
    if schedule == "constant":
        return c
    if schedule == "exponential":
        return c * final_ratio**progress
    if schedule == "linear":
        return c * (1.0 - (1.0 - final_ratio) * progress)
    raise ValueError(f"unknown exploration schedule {schedule!r}; expected 'constant', 'exponential' or 'linear'")


def uct_terms(value_sum: float, visits: int, parent_visits: int, c: float) -> dict[str, float]:
    """``{"q", "explore", "score"}`` for a visited child (visits >= 1)."""
    if visits < 1:
        raise ValueError(f"UCT needs a visited child (visits >= 1); got visits={visits}")
    q = value_sum / visits
    explore = c * math.sqrt(math.log(max(parent_visits, 1)) / visits)
    return {"q": q, "explore": explore, "score": q + explore}


def puct_terms(value_sum: float, visits: int, parent_visits: int, prior: float, c: float) -> dict[str, float]:
    """``{"q", "explore", "score", "prior"}``; an unvisited child has q = 0. N_parent counts as at least 1, so the
    prior already decides the first descent from a fresh node."""
    q = value_sum / visits if visits else 0.0
    explore = c * prior * math.sqrt(max(parent_visits, 1)) / (1 + visits)
    return {"q": q, "explore": explore, "score": q + explore, "prior": prior}


def select(children: Sequence[Candidate], parent_visits: int, c: float, rule: str = "uct"
           ) -> tuple[int, list[dict[str, float] | None]]:
    """The index of the child to descend to, and each child's score terms (None where none was computed: dead
    and settled children are never scored, see :func:`selectable`).

    Ties go to the child created first, so the choice is deterministic.
    """
    open_ = selectable(children)
    if not open_:
        raise ValueError("no child left to select (all dead or settled): re-expand the node or mark it exhausted")
    terms: list[dict[str, float] | None] = [None] * len(children)
    if rule == "uct":
        unvisited = [i for i in open_ if children[i].visits == 0]
        if unvisited:
            return min(unvisited, key=lambda i: children[i].created), terms
        for i in open_:
            terms[i] = uct_terms(children[i].value_sum, children[i].visits, parent_visits, c)
    elif rule == "puct":
        uniform = 1.0 / len(children)
        for i in open_:
            ch = children[i]
            terms[i] = puct_terms(ch.value_sum, ch.visits, parent_visits, uniform if ch.prior is None else ch.prior, c)
    else:
        raise ValueError(f"unknown selection rule {rule!r}; expected 'uct' or 'puct'")
    best = max(open_, key=lambda i: (terms[i]["score"], -children[i].created))
    return best, terms


def softmax(scores: Sequence[float]) -> list[float]:
    """Numerically stable softmax."""
    if not scores:
        return []
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def logprob_prior(mean_logprobs: Sequence[float | None], dead: Sequence[bool]) -> list[float]:
    """PUCT prior from the policy: softmax over siblings of each step's mean token log-probability.

    The mean (not the sum) because a step's total log-probability falls with its length, which would make the
    prior pick the shortest step almost surely. Dead steps get 0; without log-probabilities the prior is uniform.
    """
    live = [i for i, d in enumerate(dead) if not d and mean_logprobs[i] is not None]
    prior = [0.0] * len(dead)
    if not live:
        return [1.0 / len(dead)] * len(dead) if dead else []
    for i, p in zip(live, softmax([mean_logprobs[i] for i in live])):
        prior[i] = p
    return prior


def score_prior(scores: Sequence[float | None]) -> list[float]:
    """PUCT prior from per-step scores in [0, 1] (a PRM): scores normalised over siblings (None counts as 0)."""
    clipped = [min(max(s, 0.0), 1.0) if s is not None else 0.0 for s in scores]
    total = sum(clipped)
    if total <= 0:
        return [1.0 / len(scores)] * len(scores) if scores else []
    return [s / total for s in clipped]
