"""Pair-wise PRM: Bradley-Terry on sibling steps with TRL's RewardTrainer.

Siblings share the problem and every step before them, so a pair isolates the step itself: the text is the
problem, the steps so far and one sibling (see :func:`o1coder.prm.features.pair_features`), the reward is one
logit read at the sequence's EOS, and the loss is ``-log sigmoid(r_chosen - r_rejected [- margin])``. Rows are
tokenized here, not by the trainer, so that scoring (:class:`o1coder.prm.PRMScorer`) builds exactly the same
token ids; RewardTrainer accepts pre-tokenized ``chosen_ids`` / ``rejected_ids`` as they are.

The score of a step is ``sigmoid(r)``: in [0, 1] and monotonic in the reward, so it ranks steps as the model
does, but it is not a calibrated probability of success (Bradley-Terry fixes only differences of rewards).
"""

from __future__ import annotations

import logging
from pathlib import Path

from o1coder.config import ModelConfig
from o1coder.prm.config import PRMConfig
from o1coder.prm.features import pair_features
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


def tokenize_pairs(rows: list[dict], tokenizer, max_length: int, use_margin: bool, counts: dict[str, int]
                   ) -> list[dict]:
    """RewardTrainer features for each pair; pairs with a side longer than ``max_length`` are skipped, counted."""
    features = []
    for row in rows:
        feature = pair_features(tokenizer, row["prompt"], row["chosen"], row["rejected"])
        if max(len(feature["chosen_ids"]), len(feature["rejected_ids"])) > max_length:
            counts["too_long"] = counts.get("too_long", 0) + 1
            continue
        if use_margin:
            feature["margin"] = float(row["margin"])
        features.append(feature)
    counts["pairs"] = len(features)
    return features


def pairwise_trainer(rows: list[dict], model_config: ModelConfig, config: PRMConfig, output_dir: str | Path,
                     counts: dict[str, int] | None = None):
    """TRL's RewardTrainer on sibling pairs (prompt / chosen / rejected), ready to ``train()``."""
    require_training_libraries()
    from datasets import Dataset
    from trl import RewardConfig, RewardTrainer

    base = config.base_model or model_config.name_or_path
    tokenizer = load_tokenizer(base, model_config.trust_remote_code)
    counts = counts if counts is not None else {}
    features = tokenize_pairs(rows, tokenizer, config.max_length, config.use_margin, counts)
    if not features:
        raise ValueError(f"no sibling pairs to train on: {len(rows)} given, {counts.get('too_long', 0)} longer than "
                         f"prm.max_length={config.max_length} tokens; search with more rollouts (siblings need "
                         "visits) or lower prm.min_margin")
    model = load_base(base, "pairwise", 1, tokenizer, model_config.dtype, model_config.trust_remote_code,
                      config.seed)
    args = training_arguments(RewardConfig, config, output_dir, max_length=None)  # filtered above, and counted
    return RewardTrainer(model=model, args=args, train_dataset=Dataset.from_list(features),
                         processing_class=tokenizer,
                         peft_config=lora_config(config, "pairwise") if config.lora else None)


def train_pairwise(rows: list[dict], model_config: ModelConfig, config: PRMConfig, output_dir: str | Path,
                   info: dict | None = None) -> TrainResult:
    """Train a pair-wise PRM on sibling pairs and save it (model, tokenizer, prm.json, metrics.json) to
    ``output_dir``. ``info`` adds provenance to prm.json (run id, train / held-out problems)."""
    counts: dict[str, int] = {"given": len(rows)}
    trainer = pairwise_trainer(rows, model_config, config, output_dir, counts)
    meta = {"mode": "pairwise", "num_labels": 1, "labels": None, "threshold": config.threshold,
            "base_model": config.base_model or model_config.name_or_path, "max_length": config.max_length,
            **(info or {})}
    return fit(trainer, meta, output_dir, config, counts)
