"""TCG quality: validity (the paper's metric) and mutant kill rate (ours), all executions through the sandbox.

- **Validity**: the share of generated tests that the reference solution passes, pooled over problems. O1-CODER
  reports 80.8% after SFT and 89.2% after DPO (TACO test, DeepSeek-Coder-1.3B); :data:`PAPER_VALIDITY`.
- **Mutant kill rate**: each reference gets up to ``max_mutants`` mutants (:mod:`o1coder.tcg.mutants`). A mutant is
  killed by a test set when it does not pass all of it (a wrong answer, a crash, a timeout). Generated tests are
  first reduced to the *valid* ones: an invalid test fails the reference too, so it would "kill" every mutant and
  prove nothing. The same mutants are run against the dataset's own tests, which splits them in two: the ones the
  dataset tests kill (detectable; the generated tests' share of these is the headline rate) and the survivors,
  which are equivalent to the reference or which the dataset tests miss. Survivors are reported apart; a survivor
  the valid generated tests kill is a real bug that the dataset tests do not catch.

Problems without a reference, without generated tests, or whose reference fails its own dataset tests are
counted and left out of both metrics.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

from o1coder.problems import Problem, TestCase
from o1coder.tcg.mutants import generate_mutants

PAPER_VALIDITY = {"sft": 0.808, "dpo": 0.892}
"""O1-CODER's validity of generated tests on TACO test with DeepSeek-Coder-1.3B, after SFT and after DPO."""


@dataclass
class ProblemEval:
    """One problem's counts. ``status``: "ok", "no_reference", "no_generated" or "reference_fails_dataset"."""

    problem_id: str
    status: str = "ok"
    generated: int = 0
    valid: int = 0
    mutants: int = 0
    killed_by_dataset: int = 0
    killed_by_generated: int = 0
    killed_by_both: int = 0

    @property
    def survivors(self) -> int:
        return self.mutants - self.killed_by_dataset

    @property
    def survivors_killed_by_generated(self) -> int:
        return self.killed_by_generated - self.killed_by_both


@dataclass
class TCGEvaluation:
    """The evaluation over a problem set: per-problem counts and the pooled metrics."""

    problems: list[ProblemEval] = field(default_factory=list)

    def _sum(self, name: str) -> int:
        return sum(getattr(p, name) for p in self.problems if p.status == "ok")

    @property
    def validity(self) -> float | None:
        generated = self._sum("generated")
        return self._sum("valid") / generated if generated else None

    @property
    def kill_rate(self) -> float | None:
        """Share of the detectable mutants (those the dataset tests kill) that the valid generated tests kill."""
        detectable = self._sum("killed_by_dataset")
        return self._sum("killed_by_both") / detectable if detectable else None

    @property
    def dataset_kill_rate(self) -> float | None:
        """Share of all mutants the dataset's own tests kill (the rest are survivors)."""
        mutants = self._sum("mutants")
        return self._sum("killed_by_dataset") / mutants if mutants else None

    @property
    def generated_kill_rate_all(self) -> float | None:
        """Share of all mutants the valid generated tests kill (same denominator as ``dataset_kill_rate``)."""
        mutants = self._sum("mutants")
        return self._sum("killed_by_generated") / mutants if mutants else None

    def to_dict(self) -> dict:
        ok = [p for p in self.problems if p.status == "ok"]
        return {
            "problems": len(self.problems), "evaluated": len(ok),
            "statuses": dict(Counter(p.status for p in self.problems)),
            "generated_tests": self._sum("generated"), "valid_tests": self._sum("valid"), "validity": self.validity,
            "paper_validity": PAPER_VALIDITY,
            "mutants": self._sum("mutants"), "killed_by_dataset": self._sum("killed_by_dataset"),
            "killed_by_generated": self._sum("killed_by_generated"), "killed_by_both": self._sum("killed_by_both"),
            "survivors": sum(p.survivors for p in ok),
            "survivors_killed_by_generated": sum(p.survivors_killed_by_generated for p in ok),
            "kill_rate": self.kill_rate, "dataset_kill_rate": self.dataset_kill_rate,
            "generated_kill_rate_all": self.generated_kill_rate_all,
            "per_problem": [asdict(p) for p in self.problems],
        }  # fmt: skip

    def summary_lines(self) -> list[str]:
        """A short human-readable report (the CLI prints it)."""
        d = self.to_dict()
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(d["statuses"].items()))
        return [
            f"problems: {d['evaluated']} evaluated of {d['problems']} ({statuses})",
            (f"validity: {_pct(d['validity'])} of {d['generated_tests']} generated tests pass the reference "
             f"(paper, TACO test, DeepSeek-Coder-1.3B: {_pct(PAPER_VALIDITY['sft'])} after SFT, "
             f"{_pct(PAPER_VALIDITY['dpo'])} after DPO)"),
            (f"mutants: {d['mutants']}; dataset tests kill {d['killed_by_dataset']} "
             f"({_pct(d['dataset_kill_rate'])}), valid generated tests kill {d['killed_by_generated']} "
             f"({_pct(d['generated_kill_rate_all'])})"),
            (f"kill rate on the mutants the dataset tests detect: {_pct(d['kill_rate'])} "
             f"({d['killed_by_both']}/{d['killed_by_dataset']})"),
            (f"survivors of the dataset tests (equivalent or undetected): {d['survivors']}; the generated tests "
             f"kill {d['survivors_killed_by_generated']} of them"),
        ]


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def evaluate_tests(problems: Sequence[Problem], generated: Mapping[str, Sequence[TestCase]], sandbox, *,
                   max_mutants: int | None = 20, seed: int = 0) -> TCGEvaluation:
    """Validity and mutant kill rates of ``generated[problem.id]`` for each problem (see the module docstring)."""
    report = TCGEvaluation()
    todo: list[tuple[Problem, ProblemEval, list[TestCase]]] = []
    for problem in problems:
        row = ProblemEval(problem.id)
        report.problems.append(row)
        tests = list(generated.get(problem.id) or [])
        if not problem.reference:
            row.status = "no_reference"
        elif not tests:
            row.status = "no_generated"
        else:
            row.generated = len(tests)
            todo.append((problem, row, tests))
    # 1. the reference against the generated tests (validity) and against its own tests (sanity)
    jobs = [job for p, _, tests in todo for job in ((p.reference, tests, p.setup), (p.reference, p.tests, p.setup))]
    results = sandbox.run_many(jobs)
    mutant_jobs, owners = [], []
    for k, (problem, row, tests) in enumerate(todo):
        on_generated, on_dataset = results[2 * k], results[2 * k + 1]
        if problem.tests and not on_dataset.all_passed:
            row.status = "reference_fails_dataset"
            continue
        valid = [t for t, o in zip(tests, on_generated.outcomes) if o.passed] \
            if len(on_generated.outcomes) == len(tests) else []
        row.valid = len(valid)
        # 2. the mutants against the dataset tests and against the valid generated tests
        for mutant in generate_mutants(problem.reference, max_mutants, seed):
            row.mutants += 1
            mutant_jobs.append((mutant.code, problem.tests, problem.setup))
            mutant_jobs.append((mutant.code, valid, problem.setup))
            owners.append(row)
    runnable = [(i, job) for i, job in enumerate(mutant_jobs) if job[1]]  # no tests: nothing can kill it
    verdicts = dict(zip((i for i, _ in runnable), sandbox.run_many([job for _, job in runnable])))
    for m, row in enumerate(owners):
        by_dataset = 2 * m in verdicts and not verdicts[2 * m].all_passed
        by_generated = 2 * m + 1 in verdicts and not verdicts[2 * m + 1].all_passed
        row.killed_by_dataset += by_dataset
        row.killed_by_generated += by_generated
        row.killed_by_both += by_dataset and by_generated
    return report
