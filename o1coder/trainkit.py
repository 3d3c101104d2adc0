"""The training kit: what the TCG, PRM and policy stages share on top of TRL / transformers' trainers.

Written once so that the three stages behave the same under a multi-process launch (``accelerate launch``, one
process per GPU): TRL's trainers already split the data and gather gradients; what is left to get right is around
them, and that is here.

- :class:`TrainResult`: where a trained model went and what training logged.
- :func:`require_training_libraries`: one install hint when transformers, TRL, peft or datasets is missing.
- :func:`lora_config`, :func:`trainer_arguments`: peft's LoraConfig, TRL's config objects with our CPU / GPU defaults.
- :func:`keep_fitting`: the length filter (rows longer than ``max_length`` tokens are dropped and counted).
- :func:`fit`: train, save from the main process only, every process waits for the others, and the process group
  is destroyed before the interpreter exits (a gloo / NCCL group left to C++ static destructors aborts a rank at
  exit with "terminate called without an active exception").
- :func:`process_device`, :func:`is_main_process`, :func:`local_world_size`: rank-aware construction of what a
  training verb builds besides the trainer (a PRM scorer, a sandbox, a sampling engine), read from the launcher's
  environment so that nothing has to initialise ``torch.distributed`` first.

Importing this module is cheap: torch, transformers, TRL and peft are imported by the functions that need them.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'o1coder[train]'"


@dataclass
class TrainResult:
    """A trained model's folder and what training logged (also written as JSON there by :func:`fit`)."""

    output_dir: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    trainer: Any = field(default=None, repr=False)  # the TRL / transformers trainer; .model is the trained model
    info: dict[str, Any] = field(default_factory=dict)  # what a reader of the folder needs (the PRM's prm.json)

    @property
    def losses(self) -> list[float]:
        return [e["loss"] for e in self.metrics.get("log_history", []) if "loss" in e]


def require_training_libraries(what: str, peft: bool = True) -> None:
    """Raise an ImportError naming the missing library and the extra to install (``what``: "TCG training"...)."""
    names = ["datasets", "transformers", "trl", *(["peft"] if peft else [])]
    for name in names:
        try:
            __import__(name)
        except ImportError as error:
            raise ImportError(f"{what} needs {', '.join(names[:-1])} and {names[-1]} ({name} is missing): "
                              f"{INSTALL_HINT}") from error


def lora_config(r: int, alpha: int, dropout: float, target_modules: Any, task_type: str = "CAUSAL_LM",
                **extra: Any):
    """peft's LoraConfig (``task_type``: CAUSAL_LM for a policy or the TCG, TOKEN_CLS / SEQ_CLS for a PRM)."""
    try:
        from peft import LoraConfig
    except ImportError as error:
        raise ImportError(f"LoRA needs peft: {INSTALL_HINT}") from error
    return LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=target_modules,
                      task_type=task_type, **extra)


def on_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def device_arguments(activation_checkpointing: bool | None = None) -> dict[str, Any]:
    """Trainer keywords that depend on the device: bf16 where the GPU has it; on a CPU ``use_cpu`` and no bf16
    (TRL defaults to bf16). ``activation_checkpointing`` None: on for GPUs (memory), off on a CPU (slower there)."""
    import torch

    gpu = torch.cuda.is_available()
    kwargs: dict[str, Any] = {"activation_checkpointing": gpu if activation_checkpointing is None
                              else activation_checkpointing}
    if gpu:
        kwargs["bf16"] = torch.cuda.is_bf16_supported()
    else:
        kwargs.update(use_cpu=True, bf16=False)
    return kwargs


def trainer_arguments(cls, section: str, defaults: dict[str, Any], overrides: dict[str, Any] | None = None,
                      activation_checkpointing: bool | None = None):
    """``cls(**kwargs)`` (TRL's SFTConfig / DPOConfig / GRPOConfig / RewardConfig or TrainingArguments): the kit's
    defaults (nothing reported to outside services, no checkpoints, a log line per step), the device keywords,
    the stage's ``defaults``, then the recipe's ``overrides`` on top. A key ``cls`` does not take is a ValueError
    that names the recipe ``section`` it came from."""
    kwargs: dict[str, Any] = {"logging_steps": 1, "save_strategy": "no", "report_to": "none",
                              **device_arguments(activation_checkpointing), **defaults, **(overrides or {})}
    try:
        return cls(**kwargs)
    except TypeError as error:  # an unknown keyword: name it and where it came from
        library = cls.__module__.split(".")[0]
        owner = "TRL's" if library == "trl" else f"{library}'"
        raise ValueError(f"{section} has a key that {owner} {cls.__name__} does not take ({error}); see "
                         f"`python -c 'from {library} import {cls.__name__}; help({cls.__name__})'`") from None


def keep_fitting(rows: Iterable[dict], length: Callable[[dict], int], max_length: int) -> tuple[list[dict], int]:
    """The rows whose ``length(row)`` (tokens the row takes in training) is at most ``max_length``, and how many
    were dropped (logged: a silent drop would shrink the data without anyone knowing)."""
    rows = list(rows)
    kept = [row for row in rows if length(row) <= max_length]
    if len(kept) < len(rows):
        logger.info("dropped %d of %d rows longer than %d tokens", len(rows) - len(kept), len(rows), max_length)
    return kept, len(rows) - len(kept)


def loss_summary(history: list[dict]) -> dict[str, Any]:
    """Steps-independent summary of a trainer's log history: first and last loss, mean reward (GRPO)."""
    losses = [entry["loss"] for entry in history if "loss" in entry]
    rewards = [entry["reward"] for entry in history if "reward" in entry]
    return {"first_loss": losses[0] if losses else None, "last_loss": losses[-1] if losses else None,
            "mean_reward": sum(rewards) / len(rewards) if rewards else None}


def fit(trainer, output_dir: str | Path, metrics_file: str, metrics: dict[str, Any] | None = None,
        finish: Callable[[Path], None] | None = None, info: dict[str, Any] | None = None) -> TrainResult:
    """Train, save the model to ``output_dir`` and write ``metrics_file`` there; correct under a multi-process launch.

    Every process takes part in ``save_model`` (it gathers sharded weights; transformers writes from the main
    process only). Only the main process runs ``finish(folder)`` (the stage's own files: merging an adapter, the
    tokenizer, prm.json) and writes the metrics; then every process waits for the others, so no rank returns
    before the folder is complete. ``metrics``: the stage's entries, next to steps, losses, log history and the
    library versions. The returned result carries the same metrics in every process.
    """
    import transformers
    import trl

    # with disable_tqdm, transformers prints every log dict to stdout; the history goes to the metrics file instead
    trainer.remove_callback(transformers.trainer_callback.PrinterCallback)
    trainer.train()
    out = Path(output_dir)
    trainer.save_model(str(out))
    history = list(trainer.state.log_history)
    accelerator = trainer.accelerator
    result = {"steps": trainer.state.global_step, **loss_summary(history), "processes": accelerator.num_processes,
              "log_history": history, **(metrics or {}), "versions": _versions(trl, transformers)}
    if accelerator.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        if finish is not None:
            finish(out)
        (out / metrics_file).write_text(json.dumps(result, indent=2, default=str) + "\n")
        logger.info("%s written by process %d of %d", out, accelerator.process_index, accelerator.num_processes)
    accelerator.wait_for_everyone()
    release_process_group_at_exit()
    return TrainResult(out, result, trainer, dict(info or {}))


def _versions(*modules) -> dict[str, str]:
    versions = {module.__name__: module.__version__ for module in modules}
    try:
        import peft

        versions["peft"] = peft.__version__
    except ImportError:
        pass
    return versions


# -- processes of a launch ---------------------------------------------------------------------------------------
def rank() -> int:
    """This process's global rank under a launcher (``RANK``), 0 in a plain process."""
    return int(os.environ.get("RANK", "0"))


def local_rank() -> int:
    """This process's rank on its machine (``LOCAL_RANK``): the GPU it owns; 0 in a plain process."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def local_world_size() -> int:
    """Processes of the launch on this machine (``LOCAL_WORLD_SIZE``), 1 in a plain process."""
    return int(os.environ.get("LOCAL_WORLD_SIZE", "1"))


def is_main_process() -> bool:
    return rank() == 0


def process_device() -> str:
    """The device models built by this process belong on: ``cuda:<local rank>`` on a GPU machine (a bare "cuda"
    would put every rank's copy on GPU 0), else "cpu"."""
    return f"cuda:{local_rank()}" if on_gpu() else "cpu"


def share_of_cores(workers: int) -> int:
    """``workers`` divided among the launch's processes on this machine (at least 1): eight ranks each starting a
    sandbox with one worker per core would put eight workers on every core."""
    return max(1, workers // local_world_size())


def wait_for_everyone() -> None:
    """A barrier across the launch's processes (nothing in a plain process). Initialises the process group the way
    the trainers will (accelerate's PartialState), so it can run before any trainer exists."""
    if local_world_size() == 1 and int(os.environ.get("WORLD_SIZE", "1")) == 1:
        return
    from accelerate import PartialState

    PartialState().wait_for_everyone()
    release_process_group_at_exit()


def release_process_group() -> None:
    """Destroy the default process group when one exists (every rank must call it: it is collective for NCCL).

    Idempotent; what :func:`fit` arranges to run at interpreter exit, and what a launched command calls when its
    verb returns."""
    try:
        import torch.distributed as dist
    except ImportError:
        return
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
        logger.debug("process group destroyed")


_registered = False


def release_process_group_at_exit() -> None:
    """Run :func:`release_process_group` at interpreter exit (once), before C++ destructors tear the group down."""
    global _registered
    if not _registered:
        atexit.register(release_process_group)
        _registered = True


def computed_once(path: str | Path, compute: Callable[[], list[dict]]) -> list[dict]:
    """Rows that only the main process computes (sampling with an engine, scoring with a PRM, running a sandbox),
    shared with the other processes of a launch through the JSON-lines file ``path``: every rank trains on the
    same data, and no rank but the first builds an engine or a scorer for it. In a plain process: ``compute()``,
    also written to ``path`` (the record of what was trained on). An error on the main process is re-raised on
    every rank instead of leaving them waiting at the barrier."""
    path = Path(path)
    failed = path.with_name(path.name + ".failed")
    rows: list[dict] = []
    if is_main_process():
        failed.unlink(missing_ok=True)
        try:
            rows = compute()
        except BaseException as error:
            failed.parent.mkdir(parents=True, exist_ok=True)
            failed.write_text(f"{type(error).__name__}: {error}\n")
            wait_for_everyone()
            raise
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(row, default=str) + "\n" for row in rows), encoding="utf-8")
    wait_for_everyone()
    if is_main_process():
        return rows
    if failed.is_file():
        raise RuntimeError(f"the main process failed computing {path.name}: {failed.read_text().strip()}")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# -- memory between stages ---------------------------------------------------------------------------------------
def release_memory() -> dict[str, int]:
    """Give back what the previous stage's models, trainers and engines held: collect the garbage (TRL trainers
    and peft models sit in reference cycles, so dropping the last name is not enough), then return the CUDA
    caching allocator's free blocks to the driver, so that the next stage (a vLLM engine sizing its KV cache
    from the free memory, a 7B PRM) finds them. Returns ``{"collected": objects, "cuda_reserved_freed": bytes}``."""
    import gc

    collected = gc.collect()
    freed = 0
    try:
        import torch
    except ImportError:
        return {"collected": collected, "cuda_reserved_freed": 0}
    if torch.cuda.is_available():
        before = torch.cuda.memory_reserved()
        torch.cuda.empty_cache()
        freed = before - torch.cuda.memory_reserved()
    logger.debug("released memory: %d objects collected, %d bytes of CUDA cache returned", collected, freed)
    return {"collected": collected, "cuda_reserved_freed": freed}
