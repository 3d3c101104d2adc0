"""Nested problems: every row of a list of lists reduced by a list pipeline, then the row results transformed and
aggregated, as a function ``f(rows)`` or a program reading the rows from stdin."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

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
from o1coder.loaders.synthetic.lists import (
    aggregate_text,
    draw_list,
    list_clauses,
    pipeline_lines,
    pipeline_sentence,
    print_expression,
    run_list,
    stdout_of,
)
from o1coder.loaders.synthetic.parts import Part
from o1coder.problems import Problem, TestCase
from o1coder.reasoning.steps import Action, Step


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
    and aggregated: as a function ``f(rows)`` ("function") or as a program reading ``r`` rows ("stdio"). Its parts
    are slot-qualified (``row-filter:even`` is not ``filter:even``), so its compositions never share a key with a
    flat list's."""

    transforms: tuple[int, ...] = (0, 1)  # how many transforms a row pipeline may have
    form: str = "function"
    group = "grid"

    @property
    def name(self) -> str:
        return "grid" if self.form == "function" else f"grid-{self.form}"

    @property
    def description(self) -> str:
        counts = " or ".join(map(str, self.transforms))
        how = "a function f(rows)" if self.form == "function" else "a stdin/stdout program (r, then r rows)"
        return (f"row filter x {counts} row transform(s) x row aggregate, then result transform x result aggregate, "
                f"over a list of lists, as {how}")

    def compositions(self) -> list[tuple[Part, ...]]:
        out = []
        for count in self.transforms:
            for f, ts, a in itertools.product(ROW_FILTERS, itertools.permutations(ROW_TRANSFORMS, count),
                                              ROW_AGGREGATES):
                if P.list_compatible((f,), ts, a):
                    out += [(f, *ts, a, rt, ra) for rt, ra in itertools.product(RESULT_TRANSFORMS, RESULT_AGGREGATES)]
        return out

    def build(self, uses, level, split) -> Problem:
        identity = self.identity(uses)
        variant = int(digest(identity)[:8], 16)
        result_aggregate = uses[-1]
        name = "_".join([result_aggregate.tag, uses[-2].tag, "of", uses[-3].tag]
                        + [t.tag for t in reversed(uses[1:-3])] + [uses[0].tag])
        row_lines, outer_lines = _grid_code(uses)
        rng = input_rng(identity, "tests")

        def draw_grids():
            grids = distinct_inputs(lambda: [draw_list(rng, uses[0]) if rng.random() < 0.85 else []
                                              for _ in range(rng.randint(2, 5))], HIDDEN_TESTS + PUBLIC_TESTS,
                                     fixed=[[]])
            rng.shuffle(grids)
            return grids

        row_parts, result_transform = range(len(uses) - 3), range(len(uses) - 2, len(uses) - 1)
        weaker = without_each(uses, row_parts) + without_each(uses, result_transform)
        grids = telling_inputs(draw_grids, _run_grid, uses, weaker, PUBLIC_TESTS)
        statement = _grid_statement(uses, variant)
        if self.form == "function":
            prompt = f"Given a list of lists of integers `rows`, {statement}"
            code = "\n".join([f"def {name}(rows):", "    results = []", "    for nums in rows:"]
                             + [f"        {x}" for x in row_lines] + [f"    {x}" for x in outer_lines])
            cases = [TestCase.call(name, [g], _run_grid(uses, g)) for g in grids]
            head = f"function {name}(rows: list of lists of int) -> " + \
                ("list of int" if result_aggregate.part.returns_list else "int")
            steps = _grid_trace(uses, head, f"function {name}(rows):", "for nums in rows:", code, "return")
        else:
            if result_aggregate.part.returns_list:
                statement = statement[:-1] + " (on one line, separated by spaces)."
            prompt = ("The first line of the input holds r, the number of rows. Each of the next r lines holds one "
                      "row: its length n, then its n integers. Read the rows; "
                      + statement.replace("return ", "print "))
            outer_lines = outer_lines[:-1] + [print_expression(result_aggregate)]
            code = "\n".join(["r = int(input())", "results = []", "for _ in range(r):",
                              "    nums = [int(v) for v in input().split()][1:]"]
                             + [f"    {x}" for x in row_lines] + outer_lines)
            cases = [TestCase.stdio(f"{len(g)}\n" + "".join(f"{len(nums)} {' '.join(map(str, nums))}".strip() + "\n"
                                                            for nums in g), stdout_of(_run_grid(uses, g)))
                     for g in grids]
            steps = _grid_trace(uses, "program:", "program:", "for each of the next r lines: nums <- its integers "
                                "after the first", code, "print")
        return self._problem(uses, level, split, prompt=prompt, entry_point=name if self.form == "function" else None,
                             tests=cases[PUBLIC_TESTS:], public_tests=cases[:PUBLIC_TESTS], steps=steps)


def _grid_statement(uses, variant: int) -> str:
    """"for each row, keep ..., and take their sum. Then add 3 to each row result and return ..." """
    row, (result_transform, result_aggregate) = uses[:-2], uses[-2:]
    keep, transform_clauses, row_aggregate = list_clauses(row, variant)
    row_ending = row_aggregate.phrase(variant // 5).replace("return ", "take ", 1)
    row_sentence = pipeline_sentence("for each row", [keep] + transform_clauses, row_ending, variant)
    results = ("each row result", "every row result")[variant // 7 % 2]
    return (f"{row_sentence} Then {result_transform.phrase(variant // 11, each=results)} and "
            f"{result_aggregate.phrase(variant // 13)}.")


def _grid_code(uses) -> tuple[list[str], list[str]]:
    """The row loop's body (filling ``results``) and the lines after the loop (ending with a return)."""
    row, (result_transform, result_aggregate) = uses[:-2], uses[-2:]
    row_lines = pipeline_lines(row, "nums", "code") + [f"results.append({aggregate_text(row[-1], 'code')})"]
    outer_lines = [f"values = [{result_transform.fill(result_transform.part.code)} for x in results]",
                   f"return {aggregate_text(result_aggregate, 'code')}"]
    return row_lines, outer_lines


def _grid_trace(uses, head: str, exact_head: str, loop: str, code: str, verb: str) -> list[Step]:
    """Structure, one refine step per stage (rows, then results), code."""
    row, (result_transform, result_aggregate) = uses[:-2], uses[-2:]
    row_aggregate = row[-1]
    row_outline = (" then ".join(pipeline_lines(row, "the row", "outline")).replace("values <- ", "")
                   + f", reduced to {aggregate_text(row_aggregate, 'outline', 'them')}")
    result_outline = [f"values <- {result_transform.fill(result_transform.part.outline).replace('value', 'result')}",
                      f"{verb} {aggregate_text(result_aggregate, 'outline')}"]
    exact_outer = [f"values <- [{result_transform.fill(result_transform.part.exact)} for x in results]",
                   f"{verb} {aggregate_text(result_aggregate, 'exact')}"]
    read = [] if verb == "return" else ["r <- int(first line)"]
    exact_rows = read + ["results <- empty list", loop] + \
        [f"    {x}" for x in pipeline_lines(row, "nums", "exact")] + \
        [f"    append {aggregate_text(row_aggregate, 'exact')} to results"]
    what = "function" if verb == "return" else "program"
    return [
        Step(Action.STRUCTURE, "Outline the two stages",
             "Reduce every row to one number, then change those numbers and reduce them.",
             "\n".join([head] + [f"    {x}" for x in read + [f"results <- for each row: {row_outline}"]
                                 + result_outline])),
        Step(Action.REFINE, "Make the row stage exact",
             "A loop over the rows; each line of the row stage becomes one list comprehension.",
             "\n".join([exact_head] + [f"    {x}" for x in exact_rows + result_outline])),
        Step(Action.REFINE, "Make the result stage exact",
             "The row results are changed and reduced like a flat list.",
             "\n".join([exact_head] + [f"    {x}" for x in exact_rows + exact_outer])),
        Step(Action.CODE, f"Write the {what}", "The pseudocode maps line by line to Python.", code=code),
    ]


def _run_grid(uses, rows):
    row, (result_transform, result_aggregate) = uses[:-2], uses[-2:]
    return result_aggregate([result_transform(run_list(row, nums)) for nums in rows])
