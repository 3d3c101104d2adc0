"""The problem families of the synthetic world: how a composition of parts becomes a problem.

A family lists the compositions it can make (ordered tuples of :class:`~.parts.Part`, one per slot) and builds a
:class:`~o1coder.problems.Problem` from a composition whose constants are chosen (a tuple of :class:`~.parts.Use`):
statement, reference program, hidden and public tests, and a reasoning trace in the step format of
:mod:`o1coder.reasoning.steps` whose code is the reference.

Everything about a problem is a pure function of its *identity* (family + uses): the paraphrase, the function
name and the test inputs are drawn from a generator seeded by a hash of that identity, never from the load seed.
So the same problem is the same everywhere (ids are stable), and the load seed only decides *which* problems.

Each part is one line of code and one line of pseudocode, in the order the statement names it: a model that has
learned the parts separately can write a composition it has never seen line by line.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from dataclasses import dataclass, replace

from o1coder.loaders.synthetic import parts as P
from o1coder.loaders.synthetic.parts import Part, Use
from o1coder.problems import Problem, TestCase
from o1coder.reasoning.steps import Action, Step

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


def _rng(identity: str, purpose: str) -> random.Random:
    return random.Random(digest(f"{purpose}|{identity}"))


def _varied(draw_inputs, answer, tries: int = 50) -> list:
    """Inputs from ``draw_inputs()`` whose answers are not all the same (a test set that any constant passes would
    tell nothing); after ``tries`` draws, the last one (a composition no input varies is excluded by the part rules
    and caught by tests/test_synthetic.py)."""
    for _ in range(tries):
        inputs = draw_inputs()
        if len({repr(answer(x)) for x in inputs}) >= 2:
            return inputs
    return inputs


def _distinct_inputs(draw, count: int, fixed=()) -> list:
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


# ------------------------------------------------------------------------------------------------ list pipelines

_EACH = ("each one", "each of them", "every kept number")
_LIST_OPENINGS = ("Given a list of integers `nums`", "For a list of integers `nums`", "Take the list of integers `nums`")
_KEEP = ("keep the numbers that are {f}", "keep only the values that are {f}", "select the numbers that are {f}")


def _list_clauses(uses: tuple[Use, ...], variant: int) -> tuple[str, list[str], Use]:
    """The filter clause, one clause per transform, and the aggregate use, phrased with paraphrase ``variant``."""
    filt, *transforms, aggregate = uses
    keep = _KEEP[variant % len(_KEEP)].format(f=filt.phrase(variant))
    each = _EACH[(variant // 3) % len(_EACH)]
    return keep, [t.phrase(variant // 2, each=each) for t in transforms], aggregate


def _pipeline_sentence(opening: str, clauses: list[str], ending: str, variant: int) -> str:
    if variant % 3 == 0:
        return f"{opening}, " + ", then ".join(clauses) + f", and {ending}."
    if variant % 3 == 1:
        return f"{opening}: " + "; ".join(clauses) + f"; finally {ending}."
    return f"{opening}, " + ", ".join(clauses) + f", then {ending}."


def _pipeline_lines(uses: tuple[Use, ...], src: str, form: str) -> list[str]:
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


def _aggregate_text(aggregate: Use, form: str, src: str = "values") -> str:
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
        aggregates = P.AGGREGATES if self.form != "cases" else P.ROW_AGGREGATES + (P.AGGREGATES[4],)
        out = []
        for count in self.transforms:
            for f, ts, a in itertools.product(P.FILTERS, itertools.permutations(P.TRANSFORMS, count), aggregates):
                if P.list_compatible((f,), ts, a):
                    out.append((f, *ts, a))
        return out

    def build(self, uses, level, split) -> Problem:
        identity = self.identity(uses)
        variant = int(digest(identity)[:8], 16)
        rng = _rng(identity, "tests")
        keep, transform_clauses, aggregate = _list_clauses(uses, variant)
        clauses = [keep] + transform_clauses
        lines = _pipeline_lines(uses, "nums", "code")
        imports = ["import math", "", ""] if aggregate.part.name == "product" else []
        if self.form == "function":
            name = _list_name(uses)
            opening = _LIST_OPENINGS[variant // 17 % len(_LIST_OPENINGS)]
            prompt = _pipeline_sentence(opening, clauses, aggregate.phrase(variant // 5), variant)
            code = "\n".join(imports + [f"def {name}(nums):"] + [f"    {x}" for x in lines]
                             + [f"    return {_aggregate_text(aggregate, 'code')}"])
            inputs = _varied(lambda: _list_inputs(rng, uses, HIDDEN_TESTS + PUBLIC_TESTS),
                             lambda nums: _run_list(uses, nums))
            cases = [TestCase.call(name, [nums], _run_list(uses, nums)) for nums in inputs]
            returns = "list of int" if aggregate.part.returns_list else "int"
            steps = _function_trace(name, "nums: list of int", returns, _pipeline_lines(uses, "nums", "outline"),
                                    _pipeline_lines(uses, "nums", "exact"), aggregate, code)
            return self._problem(uses, level, split, prompt=prompt, entry_point=name, tests=cases[PUBLIC_TESTS:],
                                 public_tests=cases[:PUBLIC_TESTS], steps=steps)
        imports = imports[:2]  # a program's statements follow the import after one blank line
        printed = _print_expression(aggregate)
        ending = aggregate.phrase(variant // 5).replace("return ", "print ", 1)
        if self.form == "stdio":
            if aggregate.part.returns_list:
                ending += " (on one line, separated by spaces)"
            prompt = ("The first line of the input holds n, the second line n integers separated by spaces "
                      "(it is empty when n is 0). " + _pipeline_sentence("Read the integers", clauses, ending,
                                                                          variant))
            head = ["n = int(input())", "nums = [int(t) for t in input().split()]"]
            code = "\n".join(imports + head + lines + [printed])
            inputs = _varied(lambda: _list_inputs(rng, uses, HIDDEN_TESTS + PUBLIC_TESTS),
                             lambda nums: _run_list(uses, nums))
            cases = [TestCase.stdio(f"{len(nums)}\n{' '.join(map(str, nums))}\n", _stdout(_run_list(uses, nums)))
                     for nums in inputs]
            read = ["n <- int(first line)", "nums <- the integers of the second line"]
        else:
            prompt = ("The first line of the input holds t, the number of lists. Each of the next t lines holds "
                      "one list: its length n, then its n integers. "
                      + _pipeline_sentence("For each list", clauses, ending + ", one line per list", variant))
            body = ["nums = [int(v) for v in input().split()][1:]"] + lines + [printed]
            code = "\n".join(imports + ["t = int(input())", "for _ in range(t):"] + [f"    {x}" for x in body])
            groups = [_list_inputs(rng, uses, rng.randint(3, 5)) for _ in range(HIDDEN_TESTS // 2 + 1)]
            cases = [TestCase.stdio(f"{len(g)}\n" + "".join(f"{len(nums)} {' '.join(map(str, nums))}".strip() + "\n"
                                                            for nums in g),
                                    "".join(_stdout(_run_list(uses, nums)) for nums in g)) for g in groups]
            read = ["t <- int(first line)", "for each of the next t lines:", "    nums <- its integers after the first"]
        steps = _program_trace(read, uses, aggregate, code, cases_form=self.form == "cases")
        return self._problem(uses, level, split, prompt=prompt, entry_point=None, tests=cases[1:],
                             public_tests=cases[:1], steps=steps)


def _print_expression(aggregate: Use) -> str:
    expression = _aggregate_text(aggregate, "code")
    return f"print(*{expression})" if aggregate.part.returns_list else f"print({expression})"


def _stdout(value) -> str:
    return (" ".join(map(str, value)) if isinstance(value, list) else str(value)) + "\n"


def _run_list(uses: tuple[Use, ...], nums: list[int]):
    filt, *transforms, aggregate = uses
    values = [x for x in nums if filt(x)]
    for t in transforms:
        values = [t(x) for x in values]
    return aggregate(values)


def _list_inputs(rng: random.Random, uses: tuple[Use, ...], count: int) -> list[list[int]]:
    """Lists of -9..9 where the filter keeps something (an empty list first: the edge case every aggregate has)."""
    inputs = _distinct_inputs(lambda: _draw_list(rng, uses[0]), count, fixed=[[]])
    rng.shuffle(inputs)
    return inputs


def _draw_list(rng: random.Random, filt: Use) -> list[int]:
    """One to seven integers in -9..9, at least one of which the filter keeps."""
    while True:
        nums = [rng.randint(-9, 9) for _ in range(rng.randint(1, 7))]
        if any(filt(x) for x in nums):
            return nums


def _function_trace(name, params, returns, outline, exact, aggregate, code, result="values") -> list[Step]:
    return [
        Step(Action.STRUCTURE, "Outline the steps",
             "Keep the numbers the statement asks for, change them as it says, then compute the answer.",
             "\n".join([f"function {name}({params}) -> {returns}"] + [f"    {x}" for x in outline]
                       + [f"    return {_aggregate_text(aggregate, 'outline', result)}"])),
        Step(Action.REFINE, "Make each step exact",
             "Each line becomes one list comprehension; the last line computes the answer.",
             "\n".join([f"function {name}({params.split(':')[0]}):"] + [f"    {x}" for x in exact]
                       + [f"    return {_aggregate_text(aggregate, 'exact', result)}"])),
        Step(Action.CODE, "Write the function", "The pseudocode maps line by line to Python.", code=code),
    ]


def _program_trace(read: list[str], uses, aggregate, code, *, cases_form: bool) -> list[Step]:
    indent = "    " if cases_form else ""
    outline = _pipeline_lines(uses, "nums", "outline") + [f"print {_aggregate_text(aggregate, 'outline')}"]
    exact = _pipeline_lines(uses, "nums", "exact") + [f"print {_aggregate_text(aggregate, 'exact')}"]
    where = "for each list, " if cases_form else ""
    return [
        Step(Action.STRUCTURE, "Outline the program",
             f"Read the input, then {where}keep the numbers asked for, change them and print the answer.",
             "\n".join(["program:"] + [f"    {x}" for x in read[:1] + read[1:]] + [f"    {indent}{x}" for x in outline])),
        Step(Action.REFINE, "Make each step exact",
             "Each line becomes one list comprehension; the last line prints the answer.",
             "\n".join(["program:"] + [f"    {x}" for x in read] + [f"    {indent}{x}" for x in exact])),
        Step(Action.CODE, "Write the program", "The pseudocode maps line by line to Python.", code=code),
    ]


# ------------------------------------------------------------------------------------------------------ strings

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
        rng = _rng(identity, "tests")
        inputs = _varied(lambda: _sentences(rng, uses, HIDDEN_TESTS + PUBLIC_TESTS), lambda x: _run_chain(uses, x))
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

    inputs = _distinct_inputs(draw, count, fixed=[""])
    rng.shuffle(inputs)
    return inputs


# ------------------------------------------------------------------------------------------------ nested (grids)

def _reslot(parts_: tuple[Part, ...], slot: str) -> tuple[Part, ...]:
    return tuple(replace(p, slot=slot) for p in parts_)


ROW_FILTERS = _reslot(P.FILTERS, "row-filter")
ROW_TRANSFORMS = _reslot(P.TRANSFORMS, "row-transform")
ROW_AGGREGATES = _reslot(P.ROW_AGGREGATES, "row-aggregate")
RESULT_TRANSFORMS = _reslot(P.RESULT_TRANSFORMS, "result-transform")
RESULT_AGGREGATES = _reslot(P.RESULT_AGGREGATES, "result-aggregate")


@dataclass(frozen=True)
class GridProblems(Family):
    """Nested: each row of a list of lists reduced to one number by a list pipeline, then the row results changed
    and aggregated, as a function ``f(rows)``. Its parts are slot-qualified (``row-filter:even`` is not
    ``filter:even``), so its compositions never share a key with a flat list's."""

    group = "grid"
    name = "grid"
    description = ("row filter x row transform (0 or 1) x row aggregate, then result transform x result aggregate, "
                   "over a list of lists, as a function f(rows)")

    def compositions(self) -> list[tuple[Part, ...]]:
        out = []
        for f, ts, a in itertools.product(ROW_FILTERS, [()] + [(t,) for t in ROW_TRANSFORMS], ROW_AGGREGATES):
            if P.list_compatible((f,), ts, a):
                out += [(f, *ts, a, rt, ra) for rt, ra in itertools.product(RESULT_TRANSFORMS, RESULT_AGGREGATES)]
        return out

    def build(self, uses, level, split) -> Problem:
        identity = self.identity(uses)
        variant = int(digest(identity)[:8], 16)
        row, (result_transform, result_aggregate) = uses[:-2], uses[-2:]
        keep, transform_clauses, row_aggregate = _list_clauses(row, variant)
        row_ending = row_aggregate.phrase(variant // 5).replace("return ", "take ", 1)
        row_sentence = _pipeline_sentence("for each row", [keep] + transform_clauses, row_ending, variant)
        results = ("each row result", "every row result")[variant // 7 % 2]
        prompt = (f"Given a list of lists of integers `rows`, {row_sentence} Then "
                  f"{result_transform.phrase(variant // 11, each=results)} and "
                  f"{result_aggregate.phrase(variant // 13)}.")
        name = "_".join([result_aggregate.tag, result_transform.tag, "of", row_aggregate.tag]
                        + [t.tag for t in row[1:-1]] + [row[0].tag])
        row_code = _pipeline_lines(row, "nums", "code") + [f"results.append({_aggregate_text(row_aggregate, 'code')})"]
        outer_code = [f"values = [{result_transform.fill(result_transform.part.code)} for x in results]",
                      f"return {_aggregate_text(result_aggregate, 'code')}"]
        imports = ["import math", "", ""] if "product" in (row_aggregate.part.name, result_aggregate.part.name) else []
        code = "\n".join(imports + [f"def {name}(rows):", "    results = []", "    for nums in rows:"]
                         + [f"        {x}" for x in row_code] + [f"    {x}" for x in outer_code])
        rng = _rng(identity, "tests")
        def draw_grids():
            grids = _distinct_inputs(lambda: [_draw_list(rng, row[0]) if rng.random() < 0.85 else []
                                              for _ in range(rng.randint(2, 5))], HIDDEN_TESTS + PUBLIC_TESTS,
                                     fixed=[[]])
            rng.shuffle(grids)
            return grids

        grids = _varied(draw_grids, lambda g: _run_grid(uses, g))
        cases = [TestCase.call(name, [g], _run_grid(uses, g)) for g in grids]
        row_outline = (" then ".join(_pipeline_lines(row, "the row", "outline")).replace("values <- ", "")
                       + f", reduced to {_aggregate_text(row_aggregate, 'outline', 'them')}")
        result_outline = [f"values <- {result_transform.fill(result_transform.part.outline)} of results",
                          f"return {_aggregate_text(result_aggregate, 'outline')}"]
        exact_outer = [f"values <- [{result_transform.fill(result_transform.part.exact)} for x in results]",
                       f"return {_aggregate_text(result_aggregate, 'exact')}"]
        exact_rows = ["results <- empty list", "for nums in rows:"] + \
            [f"    {x}" for x in _pipeline_lines(row, "nums", "exact")] + \
            [f"    append {_aggregate_text(row_aggregate, 'exact')} to results"]
        returns = "list of int" if result_aggregate.part.returns_list else "int"
        steps = [
            Step(Action.STRUCTURE, "Outline the two stages",
                 "Reduce every row to one number, then change those numbers and reduce them.",
                 "\n".join([f"function {name}(rows: list of lists of int) -> {returns}",
                            f"    results <- for each row: {row_outline}"] + [f"    {x}" for x in result_outline])),
            Step(Action.REFINE, "Make the row stage exact",
                 "A loop over the rows; each line of the row stage becomes one list comprehension.",
                 "\n".join([f"function {name}(rows):"] + [f"    {x}" for x in exact_rows + result_outline])),
            Step(Action.REFINE, "Make the result stage exact",
                 "The row results are changed and reduced like a flat list.",
                 "\n".join([f"function {name}(rows):"] + [f"    {x}" for x in exact_rows + exact_outer])),
            Step(Action.CODE, "Write the function", "The pseudocode maps line by line to Python.", code=code),
        ]
        return self._problem(uses, level, split, prompt=prompt, entry_point=name, tests=cases[PUBLIC_TESTS:],
                             public_tests=cases[:PUBLIC_TESTS], steps=steps)


def _run_grid(uses, rows):
    row, (result_transform, result_aggregate) = uses[:-2], uses[-2:]
    return result_aggregate([result_transform(_run_list(row, nums)) for nums in rows])
