"""Which child a search descends to: UCT and PUCT scores, decay schedules for c, and priors. Pure functions.

UCT (``Q/N + c * sqrt(ln N_parent / N)``) is what the paper's reference search uses, with c = 2.0. A child that was
never visited has no Q/N, so UCT tries every child once first (live children before dead ones, then in creation
order: a dead step's reward 0 is already known). PUCT (``Q/N + c * P * sqrt(N_parent) / (1 + N)``) replaces the
try-each-once rule by a prior P over siblings, so a good prior lets the search skip unpromising steps entirely.
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
    """The index of the child to descend to, and each child's score terms (None where none was computed).

    Ties go to the child created first, so the choice is deterministic.
    """
    if not children:
        raise ValueError("cannot select among zero children")
    if rule == "uct":
        unvisited = [i for i, ch in enumerate(children) if ch.visits == 0]
        if unvisited:
            return min(unvisited, key=lambda i: (children[i].dead, children[i].created)), [None] * len(children)
        terms = [uct_terms(ch.value_sum, ch.visits, parent_visits, c) for ch in children]
    elif rule == "puct":
        uniform = 1.0 / len(children)
        terms = [puct_terms(ch.value_sum, ch.visits, parent_visits, uniform if ch.prior is None else ch.prior, c)
                 for ch in children]
    else:
        raise ValueError(f"unknown selection rule {rule!r}; expected 'uct' or 'puct'")
    best = max(range(len(children)), key=lambda i: (terms[i]["score"], -children[i].created))
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
