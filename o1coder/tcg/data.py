"""TCG training data: SFT rows (prompt -> 3 true cases) and DPO pairs (true cases vs outputs shuffled).

Both are built from (problem, one solution, the problem's own tests): a solution variant goes into the code part,
``cases_per_sample`` of the problem's cases (chosen with a seed per problem and variant) make the answer. Rows are
in TRL's format (``prompt``/``completion``, ``prompt``/``chosen``/``rejected``; chat messages or plain text, see
:mod:`o1coder.tcg.template`) plus ``problem_id``, which the trainers ignore. Nothing is truncated: samples longer
than ``max_length`` tokens are skipped by :func:`filter_by_length`, and every skip is counted in a
:class:`DataReport` so a run can say how much of the data it used.

The tokenisation functions reproduce what TRL's trainers do to a row (chat template or plain text, completion
starting where prompt and prompt+completion diverge), so lengths are measured exactly and tests can check ids.
"""

from __future__ import annotations

import itertools
import logging
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from o1coder.problems import Problem
from o1coder.tcg.cases import Case, render_cases, same_output
from o1coder.tcg.config import TCGConfig
from o1coder.tcg.convert import call_shape, case_to_test, cases_from_tests
from o1coder.tcg.template import build_completion, build_prompt

logger = logging.getLogger(__name__)


@dataclass
class DataReport:
    """Counts of what went into the data and what was skipped, by reason."""

    problems: int = 0
    rows: int = 0
    counts: Counter = field(default_factory=Counter)

    def to_dict(self) -> dict:
        return {"problems": self.problems, "rows": self.rows, **dict(sorted(self.counts.items()))}


def solution_variants(problem: Problem, limit: int) -> list[str]:
    """The reference, then the other published solutions (TACO's metadata["solutions"]), de-duplicated."""
    candidates = [problem.reference, *(problem.metadata.get("solutions") or [])]
    out: list[str] = []
    for code in candidates:
        if isinstance(code, str) and code.strip() and code not in out:
            out.append(code)
    return out[:limit]


def _sources(problems: Sequence[Problem], config: TCGConfig, report: DataReport, sandbox=None):
    """(problem, variant index, code, cases) for every usable solution variant; skips are counted."""
    for problem in problems:
        report.problems += 1
        cases, counts = cases_from_tests(problem)
        report.counts["assertions_converted"] += counts["converted"]
        report.counts["tests_unconverted"] += counts["unconverted"]
        if not cases:
            report.counts["skipped_no_cases"] += 1
            continue
        variants = solution_variants(problem, config.solutions_per_problem)
        if not variants:
            report.counts["skipped_no_solution"] += 1
            continue
        if sandbox is not None:
            variants = _passing(problem, variants, cases, sandbox, report)
        for index, code in enumerate(variants):
            yield problem, index, code, cases


def _passing(problem: Problem, variants: list[str], cases: list[Case], sandbox, report: DataReport) -> list[str]:
    """The variants that pass every case (TACO's published solutions are not all correct)."""
    shape = call_shape(problem)
    tests = [case_to_test(c, shape) for c in cases]
    results = sandbox.run_many([(code, tests, problem.setup) for code in variants])
    keep = [code for code, result in zip(variants, results) if result.all_passed]
    report.counts["solutions_failed_tests"] += len(variants) - len(keep)
    return keep


def _rng(config: TCGConfig, problem: Problem, index: int, purpose: str) -> random.Random:
    return random.Random(f"{config.seed}:{purpose}:{problem.id}:{index}")  # str seeds are stable across runs


def _choose(cases: list[Case], k: int, rng: random.Random, *, varied: bool = False) -> list[Case]:
    """``k`` cases at random; ``varied``: make sure not all outputs are equal when the problem allows it."""
    order = list(cases)
    rng.shuffle(order)
    chosen, rest = order[:k], order[k:]
    if varied and len(chosen) > 1 and all(same_output(c, chosen[0]) for c in chosen):
        other = next((c for c in rest if not same_output(c, chosen[0])), None)
        if other is not None:
            chosen[-1] = other
    return chosen


def sft_rows(problems: Sequence[Problem], config: TCGConfig, sandbox=None) -> tuple[list[dict], DataReport]:
    """One row per (problem, solution variant): the template prompt and ``cases_per_sample`` true cases.

    With a ``sandbox``, variants that fail the problem's own cases are left out (counted).
    """
    report, rows = DataReport(), []
    for problem, index, code, cases in _sources(problems, config, report, sandbox):
        chosen = _choose(cases, config.cases_per_sample, _rng(config, problem, index, "sft"))
        answer = render_row_cases(chosen, config, report)
        if answer is None:
            continue
        rows.append({"prompt": build_prompt(problem, code, config.cases_per_sample, config.chat),
                     "completion": build_completion(answer, config.chat), "problem_id": problem.id})
    report.rows = len(rows)
    return rows, report


def dpo_rows(problems: Sequence[Problem], config: TCGConfig, sandbox=None) -> tuple[list[dict], DataReport]:
    """One pair per (problem, solution variant): chosen = true cases, rejected = the same inputs, outputs shuffled.

    Problems whose cases all expect the same output (or that have a single case) cannot be shuffled into a wrong
    answer: skipped and counted as ``skipped_cannot_shuffle``.
    """
    report, rows = DataReport(), []
    for problem, index, code, cases in _sources(problems, config, report, sandbox):
        rng = _rng(config, problem, index, "dpo")
        chosen = _choose(cases, config.cases_per_sample, rng, varied=True)
        rejected = shuffled_outputs(chosen, rng)
        if rejected is None:
            report.counts["skipped_cannot_shuffle"] += 1
            continue
        good, bad = render_row_cases(chosen, config, report), render_row_cases(rejected, config, report)
        if good is None or bad is None:
            continue
        rows.append({"prompt": build_prompt(problem, code, config.cases_per_sample, config.chat),
                     "chosen": build_completion(good, config.chat), "rejected": build_completion(bad, config.chat),
                     "problem_id": problem.id})
    report.rows = len(rows)
    return rows, report


def shuffled_outputs(cases: Sequence[Case], rng: random.Random) -> list[Case] | None:
    """The same inputs with the outputs permuted so that as many cases as possible expect a wrong output.

    A derangement of the outputs by value: among all permutations, those that leave the fewest cases with an
    output equal to their true one, one picked at random. None when every permutation leaves all cases right
    (all outputs equal, or fewer than two cases). Up to 8 cases are searched exhaustively; more are shuffled at
    random (200 tries), which is plenty for the 3 cases of the template.
    """
    n = len(cases)
    if n < 2:
        return None
    perms = itertools.permutations(range(n)) if n <= 8 else (rng.sample(range(n), n) for _ in range(200))
    best: list[tuple[int, ...]] = []
    best_wrong = 0
    for perm in perms:
        wrong = sum(not same_output(cases[i], cases[j]) for i, j in enumerate(perm))
        if wrong > best_wrong:
            best, best_wrong = [tuple(perm)], wrong
        elif wrong == best_wrong and wrong > 0:
            best.append(tuple(perm))
    if best_wrong == 0:
        return None
    perm = rng.choice(best)
    return [Case(case.input, cases[j].output, case.stdio) for case, j in zip(cases, perm)]


def render_row_cases(cases: list[Case], config: TCGConfig, report: DataReport) -> str | None:
    """The answer text for ``cases``, or None (counted in ``report``) when a field is too long or cannot be
    written unambiguously."""
    too_long = any(len(str(c.input)) > config.max_field_chars or len(str(c.output)) > config.max_field_chars
                   for c in cases)
    if too_long:
        report.counts["skipped_case_too_long"] += 1
        return None
    try:
        return render_cases(cases)
    except ValueError:
        report.counts["skipped_unrenderable"] += 1
        return None


# -- tokenisation, as TRL does it ------------------------------------------------------------------------------------
def _ids(tokenizer, messages_or_text, **kwargs) -> list[int]:
    if isinstance(messages_or_text, str):
        return list(tokenizer(text=messages_or_text)["input_ids"])
    out = tokenizer.apply_chat_template(messages_or_text, tokenize=True, return_dict=True, **kwargs)
    return list(out["input_ids"])


def _eos(completion, tokenizer):
    """TRL appends the EOS token to plain-text completions (the chat template ends a turn by itself)."""
    if isinstance(completion, str) and tokenizer.eos_token and not completion.endswith(tokenizer.eos_token):
        return completion + tokenizer.eos_token
    return completion


def _prefix(a: list[int], b: list[int]) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def tokenize_sft_row(row: dict, tokenizer) -> dict[str, list[int]]:
    """``input_ids`` and ``completion_mask`` (1 on answer tokens) as TRL's SFTTrainer builds them from ``row``."""
    completion = _eos(row["completion"], tokenizer)
    if isinstance(row["prompt"], str):
        prompt_ids, full = _ids(tokenizer, row["prompt"]), _ids(tokenizer, row["prompt"] + completion)
    else:
        prompt_ids = _ids(tokenizer, row["prompt"], add_generation_prompt=True)
        full = _ids(tokenizer, row["prompt"] + completion)
    start = _prefix(prompt_ids, full)
    return {"input_ids": full, "completion_mask": [0] * start + [1] * (len(full) - start)}


def tokenize_dpo_row(row: dict, tokenizer) -> dict[str, list[int]]:
    """``prompt_ids``, ``chosen_ids``, ``rejected_ids`` as TRL's DPOTrainer builds them from ``row``."""
    chosen, rejected = _eos(row["chosen"], tokenizer), _eos(row["rejected"], tokenizer)
    chat = not isinstance(row["prompt"], str)
    prompt_ids = _ids(tokenizer, row["prompt"], **({"add_generation_prompt": True} if chat else {}))
    full_chosen = _ids(tokenizer, row["prompt"] + chosen)
    full_rejected = _ids(tokenizer, row["prompt"] + rejected)
    start = min(_prefix(prompt_ids, full_chosen), _prefix(prompt_ids, full_rejected))
    return {"prompt_ids": prompt_ids[:start], "chosen_ids": full_chosen[start:], "rejected_ids": full_rejected[start:]}


def row_length(row: dict, tokenizer) -> int:
    """Tokens the row takes in training (the longer side of a DPO pair)."""
    if "completion" in row:
        return len(tokenize_sft_row(row, tokenizer)["input_ids"])
    ids = tokenize_dpo_row(row, tokenizer)
    return len(ids["prompt_ids"]) + max(len(ids["chosen_ids"]), len(ids["rejected_ids"]))


def filter_by_length(rows: list[dict], tokenizer, max_length: int, report: DataReport | None = None) -> list[dict]:
    """Rows that fit in ``max_length`` tokens; the others are counted as ``skipped_too_long``."""
    from o1coder.trainkit import keep_fitting

    kept, dropped = keep_fitting(rows, lambda row: row_length(row, tokenizer), max_length)
    if report is not None:
        report.counts["skipped_too_long"] += dropped
        report.rows = len(kept)
    return kept
