"""``search()``: one problem in, a tree, its best answer and the cost of finding it out.

    from o1coder.search import search, SearchConfig
    result = search(problem, generator, sandbox, SearchConfig(rollouts=8))
    result.answer, result.hidden.pass_rate, result.stats["tokens"]
    results = search_many(problems, generator, sandbox, config, concurrency=16)  # 16 trees, one batch per step

The run store and the CLI call this once per problem with an observer that records nodes as they appear.
"""

from __future__ import annotations

import ast
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from o1coder.execution import ExecResult
from o1coder.models.base import Generator, SamplingParams
from o1coder.problems import Problem
from o1coder.reasoning.extract import extract_program
from o1coder.search.baselines import run_beam, run_best_of_n
from o1coder.search.config import ANSWERS, SearchConfig
from o1coder.search.context import PriorFn, SearchContext
from o1coder.search.mcts import run_mcts
from o1coder.search.observer import NullObserver, SearchObserver
from o1coder.search.reward import RewardTestsFn
from o1coder.search.tree import Node, Tree

logger = logging.getLogger(__name__)

_ALGORITHMS = {"mcts": run_mcts, "best_of_n": run_best_of_n, "beam": run_beam}


@dataclass
class SearchResult:
    """The outcome of searching one problem.

    ``best`` is the best terminal found (highest reward on the reward tests, ties by value, then the earliest
    created); ``answer`` its program; ``hidden`` that program's verdict on the hidden tests (None without an
    answer, without hidden tests, or with ``score_hidden`` off). ``stats`` is described in :func:`search`.
    """

    tree: Tree
    best: Node | None
    answer: str | None
    hidden: ExecResult | None
    stats: dict

    @property
    def problem_id(self) -> str:
        return self.tree.problem_id

    @property
    def solved(self) -> bool:
        """The answer passes every hidden test."""
        return self.hidden is not None and self.hidden.all_passed


def search(problem: Problem, generator: Generator, sandbox, config: SearchConfig,
           observer: SearchObserver = NullObserver(), sampling: SamplingParams | None = None, *,
           prior_fn: PriorFn | None = None, reward_tests_fn: RewardTestsFn | None = None) -> SearchResult:
    """Search ``problem`` with ``config.algorithm`` ("mcts", "best_of_n" or "beam").

    ``sampling`` is the recipe's sampling section (temperature, top_p, max_new_tokens per step...); the search sets
    the stop strings and a seed per call. ``prior_fn(problem, steps) -> scores`` rates steps (a PRM: PUCT prior
    with ``prior: prm``, beam value); ``reward_tests_fn(problem) -> tests`` supplies ``reward_tests: generated``.

    ``stats``: ``tokens`` ({"prompt", "completion"}), ``generator_calls``, ``programs_executed``,
    ``executions_by_test_set`` ({"reward", "hidden"}: the hidden count is 0 or 1, the final answer),
    ``execution_cache_hits``, ``wall_seconds``, ``generation_seconds``, ``execution_seconds``, ``observer_seconds``,
    ``overhead_share`` (wall time outside generation and execution), ``rollouts`` (completed paths backpropagated),
    ``nodes``, ``terminals``, ``dead``, ``passing_terminals``, ``max_depth_reached``, ``reward_tests`` (mode and
    counts), ``stop_reason`` ("rollouts", "passing", "token_budget", "execution_budget", "finished", "depth",
    "exhausted": MCTS found nothing left to learn in the tree, see :mod:`o1coder.search.mcts`). With generated
    reward tests, ``generated_agreement`` (:func:`generated_agreement`): ``programs``, ``false_passes``,
    ``false_fails``, ``executions``.
    """
    ctx = SearchContext(problem, generator, sandbox, config, observer, sampling,
                        prior_fn=prior_fn, reward_tests_fn=reward_tests_fn)
    _ALGORITHMS[config.algorithm](ctx)
    best = best_terminal(ctx.tree, config.answer)
    answer = ctx.program(best) if best is not None else None
    hidden = None
    if answer is not None and config.score_hidden:
        if ctx.split.hidden:
            hidden = ctx.score_hidden(answer)
        else:
            logger.warning("problem %s has no hidden tests left to score the answer on", problem.id)
    stats = ctx.stats()
    if config.reward_tests == "generated" and config.score_hidden and ctx.split.hidden:
        stats["generated_agreement"] = generated_agreement(ctx)
    logger.info("searched %s: %d nodes, %d rollouts, best reward %s, hidden %s, %.1fs", problem.id, stats["nodes"],
                stats["rollouts"], None if best is None else round(best.reward, 3),
                None if hidden is None else f"{hidden.n_passed}/{hidden.n_tests}", stats["wall_seconds"])
    return SearchResult(ctx.tree, best, answer, hidden, stats)


def generated_agreement(ctx: SearchContext) -> dict:
    """How far the generated reward tests agree with the hidden ones on this search's programs: every scored code
    node is run once more on the hidden tests (after the search, so they never steer it) and the two verdicts
    (passes all / not) compared. ``false_passes``: programs the generated tests pass and the hidden tests fail (a
    reward the search should not have earned); ``false_fails``: the reverse."""
    scored = [n for n in ctx.tree.terminals() if n.exec is not None]
    programs = {n.id: ctx.program(n) or "" for n in scored}
    jobs = [(programs[n.id], list(ctx.split.hidden), ctx.problem.setup) for n in scored]
    results = ctx.sandbox.run_many(jobs, cache=True) if jobs else []
    false_passes = sum(1 for n, r in zip(scored, results) if n.exec.get("all_passed") and not r.all_passed)
    false_fails = sum(1 for n, r in zip(scored, results) if not n.exec.get("all_passed") and r.all_passed)
    return {"programs": len(scored), "false_passes": false_passes, "false_fails": false_fails,
            "executions": len(jobs)}


def search_many(problems: Sequence[Problem], generator: Generator, sandbox, config: SearchConfig, *,
                concurrency: int | None = None, observer_for: Callable[[Problem], SearchObserver] | None = None,
                on_result: Callable[[Problem, SearchResult], None] | None = None,
                sampling: SamplingParams | None = None, prior_fn: PriorFn | None = None,
                reward_tests_fn: RewardTestsFn | None = None) -> list[SearchResult]:
    """Search ``problems`` with ``concurrency`` of them in flight (default ``config.concurrency``, else 1).

    Each problem is searched by :func:`search`, unchanged; their generator calls of one step are answered in one
    batch and their sandbox runs beside it (:class:`~o1coder.search.inflight.InFlight`). ``observer_for(problem)``
    gives each search its own observer; ``on_result(problem, result)`` is called as each one finishes, in the
    caller's thread. Results come back in the order of ``problems``. Concurrency 1 gives exactly the trees of
    calling :func:`search` on each problem in turn.
    """
    from o1coder.search.inflight import InFlight

    concurrency = concurrency or config.concurrency or 1

    def work(problem: Problem, task_generator, task_sandbox) -> SearchResult:
        observer = observer_for(problem) if observer_for is not None else NullObserver()
        return search(problem, task_generator, task_sandbox, config, observer, sampling, prior_fn=prior_fn,
                      reward_tests_fn=reward_tests_fn)

    return InFlight(generator, sandbox, concurrency).map(problems, work, on_result)


def best_terminal(tree: Tree, answer: str | None = None) -> Node | None:
    """The answer a search hands in: among the code nodes with the highest reward, by ``answer`` (default: the
    tree's own ``search.answer``, else "first"). "first": the highest value (Q/N), then the earliest created.
    "majority": the program written most often among them (:func:`program_key`), then as "first"."""
    scored = [n for n in tree.terminals() if n.reward is not None]
    if not scored:
        return None
    answer = answer or tree.config.get("search", {}).get("answer") or "first"
    if answer not in ANSWERS:  # a misspelt rule would otherwise hand in the "first" answer without a word
        raise ValueError(f"answer must be one of {', '.join(map(repr, ANSWERS))}; got {answer!r}")
    if answer == "majority":
        top = max(n.reward for n in scored)
        scored = [n for n in scored if n.reward == top]
        keys = {n.id: program_key(n.text) for n in scored}  # each program parsed once
        counts = Counter(keys.values())
        return max(scored, key=lambda n: (counts[keys[n.id]], n.value, -n.created))
    return max(scored, key=lambda n: (n.reward, n.value, -n.created))


def program_key(text: str) -> str:
    """What two code steps share when they hold the same program: its syntax tree (layout and comments aside), or
    the text with whitespace collapsed when it does not parse."""
    code = extract_program(text).code or text
    try:
        return ast.dump(ast.parse(code))
    except (SyntaxError, ValueError):
        return " ".join(code.split())
