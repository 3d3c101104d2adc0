"""Generation: (problem, code) -> parsed, runnable test cases, with any Generator backend.

Generated text is never trusted: every answer goes through the tolerant parser, malformed blocks are dropped and
counted, and nothing here raises on what a model writes. :func:`tcg_reward_tests` packages this for MCTS
(``SearchConfig.reward_tests = "generated"``): it returns the ``reward_tests_fn(problem) -> list[TestCase]`` that
``o1coder.search.search`` takes.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from o1coder.models.base import Generator, SamplingParams
from o1coder.problems import Problem, TestCase
from o1coder.tcg.cases import Case, parse_cases
from o1coder.tcg.config import TCGConfig
from o1coder.tcg.convert import call_shape, case_to_test
from o1coder.tcg.template import build_prompt

logger = logging.getLogger(__name__)

BATCH = 32  # prompts per generator call: enough to fill a batch, few enough to report progress


@dataclass
class GeneratedTests:
    """The tests the TCG wrote for one (problem, code): parsed cases, the raw answers, and what was dropped."""

    problem_id: str
    tests: list[TestCase] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    dropped: int = 0
    reasons: Counter = field(default_factory=Counter)

    def to_dict(self) -> dict:
        return {"problem_id": self.problem_id, "tests": [t.to_dict() for t in self.tests], "texts": self.texts,
                "dropped": self.dropped, "reasons": dict(self.reasons)}

    @classmethod
    def from_dict(cls, d: dict) -> GeneratedTests:
        return cls(problem_id=d["problem_id"], tests=[TestCase.from_dict(t) for t in d.get("tests", [])],
                   texts=list(d.get("texts", [])), dropped=int(d.get("dropped", 0)),
                   reasons=Counter(d.get("reasons", {})))


def sampling_params(base: SamplingParams | None, config: TCGConfig) -> SamplingParams:
    """The recipe's sampling section with the ``tcg.sampling`` overrides applied."""
    base = base or SamplingParams()
    try:
        return dataclasses.replace(base, **config.sampling)
    except TypeError as error:
        raise ValueError(f"tcg.sampling has a key SamplingParams does not take ({error}); known: "
                         f"{', '.join(f.name for f in dataclasses.fields(SamplingParams))}") from None


def collect(problem: Problem, texts: Sequence[str], config: TCGConfig) -> GeneratedTests:
    """Parse answers for ``problem`` into tests; duplicates across samples are dropped (counted)."""
    shape = call_shape(problem)
    out = GeneratedTests(problem.id, texts=[t if isinstance(t, str) else repr(t) for t in texts])
    seen: set[str] = set()
    for text in texts:
        parsed = parse_cases(text, stdio=shape.stdio, max_cases=config.max_cases,
                             max_field_chars=config.max_field_chars)
        out.dropped += parsed.dropped
        out.reasons.update(parsed.reasons)
        for case in parsed.cases:
            key = repr((case.input, case.output))
            if key in seen:
                out.dropped += 1
                out.reasons["duplicate"] += 1
                continue
            try:
                test = case_to_test(case, shape)
            except (ValueError, TypeError):  # e.g. a value TestCase refuses
                out.dropped += 1
                out.reasons["not_a_test"] += 1
                continue
            seen.add(key)
            out.cases.append(case)
            out.tests.append(test)
    return out


def generate_tests(generator: Generator, items: Sequence[tuple[Problem, str | None]], config: TCGConfig,
                   params: SamplingParams | None = None,
                   progress: Callable[[int], None] | None = None) -> list[GeneratedTests]:
    """Tests for each (problem, code), in order; ``config.samples`` answers per item are pooled.

    ``code`` is the solution shown in the template's code part (None: the problem alone). ``progress(k)`` is
    called after each batch with the number of items it finished.
    """
    params = sampling_params(params, config)
    results: list[GeneratedTests] = []
    for start in range(0, len(items), BATCH):
        batch = items[start : start + BATCH]
        prompts = [build_prompt(p, code, config.cases_per_sample, config.chat) for p, code in batch]
        answers = generator.generate(prompts, params, n=config.samples)
        for (problem, _), completions in zip(batch, answers):
            results.append(collect(problem, [c.text for c in completions], config))
        if progress is not None:
            progress(len(batch))
    return results


def keep_reference_passing(problem: Problem, tests: list[TestCase], sandbox) -> list[TestCase]:
    """The tests ``problem.reference`` passes (all of them when there is no reference to check with)."""
    if not tests or not problem.reference:
        return list(tests)
    result = sandbox.run(problem.reference, tests, problem.setup)
    if len(result.outcomes) != len(tests):
        return []
    return [t for t, outcome in zip(tests, result.outcomes) if outcome.passed]


def tcg_reward_tests(generator: Generator, sandbox=None, *, config: TCGConfig | None = None,
                     params: SamplingParams | None = None,
                     filter_with_reference: bool = True) -> Callable[[Problem], list[TestCase]]:
    """A ``reward_tests_fn`` for the search: the TCG's tests for a problem, generated once and cached by id.

    The TCG is shown ``problem.reference`` as its code part when there is one, else the problem alone. With a
    ``sandbox`` and ``filter_with_reference``, generated cases the reference fails are removed before the search
    sees them (a wrong expected output would reward wrong code); without a reference or a sandbox the cases are
    used as generated. An answer with no usable case gives an empty list: the search then rewards compiling only.
    """
    config = config or TCGConfig()
    cache: dict[str, list[TestCase]] = {}
    lock = threading.Lock()

    def reward_tests(problem: Problem) -> list[TestCase]:
        with lock:
            if problem.id in cache:
                return list(cache[problem.id])
        [generated] = generate_tests(generator, [(problem, problem.reference)], config, params)
        tests = generated.tests
        if sandbox is not None and filter_with_reference:
            tests = keep_reference_passing(problem, tests, sandbox)
        if not tests:
            logger.warning("the TCG gave no usable test for %s (%d dropped: %s)", problem.id, generated.dropped,
                           dict(generated.reasons))
        with lock:
            cache[problem.id] = tests
        return list(tests)

    return reward_tests
