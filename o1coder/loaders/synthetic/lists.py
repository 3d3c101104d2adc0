"""List pipelines: filter, transform(s), aggregate over a list of integers, as a function or a stdin/stdout program.

The helpers that phrase, write and run a pipeline are shared with the nested problems of :mod:`.grids`.
"""

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
from o1coder.loaders.synthetic.parts import Part, Use
from o1coder.problems import Problem, TestCase
from o1coder.reasoning.steps import Action, Step

_EACH = ("each one", "each of them", "every kept number")
_LIST_OPENINGS = ("Given a list of integers `nums`", "For a list of integers `nums`",
                  "Take the list of integers `nums`")
_KEEP = ("keep the numbers that are {f}", "keep only the values that are {f}", "select the numbers that are {f}")


def list_clauses(uses: tuple[Use, ...], variant: int) -> tuple[str, list[str], Use]:
    """The filter clause, one clause per transform, and the aggregate use, phrased with paraphrase ``variant``."""
    filt, *transforms, aggregate = uses
    keep = _KEEP[variant % len(_KEEP)].format(f=filt.phrase(variant))
    each = _EACH[(variant // 3) % len(_EACH)]
    return keep, [t.phrase(variant // 2, each=each) for t in transforms], aggregate


def pipeline_sentence(opening: str, clauses: list[str], ending: str, variant: int) -> str:
    if variant % 3 == 0:
        return f"{opening}, " + ", then ".join(clauses) + f", and {ending}."
    if variant % 3 == 1:
        return f"{opening}: " + "; ".join(clauses) + f"; finally {ending}."
    return f"{opening}, " + ", ".join(clauses) + f", then {ending}."


def pipeline_lines(uses: tuple[Use, ...], src: str, form: str) -> list[str]:
    """Lines of pseudocode (``form`` "outline" or "exact") or code ("code") that leave the kept values in ``values``.
    """
    filt, *transforms, _ = uses
    if form == "outline":
        return [f"values <- {filt.fill(filt.part.outline, src=src)}"] + \
            [f"values <- {t.fill(t.part.outline)}" for t in transforms]
    arrow = " <- " if form == "exact" else " = "
    field = "exact" if form == "exact" else "code"
    return [f"values{arrow}[x for x in {src} if {filt.fill(getattr(filt.part, field))}]"] + \
        [f"values{arrow}[{t.fill(getattr(t.part, field))} for x in values]" for t in transforms]


def aggregate_text(aggregate: Use, form: str, src: str = "values") -> str:
    return aggregate.fill(getattr(aggregate.part, form), src=src)


def _list_name(uses: tuple[Use, ...]) -> str:
    filt, *transforms, aggregate = uses
    return "_".join([aggregate.tag] + [t.tag for t in reversed(transforms)] + [filt.tag])


@dataclass(frozen=True)
class ListProblems(Family):
    """Filter, transform(s), aggregate over a list of integers: as a function ``f(nums)`` ("function"), as a program
    reading ``n`` and ``n`` integers ("stdio"), or as a program answering several lists, one per line ("cases")."""

    transforms: tuple[int, ...] = (0, 1)  # how many transforms a composition may have
    form: str = "function"
    group = "list"

    @property
    def name(self) -> str:
        return f"list-{self.form}"

    @property
    def description(self) -> str:
        counts = " or ".join(map(str, self.transforms))
        how = {"function": "a function f(nums)", "stdio": "a stdin/stdout program (n, then n integers)",
               "cases": "a stdin/stdout program over t lists, one answer per line"}[self.form]
        return f"filter x {counts} transform(s) x aggregate over a list of integers, as {how}"

    def compositions(self) -> list[tuple[Part, ...]]:
        # a program over several lists prints one number per list (an empty list printed would leave no token)
        aggregates = [a for a in P.AGGREGATES if self.form != "cases" or not a.returns_list]
        out = []
        for count in self.transforms:
            for f, ts, a in itertools.product(P.FILTERS, itertools.permutations(P.TRANSFORMS, count), aggregates):
                if P.list_compatible((f,), ts, a):
                    out.append((f, *ts, a))
        return out

    def build(self, uses, level, split) -> Problem:
        identity = self.identity(uses)
        variant = int(digest(identity)[:8], 16)
        rng = input_rng(identity, "tests")
        keep, transform_clauses, aggregate = list_clauses(uses, variant)
        clauses = [keep] + transform_clauses
        weaker = without_each(uses, range(len(uses) - 1))
        if self.form == "function":
            prompt, code, cases, steps = self._function(uses, variant, rng, clauses, weaker)
            public = PUBLIC_TESTS
        else:
            ending = aggregate.phrase(variant // 5).replace("return ", "print ", 1)
            make = self._program if self.form == "stdio" else self._cases
            prompt, code, cases, read = make(uses, variant, rng, clauses, weaker, ending)
            steps = _program_trace(read, uses, aggregate, code, cases_form=self.form == "cases")
            public = 1 if self.form == "cases" else PUBLIC_TESTS
        return self._problem(uses, level, split, prompt=prompt, entry_point=_list_name(uses)
                             if self.form == "function" else None, tests=cases[public:], public_tests=cases[:public],
                             steps=steps)

    @staticmethod
    def _function(uses, variant, rng, clauses, weaker):
        """A function ``f(nums)``: statement, code, call tests, trace."""
        aggregate = uses[-1]
        name = _list_name(uses)
        opening = _LIST_OPENINGS[variant // 17 % len(_LIST_OPENINGS)]
        prompt = pipeline_sentence(opening, clauses, aggregate.phrase(variant // 5), variant)
        code = "\n".join(_imports(aggregate, program=False) + [f"def {name}(nums):"]
                         + [f"    {x}" for x in pipeline_lines(uses, "nums", "code")]
                         + [f"    return {aggregate_text(aggregate, 'code')}"])
        inputs = telling_inputs(lambda: _list_inputs(rng, uses, HIDDEN_TESTS + PUBLIC_TESTS), run_list, uses, weaker,
                                PUBLIC_TESTS)
        cases = [TestCase.call(name, [nums], run_list(uses, nums)) for nums in inputs]
        returns = "list of int" if aggregate.part.returns_list else "int"
        steps = _function_trace(name, "nums: list of int", returns, pipeline_lines(uses, "nums", "outline"),
                                pipeline_lines(uses, "nums", "exact"), aggregate, code)
        return prompt, code, cases, steps

    @staticmethod
    def _program(uses, variant, rng, clauses, weaker, ending):
        """A program reading ``n`` and ``n`` integers: statement, code, stdin/stdout tests, what it reads."""
        aggregate = uses[-1]
        if aggregate.part.returns_list:
            ending += " (on one line, separated by spaces)"
        prompt = ("The first line of the input holds n, the second line n integers separated by spaces "
                  "(it is empty when n is 0). " + pipeline_sentence("Read the integers", clauses, ending, variant))
        head = ["n = int(input())", "nums = [int(t) for t in input().split()]"]
        code = "\n".join(_imports(aggregate, program=True) + head + pipeline_lines(uses, "nums", "code")
                         + [print_expression(aggregate)])
        inputs = telling_inputs(lambda: _list_inputs(rng, uses, HIDDEN_TESTS + PUBLIC_TESTS), run_list, uses, weaker,
                                PUBLIC_TESTS)
        cases = [TestCase.stdio(f"{len(nums)}\n{' '.join(map(str, nums))}\n", stdout_of(run_list(uses, nums)))
                 for nums in inputs]
        return prompt, code, cases, ["n <- int(first line)", "nums <- the integers of the second line"]

    @staticmethod
    def _cases(uses, variant, rng, clauses, weaker, ending):
        """A program answering ``t`` lists, one line each: statement, code, stdin/stdout tests, what it reads."""
        aggregate = uses[-1]
        prompt = ("The first line of the input holds t, the number of lists. Each of the next t lines holds "
                  "one list: its length n, then its n integers. "
                  + pipeline_sentence("For each list", clauses, ending + ", one line per list", variant))
        body = ["nums = [int(v) for v in input().split()][1:]"] + pipeline_lines(uses, "nums", "code") + \
            [print_expression(aggregate)]
        code = "\n".join(_imports(aggregate, program=True) + ["t = int(input())", "for _ in range(t):"]
                         + [f"    {x}" for x in body])
        groups = telling_inputs(
            lambda: [_list_inputs(rng, uses, rng.randint(3, 5)) for _ in range(HIDDEN_TESTS // 2 + 1)],
            lambda u, group: [run_list(u, nums) for nums in group], uses, weaker, 1)
        cases = [TestCase.stdio(f"{len(g)}\n" + "".join(f"{len(nums)} {' '.join(map(str, nums))}".strip() + "\n"
                                                        for nums in g),
                                "".join(stdout_of(run_list(uses, nums)) for nums in g)) for g in groups]
        return prompt, code, cases, ["t <- int(first line)", "for each of the next t lines:",
                                     "    nums <- its integers after the first"]


def _imports(aggregate: Use, *, program: bool) -> list[str]:
    """``import math`` for a product, followed by two blank lines before a function, one before a program."""
    if aggregate.part.name != "product":
        return []
    return ["import math", ""] if program else ["import math", "", ""]


def print_expression(aggregate: Use) -> str:
    expression = aggregate_text(aggregate, "code")
    return f"print(*{expression})" if aggregate.part.returns_list else f"print({expression})"


def stdout_of(value) -> str:
    return (" ".join(map(str, value)) if isinstance(value, list) else str(value)) + "\n"


def run_list(uses: tuple[Use, ...], nums: list[int]):
    filt, *transforms, aggregate = uses
    values = [x for x in nums if filt(x)]
    for t in transforms:
        values = [t(x) for x in values]
    return aggregate(values)


def _list_inputs(rng: random.Random, uses: tuple[Use, ...], count: int) -> list[list[int]]:
    """Lists of -9..9 where the filter keeps something (an empty list first: the edge case every aggregate has)."""
    inputs = distinct_inputs(lambda: draw_list(rng, uses[0]), count, fixed=[[]])
    rng.shuffle(inputs)
    return inputs


def draw_list(rng: random.Random, filt: Use) -> list[int]:
    """One to seven integers in -9..9, at least one of which the filter keeps (four times in five: the other
    lists show what happens when it keeps none)."""
    if rng.random() < 0.2:
        return [rng.randint(-9, 9) for _ in range(rng.randint(1, 4))]
    while True:
        nums = [rng.randint(-9, 9) for _ in range(rng.randint(1, 7))]
        if any(filt(x) for x in nums):
            return nums


def _function_trace(name, params, returns, outline, exact, aggregate, code, result="values") -> list[Step]:
    return [
        Step(Action.STRUCTURE, "Outline the steps",
             "Keep the numbers the statement asks for, change them as it says, then compute the answer.",
             "\n".join([f"function {name}({params}) -> {returns}"] + [f"    {x}" for x in outline]
                       + [f"    return {aggregate_text(aggregate, 'outline', result)}"])),
        Step(Action.REFINE, "Make each step exact",
             "Each line becomes one list comprehension; the last line computes the answer.",
             "\n".join([f"function {name}({params.split(':')[0]}):"] + [f"    {x}" for x in exact]
                       + [f"    return {aggregate_text(aggregate, 'exact', result)}"])),
        Step(Action.CODE, "Write the function", "The pseudocode maps line by line to Python.", code=code),
    ]


def _program_trace(read: list[str], uses, aggregate, code, *, cases_form: bool) -> list[Step]:
    indent = "    " if cases_form else ""
    outline = pipeline_lines(uses, "nums", "outline") + [f"print {aggregate_text(aggregate, 'outline')}"]
    exact = pipeline_lines(uses, "nums", "exact") + [f"print {aggregate_text(aggregate, 'exact')}"]
    where = "for each list, " if cases_form else ""
    return [
        Step(Action.STRUCTURE, "Outline the program",
             f"Read the input, then {where}keep the numbers asked for, change them and print the answer.",
             "\n".join(["program:"] + [f"    {x}" for x in read] + [f"    {indent}{x}" for x in outline])),
        Step(Action.REFINE, "Make each step exact",
             "Each line becomes one list comprehension; the last line prints the answer.",
             "\n".join(["program:"] + [f"    {x}" for x in read] + [f"    {indent}{x}" for x in exact])),
        Step(Action.CODE, "Write the program", "The pseudocode maps line by line to Python.", code=code),
    ]
