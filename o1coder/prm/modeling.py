"""What both PRM trainers share: the base model with a new head, LoRA, trainer arguments, saving and loading.

A trained PRM is one folder: the model (full weights, or a LoRA adapter whose saved modules include the new head),
the tokenizer, ``prm.json`` (what :class:`o1coder.prm.PRMScorer` needs to read it back: mode, head, base model, the
prompt format, the problems it was trained on) and ``metrics.json`` (the training log). Point-wise models are
``AutoModelForTokenClassification`` and pair-wise ones ``AutoModelForSequenceClassification``, both on the base
model's architecture (for the tiny model: Qwen2ForTokenClassification / Qwen2ForSequenceClassification).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from o1coder import trainkit as kit
from o1coder.prm.config import PRMConfig
from o1coder.trainkit import TrainResult

logger = logging.getLogger(__name__)

INFO_FILE = "prm.json"
METRICS_FILE = "metrics.json"
ADAPTER_FILE = "adapter_config.json"
INFO_VERSION = 1
# what the rows and the scorer put before the steps: pseudocode_prompt(problem, examples=())
PROMPT_FORMAT = "pseudocode, zero-shot"


def require_training_libraries() -> None:
    kit.require_training_libraries("PRM training", peft=False)


def model_class(mode: str):
    """AutoModelForTokenClassification (point-wise) or AutoModelForSequenceClassification (pair-wise)."""
    import transformers

    if mode == "pointwise":
        return transformers.AutoModelForTokenClassification
    if mode == "pairwise":
        return transformers.AutoModelForSequenceClassification
    raise ValueError(f"PRM mode must be 'pointwise' or 'pairwise'; got {mode!r}")


def _device() -> str:
    """This process's device: under a multi-GPU launch, each rank's PRM on its own GPU (not all on GPU 0)."""
    return kit.process_device()


HEAD_PREFIXES = ("score.", "classifier.")  # names of the new head in transformers' classification models


class _NewHeadOnly(logging.Filter):
    """Drops transformers' load report when the only missing weights are the new head's (expected: it is what
    the PRM trains); any other missing or unexpected key still gets reported."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "LOAD REPORT" not in text:
            return True
        rows = [line for line in text.splitlines()
                if "|" in line and not line.startswith("Key") and not set(line) <= set("-+| ")]
        expected = all(r.split("|")[0].strip().startswith(HEAD_PREFIXES) and "MISSING" in r for r in rows)
        return not (rows and expected)


@contextmanager
def quiet_new_head():
    """Within the block, transformers does not warn about the freshly initialised classification head."""
    loggers = [logging.getLogger(name) for name in ("transformers.modeling_utils", "transformers.utils.loading_report")]
    head_filter = _NewHeadOnly()
    for report_logger in loggers:
        report_logger.addFilter(head_filter)
    try:
        yield
    finally:
        for report_logger in loggers:
            report_logger.removeFilter(head_filter)


def load_tokenizer(name_or_path: str, trust_remote_code: bool = False):
    """The base model's tokenizer (fast: the offset mapping places labels), with a pad token."""
    import transformers

    from o1coder.models import resolve_model_path

    tokenizer = transformers.AutoTokenizer.from_pretrained(resolve_model_path(name_or_path), use_fast=True,
                                                           trust_remote_code=trust_remote_code)
    if tokenizer.pad_token is None:  # sequence classification finds the last real token through the pad id
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_base(name_or_path: str, mode: str, num_labels: int, tokenizer, dtype: str = "auto",
              trust_remote_code: bool = False, seed: int = 0):
    """The base model with a freshly initialised classification head of ``num_labels`` outputs (initialised from
    ``seed``, without touching the caller's random state)."""
    import torch

    from o1coder.models import resolve_model_path
    from o1coder.models.transformers_backend import resolve_dtype

    with quiet_new_head(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = model_class(mode).from_pretrained(resolve_model_path(name_or_path), num_labels=num_labels,
                                                  dtype=resolve_dtype(dtype, _device()),
                                                  trust_remote_code=trust_remote_code)
    model.config.pad_token_id = tokenizer.pad_token_id
    return model


def lora_config(config: PRMConfig, mode: str):
    """peft's LoraConfig; the task type makes peft train and save the new head ("score") with the adapter."""
    # peft leaves the head out of 'all-linear' for SEQ_CLS but not for TOKEN_CLS; the head is trained whole
    # (modules_to_save), so it must not also get an adapter
    return kit.lora_config(config.lora_r, config.lora_alpha, config.lora_dropout, config.lora_target_modules,
                           "TOKEN_CLS" if mode == "pointwise" else "SEQ_CLS",
                           exclude_modules=[p.rstrip(".") for p in HEAD_PREFIXES])


def training_arguments(cls, config: PRMConfig, output_dir: str | Path, **extra: Any):
    """``cls`` (TrainingArguments or RewardConfig) from our defaults, then the recipe's fields and ``trainer:``."""
    defaults = {"output_dir": str(output_dir), "learning_rate": config.learning_rate,
                "num_train_epochs": config.epochs, "per_device_train_batch_size": config.batch_size,
                "seed": config.seed, "data_seed": config.seed, "remove_unused_columns": False, **extra}
    return kit.trainer_arguments(cls, "prm.trainer", defaults, config.trainer, activation_checkpointing=False)


def fit(trainer, info: dict[str, Any], output_dir: str | Path, config: PRMConfig, data: dict[str, Any]
        ) -> TrainResult:
    """Train, then save the model, the tokenizer, ``prm.json`` and ``metrics.json`` to ``output_dir`` (the main
    process writes, every process waits: :func:`o1coder.trainkit.fit`)."""
    info = {"version": INFO_VERSION, "prompt": PROMPT_FORMAT, **info}

    def finish(out: Path) -> None:
        trainer.processing_class.save_pretrained(str(out))
        info["lora"] = (out / ADAPTER_FILE).is_file()
        (out / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")

    metrics = {"mode": info["mode"], "data": data, "prm": dataclasses.asdict(config)}
    result = kit.fit(trainer, output_dir, METRICS_FILE, metrics, finish)
    result.info = read_info(result.output_dir)  # every process: the main one wrote it before the others went on
    m = result.metrics
    logger.info("prm %s: %d steps, loss %s -> %s, saved to %s", info["mode"], m["steps"], m["first_loss"],
                m["last_loss"], result.output_dir)
    return result


def read_info(path: str | Path) -> dict[str, Any]:
    """A trained PRM folder's ``prm.json``; a clear error when the folder is not one."""
    file = Path(path) / INFO_FILE
    if not file.is_file():
        raise FileNotFoundError(f"{path} is not a trained PRM folder (no {INFO_FILE}); train one with "
                                "`o1coder prm train`")
    info = json.loads(file.read_text())
    if info.get("version", 1) > INFO_VERSION:
        raise ValueError(f"{file} was written by a newer o1coder (version {info['version']}): upgrade o1coder")
    return info


def load_trained(path: str | Path, info: dict[str, Any] | None = None, dtype: str = "auto"):
    """``(model, tokenizer, info)`` from a trained PRM folder, in eval mode. An adapter is applied on its base
    model unmerged, so scores are exactly those of the model that was saved."""
    import transformers

    from o1coder.models import resolve_model_path
    from o1coder.models.transformers_backend import resolve_dtype

    info = info or read_info(path)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(path), use_fast=True)
    cls = model_class(info["mode"])
    torch_dtype = resolve_dtype(dtype, _device())
    if info.get("lora"):
        from peft import PeftModel

        with quiet_new_head():  # the head's weights come with the adapter
            base = cls.from_pretrained(resolve_model_path(info["base_model"]), num_labels=info["num_labels"],
                                       dtype=torch_dtype)
        base.config.pad_token_id = tokenizer.pad_token_id
        model = PeftModel.from_pretrained(base, str(path))
    else:
        model = cls.from_pretrained(str(path), dtype=torch_dtype)
    model.to(_device())
    model.eval()
    return model, tokenizer, info
