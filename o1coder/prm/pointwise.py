"""Point-wise PRM: a token-classification head predicts each step's value at the step's last token.

TRL removed its PRMTrainer, so this is transformers' ``Trainer`` with TRL's old data convention (labels on the
last token of each step, -100 elsewhere; see :mod:`o1coder.prm.features`) and a loss passed as
``compute_loss_func``: labels here are soft (MC values in [0, 1]) or hard (0/1), which the model's own
integer cross-entropy cannot take. With one logit the loss is binary cross-entropy on the sigmoid; with two it is
the two-class soft cross-entropy on the softmax, ``-(y log p1 + (1 - y) log p0)``. Both are summed over labelled
tokens and divided by the number of labelled tokens in the whole accumulated batch, which the Trainer counts
(``num_items_in_batch``), so gradient accumulation gives the same loss as one large batch.
"""

from __future__ import annotations

import logging
from pathlib import Path

from o1coder.config import ModelConfig
from o1coder.prm.config import PRMConfig
from o1coder.prm.features import IGNORE_INDEX, StepLabelCollator, pointwise_features
from o1coder.prm.modeling import (
    TrainResult,
    fit,
    load_base,
    load_tokenizer,
    lora_config,
    require_training_libraries,
    training_arguments,
)

logger = logging.getLogger(__name__)


def step_loss(outputs, labels, num_items_in_batch=None):
    """BCE (one logit) or two-class soft cross-entropy (two logits) at labelled tokens; ``compute_loss_func``."""
    import torch
    import torch.nn.functional as F

    logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]  # (batch, seq, num_labels)
    mask = labels != IGNORE_INDEX
    picked = logits[mask].float()  # (n labelled tokens, num_labels)
    target = labels[mask].float()
    if picked.shape[-1] == 1:
        per_token = F.binary_cross_entropy_with_logits(picked[:, 0], target, reduction="none")
    elif picked.shape[-1] == 2:
        log_p = torch.log_softmax(picked, dim=-1)
        per_token = -(target * log_p[:, 1] + (1 - target) * log_p[:, 0])
    else:
        raise ValueError(f"a point-wise PRM head has 1 or 2 outputs; this one has {picked.shape[-1]}")
    count = num_items_in_batch if num_items_in_batch is not None else mask.sum()
    if torch.is_tensor(count):
        count = count.to(per_token.device).clamp(min=1)
    else:
        count = max(int(count), 1)
    return per_token.sum() / count


def step_scores(logits):
    """Per-position scores in [0, 1] from a point-wise head's logits (sigmoid of one logit, or P(class 1))."""
    import torch

    if logits.shape[-1] == 1:
        return torch.sigmoid(logits[..., 0].float())
    return torch.softmax(logits.float(), dim=-1)[..., 1]


def tokenize_rows(rows: list[dict], tokenizer, max_length: int, counts: dict[str, int]) -> list[dict]:
    """Point-wise features for each row; rows longer than ``max_length`` tokens are skipped and counted."""
    features = []
    for row in rows:
        feature = pointwise_features(tokenizer, row["prompt"], row["completions"], row["labels"])
        if len(feature["input_ids"]) > max_length:
            counts["too_long"] = counts.get("too_long", 0) + 1
            continue
        features.append(feature)
    counts["rows"] = len(features)
    counts["labelled_steps"] = sum(sum(1 for x in f["labels"] if x != IGNORE_INDEX) for f in features)
    return features


def pointwise_trainer(rows: list[dict], model_config: ModelConfig, config: PRMConfig, output_dir: str | Path,
                      counts: dict[str, int] | None = None):
    """transformers' Trainer on point-wise rows (prompt / completions / labels), ready to ``train()``."""
    require_training_libraries()
    from datasets import Dataset
    from transformers import Trainer, TrainingArguments

    base = config.base_model or model_config.name_or_path
    tokenizer = load_tokenizer(base, model_config.trust_remote_code)
    counts = counts if counts is not None else {}
    features = tokenize_rows(rows, tokenizer, config.max_length, counts)
    if not features:
        raise ValueError(f"no point-wise training rows: {len(rows)} given, {counts.get('too_long', 0)} longer than "
                         f"prm.max_length={config.max_length} tokens; search more problems or raise max_length")
    model = load_base(base, "pointwise", config.num_labels, tokenizer, model_config.dtype,
                      model_config.trust_remote_code, config.seed)
    if config.lora:
        from peft import get_peft_model

        model = get_peft_model(model, lora_config(config, "pointwise"))
    return Trainer(model=model, args=training_arguments(TrainingArguments, config, output_dir),
                   train_dataset=Dataset.from_list(features), processing_class=tokenizer,
                   data_collator=StepLabelCollator(tokenizer.pad_token_id), compute_loss_func=step_loss)


def train_pointwise(rows: list[dict], model_config: ModelConfig, config: PRMConfig, output_dir: str | Path,
                    info: dict | None = None) -> TrainResult:
    """Train a point-wise PRM on ``rows`` and save it (model, tokenizer, prm.json, metrics.json) to
    ``output_dir``. ``info`` adds provenance to prm.json (run id, train / held-out problems)."""
    counts: dict[str, int] = {"given": len(rows)}
    trainer = pointwise_trainer(rows, model_config, config, output_dir, counts)
    meta = {"mode": "pointwise", "num_labels": config.num_labels, "labels": config.labels,
            "threshold": config.threshold, "base_model": config.base_model or model_config.name_or_path,
            "max_length": config.max_length, **(info or {})}
    return fit(trainer, meta, output_dir, config, counts)
