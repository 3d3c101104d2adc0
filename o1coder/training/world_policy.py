"""The warm-started world policy: a tiny model that has learnt the synthetic world's step format and code on a CPU.

The tiny model (:mod:`o1coder.models.tiny`) starts from random weights, so every stage downstream of it (search,
PRM, DPO, Table 1) sees zeros until it can write code that passes. This module builds, in a few minutes on a
2-core CPU, a policy that solves some held-out world problems and not others, which is where search and training
have room to help:

1. the world's training problems (``load_problems("synthetic", split="train", ...)``); their text (prompts and
   reasoning traces) is also the tokenizer's corpus: a vocabulary learnt on the world's own words spends fewer tokens
   per trace than the generic tiny tokenizer, and every token saved is training and generation time saved. The
   prompts' fixed instructions (:data:`~o1coder.reasoning.PSEUDOCODE_INSTRUCTION`, the vanilla one) become one token
   each: every row repeats them, and as BPE pieces they were two thirds of a prompt (295 -> 106 tokens);
2. a tiny-model variant with that tokenizer and the shape of :class:`WorldPolicySpec`;
3. SFT (TRL's SFTTrainer, through :func:`o1coder.training.sft.train_sft`) on the traces in the zero-shot pseudocode
   prompt, plus a share of vanilla answers (prose, then the code) so that Table 1's vanilla mode has an answer
   format to follow too.

The held-out split is never read: not for the tokenizer, not for training. The result is a plain model folder,
cached under ``o1coder.paths.models_dir() / "tiny-world"`` with a marker that records the spec; recipes name it
``model.name_or_path: tiny-world`` (built on first use, like ``tiny``). The spec's defaults were chosen by
measurement (``bench/world_learning.py``; figures in the README).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from o1coder import paths
from o1coder.problems import Problem
from o1coder.reasoning import PSEUDOCODE_INSTRUCTION, VANILLA_INSTRUCTION

logger = logging.getLogger(__name__)

WORLD_POLICY_NAME = "tiny-world"
WORLD_POLICY_VERSION = 1  # bump when the build below changes what it produces for the same spec
MARKER = "o1coder_world_policy.json"  # written last: a folder without it is not a finished build
INSTRUCTION_TOKENS = (PSEUDOCODE_INSTRUCTION, VANILLA_INSTRUCTION)  # each one token of the world tokenizer


@dataclass(frozen=True)
class WorldPolicySpec:
    """Everything that decides the warm-started policy; the marker records it, a different spec rebuilds."""

    train_problems: int = field(default=1400, metadata={"help": "World training problems whose traces are the SFT "
                                                                "data (and the tokenizer's corpus)."})
    world_seed: int = field(default=0, metadata={"help": "Seed of the world's training split."})
    world_options: dict = field(default_factory=dict, metadata={
        "help": "More keyword arguments for load_problems('synthetic', ...) (e.g. a difficulty level)."})
    vocab_size: int = field(default=1024, metadata={"help": "Tokenizer vocabulary, trained on the world's text."})
    shape: dict = field(default_factory=lambda: {
        "hidden_size": 128, "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "max_position_embeddings": 2048,
    }, metadata={"help": "Qwen2 shape of the model (keys of o1coder.models.tiny.MODEL_SHAPE)."})  # fmt: skip
    vanilla_share: float = field(default=0.25, metadata={
        "help": "Share of the training problems that also get a vanilla answer row (prose, then the code)."})
    # 400: held-out greedy Pass@1 about 40% (inside issue 13's 5-60% window, room left for search); 600 gave 70.5%
    max_steps: int = field(default=400, metadata={"help": "Optimizer steps of the warm-start SFT."})
    batch_size: int = field(default=8, metadata={"help": "Rows per optimizer step."})
    learning_rate: float = field(default=5e-3, metadata={"help": "Peak learning rate (cosine decay, 5% warm-up)."})
    max_length: int = field(default=1024, metadata={"help": "Longest training row in tokens; longer rows are "
                                                            "dropped."})
    seed: int = field(default=0, metadata={"help": "Seed of the weights' initialisation order and the data order."})
    threads: int = field(default=1, metadata={"help": "Torch threads while training (one is fastest on a small "
                                                      "shared CPU)."})

    def __post_init__(self) -> None:
        for name in ("train_problems", "vocab_size", "max_steps", "batch_size", "max_length", "threads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"WorldPolicySpec.{name} must be an integer >= 1; got {value!r}")
        if not 0 <= self.vanilla_share <= 1:
            raise ValueError(f"WorldPolicySpec.vanilla_share must be in [0, 1]; got {self.vanilla_share!r}")
        if not self.learning_rate > 0:
            raise ValueError(f"WorldPolicySpec.learning_rate must be > 0; got {self.learning_rate!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


WORLD_POLICY = WorldPolicySpec()
"""The recipe behind ``tiny-world`` (see the README's "A policy that learns the world" for how it was chosen)."""


def world_policy_dir() -> Path:
    """Where ``tiny-world`` is cached: ``o1coder.paths.models_dir() / "tiny-world"``."""
    return paths.models_dir() / WORLD_POLICY_NAME


def build_world_policy(out_dir: str | os.PathLike | None = None, spec: WorldPolicySpec | None = None,
                       force: bool = False) -> Path:
    """Build the warm-started world policy into ``out_dir`` (default: :func:`world_policy_dir`) unless a finished
    build of the same spec (default: :data:`WORLD_POLICY`) is there; returns the folder (a plain model folder any
    backend loads)."""
    spec = spec if spec is not None else WORLD_POLICY
    target = Path(out_dir) if out_dir is not None else world_policy_dir()
    if not force and is_built(target, spec):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-build-", dir=target.parent))
    try:
        info = _build_into(staging, spec)
        _replace(staging / "policy", target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("world policy ready at %s (%.0f s, %d steps, loss %.3f -> %.3f)", target, info["seconds"],
                info["steps"], info["first_loss"], info["last_loss"])
    return target


def is_built(folder: Path, spec: WorldPolicySpec) -> bool:
    """True when ``folder`` holds a finished build of ``spec`` by the current :data:`WORLD_POLICY_VERSION`, trained
    on the rows the code builds today (a policy trained on another prompt format or another version of the world
    would be asked in a format it never saw)."""
    info = build_info(folder)
    return (info is not None and info.get("version") == WORLD_POLICY_VERSION and info.get("spec") == spec.to_dict()
            and info.get("data") == data_fingerprint(spec))


def data_fingerprint(spec: WorldPolicySpec) -> str:
    """A hash of the first training rows (pseudocode and vanilla) of ``spec``'s world: it changes when the prompt
    format or the world's generator does. Cheap: one problem is generated."""
    first = dataclasses.replace(spec, train_problems=1)
    rows = warm_start_rows(world_training_problems(first), vanilla_share=1.0)
    text = "\0".join(row["prompt"] + row["completion"] for row in rows)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build_info(folder: str | os.PathLike) -> dict[str, Any] | None:
    """What the build recorded (spec, seconds, rows, losses), or None when ``folder`` is not a finished build."""
    try:
        return json.loads((Path(folder) / MARKER).read_text())
    except (OSError, ValueError):
        return None


def world_training_problems(spec: WorldPolicySpec) -> list[Problem]:
    """The world's training problems the policy learns from (never the held-out split)."""
    from o1coder.problems import load_problems

    return load_problems("synthetic", split="train", n=spec.train_problems, seed=spec.world_seed,
                         **spec.world_options)


def warm_start_rows(problems: Sequence[Problem], vanilla_share: float) -> list[dict]:
    """SFT rows: each problem's trace in the pseudocode prompt, and for the first ``vanilla_share`` of them a
    vanilla answer too (the trace's explanations as prose, then the code), in the row format of
    :mod:`o1coder.training.data`."""
    from o1coder.bundled import trace_of
    from o1coder.reasoning import vanilla_prompt
    from o1coder.reasoning.fewshot import FewShotExample
    from o1coder.reasoning.prompts import vanilla_answer
    from o1coder.training.data import trace_rows

    rows = trace_rows(problems)
    if len(rows) < len(problems):
        raise ValueError(f"{len(problems) - len(rows)} of {len(problems)} world problems have no reasoning trace")
    vanilla = round(len(problems) * vanilla_share)
    for problem in problems[:vanilla]:
        answer = vanilla_answer(FewShotExample(problem, tuple(trace_of(problem))))
        rows.append({"problem_id": problem.id, "prompt": vanilla_prompt(problem, examples=()), "completion": answer,
                     "source": "vanilla", "run_id": None, "round": None})
    return rows


def tokenizer_corpus(rows: Sequence[dict]) -> list[str]:
    """The tokenizer's training texts: every row's prompt and completion, as the model will read them."""
    return [row["prompt"] + row["completion"] for row in rows]


def _build_into(folder: Path, spec: WorldPolicySpec) -> dict[str, Any]:
    from o1coder.config import ModelConfig
    from o1coder.models.tiny import build_tiny_model
    from o1coder.training.config import TrainingConfig
    from o1coder.training.sft import train_sft

    logger.info("building the world policy (a few minutes on a CPU, once): %s", spec)
    start, cpu_start = time.monotonic(), time.process_time()
    rows = warm_start_rows(world_training_problems(spec), spec.vanilla_share)
    base = build_tiny_model(folder / "base", texts=tokenizer_corpus(rows), vocab_size=spec.vocab_size,
                            shape=spec.shape, added_tokens=INSTRUCTION_TOKENS)
    sft = {"learning_rate": spec.learning_rate, "max_steps": spec.max_steps,
           "per_device_train_batch_size": spec.batch_size, "lr_scheduler_type": "cosine", "warmup_steps": 0.05,
           "disable_tqdm": True}
    config = TrainingConfig(lora=False, max_length=spec.max_length, seed=spec.seed, sft=sft)
    with _torch_threads(spec.threads):
        result = train_sft(rows, base, folder / "policy", config, ModelConfig(name_or_path=str(base)))
    info = {"version": WORLD_POLICY_VERSION, "spec": spec.to_dict(), "data": data_fingerprint(spec),
            "seconds": round(time.monotonic() - start, 1),
            # CPU time of this process: what the wall time would be on an idle core (a shared machine's is longer)
            "cpu_seconds": round(time.process_time() - cpu_start, 1),
            "rows": len(rows), "steps": result.metrics["steps"], "first_loss": result.metrics["first_loss"],
            "last_loss": result.metrics["last_loss"]}  # fmt: skip
    (folder / "policy" / MARKER).write_text(json.dumps(info, indent=2) + "\n")
    return info


def _replace(staging: Path, target: Path) -> None:
    """Move the finished build to ``target``, an older build going aside first (two renames, no half folder)."""
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
        with contextlib.suppress(OSError):  # another process moved it first
            os.rename(target, old / "model")
        shutil.rmtree(old, ignore_errors=True)
    try:
        os.rename(staging, target)
    except OSError:
        if build_info(target) is None:  # not another process's finished build: a real failure
            raise
        logger.info("world policy was built concurrently at %s; using that build", target)


@contextlib.contextmanager
def _torch_threads(threads: int) -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
