"""The reward aggregation of O1-CODER's RL step: outcome R and process rewards r_j combined by ``phi``.

    phi(R, r; alpha(t), gamma) = alpha(t) * R + (1 - alpha(t)) * (1/m) * sum_{j=1..m} gamma^j * r_j

``R`` is the outcome of the final code on the chosen tests (the search's terminal reward formula), ``r_1..r_m`` are
the PRM's scores of the m steps, in order, ``gamma`` discounts later steps (j counts the steps from 1, as r_1..r_m
are numbered, so even the first step is discounted once), and ``alpha(t)`` is the weight of the outcome in round t. The
paper says alpha(t) changes with the round, e.g. linearly or logarithmically, and gives no numbers: the schedules
below move alpha from ``start`` (round 0) to ``end`` (round ``rounds``) and stay at ``end`` after that.

Without process rewards (no PRM yet: ``r = []``) the mean over steps is undefined; ``phi`` is then R itself, not
alpha * R, so a round without a PRM ranks answers exactly by their outcome and rewards keep the [0, 1] range.

Everything here is pure (no I/O, no model) so it is tested against hand-computed values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

SCHEDULES = ("constant", "linear", "log")


def alpha_at(t: int, *, schedule: str = "linear", start: float = 0.9, end: float = 0.5, rounds: int = 4) -> float:
    """alpha(t) for round ``t`` (0-based) of a schedule ``rounds`` rounds long: the outcome's weight in :func:`phi`.

    - "constant": ``start`` in every round.
    - "linear": ``start + (end - start) * t / (rounds - 1)``.
    - "log": ``start + (end - start) * ln(1 + t) / ln(rounds)``: moves quickly in the first rounds, then slowly
      (the same endpoints as "linear").

    Round 0 has ``start`` and the last round (``t = rounds - 1``) has ``end``, so a loop of R rounds with
    ``rounds = R`` uses the whole schedule; rounds past it keep ``end``. A one-round schedule has nothing to move
    over and keeps ``start``. ``start`` and ``end`` are in [0, 1]; ``end`` may exceed ``start`` (a
    schedule that shifts weight towards the outcome instead).
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"alpha schedule must be one of {', '.join(map(repr, SCHEDULES))}; got {schedule!r}")
    if isinstance(t, bool) or not isinstance(t, int) or t < 0:
        raise ValueError(f"round t must be an integer >= 0; got {t!r}")
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"alpha rounds (the schedule's length) must be an integer >= 1; got {rounds!r}")
    for name, value in (("start", start), ("end", end)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"alpha {name} must be in [0, 1]; got {value!r}")
    if schedule == "constant":
        return float(start)
    if rounds == 1:
        return float(start)
    last = rounds - 1
    t = min(t, last)
    progress = t / last if schedule == "linear" else math.log1p(t) / math.log1p(last)
    return float(start + (end - start) * progress)


def discounted_process_reward(r: Sequence[float], gamma: float = 1.0) -> float | None:
    """``(1/m) * sum_{j=1..m} gamma^j * r_j``; None without steps (m = 0)."""
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1]; got {gamma!r}")
    scores = [float(x) for x in r]
    if not scores:
        return None
    return sum(gamma ** j * score for j, score in enumerate(scores, start=1)) / len(scores)


def phi(R: float, r: Sequence[float] = (), alpha: float = 1.0, gamma: float = 1.0) -> float:
    """``alpha * R + (1 - alpha) * (1/m) * sum_j gamma^j * r_j``; ``R`` alone when ``r`` is empty."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1]; got {alpha!r}")
    if math.isnan(R):
        raise ValueError("the outcome reward R is NaN")
    process = discounted_process_reward(r, gamma)
    if process is None:
        return float(R)
    return float(alpha * R + (1.0 - alpha) * process)
