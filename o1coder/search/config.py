"""``SearchConfig``: the recipe's ``search:`` section, one typed dataclass for MCTS and both baselines.

Every algorithm reads the same budget fields (rollouts, depth, token and execution caps), so strategies can be
compared at equal budget; fields that belong to one algorithm say so in their help text.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from o1coder import validators

ALGORITHMS = ("mcts", "best_of_n", "beam")
SELECTIONS = ("uct", "puct")
PRIORS = ("logprob", "prm")
SCHEDULES = ("constant", "exponential", "linear")
REWARD_TESTS = ("public", "heldout", "generated")
PROMPTS = ("pseudocode", "vanilla")
ANSWERS = ("first", "majority")


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass
class SearchConfig:
    """How one problem is searched. Build it from a recipe with :func:`search_config` or ``from_dict``."""

    algorithm: str = field(default="mcts", metadata=_help("'mcts', 'best_of_n' or 'beam'."))
    seed: int = field(
        default=0,
        metadata=_help("Every generator call's seed is derived from (seed, problem id, node or rollout index), so a "
                       "search never depends on timing or problem order."),
    )  # fmt: skip
    rollouts: int = field(
        default=16,
        metadata=_help("MCTS: number of rollouts (selection, expansion, rollout, backpropagation). best_of_n: the "
                       "number of answers when n_samples is null."),
    )  # fmt: skip
    k: int = field(default=3, metadata=_help("Next steps sampled per expansion, in one batched generator call."))
    max_depth: int = field(
        default=8,
        metadata=_help("Most steps on a path; a path that reaches it without a code step ends with reward 0."),
    )
    exploration_weight: float = field(default=2.0, metadata=_help("c in UCT / PUCT, at the first rollout."))
    exploration_schedule: str = field(
        default="constant",
        metadata=_help("How c changes over the rollouts: 'constant', 'exponential' (c * final_ratio ** progress) or "
                       "'linear' (c * (1 - (1 - final_ratio) * progress)), progress = rollout / rollouts."),
    )  # fmt: skip
    exploration_final_ratio: float = field(
        default=0.1, metadata=_help("For the decaying schedules: c at the end relative to c at the start, in (0, 1].")
    )
    selection: str = field(
        default="uct",
        metadata=_help("'uct': Q/N + c*sqrt(ln N_parent / N), unvisited children first. 'puct': "
                       "Q/N + c*P*sqrt(N_parent)/(1+N) with a prior P over siblings."),
    )  # fmt: skip
    prior: str = field(
        default="logprob",
        metadata=_help("PUCT prior: 'logprob' (softmax over siblings of the mean token log-probability of each step) "
                       "or 'prm' (the prior_fn passed to search(), e.g. a process reward model)."),
    )  # fmt: skip
    alpha: float = field(
        default=0.2,
        metadata=_help("Terminal reward = alpha * compiles + (1 - alpha) * pass_rate on the reward tests, in [0, 1]. "
                       "The paper gives no value; 0.2 keeps a compiling but wrong program well below a correct one."),
    )  # fmt: skip
    reward_tests: str = field(
        default="public",
        metadata=_help("Which tests reward the search: 'public' (problem.public_tests), 'heldout' (a seeded subset of "
                       "problem.tests; the rest stay hidden) or 'generated' (tests from the reward_tests_fn passed to "
                       "search(), e.g. the TCG). Hidden tests only score the final answer."),
    )  # fmt: skip
    heldout_fraction: float = field(
        default=0.5,
        metadata=_help("reward_tests='heldout': share of problem.tests used as reward tests, in (0, 1); at least one "
                       "test always stays hidden."),
    )  # fmt: skip
    max_step_tokens: int | None = field(
        default=None, metadata=_help("Most tokens per step (null: the sampling section's max_new_tokens).")
    )
    max_answer_tokens: int | None = field(
        default=None,
        metadata=_help("best_of_n: most tokens per complete answer (null: max_step_tokens * max_depth)."),
    )
    max_generated_tokens: int | None = field(
        default=None,
        metadata=_help("Cap on generated (completion) tokens for the whole search; checked before each rollout or "
                       "beam step, so the last one may overrun it. Null: no cap."),
    )  # fmt: skip
    max_executions: int | None = field(
        default=None,
        metadata=_help("Cap on programs executed on the reward tests; checked like max_generated_tokens. "
                       "Null: no cap."),
    )
    max_reexpansions: int = field(
        default=1,
        metadata=_help("MCTS: times a node is sampled again when every child is dead or settled (a terminal already "
                       "visited, an exhausted subtree) before it is marked exhausted and never selected again; an "
                       "exhausted root ends the search (stop_reason 'exhausted'). 0: never re-expand."),
    )  # fmt: skip
    stop_after_passing: int | None = field(
        default=None,
        metadata=_help("Stop once this many terminals pass all reward tests (null: use the whole budget)."),
    )
    answer: str = field(
        default="first",
        metadata=_help("Which code node the search hands in among those with the highest reward on the reward tests "
                       "(only its program meets the hidden tests): 'first' (the highest Q/N, then the earliest "
                       "created) or 'majority' (the program written most often among them, layout and comments "
                       "aside; then as 'first'). A few public tests pass several programs, some of them wrong; a "
                       "program that several paths wrote is more often right."),
    )  # fmt: skip
    truncated_steps_dead: bool = field(
        default=True,
        metadata=_help("A step cut off at the token limit (finish 'length') is a dead child, even if it parses."),
    )
    few_shot: bool = field(default=True, metadata=_help("Prompts show the default few-shot examples."))
    chat: bool = field(
        default=False,
        metadata=_help("Prompts as chat messages through the model's chat template (instruct models), the steps so "
                       "far as a partial assistant message the backend continues; false: raw text (base models). "
                       "Evaluation and the loop's training rows use the same form. Chat-only servers need true."),
    )  # fmt: skip
    record_logprobs: bool = field(
        default=True,
        metadata=_help("Ask the generator for token log-probabilities and store each step's on its node (needed by "
                       "the logprob prior and the beam value; costs memory on transformers with large vocabularies)."),
    )  # fmt: skip
    n_samples: int | None = field(
        default=None, metadata=_help("best_of_n: answers sampled (null: rollouts).")
    )
    best_of_n_prompt: str = field(
        default="pseudocode", metadata=_help("best_of_n: 'pseudocode' (a whole step trace) or 'vanilla' prompt.")
    )
    beam_width: int = field(default=2, metadata=_help("beam: partial traces kept after each step."))
    score_hidden: bool = field(
        default=True, metadata=_help("Run the answer on the hidden tests after the search (never during it).")
    )
    concurrency: int | None = field(
        default=None,
        metadata=_help("Problems searched at once: each step of every search in flight adds its generation requests "
                       "to one batch, and their sandbox runs go together while the next batch generates. Null: enough "
                       "to fill the backend (see search_concurrency); 1: one problem at a time. The same seed and "
                       "concurrency give the same trees; on transformers another concurrency gives other samples."),
    )  # fmt: skip

    def __post_init__(self) -> None:
        for name, allowed in (("algorithm", ALGORITHMS), ("exploration_schedule", SCHEDULES),
                              ("selection", SELECTIONS), ("prior", PRIORS), ("reward_tests", REWARD_TESTS),
                              ("best_of_n_prompt", PROMPTS), ("answer", ANSWERS)):
            if getattr(self, name) not in allowed:
                self._fail(name, "one of " + ", ".join(map(repr, allowed)))
        self._int("seed", 0)
        self._int("max_reexpansions", 0)
        for name in ("rollouts", "k", "max_depth", "beam_width"):
            self._int(name, 1)
        for name in ("max_step_tokens", "max_answer_tokens", "max_generated_tokens", "max_executions",
                     "stop_after_passing", "n_samples", "concurrency"):
            if getattr(self, name) is not None:
                self._int(name, 1)
        self.exploration_weight = self._number("exploration_weight")
        if self.exploration_weight < 0:
            self._fail("exploration_weight", "a number >= 0")
        self.exploration_final_ratio = self._number("exploration_final_ratio")
        if not 0 < self.exploration_final_ratio <= 1:
            self._fail("exploration_final_ratio", "a number in (0, 1]")
        self.alpha = self._number("alpha")
        if not 0 <= self.alpha <= 1:
            self._fail("alpha", "a number in [0, 1]")
        self.heldout_fraction = self._number("heldout_fraction")
        if not 0 < self.heldout_fraction < 1:
            self._fail("heldout_fraction", "a number in (0, 1)")
        for name in ("truncated_steps_dead", "few_shot", "chat", "record_logprobs", "score_hidden"):
            if not isinstance(getattr(self, name), bool):
                self._fail(name, "true or false")

    def _fail(self, name: str, expected: str) -> None:
        validators.fail("SearchConfig", name, expected, getattr(self, name))

    def _int(self, name: str, minimum: int) -> None:
        validators.integer("SearchConfig", name, getattr(self, name), minimum)

    def _number(self, name: str) -> float:
        value = getattr(self, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or math.isinf(value):
            self._fail(name, "a finite number")
        return float(value)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> SearchConfig:
        """From a recipe's ``search:`` mapping; unknown keys raise a ValueError naming the closest known key."""
        from o1coder.config import from_dict

        return from_dict(cls, data, section="search")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def search_config(recipe: Mapping[str, Any]) -> SearchConfig:
    """The recipe's ``search:`` section, validated (defaults when the recipe has none). A recipe's top-level
    ``seed`` is the search seed when the section does not set one, so one number reproduces a whole recipe."""
    section = dict(recipe.get("search") or {})
    if "seed" not in section and recipe.get("seed") is not None:
        section["seed"] = recipe["seed"]
    return SearchConfig.from_dict(section)


AUTO_CONCURRENCY_VLLM = 64
"""Searches in flight on vLLM when ``concurrency`` is null: 64 trees x k = 3 samples is ~200 sequences per step, the
range where one GPU's engine reaches its throughput (vLLM schedules up to 256 sequences at once by default)."""


def search_concurrency(config: SearchConfig, model: Any = None) -> int:
    """How many problems to search at once: ``config.concurrency``, or (null) enough to fill the backend of the
    recipe's ``model:`` section (a ModelConfig): transformers, ``max_batch_size`` rows per forward pass divided by
    the rows one search asks for (k, or n for best-of-N); vLLM, :data:`AUTO_CONCURRENCY_VLLM`; an OpenAI-compatible
    server, its ``concurrency`` (one request per search in flight); no model section, 1."""
    if config.concurrency is not None:
        return config.concurrency
    backend = getattr(model, "backend", None)
    if backend == "transformers":
        rows = (config.n_samples or config.rollouts) if config.algorithm == "best_of_n" else config.k
        if config.algorithm == "beam":
            rows = config.k * config.beam_width
        return max(1, model.max_batch_size // max(rows, 1))
    if backend == "vllm":
        return AUTO_CONCURRENCY_VLLM
    if backend == "openai":
        return max(1, int(model.concurrency))
    return 1


def recipe_concurrency(recipe: Mapping[str, Any]) -> int:
    """:func:`search_concurrency` of a recipe: its ``search:`` section and, when it has one and the search leaves
    the number open, its ``model:``. A model section naming no backend that o1coder builds (a stand-in generator
    handed to the search directly, as tests and notebooks do) searches one problem at a time."""
    from o1coder.config import BACKENDS, model_config

    config = search_config(recipe)
    model = recipe.get("model") or {}
    if config.concurrency is not None or model.get("backend", "transformers") not in BACKENDS:
        return search_concurrency(config)
    return search_concurrency(config, model_config(recipe) if model else None)
