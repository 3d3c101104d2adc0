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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from o1coder.prm.config import PRMConfig

logger = logging.getLogger(__name__)

INFO_FILE = "prm.json"
METRICS_FILE = "metrics.json"
ADAPTER_FILE = "adapter_config.json"
INFO_VERSION = 1
# what the rows and the scorer put before the steps: pseudocode_prompt(problem, examples=())
PROMPT_FORMAT = "pseudocode, zero-shot"


@dataclass
class TrainResult:
    """Where the PRM went, what it was trained on and what training logged (also in ``metrics.json``)."""

    output_dir: Path
    info: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    trainer: Any = field(default=None, repr=False)  # the trainer; .model is the trained model


def require_training_libraries() -> None:
    try:
        import datasets  # noqa: F401
        import transformers  # noqa: F401
        import trl  # noqa: F401
    except ImportError as error:
        raise ImportError(f"PRM training needs transformers, trl and datasets ({error.name} is missing): "
                          "pip install 'o1coder[train]'") from error


def model_class(mode: str):
    """AutoModelForTokenClassification (point-wise) or AutoModelForSequenceClassification (pair-wise)."""
    import transformers

    if mode == "pointwise":
        return transformers.AutoModelForTokenClassification
    if mode == "pairwise":
        return transformers.AutoModelForSequenceClassification
    raise ValueError(f"PRM mode must be 'pointwise' or 'pairwise'; got {mode!r}")


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


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
    try:
        from peft import LoraConfig
    except ImportError as error:
        raise ImportError("prm.lora needs peft: pip install 'o1coder[train]'") from error
    # peft leaves the head out of 'all-linear' for SEQ_CLS but not for TOKEN_CLS; the head is trained whole
    # (modules_to_save), so it must not also get an adapter
    return LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=config.lora_target_modules, exclude_modules=[p.rstrip(".") for p in HEAD_PREFIXES],
                      task_type="TOKEN_CLS" if mode == "pointwise" else "SEQ_CLS")


def training_arguments(cls, config: PRMConfig, output_dir: str | Path, **extra: Any):
    """``cls`` (TrainingArguments or RewardConfig) from our defaults, then the recipe's fields and ``trainer:``.

    On a CPU: ``use_cpu``, no bf16 (TRL defaults to bf16), nothing reported to outside services either way.
    """
    import torch

    kwargs: dict[str, Any] = {
        "output_dir": str(output_dir), "learning_rate": config.learning_rate, "num_train_epochs": config.epochs,
        "per_device_train_batch_size": config.batch_size, "seed": config.seed, "data_seed": config.seed,
        "logging_steps": 1, "save_strategy": "no", "report_to": "none", "activation_checkpointing": False,
        "remove_unused_columns": False, **extra,
    }  # fmt: skip
    if torch.cuda.is_available():
        kwargs["bf16"] = torch.cuda.is_bf16_supported()
    else:
        kwargs.update(use_cpu=True, bf16=False)
    kwargs.update(config.trainer)
    try:
        return cls(**kwargs)
    except TypeError as error:  # an unknown keyword: name it and where it came from
        raise ValueError(f"prm.trainer has a key that {cls.__name__} does not take ({error})") from None


def fit(trainer, info: dict[str, Any], output_dir: str | Path, config: PRMConfig, data: dict[str, Any]
        ) -> TrainResult:
    """Train, then save the model, the tokenizer, ``prm.json`` and ``metrics.json`` to ``output_dir``."""
    import transformers
    import trl

    trainer.train()
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    trainer.save_model(str(out))
    trainer.processing_class.save_pretrained(str(out))
    history = list(trainer.state.log_history)
    losses = [entry["loss"] for entry in history if "loss" in entry]
    info = {"version": INFO_VERSION, "prompt": PROMPT_FORMAT, **info, "lora": (out / ADAPTER_FILE).is_file()}
    (out / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
    metrics = {
        "mode": info["mode"], "steps": trainer.state.global_step, "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None, "log_history": history, "data": data,
        "prm": dataclasses.asdict(config),
        "versions": {"trl": trl.__version__, "transformers": transformers.__version__},
    }  # fmt: skip
    (out / METRICS_FILE).write_text(json.dumps(metrics, indent=2, default=str) + "\n")
    logger.info("prm %s: %d steps, loss %s -> %s, saved to %s", info["mode"], metrics["steps"],
                metrics["first_loss"], metrics["last_loss"], out)
    return TrainResult(out, info, metrics, trainer)


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
