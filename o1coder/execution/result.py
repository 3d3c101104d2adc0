"""What the sandbox returns: one verdict per test and an overall status."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUSES = ("passed", "failed", "compile_error", "runtime_error", "timeout", "memory", "crashed")


@dataclass
class TestOutcome:
    """The verdict of one test: ``status`` is one of STATUSES, ``message`` says why in one short line."""

    __test__ = False  # not a pytest class

    status: str
    message: str = ""
    actual: Any = None  # call tests: the plain value returned (None when it raised)
    cpu_seconds: float = 0.0
    stdout: str | None = None  # stdio tests: the start of what the program printed

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_dict(self) -> dict:
        from o1coder.execution import plain

        d = {"status": self.status, "message": self.message, "cpu_seconds": round(self.cpu_seconds, 4)}
        if self.stdout is not None:
            d["stdout"] = self.stdout
        if self.actual is not None:
            try:
                d["actual"] = plain.encode(self.actual)
            except ValueError:
                pass
        return d


@dataclass
class ExecResult:
    """The verdict on a program.

    ``status`` is "passed" when every test passed, "compile_error" when the program does not compile, otherwise the
    status of the first test that did not pass. With no tests, the program is run once: ``status`` says whether it
    ran cleanly, but nothing counts as passed (``pass_rate`` 0, ``all_passed`` False).
    """

    status: str
    outcomes: list[TestOutcome] = field(default_factory=list)
    compiled: bool = True
    duration: float = 0.0
    message: str = ""  # compile error or sandbox failure
    cached: bool = False

    @property
    def n_tests(self) -> int:
        return len(self.outcomes)

    @property
    def n_passed(self) -> int:
        return sum(o.passed for o in self.outcomes)

    @property
    def all_passed(self) -> bool:
        return self.n_tests > 0 and self.n_passed == self.n_tests

    @property
    def pass_rate(self) -> float:
        return self.n_passed / self.n_tests if self.n_tests else 0.0

    def summary(self) -> dict:
        """The short form kept in search trees: status and counts."""
        return {"status": self.status, "n_passed": self.n_passed, "n_tests": self.n_tests}

    def to_dict(self) -> dict:
        return {
            **self.summary(),
            "pass_rate": self.pass_rate,
            "all_passed": self.all_passed,
            "compiled": self.compiled,
            "duration": round(self.duration, 4),
            "message": self.message,
            "outcomes": [o.to_dict() for o in self.outcomes],
        }

    @classmethod
    def from_outcomes(cls, outcomes: list[TestOutcome], duration: float = 0.0) -> ExecResult:
        first_bad = next((o for o in outcomes if not o.passed), None)
        return cls(status=first_bad.status if first_bad else "passed", outcomes=outcomes, duration=duration)
