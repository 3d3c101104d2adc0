"""String rewrite chains: a sentence rewritten by a chain of parts (reverse, shift letters, drop short words...),
as a function ``f(s)``."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

from o1coder.loaders.synthetic import parts as P
from o1coder.loaders.synthetic.family import (
    HIDDEN_TESTS,
    PUBLIC_TESTS,
    Family,
    digest,
    distinct_inputs,
    input_rng,
    telling_inputs,
    without_each,
)
from o1coder.loaders.synthetic.parts import Part
from o1coder.problems import Problem, TestCase
from o1coder.reasoning.steps import Action, Step

_STRING_OPENINGS = ("Given a string `s` of lower-case words separated by single spaces",
                    "Start from the string `s` (lower-case words separated by single spaces)")


@dataclass(frozen=True)
class StringProblems(Family):
    """A chain of ``length`` rewrites of a sentence, as a function ``f(s)``."""

    length: int = 2
    group = "string"

    @property
    def name(self) -> str:
        return f"string-{self.length}"

    @property
    def description(self) -> str:
        return f"a chain of {self.length} string rewrites, as a function f(s)"

    def compositions(self) -> list[tuple[Part, ...]]:
        return [c for c in itertools.permutations(P.REWRITES, self.length) if P.rewrites_compatible(c)]

    def build(self, uses, level, split) -> Problem:
        identity = self.identity(uses)
        variant = int(digest(identity)[:8], 16)
        clauses = [u.phrase(variant // (2 + i)) for i, u in enumerate(uses)]
        if variant % 2 == 0:
            prompt = f"{_STRING_OPENINGS[0]}, " + ", then ".join(clauses) + ", and return the result."
        else:
            sentences = [f"First {clauses[0]}."] + [f"Then {c}." for c in clauses[1:]]
            prompt = f"{_STRING_OPENINGS[1]}. " + " ".join(sentences) + " Return the final string."
        name = "_".join(u.tag for u in uses)
        code = "\n".join([f"def {name}(s):"] + [f"    s = {u.fill(u.part.code)}" for u in uses] + ["    return s"])
        rng = input_rng(identity, "tests")
        inputs = telling_inputs(lambda: _sentences(rng, uses, HIDDEN_TESTS + PUBLIC_TESTS), _run_chain, uses,
                                 without_each(uses, range(len(uses))), PUBLIC_TESTS)
        cases = [TestCase.call(name, [s], _run_chain(uses, s)) for s in inputs]
        steps = [
            Step(Action.STRUCTURE, "Outline the rewrites", "Apply the rewrites one after the other, in order.",
                 "\n".join([f"function {name}(s: str) -> str"] + [f"    s <- {u.fill(u.part.outline)}" for u in uses]
                           + ["    return s"])),
            Step(Action.REFINE, "Make each rewrite exact", "Each rewrite becomes one assignment to s.",
                 "\n".join([f"function {name}(s):"] + [f"    s <- {u.fill(u.part.exact)}" for u in uses]
                           + ["    return s"])),
            Step(Action.CODE, "Write the function", "The pseudocode maps line by line to Python.", code=code),
        ]
        return self._problem(uses, level, split, prompt=prompt, entry_point=name, tests=cases[PUBLIC_TESTS:],
                             public_tests=cases[:PUBLIC_TESTS], steps=steps)


def _run_chain(uses, s: str, *, check: bool = False) -> str | None:
    """The chain's output; with ``check``, None when a rewrite leaves an empty word or a stray space (so the
    statement's "words separated by single spaces" stays true at every step and no reading of it is ambiguous)."""
    for u in uses:
        s = u(s)
        if check and s != " ".join(s.split()):
            return None
    return s


def _sentences(rng: random.Random, uses, count: int) -> list[str]:
    def draw():
        for _ in range(200):
            s = " ".join(rng.choice(P.WORDS) for _ in range(rng.randint(2, 6)))
            if _run_chain(uses, s, check=True):  # valid at every step, and not emptied by the chain
                return s
        raise AssertionError(f"no valid sentence for {[u.token for u in uses]}")

    inputs = distinct_inputs(draw, count, fixed=[""])
    rng.shuffle(inputs)
    return inputs
