"""What every search algorithm shares: one problem's tree, the generator and sandbox calls, and their accounting.

MCTS, best-of-N and beam search all create nodes, sample from the generator, execute code and backpropagate
through this one class, so they report tokens, calls, executions and time the same way and can be compared at
equal budget. It also owns the observer calls (so a run store sees every node) and the seeds of generator calls.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence

from o1coder.execution import ExecResult
from o1coder.models.base import Completion, Generator, Prompt, SamplingParams
from o1coder.problems import Problem
from o1coder.reasoning import STEP_STOP_STRINGS, Step, extract_program, pseudocode_input
from o1coder.search.config import SearchConfig
from o1coder.search.observer import SearchObserver
from o1coder.search.reward import RewardTestsFn, exec_summary, split_tests, terminal_reward
from o1coder.search.tree import Node, Tree

logger = logging.getLogger(__name__)

PriorFn = Callable[[Problem, Sequence[Step]], Sequence[float]]
"""``prior_fn(problem, steps) -> one score in [0, 1] per step`` (a process reward model); the last score rates the
newest step. Used as the PUCT prior (``prior: prm``) and as beam search's value. A prior_fn that also has
``score_many([(problem, steps), ...]) -> [scores, ...]`` (e.g. :class:`o1coder.prm.PRMScorer`) rates all the new
children of a node in one batched call."""


class SearchContext:
    """One search of one problem: the tree, the parsed steps of its nodes, the counters and the budget."""

    def __init__(self, problem: Problem, generator: Generator, sandbox, config: SearchConfig,
                 observer: SearchObserver, sampling: SamplingParams | None = None, *,
                 prior_fn: PriorFn | None = None, reward_tests_fn: RewardTestsFn | None = None) -> None:
        self.start = time.perf_counter()
        if not isinstance(config, SearchConfig):
            raise TypeError(f"config must be a SearchConfig (SearchConfig.from_dict(recipe['search'])); "
                            f"got {type(config).__name__}")
        if config.prior == "prm" and config.selection == "puct" and prior_fn is None:
            raise ValueError("SearchConfig.prior='prm' needs prior_fn (problem, steps) -> scores, e.g. a trained "
                             "PRM; pass it to search(), or use prior='logprob'")
        self.problem, self.generator, self.sandbox = problem, generator, sandbox
        self.config, self.observer, self.prior_fn = config, observer, prior_fn
        self.sampling = sampling if sampling is not None else SamplingParams()
        self.split = split_tests(problem, config.reward_tests, seed=config.seed,
                                 heldout_fraction=config.heldout_fraction, reward_tests_fn=reward_tests_fn)
        if not self.split.reward:
            logger.warning("problem %s has no %s reward tests: terminal rewards only say whether the code compiles",
                           problem.id, config.reward_tests)
        self.examples = None if config.few_shot else ()
        self.steps: dict[int, Step] = {}  # node id -> the parsed step of every live node
        self.counts = {"generator_calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "rollouts": 0,
                       "reward_executions": 0, "hidden_executions": 0, "cache_hits": 0}
        self.seconds = {"generation": 0.0, "execution": 0.0, "observer": 0.0}
        self.stop_reason = "budget"
        self.tree = Tree(problem.id, config={"search": config.to_dict(), "sampling": _plain(self.sampling),
                                             "reward_tests": self.split.describe()})
        self.add_node(None, None, "")

    # -- generation --------------------------------------------------------------------------------------------
    @property
    def needs_logprobs(self) -> bool:
        c = self.config
        return (c.record_logprobs or (c.selection == "puct" and c.prior == "logprob")
                or (c.algorithm == "beam" and self.prior_fn is None))

    def step_params(self, seed: int) -> SamplingParams:
        """Sampling for one step: the recipe's sampling, stopping at the end of the step, with a derived seed."""
        base = self.sampling
        stop = tuple(dict.fromkeys(STEP_STOP_STRINGS + base.stop))
        return dataclasses.replace(base, max_new_tokens=self.config.max_step_tokens or base.max_new_tokens,
                                   stop=stop, seed=seed, logprobs=base.logprobs or self.needs_logprobs)

    def step_prompt(self, node: Node) -> Prompt:
        """The pseudocode prompt ending with the steps on the path to ``node``, where the next step begins (raw
        text, or chat messages with the steps as the assistant's partial answer: ``search.chat``)."""
        return pseudocode_input(self.problem, self.path_steps(node), examples=self.examples, chat=self.config.chat)

    def generate(self, prompts: Sequence[Prompt], params: SamplingParams, n: int) -> list[list[Completion]]:
        start = time.perf_counter()
        results = self.generator.generate(list(prompts), params, n=n)
        self.seconds["generation"] += time.perf_counter() - start
        self.counts["generator_calls"] += 1
        self.counts["prompt_tokens"] += sum(samples[0].prompt_tokens for samples in results if samples)
        self.counts["completion_tokens"] += sum(c.completion_tokens for samples in results for c in samples)
        return results

    def score_newest_steps(self, paths: Sequence[Sequence[Step]]) -> list[float]:
        """The prior_fn's score of each path's newest step: one ``score_many`` call when the prior_fn has it (a
        PRM batches the forward passes), else one call per path."""
        if not paths:
            return []
        many = getattr(self.prior_fn, "score_many", None)
        if many is not None:
            results = many([(self.problem, list(p)) for p in paths])
        else:
            results = [self.prior_fn(self.problem, list(p)) for p in paths]
        return [float(r[-1]) for r in results]

    # -- the tree ----------------------------------------------------------------------------------------------
    def add_node(self, parent: Node | None, action: int | None, text: str, step: Step | None = None,
                 **extra) -> Node:
        node = self.tree.add(None if parent is None else parent.id, action, text, **extra)
        if step is not None:
            self.steps[node.id] = step
        self._notify(self.observer.node_added, node)
        return node

    def updated(self, node: Node) -> None:
        self._notify(self.observer.node_updated, node)

    def _notify(self, method, node: Node) -> None:
        start = time.perf_counter()
        method(self.tree, node)
        self.seconds["observer"] += time.perf_counter() - start

    def path_steps(self, node: Node) -> list[Step]:
        return [self.steps[n.id] for n in self.tree.path(node.id)[1:]]

    def ended(self, node: Node) -> bool:
        """A leaf where a rollout stops: a code step, a dead step, or the depth limit."""
        return node.is_terminal or node.depth >= self.config.max_depth

    def program(self, node: Node) -> str | None:
        return self.program_of(node.text)

    def program_of(self, text: str) -> str | None:
        """The program in a code step (or a vanilla answer), as evaluation would extract it."""
        return extract_program(text, self.problem.entry_point).code

    # -- execution ---------------------------------------------------------------------------------------------
    def evaluate(self, nodes: Sequence[Node]) -> None:
        """Reward code nodes on the reward tests, all in one parallel ``run_many`` call (cached)."""
        jobs = [(self.program(n) or "", list(self.split.reward), self.problem.setup) for n in nodes]
        if not jobs:
            return
        start = time.perf_counter()
        results: list[ExecResult] = self.sandbox.run_many(jobs, cache=True)
        self.seconds["execution"] += time.perf_counter() - start
        self.counts["reward_executions"] += len(jobs)
        self.counts["cache_hits"] += sum(bool(getattr(r, "cached", False)) for r in results)
        for node, result in zip(nodes, results):
            node.exec = exec_summary(result)
            node.reward = terminal_reward(result, self.config.alpha)
            self.updated(node)

    def score_hidden(self, code: str) -> ExecResult:
        """The answer on the hidden tests: after the search, never during it."""
        start = time.perf_counter()
        [result] = self.sandbox.run_many([(code, list(self.split.hidden), self.problem.setup)], cache=True)
        self.seconds["execution"] += time.perf_counter() - start
        self.counts["hidden_executions"] += 1
        return result

    # -- values, budget, progress --------------------------------------------------------------------------------
    def backpropagate(self, path: Sequence[Node], reward: float) -> None:
        """Add the rollout's reward to every node on its path; a node's value is Q/N."""
        for node in path:
            node.visits += 1
            node.value_sum += reward
            self.updated(node)

    def finish_rollout(self, leaf: Node, reward: float, **extra) -> None:
        index = self.counts["rollouts"]
        self.counts["rollouts"] += 1
        stats = {"rollout": index, "leaf": leaf.id, "reward": reward, "nodes": len(self.tree.nodes),
                 "passing_terminals": self.passing(), "completion_tokens": self.counts["completion_tokens"],
                 "programs_executed": self.counts["reward_executions"], **extra}
        start = time.perf_counter()
        self.observer.rollout_finished(self.tree, index, stats)
        self.seconds["observer"] += time.perf_counter() - start

    def passing(self) -> int:
        """Code nodes that pass every reward test."""
        return sum(1 for n in self.tree.terminals() if n.exec is not None and n.exec.get("all_passed"))

    def enough_passing(self) -> bool:
        target = self.config.stop_after_passing
        if target is not None and self.passing() >= target:
            self.stop_reason = "passing"
            return True
        return False

    def budget_exhausted(self) -> bool:
        """Whether a token or execution cap is reached (checked between rollouts: caps are soft by one rollout)."""
        c = self.config
        if c.max_generated_tokens is not None and self.counts["completion_tokens"] >= c.max_generated_tokens:
            self.stop_reason = "token_budget"
            return True
        if c.max_executions is not None and self.counts["reward_executions"] >= c.max_executions:
            self.stop_reason = "execution_budget"
            return True
        return False

    def stats(self) -> dict:
        nodes = self.tree.nodes
        wall = time.perf_counter() - self.start
        outside = wall - self.seconds["generation"] - self.seconds["execution"]
        return {
            "algorithm": self.config.algorithm,
            "rollouts": self.counts["rollouts"],
            "nodes": len(nodes),
            "terminals": len(self.tree.terminals()),
            "dead": sum(n.dead for n in nodes),
            "max_depth_reached": max(n.depth for n in nodes),
            "passing_terminals": self.passing(),
            "tokens": {"prompt": self.counts["prompt_tokens"], "completion": self.counts["completion_tokens"]},
            "generator_calls": self.counts["generator_calls"],
            "programs_executed": self.counts["reward_executions"] + self.counts["hidden_executions"],
            "executions_by_test_set": {"reward": self.counts["reward_executions"],
                                       "hidden": self.counts["hidden_executions"]},
            "execution_cache_hits": self.counts["cache_hits"],
            "reward_tests": self.split.describe(),
            "wall_seconds": wall,
            "generation_seconds": self.seconds["generation"],
            "execution_seconds": self.seconds["execution"],
            "observer_seconds": self.seconds["observer"],
            "overhead_share": outside / wall if wall > 0 else 0.0,
            "stop_reason": self.stop_reason,
        }


def _plain(params: SamplingParams) -> dict:
    d = dataclasses.asdict(params)
    d["stop"] = list(d["stop"])
    return d
