"""What every problem family of the synthetic world shares: the :class:`Family` interface, stable digests, and
test inputs that tell a composition apart from a weaker one.

A family lists the compositions it can make (ordered tuples of :class:`~.parts.Part`, one per slot) and builds a
:class:`~o1coder.problems.Problem` from a composition whose constants are chosen (a tuple of :class:`~.parts.Use`):
statement, reference program, hidden and public tests, and a reasoning trace in the step format of
:mod:`o1coder.reasoning.steps` whose code is the reference. The families: :mod:`.lists`, :mod:`.strings`,
:mod:`.grids`.

Everything about a problem is a pure function of its *identity* (family + uses): the paraphrase, the function
name and the test inputs are drawn from a generator seeded by a hash of that identity, never from the load seed.
So the same problem is the same everywhere (ids are stable), and the load seed only decides *which* problems.

Each part is one line of code and one line of pseudocode, in the order the statement names it: a model that has
learned the parts separately can write a composition it has never seen line by line.
"""

from __future__ import annotations

import hashlib
import random

from o1coder.loaders.synthetic import parts as P
from o1coder.loaders.synthetic.parts import Part, Use
from o1coder.problems import Problem

HIDDEN_TESTS = 6
PUBLIC_TESTS = 2


def digest(text: str) -> str:
    """A stable hex digest (sha256): Python's ``hash`` is salted per process and must never decide anything here."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Family:
    """Base class: ``name`` is the family's form (what a problem id's identity starts with); ``group`` is what its
    compositions are keyed under (a list composition is the same whether it is asked as a function or a program)."""

    name: str
    group: str
    description: str

    def compositions(self) -> list[tuple[Part, ...]]:
        raise NotImplementedError

    def build(self, uses: tuple[Use, ...], level: int, split: str) -> Problem:
        raise NotImplementedError

    def composition_key(self, composition: tuple[Part, ...]) -> str:
        """The split key: the group and the *sorted* slot-qualified part names (constants and order left out, so
        "add then square" and "square then add" fall in the same split)."""
        return self.group + "|" + ",".join(sorted(p.key for p in composition))

    def identity(self, uses: tuple[Use, ...]) -> str:
        return self.name + "|" + ",".join(u.token for u in uses)

    def _problem(self, uses, level, split, *, prompt, entry_point, tests, public_tests, steps) -> Problem:
        """The problem record every family returns: id from the identity, reference = the trace's code."""
        identity = self.identity(uses)
        composition = tuple(u.part for u in uses)
        return Problem(
            id=f"synthetic/{level}/{digest(identity)[:12]}",
            prompt=prompt,
            entry_point=entry_point,
            tests=tests,
            public_tests=public_tests,
            reference=steps[-1].code,
            metadata={"split": split, "level": level, "family": self.name, "parts": [u.token for u in uses],
                      "composition": self.composition_key(composition), "source": "o1coder synthetic world",
                      "trace": [s.to_dict() for s in steps]},
        )


def input_rng(identity: str, purpose: str) -> random.Random:
    """A generator for one purpose (test inputs...) of one problem, seeded by its identity alone."""
    return random.Random(digest(f"{purpose}|{identity}"))


def telling_inputs(draw_inputs, run, uses: tuple[Use, ...], weaker: list[tuple[Use, ...]], public: int,
                    tries: int = 60) -> list:
    """Test inputs from ``draw_inputs()`` that tell the composition apart: its answers are not all the same (a
    constant program fails), and every weaker composition in ``weaker`` (one part dropped) answers differently on at
    least one hidden input (a program that skips a part fails). ``run(uses, x)`` is the answer to input ``x``; the
    first ``public`` inputs become public tests. After ``tries`` draws, the draw that told the most apart: constants
    can make a part do nothing (adding 5 before an absolute value on numbers above 1), which no input can reveal.
    """
    best, best_told = None, -1
    for _ in range(tries):
        inputs = draw_inputs()
        answers = [repr(run(uses, x)) for x in inputs]
        told = int(len(set(answers)) >= 2)
        for other in weaker:
            told += any(repr(run(other, x)) != a for x, a in zip(inputs[public:], answers[public:]))
        if told == 1 + len(weaker):
            return inputs
        if told > best_told:
            best, best_told = inputs, told
    return best


def without_each(uses: tuple[Use, ...], droppable: range) -> list[tuple[Use, ...]]:
    """The compositions with one of the parts at ``droppable`` positions left out: replaced by a filter that keeps
    everything or by a transform or rewrite that changes nothing, so the composition keeps its shape."""
    return [uses[:i] + (Use(P.KEEP_ALL if uses[i].part.slot.endswith("filter") else P.UNCHANGED),) + uses[i + 1:]
            for i in droppable]


def distinct_inputs(draw, count: int, fixed=()) -> list:
    """``fixed`` inputs then distinct draws, ``count`` in all (gives up on distinctness after many tries)."""
    inputs, seen = list(fixed), {repr(x) for x in fixed}
    for _ in range(count * 50):
        if len(inputs) >= count:
            break
        x = draw()
        if repr(x) not in seen:
            seen.add(repr(x))
            inputs.append(x)
    return inputs
