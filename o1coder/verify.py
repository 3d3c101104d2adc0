"""Run every reference solution of a benchmark through the sandbox: the check that loaders and sandbox agree.

A problem counts as verified when one of its first ``solutions`` reference programs passes all its tests (TACO
ships several solutions per problem, not all of them correct; other benchmarks have one).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from o1coder.execution import ExecResult, Sandbox
from o1coder.problems import Problem, TestCase


@dataclass
class VerifyReport:
    total: int = 0
    passed: int = 0
    without_reference: int = 0
    failures: list[tuple[str, ExecResult]] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)

    @property
    def checked(self) -> int:
        return self.total - self.without_reference

    def to_dict(self) -> dict:
        return {
            "total": self.total, "checked": self.checked, "passed": self.passed,
            "without_reference": self.without_reference, "statuses": dict(self.statuses),
            "failures": [{"id": pid, **r.summary(), "message": _first_message(r)} for pid, r in self.failures],
        }


def candidate_references(problem: Problem, solutions: int) -> list[str]:
    """The reference program first, then further published solutions, ``solutions`` in all."""
    refs = [problem.reference] if problem.reference else []
    for extra in problem.metadata.get("solutions", []) or []:
        if extra not in refs:
            refs.append(extra)
    return refs[:max(1, solutions)]


def verify_references(problems: list[Problem], sandbox: Sandbox, solutions: int = 3,
                      progress: Callable[[int], None] | None = None, batch: int = 32) -> VerifyReport:
    report = VerifyReport(total=len(problems))
    for start in range(0, len(problems), batch):
        chunk = problems[start:start + batch]
        jobs, owners = [], []
        for p in chunk:
            tests = list(p.tests)
            if p.metadata.get("assertion"):  # evalplus: the dataset's own asserts, beside the computed outputs
                tests.append(TestCase.assertion(p.metadata["assertion"]))
            for ref in candidate_references(p, solutions):
                jobs.append((ref, tests, p.setup))
                owners.append(p.id)
        results = sandbox.run_many(jobs)
        by_problem: dict[str, list[ExecResult]] = {}
        for pid, r in zip(owners, results):
            by_problem.setdefault(pid, []).append(r)
        for p in chunk:
            rs = by_problem.get(p.id, [])
            if not rs:
                report.without_reference += 1
                continue
            best = next((r for r in rs if r.all_passed), rs[0])
            report.statuses[best.status] += 1
            if best.all_passed:
                report.passed += 1
            else:
                report.failures.append((p.id, best))
        if progress:
            progress(len(chunk))
    return report


def _first_message(result: ExecResult) -> str:
    if result.message:
        return result.message
    bad = next((o for o in result.outcomes if not o.passed), None)
    return bad.message if bad else ""
