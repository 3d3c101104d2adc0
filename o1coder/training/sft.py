"""Policy initialisation: supervised fine-tuning on (question -> steps + code), the loss on the response only.

A thin stage over TRL's ``SFTTrainer`` in the prompt/completion format with ``completion_only_loss``: the question
(the zero-shot pseudocode prompt) conditions the model but carries no loss, the rendered trace does, and TRL ends
it with the tokenizer's eos token so the policy learns to stop after its code step. Rows are D+ (searched paths
that pass every reward test) and/or stored reasoning traces (see :mod:`o1coder.training.data`).

    result = train_sft(rows, "tiny", out_dir, training_config(recipe), model_config(recipe))
    result.output_dir          # a plain model folder: the new policy
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


def sft_trainer(rows: Sequence[dict], policy: str | Path | None, output_dir: str | Path, config: TrainingConfig,
                model_config: ModelConfig, report: dict | None = None, **args):
    """TRL's SFTTrainer for ``prompt`` / ``completion`` rows on the policy at ``policy`` (None: the recipe's
    model), ready to ``train()``. ``args`` override TRL config values (e.g. ``max_steps=2`` in tests); ``report``
    (a dict) receives the row counts."""
    require_training_libraries("SFT")
    from datasets import Dataset
    from trl import SFTTrainer

    model, tokenizer = load_policy(policy, model_config)
    kept, dropped = length_filter(list(rows), tokenizer, config.max_length, ("completion",))
    if not kept:
        raise ValueError(f"no SFT rows to train on: {len(rows)} given, {dropped} longer than training.max_length="
                         f"{config.max_length} tokens")
    dataset = Dataset.from_list([{"prompt": r["prompt"], "completion": r["completion"]} for r in kept])
    trainer = SFTTrainer(model=model, args=trainer_args("sft", config, output_dir, **args), train_dataset=dataset,
                         processing_class=tokenizer, peft_config=lora_config(config))
    if report is not None:
        report.update(rows=len(rows), kept=len(kept), dropped_too_long=dropped)
    return trainer


def train_sft(rows: Sequence[dict], policy: str | Path | None, output_dir: str | Path, config: TrainingConfig,
              model_config: ModelConfig, **args) -> TrainResult:
    """Fine-tune the policy on ``rows`` and save the new policy (a merged model folder) to ``output_dir``."""
    report = {"sources": sorted({str(r.get("source")) for r in rows})}
    trainer = sft_trainer(rows, policy, output_dir, config, model_config, report, **args)
    return fit(trainer, "sft", output_dir, {"data": report, "policy": str(policy or model_config.name_or_path),
                                           "trained_on": problem_ids(rows), "prompt": prompt_form(rows)})
