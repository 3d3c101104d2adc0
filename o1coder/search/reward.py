"""The outcome reward of a terminal step and which tests are allowed to produce it.

Leakage is the failure that matters here: a search that steers on the tests its answer is scored on reports a pass
rate it did not earn. :func:`split_tests` therefore decides, once per problem, which tests *reward* the search and
which stay *hidden* for scoring the final answer; the search only ever sees the reward set.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from o1coder.execution import ExecResult
from o1coder.problems import Problem, TestCase
from o1coder.search.seeding import derive_seed

RewardTestsFn = Callable[[Problem], Sequence[TestCase]]

MAX_MESSAGE_CHARS = 200  # per-test messages kept on a node: enough to read, small enough to store every node
MAX_OUTCOMES = 20


def terminal_reward(result: ExecResult, alpha: float) -> float:
    """``alpha * compiles + (1 - alpha) * pass_rate``: compiling earns a little, passing tests earns the rest."""
    return alpha * float(result.compiled) + (1.0 - alpha) * result.pass_rate


def exec_summary(result: ExecResult) -> dict:
    """What a node keeps of a verdict, so viewers never re-run code. Timings and cache flags are left out: they
    differ between identical runs and would make seeded trees unequal."""
    outcomes = [{"status": o.status, "message": _short(o.message)} for o in result.outcomes[:MAX_OUTCOMES]]
    summary = {**result.summary(), "compiled": result.compiled, "pass_rate": result.pass_rate,
               "all_passed": result.all_passed, "outcomes": outcomes}
    if result.message:
        summary["message"] = _short(result.message)
    if len(result.outcomes) > MAX_OUTCOMES:
        summary["outcomes_truncated"] = len(result.outcomes) - MAX_OUTCOMES
    return summary


def _short(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 3] + "..."


@dataclass(frozen=True)
class TestSplit:
    """The tests that reward the search and the tests that only score its answer."""

    __test__ = False  # not a pytest class

    mode: str
    reward: tuple[TestCase, ...]
    hidden: tuple[TestCase, ...]
    heldout_indices: tuple[int, ...] = ()  # reward_tests="heldout": which of problem.tests reward the search

    def describe(self) -> dict:
        return {"mode": self.mode, "n_reward": len(self.reward), "n_hidden": len(self.hidden),
                "heldout_indices": list(self.heldout_indices)}


def split_tests(problem: Problem, mode: str, *, seed: int = 0, heldout_fraction: float = 0.5,
                reward_tests_fn: RewardTestsFn | None = None) -> TestSplit:
    """Decide the reward and hidden tests of ``problem``.

    - "public": ``problem.public_tests`` reward; all of ``problem.tests`` stay hidden (the usual benchmark setting:
      the public examples are in the prompt anyway).
    - "heldout": a subset of ``problem.tests`` (``heldout_fraction`` of them, at least one, chosen with a generator
      seeded from (seed, problem id)) rewards; the others stay hidden. With a single test nothing can be held out
      without leaking it, so the reward set is empty.
    - "generated": ``reward_tests_fn(problem)`` rewards (e.g. tests written by the TCG); all of ``problem.tests``
      stay hidden.
    """
    tests = tuple(problem.tests)
    if mode == "public":
        return TestSplit(mode, tuple(problem.public_tests), tests)
    if mode == "heldout":
        if len(tests) < 2:
            return TestSplit(mode, (), tests)
        count = min(max(1, round(heldout_fraction * len(tests))), len(tests) - 1)
        chosen = sorted(random.Random(derive_seed(seed, problem.id, "heldout")).sample(range(len(tests)), count))
        rest = tuple(t for i, t in enumerate(tests) if i not in chosen)
        return TestSplit(mode, tuple(tests[i] for i in chosen), rest, tuple(chosen))
    if mode == "generated":
        if reward_tests_fn is None:
            raise ValueError("reward_tests='generated' needs reward_tests_fn (problem -> list of TestCase), e.g. "
                             "from the test case generator; pass it to search(), or use 'public' or 'heldout'")
        generated = tuple(reward_tests_fn(problem))
        bad = [t for t in generated if not isinstance(t, TestCase)]
        if bad:
            raise TypeError(f"reward_tests_fn must return TestCase objects; got {type(bad[0]).__name__}")
        return TestSplit(mode, generated, tests)
    raise ValueError(f"unknown reward_tests {mode!r}; expected 'public', 'heldout' or 'generated'")
