"""What the three policy trainers share: loading the policy, TRL's config objects, LoRA, and saving a checkpoint.

A policy checkpoint is always a plain model folder (weights, config, tokenizer): a LoRA adapter is merged before
saving. Every round of the loop can then search with ``model.name_or_path = <checkpoint>`` on any backend (vLLM
included), DPO's reference model is simply the checkpoint it starts from, and nothing depends on adapters stacking
correctly across rounds. The cost is disk (one full model per round), which is small next to the searches.

On a CPU every trainer runs with ``use_cpu``, no bf16 and no activation checkpointing (slower there); nothing is
reported to outside services.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from o1coder import trainkit as kit
from o1coder.config import ModelConfig
from o1coder.trainkit import TrainResult
from o1coder.training.config import TrainingConfig

logger = logging.getLogger(__name__)

METRICS_FILE = "training.json"
ADAPTER_CONFIG = "adapter_config.json"
TRL_CONFIGS = {"sft": "SFTConfig", "dpo": "DPOConfig", "grpo": "GRPOConfig"}


def require_training_libraries(stage: str) -> None:
    kit.require_training_libraries(f"policy {stage}")


def on_gpu() -> bool:
    return kit.on_gpu()


def trainer_args(kind: str, config: TrainingConfig, output_dir: str | Path, **extra: Any):
    """TRL's SFTConfig / DPOConfig / GRPOConfig: our defaults, then ``extra``, then ``training.<kind>`` on top."""
    import trl

    defaults: dict[str, Any] = {"output_dir": str(output_dir), "seed": config.seed, "data_seed": config.seed}
    if kind in ("sft", "dpo"):
        defaults["max_length"] = config.max_length
    if kind == "sft":
        defaults["completion_only_loss"] = True  # loss on the response (steps + code) only, never on the question
    if kind == "grpo":
        defaults["remove_unused_columns"] = False  # the reward function reads the problem_id column
    return kit.trainer_arguments(getattr(trl, TRL_CONFIGS[kind]), f"training.{kind}", {**defaults, **extra},
                                 getattr(config, kind))


def lora_config(config: TrainingConfig):
    """The peft LoraConfig of the recipe, or None when training all weights."""
    if not config.lora:
        return None
    return kit.lora_config(config.lora_r, config.lora_alpha, config.lora_dropout, config.lora_target_modules)


def resolve_policy(path: str | Path | None, model_config: ModelConfig) -> str:
    """The folder (or hub id) of a policy: ``path``, else the recipe's model; "tiny" is built on first use."""
    from o1coder.models import resolve_model_path

    return resolve_model_path(str(path) if path is not None else model_config.name_or_path)


def load_policy(path: str | Path | None, model_config: ModelConfig):
    """(model, tokenizer) for training, in the recipe's dtype (float32 on a CPU for 'auto')."""
    import transformers

    from o1coder.models.transformers_backend import resolve_dtype

    source = resolve_policy(path, model_config)
    dtype = resolve_dtype(model_config.dtype, "cuda" if on_gpu() else "cpu")
    tokenizer = transformers.AutoTokenizer.from_pretrained(source, trust_remote_code=model_config.trust_remote_code)
    if tokenizer.pad_token is None:  # collators pad; eos as pad would mask the eos labels, so say so
        logger.warning("tokenizer of %s has no pad token; using its eos token", source)
        tokenizer.pad_token = tokenizer.eos_token
    model = transformers.AutoModelForCausalLM.from_pretrained(
        source, dtype=dtype, trust_remote_code=model_config.trust_remote_code)
    return model, tokenizer


def _tokens(tokenizer, value) -> int:
    """Tokens of a text, or of messages rendered with the chat template (conversational rows)."""
    if not isinstance(value, str):
        value = tokenizer.apply_chat_template(list(value), tokenize=False)
    return len(tokenizer(value, add_special_tokens=False)["input_ids"])


def prompt_form(rows) -> dict[str, bool]:
    """The prompt form the rows train (recorded in training.json): zero-shot always, chat when the prompts are
    messages. A search of the policy must use the same (``search.few_shot: false``, ``search.chat``)."""
    return {"chat": any(not isinstance(r.get("prompt"), str) for r in rows), "few_shot": False}


def problem_ids(rows) -> list[str]:
    """The problems training rows came from (their ``problem_id``), recorded as the checkpoint's ``trained_on``
    (:mod:`o1coder.runs.lineage`)."""
    return sorted({str(r["problem_id"]) for r in rows if r.get("problem_id") is not None})


def fit(trainer, stage: str, output_dir: str | Path, extra: dict | None = None) -> TrainResult:
    """Train, then save the policy to ``output_dir`` as a plain model folder (a LoRA adapter merged), with the
    tokenizer and ``training.json`` (:func:`o1coder.trainkit.fit`: the main process writes, every process waits)."""

    def finish(out: Path) -> None:
        if (out / ADAPTER_CONFIG).is_file():
            merge_adapter(out)
        trainer.processing_class.save_pretrained(str(out))

    result = kit.fit(trainer, output_dir, METRICS_FILE, {"stage": stage, **(extra or {})}, finish)
    m = result.metrics
    logger.info("policy %s: %d steps, loss %s -> %s, saved to %s", stage, m["steps"], m["first_loss"], m["last_loss"],
                result.output_dir)
    return result


def merge_adapter(folder: Path) -> None:
    """Replace the LoRA adapter saved in ``folder`` by the full model with the adapter merged into its base."""
    from peft import AutoPeftModelForCausalLM

    merged = AutoPeftModelForCausalLM.from_pretrained(str(folder), dtype="auto").merge_and_unload()
    for name in (ADAPTER_CONFIG, "adapter_model.safetensors", "adapter_model.bin"):
        (folder / name).unlink(missing_ok=True)
    merged.save_pretrained(str(folder))


def length_filter(rows: list[dict], tokenizer, max_length: int, fields: tuple[str, ...]) -> tuple[list[dict], int]:
    """Rows whose prompt + longest response fits ``max_length`` tokens, and how many were dropped."""

    def length(row: dict) -> int:
        prompt = _tokens(tokenizer, row["prompt"])
        longest = max(_tokens(tokenizer, row[f]) for f in fields)
        return prompt + longest + 1  # + 1: the eos token TRL appends

    return kit.keep_fitting(rows, length, max_length)
