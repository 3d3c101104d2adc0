"""DPO pairs from the generator's own answers, their outputs corrected by the reference (``tcg.dpo_pairs``).

The paper's pairs (:func:`o1coder.tcg.data.dpo_rows`) contrast the dataset's true cases with the same inputs and
the outputs shuffled. A generator that has learnt the format but guesses outputs (a small model) gains little from
them: it never writes a permutation of true outputs, so the rejected answers are far from anything it samples, and
on the synthetic world DPO on them left validity within noise of SFT's, eight models out of eight (README, "The
tiny world"). Here the pairs come from the SFT model itself, as in on-policy preference learning:

1. the SFT model answers each training problem ``corrected_samples`` times (the recipe's sampling with
   ``tcg.sampling``), shown the reference as its code part, as at evaluation;
2. the reference runs on every parsed case of every answer in the sandbox, which gives the output it really
   returns (call problems: the returned value; stdin/stdout problems: what it printed, when shorter than the
   2,000 characters the sandbox reports);
3. an answer with at least one wrong case becomes a pair: *rejected* is the answer's cases as written, *chosen*
   the same inputs with the reference's outputs, and without the inputs the reference itself fails on (an invalid
   input has no right output). Both sides are rendered the same way (:func:`o1coder.tcg.cases.render_cases`), so
   they differ only where the generator was wrong. Answers whose cases are all right give no pair.

Everything skipped is counted in the :class:`~o1coder.tcg.data.DataReport` by reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from o1coder.problems import Problem
from o1coder.tcg.cases import Case, parse_cases
from o1coder.tcg.config import TCGConfig
from o1coder.tcg.convert import call_shape, case_to_test
from o1coder.tcg.data import DataReport, render_row_cases
from o1coder.tcg.template import build_completion, build_prompt

STDOUT_SHOWN = 2000  # the sandbox reports the first 2,000 characters a stdin/stdout program printed


def corrected_rows(problems: Sequence[Problem], generator, config: TCGConfig, sandbox,
                   params=None) -> tuple[list[dict], DataReport]:
    """Pairs (chosen: corrected outputs, rejected: the generator's own) for ``problems`` (see the module docstring).

    ``generator`` is the SFT model (any :class:`~o1coder.models.base.Generator`), ``params`` the recipe's sampling
    (``tcg.sampling`` is applied over it, ``tcg.corrected_samples`` answers per problem).
    """
    import dataclasses

    from o1coder.tcg.generate import generate_tests

    report = DataReport()
    usable = []
    for problem in problems:
        report.problems += 1
        if not problem.reference:
            report.counts["skipped_no_solution"] += 1
        else:
            usable.append(problem)
    sampled = generate_tests(generator, [(p, p.reference) for p in usable],
                             dataclasses.replace(config, samples=config.corrected_samples), params)
    answers: list[tuple[Problem, list[Case]]] = []
    jobs = []  # the reference on each answer's cases
    for problem, generated in zip(usable, sampled):
        shape = call_shape(problem)
        for text in generated.texts:  # one answer at a time: generate_tests pools an item's answers
            cases = parse_cases(text, stdio=shape.stdio, max_cases=config.cases_per_sample,
                                max_field_chars=config.max_field_chars).cases
            if cases:
                answers.append((problem, cases))
                jobs.append((problem.reference, [case_to_test(c, shape) for c in cases], problem.setup))
            else:
                report.counts["answers_without_cases"] += 1
    report.counts["answers_sampled"] += sum(len(g.texts) for g in sampled)
    rows = []
    for (problem, cases), result in zip(answers, sandbox.run_many(jobs)):
        corrected = corrected_cases(cases, result.outcomes)
        if corrected is None:
            report.counts["answers_not_judged"] += 1
            continue
        if corrected == cases:
            report.counts["answers_all_valid"] += 1
            continue
        if not corrected:
            report.counts["answers_no_valid_input"] += 1
            continue
        good, bad = render_row_cases(corrected, config, report), render_row_cases(cases, config, report)
        if good is None or bad is None:
            continue
        rows.append({"prompt": build_prompt(problem, problem.reference, config.cases_per_sample, config.chat),
                     "chosen": build_completion(good, config.chat), "rejected": build_completion(bad, config.chat),
                     "problem_id": problem.id})
    report.rows = len(rows)
    return rows, report


def corrected_cases(cases: Sequence[Case], outcomes) -> list[Case] | None:
    """``cases`` with each wrong output replaced by the reference's, inputs the reference fails on left out.

    ``outcomes``: the reference's verdicts on ``cases`` in order. A wrong output is corrected from what the judge
    saw: the value a call returned (its verdict says "returned ...") or what a stdin/stdout program printed. None
    when the verdicts cannot be read that way: fewer verdicts than cases (the run stopped early), a wrong output
    longer than the sandbox reports, or a failure that names no output (a method problem's assertion).
    """
    if len(outcomes) != len(cases):
        return None
    out: list[Case] = []
    for case, outcome in zip(cases, outcomes):
        if outcome.passed:
            out.append(case)
        elif outcome.status in ("runtime_error", "timeout", "memory"):  # an input the reference cannot take
            continue
        elif outcome.status != "failed":
            return None
        elif case.stdio:
            if outcome.stdout is None or len(outcome.stdout) >= STDOUT_SHOWN:
                return None
            out.append(Case(case.input, outcome.stdout, stdio=True))
        elif outcome.message.startswith("returned "):
            out.append(Case(case.input, outcome.actual))
        else:
            return None
    return out


def training_pairs(problems: Sequence[Problem], config: TCGConfig, *, sandbox=None, sft_dir=None,
                   model_config=None, params=None, require: bool = True) -> tuple[list[dict], DataReport]:
    """The DPO rows ``tcg.dpo_pairs`` asks for: the paper's shuffled pairs, corrected pairs, or both (shuffled
    first). Corrected pairs need the SFT model (``sft_dir`` with ``model_config``, the recipe's model) and a
    ``sandbox``; without them this raises before anything runs, naming what to give. With ``require``, corrected
    sampling that makes no pair at all is an error that counts what the SFT model wrote (else: no rows)."""
    from o1coder.tcg.data import dpo_rows

    if config.dpo_pairs == "shuffled":
        return dpo_rows(problems, config, sandbox)
    if sft_dir is None or model_config is None or sandbox is None:
        missing = ", ".join(name for name, value in (("the SFT model folder (--sft)", sft_dir),
                                                     ("the recipe's model", model_config), ("a sandbox", sandbox))
                            if value is None)
        raise ValueError(f"tcg.dpo_pairs={config.dpo_pairs!r} samples the SFT model's own answers and needs {missing}; "
                         "give them, or set tcg.dpo_pairs=shuffled (the paper's pairs)")
    from o1coder.models import build_generator
    from o1coder.tcg.train import trained_model_config

    generator = build_generator(trained_model_config(sft_dir, model_config))
    rows, report = corrected_rows(problems, generator, config, sandbox, params)
    if config.dpo_pairs == "corrected":
        if not rows and require:
            counts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items()) if v)
            raise ValueError(f"tcg.dpo_pairs=corrected made no pair from {report.problems} problems ({counts}): the "
                             "SFT model wrote no case with a wrong output that the reference could correct; train "
                             "it longer, or set tcg.dpo_pairs=both or shuffled")
        return rows, report
    shuffled, first = dpo_rows(problems, config, sandbox)
    report.counts.pop("skipped_no_solution", None)  # the shuffled report counts those problems already
    first.counts.update(report.counts)
    first.rows = len(shuffled) + len(rows)
    return shuffled + rows, first
