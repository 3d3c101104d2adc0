"""Iterative DPO: one round of preference optimisation on pairs ranked by phi, against the current policy.

A thin stage over TRL's ``DPOTrainer``. The reference model is the policy the round starts from: with full
fine-tuning TRL loads a frozen copy of it from the same folder; with LoRA the reference is that same model with the
adapter disabled. Either way each round's DPO pulls the policy away from exactly what produced the round's samples,
which is what makes the DPO *iterative*. Pairs: :func:`o1coder.training.data.preference_pairs`.

    result = train_dpo(pairs, policy_dir, out_dir, training_config(recipe), model_config(recipe))
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from o1coder.config import ModelConfig
from o1coder.training.config import TrainingConfig
from o1coder.training.policy import (
    TrainResult,
    fit,
    length_filter,
    load_policy,
    lora_config,
    problem_ids,
    prompt_form,
    require_training_libraries,
    trainer_args,
)

logger = logging.getLogger(__name__)


def dpo_trainer(pairs: Sequence[dict], policy: str | Path | None, output_dir: str | Path, config: TrainingConfig,
                model_config: ModelConfig, report: dict | None = None, **args):
    """TRL's DPOTrainer for ``prompt`` / ``chosen`` / ``rejected`` rows, reference = the policy at ``policy``."""
    require_training_libraries("DPO")
    from datasets import Dataset
    from trl import DPOTrainer

    model, tokenizer = load_policy(policy, model_config)
    kept, dropped = length_filter(list(pairs), tokenizer, config.max_length, ("chosen", "rejected"))
    if not kept:
        raise ValueError(f"no DPO pairs to train on: {len(pairs)} given, {dropped} longer than training.max_length="
                         f"{config.max_length} tokens")
    dataset = Dataset.from_list([{"prompt": r["prompt"], "chosen": r["chosen"], "rejected": r["rejected"]}
                                 for r in kept])
    if report is not None:
        report.update(pairs=len(pairs), kept=len(kept), dropped_too_long=dropped)
    return DPOTrainer(model=model, args=trainer_args("dpo", config, output_dir, **args), train_dataset=dataset,
                      processing_class=tokenizer, peft_config=lora_config(config))


def train_dpo(pairs: Sequence[dict], policy: str | Path | None, output_dir: str | Path, config: TrainingConfig,
              model_config: ModelConfig, **args) -> TrainResult:
    """One DPO round on ``pairs``; the new policy (a merged model folder) goes to ``output_dir``."""
    report: dict = {}
    trainer = dpo_trainer(pairs, policy, output_dir, config, model_config, report, **args)
    margins = [r["margin"] for r in pairs if r.get("margin") is not None]
    report["mean_margin"] = sum(margins) / len(margins) if margins else None
    return fit(trainer, "dpo", output_dir, {"data": report, "policy": str(policy or model_config.name_or_path),
                                           "trained_on": problem_ids(pairs), "prompt": prompt_form(pairs)})
