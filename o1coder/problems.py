"""Problems and test cases: the data every stage shares.

A :class:`TestCase` has one of three forms, chosen so the sandbox can judge it honestly:

- ``TestCase.assertion("assert f(2) == 4")``: Python statements run after the candidate code. The sandbox splits
  simple ``assert`` comparisons into operands evaluated in the candidate's process and compared outside it.
- ``TestCase.call("f", [2], 4)``: ``f(*args)`` must equal ``expected``; the expected value never enters the
  candidate's process.
- ``TestCase.stdio("3\\n1 2 3\\n", "6\\n")``: the program reads stdin; its stdout must match (whitespace-tolerant).

Loaders for the public benchmarks live in :mod:`o1coder.loaders`; :func:`load_problems` is the one entry point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from o1coder.execution import plain

TestKind = Literal["assertion", "call", "stdio"]


@dataclass(frozen=True)
class TestCase:
    """One test. Build it with :meth:`assertion`, :meth:`call` or :meth:`stdio`."""

    __test__ = False  # not a pytest class

    kind: TestKind
    code: str | None = None  # assertion: Python statements
    fn: str | None = None  # call: function name
    args: tuple = ()  # call: positional arguments (plain data)
    expected: Any = None  # call: expected return value (plain data)
    atol: float = 0.0  # call: absolute tolerance for floats (evalplus)
    rtol: float = 0.0  # call: with atol, evalplus's comparison (same type, numpy.allclose with this rtol)
    also: tuple = ()  # call: other values that also pass, compared exactly (evalplus's special oracles)
    reference_seconds: float | None = None  # call, assertion: the reference's CPU time on it; scales the time limit
    stdin: str | None = None  # stdio
    stdout: str | None = None  # stdio: expected output

    @classmethod
    def assertion(cls, code: str, *, reference_seconds: float | None = None) -> TestCase:
        if not isinstance(code, str) or not code.strip():
            raise ValueError(f"TestCase.assertion needs Python source text, got {code!r}")
        return cls(kind="assertion", code=code, reference_seconds=_seconds("assertion", reference_seconds))

    @classmethod
    def call(cls, fn: str, args, expected, atol: float = 0.0, *, rtol: float = 0.0, also=(),
             reference_seconds: float | None = None) -> TestCase:
        if not isinstance(fn, str) or not fn.isidentifier():
            raise ValueError(f"TestCase.call needs a function name, got {fn!r}")
        if not isinstance(args, (list, tuple)):
            raise ValueError(f"TestCase.call needs a list of positional arguments, got {type(args).__name__}")
        return cls(kind="call", fn=fn, args=tuple(args), expected=expected, atol=float(atol or 0.0),
                   rtol=float(rtol or 0.0), also=tuple(also), reference_seconds=_seconds("call", reference_seconds))

    @classmethod
    def stdio(cls, stdin: str, stdout: str) -> TestCase:
        if not isinstance(stdin, str) or not isinstance(stdout, str):
            raise ValueError("TestCase.stdio needs two strings: the input and the expected output")
        return cls(kind="stdio", stdin=stdin, stdout=stdout)

    def to_dict(self) -> dict:
        """JSON-compatible form (plain-data tags keep tuples, sets and non-finite floats exact)."""
        if self.kind == "assertion":
            d = {"kind": "assertion", "code": self.code}
            if self.reference_seconds is not None:
                d["reference_seconds"] = self.reference_seconds
            return d
        if self.kind == "call":
            d = {"kind": "call", "fn": self.fn, "args": plain.encode(list(self.args)),
                 "expected": plain.encode(self.expected)}
            if self.atol:
                d["atol"] = self.atol
            if self.rtol:
                d["rtol"] = self.rtol
            if self.also:
                d["also"] = [plain.encode(v) for v in self.also]
            if self.reference_seconds is not None:
                d["reference_seconds"] = self.reference_seconds
            return d
        return {"kind": "stdio", "stdin": self.stdin, "stdout": self.stdout}

    @classmethod
    def from_dict(cls, d: dict) -> TestCase:
        """Inverse of :meth:`to_dict`; raises ValueError naming the missing field."""
        kind = d.get("kind")
        try:
            if kind == "assertion":
                return cls.assertion(d["code"], reference_seconds=d.get("reference_seconds"))
            if kind == "call":
                return cls.call(d["fn"], plain.decode(d["args"]), plain.decode(d.get("expected")), d.get("atol", 0.0),
                                rtol=d.get("rtol", 0.0), also=[plain.decode(v) for v in d.get("also", [])],
                                reference_seconds=d.get("reference_seconds"))
            if kind == "stdio":
                return cls.stdio(d["stdin"], d["stdout"])
        except KeyError as e:
            raise ValueError(f"a {kind} test needs the field {e.args[0]!r}") from None
        raise ValueError(f"test kind must be 'assertion', 'call' or 'stdio', got {kind!r}")

    def describe(self) -> str:
        """One line for logs and the app."""
        if self.kind == "assertion":
            first = self.code.strip().splitlines()[0]
            return first if len(first) < 120 else first[:117] + "..."
        if self.kind == "call":
            args = ", ".join(plain.short_repr(a, 40) for a in self.args)
            return f"{self.fn}({args}) == {plain.short_repr(self.expected, 60)}"
        return f"stdin {plain.short_repr(self.stdin, 40)} -> stdout {plain.short_repr(self.stdout, 40)}"


def _seconds(kind: str, reference_seconds) -> float | None:
    if reference_seconds is None:
        return None
    if not isinstance(reference_seconds, (int, float)) or isinstance(reference_seconds, bool) \
            or not reference_seconds >= 0:
        raise ValueError(f"TestCase.{kind}'s reference_seconds must be a non-negative number, "
                         f"got {reference_seconds!r}")
    return float(reference_seconds)


@dataclass
class Problem:
    """A programming problem.

    ``tests`` are hidden (evaluation only); ``public_tests`` may be shown to the model and used as reward tests.
    ``reference`` is a complete program that passes ``tests`` (None when the dataset has none). ``setup`` holds
    imports or definitions the tests need; it runs before the candidate code.
    """

    id: str
    prompt: str
    entry_point: str | None
    tests: list[TestCase]
    public_tests: list[TestCase] = field(default_factory=list)
    reference: str | None = None
    setup: str = ""
    metadata: dict = field(default_factory=dict)

    @property
    def is_stdio(self) -> bool:
        return self.entry_point is None

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "prompt": self.prompt,
            "entry_point": self.entry_point,
            "tests": [t.to_dict() for t in self.tests],
            "public_tests": [t.to_dict() for t in self.public_tests],
            "reference": self.reference,
            "setup": self.setup,
            "metadata": self.metadata,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Problem:
        return cls(
            id=d["id"],
            prompt=d["prompt"],
            entry_point=d.get("entry_point"),
            tests=[TestCase.from_dict(t) for t in d.get("tests", [])],
            public_tests=[TestCase.from_dict(t) for t in d.get("public_tests", [])],
            reference=d.get("reference"),
            setup=d.get("setup", "") or "",
            metadata=d.get("metadata", {}) or {},
        )


def load_problems(name: str, path=None, **options) -> list[Problem]:
    """Load a benchmark by name, from ``path`` (the benchmark's own published file format) or the Hugging Face hub.

    Names: "mbpp", "mbpp-sanitized", "mbppplus", "humaneval", "humanevalplus", "taco", "codecontests", "jsonl",
    "synthetic" (generated, no file: ``split=``, ``n=``, ``seed=``, ``level=``; see :mod:`o1coder.loaders.synthetic`).
    """
    from o1coder.loaders import load

    return load(name, path, **options)
