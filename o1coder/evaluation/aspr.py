r"""ASPR, the average sampling pass rate: how reliably the model turns a correct line of reasoning into correct code.

The paper (Table 1: "the average success rate of reaching the correct reasoning path on the last step") gives no
formula. Ours, for a problem set P, a mode (vanilla or pseudocode), one tree T_p per problem (a search tree, or the
evaluation samples merged into a tree), the hidden tests H_p of each problem and a number of samples K:

1. The correct terminals C_p are the code nodes of T_p (action 3, not dead) whose program passes every test of H_p.
   Hidden tests decide correctness, never the reward tests the search steered on.
2. A problem with C_p empty has no correct path: it is **excluded** from the average (and counted).
3. Otherwise t*_p is the correct terminal the search rates highest (reward on the reward tests, then value Q/N, then
   the earliest created) and s*_p = parent(t*_p) is the last pseudocode state on its path: the problem plus the
   steps up to the last structure/refine step before the code. It is the bare prompt when the code is the path's
   first step, and always for vanilla (the vanilla prompt).
4. K continuations are sampled from s*_p in one call: one next step each (pseudocode) or one answer each (vanilla).
   x_p counts those that are code (a code step that parses, for pseudocode; an answer with a program, for vanilla)
   and pass every test of H_p.
5. ASPR_p = x_p / K, and ASPR = (1 / |P'|) * sum over p in P' of ASPR_p, with P' = {p : C_p not empty};
   ASPR is undefined (None) when P' is empty. |P'| and |P| - |P'| are reported beside it.

The unit of the average is the problem (not the sample), so an easy problem with many correct paths weighs as
much as a hard one with one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field

from o1coder.evaluation.sampling import Sampler
from o1coder.problems import Problem, TestCase
from o1coder.reasoning import Step, extract_program, parse
from o1coder.search.tree import Node, Tree


@dataclass
class ProblemAspr:
    """ASPR's record for one problem: whether it counts, which path was used, and x_p of K."""

    problem_id: str
    mode: str
    k: int
    included: bool = False
    passed: int = 0
    correct_node: int | None = None
    state_node: int | None = None
    state_steps: int = 0
    code_nodes: int = 0
    correct_nodes: int = 0
    tokens: int = 0  # completion tokens of the K samples
    executions: int = 0  # programs run on the hidden tests (terminals and samples)
    ends: dict[str, int] = field(default_factory=dict)  # how the K samples ended (code, no_code, dead)

    @property
    def rate(self) -> float | None:
        """ASPR_p = x_p / K; None when the problem is excluded."""
        return self.passed / self.k if self.included else None

    def to_dict(self) -> dict:
        return {**asdict(self), "rate": self.rate}

    @classmethod
    def from_dict(cls, d: dict) -> ProblemAspr:
        """The record as :meth:`to_dict` stored it (a resumed evaluation reads its finished problems back)."""
        return cls(**{k: v for k, v in d.items() if k != "rate"})


@dataclass
class AsprSummary:
    """ASPR over a problem set with how many problems it averages and how many had no correct path."""

    value: float | None
    included: int
    excluded: int

    def to_dict(self) -> dict:
        return asdict(self)


def summarize(records: Iterable[ProblemAspr]) -> AsprSummary:
    """ASPR = mean of x_p / K over the included problems (None when none is included)."""
    records = list(records)
    rates = [r.rate for r in records if r.included]
    return AsprSummary(sum(rates) / len(rates) if rates else None, len(rates), len(records) - len(rates))


def correct_terminals(problem: Problem, tree: Tree, sandbox, hidden: Sequence[TestCase]) -> tuple[list[Node], int]:
    """Code nodes of ``tree`` whose program passes every hidden test (one cached ``run_many``), and the number of
    programs run."""
    nodes = tree.terminals()
    programs = [extract_program(n.text, problem.entry_point).code for n in nodes]
    jobs = [(code, list(hidden), problem.setup) for code in programs if code is not None]
    # only the verdict counts here: a program stops at its first failed test
    results = iter(sandbox.run_many(jobs, cache=True, stop_on_failure=True) if jobs else ())
    correct = [node for node, code in zip(nodes, programs) if code is not None and next(results).all_passed]
    return correct, len(jobs)


def chosen_state(tree: Tree, correct: Sequence[Node]) -> tuple[Node, Node, list[Step]]:
    """(t*, s*, the steps of s*): the correct terminal rated highest and the state just before it."""
    best = max(correct, key=lambda n: (n.reward if n.reward is not None else 0.0, n.value, -n.created))
    steps = []
    for node in tree.path(best.id)[1:-1]:
        result = parse(node.text)
        if not result.ok:
            raise ValueError(f"tree {tree.problem_id}: node {node.id} on the path to the correct node {best.id} is "
                             f"not a readable step ({'; '.join(result.errors)})")
        steps.append(result.step)
    return best, tree.nodes[best.parent], steps


def problem_aspr(problem: Problem, tree: Tree, mode: str, sampler: Sampler, sandbox, k: int,
                 hidden: Sequence[TestCase] | None = None) -> ProblemAspr:
    """ASPR_p for one problem (steps 1-5 of the module docstring); ``hidden`` defaults to ``problem.tests``."""
    hidden = list(problem.tests if hidden is None else hidden)
    if not hidden:
        raise ValueError(f"problem {problem.id} has no hidden tests: ASPR needs tests to score the samples on")
    record = ProblemAspr(problem.id, mode, k)
    correct, executed = correct_terminals(problem, tree, sandbox, hidden)
    record.code_nodes, record.correct_nodes, record.executions = len(tree.terminals()), len(correct), executed
    if not correct:
        return record
    best, state, steps = chosen_state(tree, correct)
    if mode == "vanilla" and steps:
        raise ValueError(f"tree {tree.problem_id}: mode 'vanilla' needs code nodes right under the root (a vanilla "
                         f"best-of-N tree); node {best.id} has {len(steps)} steps before it")
    samples = sampler.from_state(problem, mode, steps, k)
    jobs = [(s.program, hidden, problem.setup) for s in samples if s.program is not None]
    results = sandbox.run_many(jobs, cache=True, stop_on_failure=True) if jobs else []
    record.included = True
    record.correct_node, record.state_node, record.state_steps = best.id, state.id, len(steps)
    record.passed = sum(r.all_passed for r in results)
    record.tokens = sum(s.tokens for s in samples)
    record.executions += len(jobs)
    for s in samples:
        record.ends[s.end] = record.ends.get(s.end, 0) + 1
    return record


@dataclass
class AsprReport:
    summary: AsprSummary
    problems: list[ProblemAspr]

    def to_dict(self) -> dict:
        return {"summary": self.summary.to_dict(), "problems": [p.to_dict() for p in self.problems]}


def aspr(items: Iterable[tuple[Problem, Tree]], mode: str, sampler: Sampler, sandbox, k: int,
         hidden_fn: Callable[[Problem], Sequence[TestCase]] | None = None) -> AsprReport:
    """ASPR over ``(problem, tree)`` pairs, e.g. trees read back with :func:`o1coder.runs.load_tree`.

    ``hidden_fn(problem)`` gives the tests to score on (default ``problem.tests``; pass the search's hidden split
    when it rewarded on held-out tests).
    """
    records = [problem_aspr(p, t, mode, sampler, sandbox, k, None if hidden_fn is None else hidden_fn(p))
               for p, t in items]
    return AsprReport(summarize(records), records)
