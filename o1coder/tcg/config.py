"""``TCGConfig``: the recipe's ``tcg:`` section (data template, LoRA, TRL trainer settings, generation).

The trainer settings are not copied field by field: ``sft:`` and ``dpo:`` are keyword arguments for TRL's own
``SFTConfig`` / ``DPOConfig`` (so every TRL option works and TRL validates it), applied on top of the defaults in
:func:`o1coder.tcg.train.trainer_args`. Defaults follow the paper where it says something (QLoRA with r=1 on all
projections, learning rate 5e-4); the rest are our choices and say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from o1coder import validators as v
from o1coder.config import from_dict

WHERE = "TCGConfig"  # how recipe errors name this section's keys
DPO_PAIRS = ("shuffled", "corrected", "both")  # tcg.dpo_pairs: the paper's pairs, ours, or both


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass
class TCGConfig:
    """How the test case generator is trained and sampled. Build it from a recipe with :func:`tcg_config`."""

    cases_per_sample: int = field(
        default=3, metadata=_help("Test cases the template asks for and each SFT/DPO answer holds (the paper: 3).")
    )
    solutions_per_problem: int = field(
        default=3,
        metadata=_help("Solution variants per problem for the training data: the reference first, then "
                       "metadata['solutions'] (TACO) in order, duplicates removed. 1 = the reference only."),
    )  # fmt: skip
    max_length: int = field(
        default=1024,
        metadata=_help("Most tokens in prompt + answer; longer samples are skipped (and counted), never truncated."),
    )
    chat: bool = field(
        default=True,
        metadata=_help("Send the template as a user message through the model's chat template (instruct models); "
                       "false: plain text that the answer continues (base models)."),
    )  # fmt: skip
    seed: int = field(default=0, metadata=_help("Seeds the choice of test cases per sample and the DPO shuffles."))
    max_cases: int = field(
        default=10, metadata=_help("Most test cases kept from one generated answer; the rest are dropped (counted).")
    )
    max_field_chars: int = field(
        default=4000,
        metadata=_help("Longest input or output text accepted, in characters: longer samples are skipped in the data "
                       "and longer generated cases are dropped."),
    )  # fmt: skip
    lora: bool = field(
        default=True,
        metadata=_help("Train a LoRA adapter (the paper's QLoRA); false: full fine-tuning, which saves a whole "
                       "model folder. A model of a few hundred thousand parameters (tiny-world) has too little "
                       "capacity for an adapter to learn the case format: fine-tune it whole."),
    )  # fmt: skip
    lora_r: int = field(default=1, metadata=_help("LoRA rank (the paper: 1)."))
    lora_alpha: int = field(default=16, metadata=_help("LoRA scaling numerator (our choice; the paper gives none)."))
    lora_dropout: float = field(default=0.05, metadata=_help("Dropout on the LoRA input, in [0, 1)."))
    lora_target_modules: str | list[str] = field(
        default="all-linear",
        metadata=_help("Modules that get adapters: 'all-linear' (every projection, not the output head, as in the "
                       "paper) or a list of module names such as [q_proj, v_proj]."),
    )  # fmt: skip
    load_in_4bit: bool = field(
        default=False,
        metadata=_help("QLoRA: load the base model in 4-bit NF4 (needs a CUDA GPU and bitsandbytes). The paper "
                       "trains with QLoRA; on a CPU leave it false (plain LoRA)."),
    )  # fmt: skip
    sft: dict[str, Any] = field(
        default_factory=dict,
        metadata=_help("Keyword arguments for TRL's SFTConfig (learning_rate, num_train_epochs, "
                       "per_device_train_batch_size, max_steps, ...), over our defaults."),
    )  # fmt: skip
    dpo: dict[str, Any] = field(
        default_factory=dict,
        metadata=_help("Keyword arguments for TRL's DPOConfig (beta, learning_rate, ...), over our defaults."),
    )
    sampling: dict[str, Any] = field(
        default_factory=dict,
        metadata=_help("Overrides of the recipe's sampling: section when the TCG generates tests "
                       "(e.g. max_new_tokens: 256, temperature: 0.2)."),
    )  # fmt: skip
    samples: int = field(
        default=1, metadata=_help("Answers sampled per (problem, code); their cases are pooled and de-duplicated.")
    )
    dpo_pairs: str = field(
        default="shuffled",
        metadata=_help("Where the DPO pairs come from: 'shuffled' (the paper: true cases vs the same inputs with "
                       "the outputs shuffled), 'corrected' (ours: the SFT model's own answers vs the same inputs "
                       "with the reference's outputs, o1coder.tcg.corrected) or 'both'."),
    )  # fmt: skip
    corrected_samples: int = field(
        default=4, metadata=_help("Answers the SFT model samples per training problem for 'corrected' pairs.")
    )

    def __post_init__(self) -> None:
        for name, minimum in (("cases_per_sample", 1), ("solutions_per_problem", 1), ("max_length", 16),
                              ("max_cases", 1), ("max_field_chars", 1), ("lora_r", 1), ("lora_alpha", 1),
                              ("samples", 1), ("seed", 0), ("corrected_samples", 1)):  # fmt: skip
            v.integer(WHERE, name, getattr(self, name), minimum)
        v.choice(WHERE, "dpo_pairs", self.dpo_pairs, DPO_PAIRS)
        for name in ("chat", "lora", "load_in_4bit"):
            v.boolean(WHERE, name, getattr(self, name))
        v.number(WHERE, "lora_dropout", self.lora_dropout, 0, 1, high_open=True)
        v.module_names(WHERE, "lora_target_modules", self.lora_target_modules)
        if self.load_in_4bit and not self.lora:
            raise ValueError(f"{WHERE}.load_in_4bit (QLoRA) trains an adapter: set lora: true, or load_in_4bit: false "
                             "for full fine-tuning")
        for name in ("sft", "dpo", "sampling"):
            setattr(self, name, v.mapping(WHERE, name, getattr(self, name)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> TCGConfig:
        return from_dict(cls, data, section="tcg")


def tcg_config(recipe: Mapping[str, Any]) -> TCGConfig:
    """The recipe's ``tcg:`` section, validated (defaults when the recipe has none)."""
    return TCGConfig.from_dict(recipe.get("tcg"))
