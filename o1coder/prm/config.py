"""``PRMConfig``: the recipe's ``prm:`` section (labels, model head, LoRA, training budget, evaluation).

The common training knobs (learning rate, epochs, batch size) are fields so a recipe reads plainly; anything else
goes through ``trainer:``, keyword arguments for transformers' ``TrainingArguments`` (point-wise) or TRL's
``RewardConfig`` (pair-wise), applied on top of our defaults, so every option of those classes works and they
validate it. The paper fixes none of these values: all defaults are our choices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from o1coder import validators as v
from o1coder.config import from_dict

WHERE = "PRMConfig"  # how recipe errors name this section's keys
MODES = ("pointwise", "pairwise")
LABELS = ("soft", "hard")
RERANK = ("last", "min", "mean")


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass
class PRMConfig:
    """How the process reward model is built, trained and evaluated. Build it from a recipe with
    :func:`prm_config`."""

    mode: str = field(
        default="pointwise",
        metadata=_help("'pointwise': a token-classification head predicts each step's value at the step's last "
                       "token; 'pairwise': Bradley-Terry on sibling steps (TRL's RewardTrainer)."),
    )  # fmt: skip
    labels: str = field(
        default="soft",
        metadata=_help("Point-wise targets: 'soft' = the step's MC value Q/N in [0, 1]; 'hard' = 1 when "
                       "Q/N >= threshold, else 0."),
    )  # fmt: skip
    threshold: float = field(
        default=0.5,
        metadata=_help("Q/N at or above which a step counts as good: hard labels, and the positive class in "
                       "evaluation (AUC, accuracy, calibration)."),
    )  # fmt: skip
    num_labels: int = field(
        default=1,
        metadata=_help("Point-wise head: 1 = one logit, sigmoid + binary cross-entropy; 2 = two logits, softmax + "
                       "two-class soft cross-entropy (the score is P(class 1)). Pair-wise always uses 1."),
    )  # fmt: skip
    base_model: str | None = field(
        default=None,
        metadata=_help("Model the PRM starts from (folder or hub id; 'tiny': the offline tiny model). None: the "
                       "recipe's model.name_or_path, i.e. the policy's architecture and weights."),
    )  # fmt: skip
    max_length: int = field(
        default=1024,
        metadata=_help("Most tokens per training sequence (prompt + steps); longer rows are skipped and counted, "
                       "never truncated (truncation would cut the steps whose labels matter)."),
    )  # fmt: skip
    eval_fraction: float = field(
        default=0.2,
        metadata=_help("Share of the run's problems held out from training (by problem, seeded); `prm train` "
                       "evaluates on them and `prm eval` on the same run uses them. 0: train on all."),
    )  # fmt: skip
    min_margin: float = field(
        default=0.0, metadata=_help("Pair-wise: only sibling pairs whose values differ by more than this.")
    )
    use_margin: bool = field(
        default=False,
        metadata=_help("Pair-wise: pass the value difference as TRL's margin (loss -log sigmoid(r_c - r_r - m))."),
    )
    learning_rate: float = field(default=1e-4, metadata=_help("AdamW learning rate."))
    epochs: float = field(default=1.0, metadata=_help("Passes over the training rows."))
    batch_size: int = field(default=4, metadata=_help("Rows (point-wise) or pairs (pair-wise) per device step."))
    seed: int = field(default=0, metadata=_help("Seeds the held-out split, the head's init and the data order."))
    lora: bool = field(
        default=False,
        metadata=_help("Train a LoRA adapter (peft) plus the new head instead of all weights."),
    )
    lora_r: int = field(default=8, metadata=_help("LoRA rank."))
    lora_alpha: int = field(default=16, metadata=_help("LoRA scaling numerator."))
    lora_dropout: float = field(default=0.05, metadata=_help("Dropout on the LoRA input, in [0, 1)."))
    lora_target_modules: str | list[str] = field(
        default="all-linear",
        metadata=_help("Modules that get adapters: 'all-linear' or a list of module names such as [q_proj, v_proj]."),
    )
    trainer: dict[str, Any] = field(
        default_factory=dict,
        metadata=_help("Extra keyword arguments for TrainingArguments (point-wise) / TRL's RewardConfig "
                       "(pair-wise), e.g. max_steps, gradient_accumulation_steps, warmup_ratio; over our defaults."),
    )  # fmt: skip
    score_batch_size: int = field(default=16, metadata=_help("Sequences per forward pass when scoring."))
    calibration_bins: int = field(default=10, metadata=_help("Equal-width score bins for ECE and reliability."))
    rerank: str = field(
        default="last",
        metadata=_help("Best-of-N by PRM: a terminal path's score is its 'last' step's score, the 'min' over its "
                       "steps, or their 'mean'."),
    )  # fmt: skip

    def __post_init__(self) -> None:
        for name, allowed in (("mode", MODES), ("labels", LABELS), ("rerank", RERANK)):
            v.choice(WHERE, name, getattr(self, name), allowed)
        if self.num_labels not in (1, 2) or isinstance(self.num_labels, bool):
            v.fail(WHERE, "num_labels", "1 or 2", self.num_labels)
        for name, minimum in (("max_length", 8), ("batch_size", 1), ("seed", 0), ("lora_r", 1), ("lora_alpha", 1),
                              ("score_batch_size", 1), ("calibration_bins", 1)):  # fmt: skip
            v.integer(WHERE, name, getattr(self, name), minimum)
        for name, closed in (("threshold", True), ("min_margin", True), ("eval_fraction", False),
                             ("lora_dropout", False)):  # fmt: skip
            v.number(WHERE, name, getattr(self, name), 0, 1, high_open=not closed)
        for name in ("learning_rate", "epochs"):
            v.number(WHERE, name, getattr(self, name), 0, low_open=True)
        for name in ("lora", "use_margin"):
            v.boolean(WHERE, name, getattr(self, name))
        if self.base_model is not None and (not isinstance(self.base_model, str) or not self.base_model.strip()):
            v.fail(WHERE, "base_model", "a model folder, a hub id, 'tiny' or null", self.base_model)
        v.module_names(WHERE, "lora_target_modules", self.lora_target_modules)
        self.trainer = v.mapping(WHERE, "trainer", self.trainer)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> PRMConfig:
        return from_dict(cls, data, section="prm")


def prm_config(recipe: Mapping[str, Any], **overrides: Any) -> PRMConfig:
    """The recipe's ``prm:`` section, validated (defaults when the recipe has none); ``overrides`` win (e.g. the
    command line's ``--mode``)."""
    section = dict(recipe.get("prm") or {})
    section.update({k: v for k, v in overrides.items() if v is not None})
    return PRMConfig.from_dict(section)
