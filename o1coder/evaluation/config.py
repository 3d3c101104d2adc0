"""``EvalConfig``: the recipe's ``evaluation:`` section (Table 1 harness, ASPR, budget-matched comparison).

Decoding lengths and the depth limit default to the recipe's ``search:`` section, so that the pseudocode mode and
the search see the same step format and limits; only what is specific to evaluation lives here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from o1coder.evaluation.passk import check_ks

MODES = ("vanilla", "pseudocode")
ASPR_SEARCHES = ("search", "samples")
BUDGET_ALGORITHMS = ("mcts", "best_of_n", "beam")
KNOBS = {"mcts": "rollouts", "best_of_n": "n_samples", "beam": "beam_width"}
"""The SearchConfig field swept for each algorithm in the budget comparison."""


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass
class BudgetConfig:
    """The ``evaluation.budget:`` subsection: which budgets to sweep and how closely token counts must match."""

    algorithms: list[str] = field(
        default_factory=lambda: list(BUDGET_ALGORITHMS), metadata=_help("Algorithms compared: mcts, best_of_n, beam.")
    )
    mcts_rollouts: list[int] = field(default_factory=lambda: [2, 4, 8], metadata=_help("MCTS rollouts swept."))
    best_of_n_samples: list[int] = field(default_factory=lambda: [2, 4, 8],
                                         metadata=_help("best-of-N: numbers of answers swept."))
    beam_widths: list[int] = field(default_factory=lambda: [1, 2, 4], metadata=_help("beam: beam widths swept."))
    targets: list[float] | None = field(
        default=None,
        metadata=_help("Budgets (mean generated tokens per problem) to compare at; null: the token counts that the "
                       "first algorithm's sweep measured."),
    )  # fmt: skip
    tolerance: float = field(
        default=0.1, metadata=_help("A run matches a target when |tokens - target| <= tolerance * target.")
    )
    max_refine: int = field(
        default=3,
        metadata=_help("Extra runs per algorithm and target, bisecting its knob between the sweep points around the "
                       "target, when no sweep point matches (0: interpolate only)."),
    )  # fmt: skip

    def __post_init__(self) -> None:
        bad = [a for a in self.algorithms if a not in BUDGET_ALGORITHMS]
        if bad or not self.algorithms:
            raise ValueError(f"evaluation.budget.algorithms must be a non-empty list of {', '.join(BUDGET_ALGORITHMS)};"
                             f" got {self.algorithms!r}")
        for name in ("mcts_rollouts", "best_of_n_samples", "beam_widths"):
            values = getattr(self, name)
            if not values or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in values):
                raise ValueError(f"evaluation.budget.{name} must be a non-empty list of integers >= 1; got {values!r}")
            setattr(self, name, sorted(set(values)))
        if self.targets is not None and (not self.targets or any(
                isinstance(t, bool) or not isinstance(t, (int, float)) or t <= 0 for t in self.targets)):
            raise ValueError(f"evaluation.budget.targets must be null or a list of numbers > 0; got {self.targets!r}")
        if isinstance(self.tolerance, bool) or not isinstance(self.tolerance, (int, float)) or self.tolerance <= 0:
            raise ValueError(f"evaluation.budget.tolerance must be a number > 0; got {self.tolerance!r}")
        if isinstance(self.max_refine, bool) or not isinstance(self.max_refine, int) or self.max_refine < 0:
            raise ValueError(f"evaluation.budget.max_refine must be an integer >= 0; got {self.max_refine!r}")

    def sweep(self, algorithm: str) -> list[int]:
        return {"mcts": self.mcts_rollouts, "best_of_n": self.best_of_n_samples, "beam": self.beam_widths}[algorithm]


@dataclass
class EvalConfig:
    """How ``o1coder eval`` samples and scores. Build it from a recipe with :func:`eval_config`."""

    modes: list[str] = field(
        default_factory=lambda: list(MODES),
        metadata=_help("'vanilla' (one answer to the vanilla prompt: prose then one code block) and/or 'pseudocode' "
                       "(one step-by-step trajectory of typed pseudocode steps until a code step or max_depth)."),
    )  # fmt: skip
    samples: int = field(default=1, metadata=_help("n: answers sampled per problem and mode (pass@k needs n >= k)."))
    k: list[int] = field(default_factory=lambda: [1], metadata=_help("The k of pass@k reported (each <= samples)."))
    aspr_k: int = field(default=8, metadata=_help("K: codes sampled from the last pseudocode state for ASPR."))
    aspr_search: str = field(
        default="search",
        metadata=_help("Where ASPR's correct paths come from: 'search' (the recipe's search: section per problem; "
                       "for vanilla, best-of-N vanilla answers with N = search.rollouts) or 'samples' (the n "
                       "evaluation samples of the mode, cheaper)."),
    )  # fmt: skip
    max_depth: int | None = field(default=None, metadata=_help("Most steps of a trajectory (null: search.max_depth)."))
    max_step_tokens: int | None = field(
        default=None,
        metadata=_help("Most tokens per step (null: search.max_step_tokens, else sampling.max_new_tokens)."),
    )
    max_answer_tokens: int | None = field(
        default=None,
        metadata=_help("Most tokens of a vanilla answer (null: search.max_answer_tokens, else max_step_tokens * "
                       "max_depth, the same budget as a whole pseudocode trajectory)."),
    )  # fmt: skip
    few_shot: bool = field(default=True, metadata=_help("Prompts show the default few-shot examples."))
    sampling: dict[str, Any] = field(
        default_factory=dict,
        metadata=_help("Overrides of the recipe's sampling: section for the evaluation samples (e.g. temperature: 0 "
                       "for greedy Pass@1 with samples: 1)."),
    )  # fmt: skip
    aspr_sampling: dict[str, Any] = field(
        default_factory=dict,
        metadata=_help("Overrides of the sampling: section for ASPR's K samples (keep temperature > 0: K greedy "
                       "samples are one sample K times)."),
    )  # fmt: skip
    seed: int | None = field(default=None, metadata=_help("Seeds every sample (null: the recipe's seed, else 0)."))
    model_label: str | None = field(
        default=None, metadata=_help("The row name in Table 1 (null: model.name_or_path).")
    )
    budget: BudgetConfig | dict = field(
        default_factory=BudgetConfig, metadata=_help("The budget-matched comparison (see BudgetConfig).")
    )

    def __post_init__(self) -> None:
        if isinstance(self.modes, str):
            self.modes = [m.strip() for m in self.modes.split(",") if m.strip()]
        bad = [m for m in self.modes if m not in MODES]
        if bad or not self.modes or len(set(self.modes)) != len(self.modes):
            raise ValueError(f"evaluation.modes must be distinct values among {', '.join(MODES)}; got {self.modes!r}")
        for name in ("samples", "aspr_k"):
            _int(name, getattr(self, name), 1)
        for name in ("max_depth", "max_step_tokens", "max_answer_tokens"):
            if getattr(self, name) is not None:
                _int(name, getattr(self, name), 1)
        if self.seed is not None:
            _int("seed", self.seed, 0)
        if isinstance(self.k, int) and not isinstance(self.k, bool):
            self.k = [self.k]
        self.k = list(check_ks(self.k, self.samples))
        if self.aspr_search not in ASPR_SEARCHES:
            raise ValueError(f"evaluation.aspr_search must be one of {', '.join(ASPR_SEARCHES)}; "
                             f"got {self.aspr_search!r}")
        if not isinstance(self.few_shot, bool):
            raise ValueError(f"evaluation.few_shot must be true or false; got {self.few_shot!r}")
        for name in ("sampling", "aspr_sampling"):
            if not isinstance(getattr(self, name), dict):
                raise ValueError(f"evaluation.{name} must be a mapping of sampling keys; got {getattr(self, name)!r}")
        if isinstance(self.budget, Mapping):
            from o1coder.config import from_dict

            self.budget = from_dict(BudgetConfig, self.budget, section="evaluation.budget")
        elif not isinstance(self.budget, BudgetConfig):
            raise ValueError(f"evaluation.budget must be a mapping; got {self.budget!r}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> EvalConfig:
        from o1coder.config import from_dict

        return from_dict(cls, data, section="evaluation")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _int(name: str, value: object, minimum: int) -> None:
    from o1coder.validators import integer

    integer("evaluation", name, value, minimum)


def eval_config(recipe: Mapping[str, Any], **overrides: Any) -> EvalConfig:
    """The recipe's ``evaluation:`` section, validated, with command-line ``overrides`` (None values ignored).
    Overriding ``samples`` alone drops the recipe's k values it cannot support (``--samples 1`` means Pass@1)."""
    section = dict(recipe.get("evaluation") or {})
    overrides = {key: value for key, value in overrides.items() if value is not None}
    if "samples" in overrides and "k" not in overrides and isinstance(section.get("k"), list):
        section["k"] = [k for k in section["k"] if isinstance(k, int) and k <= overrides["samples"]] or [1]
    section.update(overrides)
    return EvalConfig.from_dict(section)
