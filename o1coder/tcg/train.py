"""TCG training: SFT then DPO, thin stages over TRL's SFTTrainer and DPOTrainer with a LoRA adapter (peft).

The reference model of DPO is the SFT model. When the SFT output is an adapter, the policy starts from that
adapter and TRL keeps a frozen copy of it as the reference (its "ref" adapter); when it is a full (merged) model,
a fresh LoRA is put on it and the reference is that model with the adapter disabled; with ``lora: false`` (full
fine-tuning, for models too small for an adapter) the whole SFT model trains and TRL keeps a frozen copy of it as
the reference. Either way the reference is exactly what SFT produced. QLoRA (``load_in_4bit``) loads the base in 4-bit NF4 on a GPU; on a CPU it is plain
LoRA in float32 with ``use_cpu``, no bf16, nothing reported to outside services.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

from o1coder import trainkit as kit
from o1coder.config import ModelConfig
from o1coder.tcg.config import TCGConfig
from o1coder.tcg.data import DataReport, filter_by_length
from o1coder.trainkit import TrainResult

logger = logging.getLogger(__name__)

ADAPTER_FILE = "adapter_config.json"
METRICS_FILE = "metrics.json"


def _require_training_libraries():
    kit.require_training_libraries("TCG training")


def lora_config(config: TCGConfig):
    """The peft LoraConfig of the recipe (the paper: r=1 on all projections); None with ``lora: false``."""
    if not config.lora:
        return None
    return kit.lora_config(config.lora_r, config.lora_alpha, config.lora_dropout, config.lora_target_modules)


def trainer_args(kind: str, config: TCGConfig, output_dir: str | Path):
    """TRL's SFTConfig / DPOConfig: our defaults, then the recipe's ``tcg.sft`` / ``tcg.dpo`` keys on top."""
    from trl import DPOConfig, SFTConfig

    cls, overrides = {"sft": (SFTConfig, config.sft), "dpo": (DPOConfig, config.dpo)}[kind]
    defaults = {"output_dir": str(output_dir), "learning_rate": 5e-4, "max_length": config.max_length,
                "seed": config.seed}
    return kit.trainer_arguments(cls, f"tcg.{kind}", defaults, overrides, activation_checkpointing=False)


def load_model(name_or_path: str, model_config: ModelConfig, config: TCGConfig):
    """A causal LM for training: the recipe's dtype, 4-bit NF4 for QLoRA; ``tiny`` is the project's tiny model."""
    import torch
    import transformers

    from o1coder.models import resolve_model_path
    from o1coder.models.transformers_backend import resolve_dtype

    kwargs: dict[str, Any] = {"trust_remote_code": model_config.trust_remote_code}
    device = "cuda" if kit.on_gpu() else "cpu"
    kwargs["dtype"] = resolve_dtype(model_config.dtype, device)
    if config.load_in_4bit:
        kwargs["device_map"] = {"": kit.process_device()}  # a 4-bit model cannot move: load it on this rank's GPU
        if device != "cuda":
            raise ValueError("tcg.load_in_4bit (QLoRA) needs a CUDA GPU; on a CPU set it to false (plain LoRA)")
        try:
            import bitsandbytes  # noqa: F401
        except ImportError as error:
            raise ImportError("tcg.load_in_4bit (QLoRA) needs bitsandbytes: pip install 'o1coder[qlora]'") from error
        compute = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        kwargs["quantization_config"] = transformers.BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute)
    return transformers.AutoModelForCausalLM.from_pretrained(resolve_model_path(name_or_path), **kwargs)


def load_tokenizer(name_or_path: str, config: TCGConfig, trust_remote_code: bool = False):
    import transformers

    from o1coder.models import resolve_model_path

    tokenizer = transformers.AutoTokenizer.from_pretrained(resolve_model_path(name_or_path),
                                                           trust_remote_code=trust_remote_code)
    if config.chat and not getattr(tokenizer, "chat_template", None):
        raise ValueError(f"model {name_or_path!r} has no chat template: set tcg.chat: false (plain-text prompts)")
    return tokenizer


def _dataset(rows: list[dict], tokenizer, config: TCGConfig, report: DataReport | None):
    from datasets import Dataset

    kept = filter_by_length(rows, tokenizer, config.max_length, report)
    if not kept:
        raise ValueError(f"no training rows left: {len(rows)} rows given, all longer than tcg.max_length="
                         f"{config.max_length} tokens (or none given); raise max_length or use shorter problems")
    return Dataset.from_list(kept)


def sft_trainer(rows: list[dict], model_config: ModelConfig, config: TCGConfig, output_dir: str | Path,
                report: DataReport | None = None):
    """TRL's SFTTrainer for TCG rows (prompt/completion) with a new LoRA adapter (or the whole model with
    ``lora: false``), ready to ``train()``."""
    _require_training_libraries()
    from trl import SFTTrainer

    args = trainer_args("sft", config, output_dir)  # first: a recipe typo fails before any model is loaded
    tokenizer = load_tokenizer(model_config.name_or_path, config, model_config.trust_remote_code)
    dataset = _dataset(rows, tokenizer, config, report)
    model = load_model(model_config.name_or_path, model_config, config)
    return SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                      peft_config=lora_config(config))


def train_sft(rows: list[dict], model_config: ModelConfig, config: TCGConfig, output_dir: str | Path,
              report: DataReport | None = None) -> TrainResult:
    """Supervised fine-tuning of a LoRA adapter (or the whole model) on TCG rows; the adapter (or model) and
    metrics.json go to ``output_dir``."""
    trainer = sft_trainer(rows, model_config, config, output_dir, report)
    return fit(trainer, "sft", output_dir, config, report, {"base_model": model_config.name_or_path})


def dpo_trainer(rows: list[dict], model_config: ModelConfig, config: TCGConfig, output_dir: str | Path,
                sft_dir: str | Path | None = None, report: DataReport | None = None):
    """TRL's DPOTrainer for TCG pairs (prompt/chosen/rejected) whose reference model is the SFT model."""
    _require_training_libraries()
    from peft import PeftModel
    from trl import DPOTrainer

    args = trainer_args("dpo", config, output_dir)
    # model: the SFT adapter continued (TRL keeps a frozen copy as the reference), or a new LoRA on a merged model
    # (none with lora: false: the whole model trains, TRL copies it as the reference)
    peft_config = None
    if sft_dir is not None and (Path(sft_dir) / ADAPTER_FILE).is_file():
        _check_base(sft_dir, model_config)
        model = load_model(model_config.name_or_path, model_config, config)
        model = PeftModel.from_pretrained(model, str(sft_dir), is_trainable=True)
    elif sft_dir is not None:
        model = load_model(str(sft_dir), model_config, config)
        peft_config = lora_config(config)
    else:
        logger.warning("DPO without an SFT model: the reference model is the base model %s", model_config.name_or_path)
        model = load_model(model_config.name_or_path, model_config, config)
        peft_config = lora_config(config)
    tokenizer_source = str(sft_dir) if sft_dir is not None and _has_tokenizer(sft_dir) else model_config.name_or_path
    tokenizer = load_tokenizer(tokenizer_source, config, model_config.trust_remote_code)
    dataset = _dataset(rows, tokenizer, config, report)
    return DPOTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                      peft_config=peft_config)


def train_dpo(rows: list[dict], model_config: ModelConfig, config: TCGConfig, output_dir: str | Path,
              sft_dir: str | Path | None = None, report: DataReport | None = None) -> TrainResult:
    """DPO of the SFT model on TCG pairs. The policy adapter is saved to ``output_dir``, TRL's frozen reference
    copy to ``output_dir/ref``, with metrics.json."""
    trainer = dpo_trainer(rows, model_config, config, output_dir, sft_dir, report)
    extra = {"base_model": model_config.name_or_path, "sft_dir": None if sft_dir is None else str(sft_dir)}
    return fit(trainer, "dpo", output_dir, config, report, extra)


def _check_base(adapter_dir: str | Path, model_config: ModelConfig) -> None:
    """Warn when the SFT adapter was trained on another base model than the recipe's."""
    from o1coder.models import resolve_model_path

    trained_on = json.loads((Path(adapter_dir) / ADAPTER_FILE).read_text()).get("base_model_name_or_path")
    if trained_on and trained_on != resolve_model_path(model_config.name_or_path):
        logger.warning("the SFT adapter in %s was trained on %s, but the recipe's model is %s", adapter_dir,
                       trained_on, model_config.name_or_path)


def _has_tokenizer(folder: str | Path) -> bool:
    return any((Path(folder) / name).is_file() for name in ("tokenizer.json", "tokenizer_config.json"))


def fit(trainer, stage: str, output_dir: str | Path, config: TCGConfig, report: DataReport | None = None,
        extra: dict | None = None) -> TrainResult:
    """Train, save the adapter (and tokenizer) to ``output_dir``, write metrics.json there (the main process
    writes, every process waits: :func:`o1coder.trainkit.fit`)."""
    metrics = {"stage": stage, "data": report.to_dict() if report is not None else None,
               "tcg": dataclasses.asdict(config), **(extra or {})}
    result = kit.fit(trainer, output_dir, METRICS_FILE, metrics)
    m = result.metrics
    logger.info("tcg %s: %d steps, loss %s -> %s, saved to %s", stage, m["steps"], m["first_loss"], m["last_loss"],
                result.output_dir)
    return result


def trained_model_config(output_dir: str | Path, model_config: ModelConfig) -> ModelConfig:
    """The model config that generates with a ``train_sft`` / ``train_dpo`` output: the recipe's model plus the
    adapter when the folder holds one, else the folder itself (a whole model, from ``lora: false``)."""
    if (Path(output_dir) / ADAPTER_FILE).is_file():
        return dataclasses.replace(model_config, lora_path=str(output_dir))
    if not (Path(output_dir) / "config.json").is_file():
        raise ValueError(f"{output_dir}: neither a LoRA adapter ({ADAPTER_FILE}) nor a model folder (config.json); "
                         "give a `tcg sft` / `tcg dpo` output folder")
    return dataclasses.replace(model_config, name_or_path=str(output_dir), lora_path=None)


def load_trained(output_dir: str | Path, model_config: ModelConfig, config: TCGConfig | None = None):
    """The trained TCG model (base + adapter, unmerged) from a ``train_sft`` / ``train_dpo`` output folder."""
    from peft import PeftModel

    base = load_model(model_config.name_or_path, model_config, config or TCGConfig())
    return PeftModel.from_pretrained(base, str(output_dir))
