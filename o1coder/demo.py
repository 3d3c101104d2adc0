"""``o1coder demo``: the method as a miniature replication, offline, on a 2-core CPU in under ten minutes.

One self-play loop (:mod:`o1coder.loop`) on the synthetic world (:mod:`o1coder.loaders.synthetic`, level 1) with a
tiny model whose tokenizer is trained on the world's training text (:mod:`o1coder.training.world_policy`):

1. **baseline** (version 0): the untrained model on the held-out problems. A few of them are searched first
   (MCTS, recorded in the run store), so the app shows a first tree within seconds of the start; then one greedy
   whole trace per held-out problem (at least 100, many per generation batch) gives Pass@1 with its 95% interval.
2. **warm start** (version 1): SFT on the reasoning traces of world training problems, short on purpose: a policy
   that writes the step format and solves some problems, with room left for search and training to help.
3. **self-play rounds** (versions 2, 3, ...): MCTS on training problems new to the policy (a new block every round)
   with the current policy; D+, D_process and sibling pairs; a PRM; SFT on D+ (every round: expert iteration); DPO
   on pairs ranked by phi; the held-out evaluation again. Each
   round also samples its training problems by best-of-N at the tokens MCTS spent (MCTS vs best-of-N, and what
   search found that sampling missed) and scores its PRM on the held-out trees (AUC).

``--seed N`` changes every seed: the world's problems (warm start, self-play and held-out sets), the model's
initial weights, sampling, search, the PRM and training. ``--problems bundled`` runs the older, harder set instead:
the project's 44 hand-written problems (the tiny model learns the step format there but rarely passes).

The demo is an ordinary loop run: ``o1coder runs`` lists it (kind "loop") with its child runs, ``o1coder loop
--resume RUN`` continues it after an interruption, and its files are in ``<runs dir>/loop/<run id>/``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PROBLEM_SETS = ("synthetic", "bundled")

SYNTHETIC = {
    # the knobs the measurements in bench/demo_learning.py chose (README, "The demo"); tests shrink them
    "warm_start_problems": 400,   # world training problems whose traces the warm start learns from
    "warm_start_steps": 350,      # SFT steps of 8 traces (7 epochs): past the cliff where the format is learnt
                                  # (held-out Pass@1 at 300 steps swung with the seed, 11-60%, five of seven seeds
                                  # 11-23%; at 350 steps 29-81% on seeds 3-8; 200: none yet; 400: 67-69%)
    "train_problems": 128,        # new training problems searched every round (after the warm start's, per round)
    "eval_problems": 100,         # held-out problems per evaluation (one greedy trace each; 200 would narrow the
                                  # intervals from +-9 to +-6-7 points, but cost 60-80 s of the 10 minutes)
    "eval_trees": 8,              # held-out problems searched at every evaluation (ASPR, PRM AUC, the app's trees)
    "rounds": 2,
}
"""The synthetic demo's sizes (``demo_recipe(sizes=...)`` takes a dict that changes some of them)."""

SYNTHETIC_OVERRIDES: tuple[str, ...] = (
    # 64 rows per forward pass: about 21 trees in flight (k = 3), and best-of-N as many
    "model.max_batch_size=64",
    # a world trace is 3-4 steps; a training problem's search stops at its first path passing the reward tests
    # (three quarters of a problem's 6 tests reward it: a D+ path is right on more than the 2 examples)
    "search.few_shot=false", "search.rollouts=3", "search.max_depth=4", "search.stop_after_passing=1",
    "search.reward_tests=heldout", "search.heldout_fraction=0.75",
    "sampling.temperature=0.6", "sampling.max_new_tokens=128",
    "loop.evaluator=traces", "loop.eval_max_tokens=320", "loop.baseline=true", "loop.prm=true", "loop.threads=1",
    "loop.aspr_samples=4", "loop.compare_best_of_n=true", "loop.sft_every_round=true",
    # SFT on D+ every round (expert iteration): 3e-4 raised held-out Pass@1 where 1e-3 lowered it
    ("training.sft={learning_rate: 3.0e-4, num_train_epochs: 3, per_device_train_batch_size: 8, "
     "lr_scheduler_type: constant, disable_tqdm: true}"),
    # DPO on the pairs phi separates by more than 0.3 (a pass against a fail): nearly equal failing pairs were noise
    ("training.dpo={learning_rate: 5.0e-5, beta: 0.1, num_train_epochs: 1, per_device_train_batch_size: 4, "
     "disable_tqdm: true}"),
    "training.min_margin=0.3", "training.pair_sources=[trees]",
    "prm.max_length=1024", "prm.epochs=2",
)
"""``--set``-style overrides of the tiny-world recipe for the synthetic demo (the sized parts come from
:data:`SYNTHETIC` and the seed)."""

BUNDLED_OVERRIDES: tuple[str, ...] = (
    # the fine-tuned tiny model writes steps in the zero-shot format it was trained on, up to ~300 tokens a step
    "search.few_shot=false", "search.rollouts=6", "search.max_depth=6",
    "sampling.max_new_tokens=320", "sampling.temperature=0.6",
    # one round: 8 training problems searched, 4 held-out problems evaluated before and after
    "loop.rounds=1", "loop.warm_start=bundled:train", "loop.train_limit=8", "loop.eval_limit=4",
    "loop.evaluator=search", "loop.baseline=true", "loop.prm=true", "loop.threads=1",
    # warm start: 16 epochs over the 31 traces (248 steps of 2, loss 8.1 -> 1.0); the same settings serve SFT on D+
    ("training.sft={learning_rate: 3.0e-3, num_train_epochs: 16, per_device_train_batch_size: 2, "
     "lr_scheduler_type: cosine, warmup_steps: 0.05, disable_tqdm: true}"),
    ("training.dpo={learning_rate: 2.0e-4, beta: 0.1, max_steps: 8, per_device_train_batch_size: 2, "
     "disable_tqdm: true}"),
    "training.pair_sources=[trees, samples, references]", "training.samples_per_problem=2",
    "training.sample_max_tokens=768", "training.sample_temperature=0.6",
    "prm.max_length=2048",
)
"""``--set``-style overrides of the tiny-cpu recipe for ``--problems bundled``."""

DEMO_OVERRIDES = BUNDLED_OVERRIDES  # the name earlier versions exported


@dataclass
class DemoReport:
    """What the demo did and how long each stage took (seconds since the start)."""

    run_id: str
    runs_dir: Path
    seconds: float
    stages: dict[str, float] = field(default_factory=dict)  # stage -> seconds at its end
    messages: dict[str, str] = field(default_factory=dict)
    cpu_seconds: float = 0.0  # CPU time of this process: about the wall time on an idle machine (sandbox aside)

    def describe(self) -> str:
        lines = [f"demo loop {self.run_id} finished in {self.seconds:.0f} s, {self.cpu_seconds:.0f} s of CPU "
                 f"(runs in {self.runs_dir})"]
        lines += [f"  {stage:<16} done at {at:6.1f} s: {self.messages.get(stage, '')}"
                  for stage, at in self.stages.items()]
        lines.append("watch or inspect it with `make app` (Runs page, then Metrics: the learning curve), or "
                     "`o1coder runs`")
        return "\n".join(lines)


def seed_overrides(seed: int) -> list[str]:
    """Every seed the recipe holds, set to ``seed``."""
    return [f"{section}.seed={seed}" for section in ("sampling", "search", "training", "prm", "tcg")]


def synthetic_overrides(seed: int, sizes: dict | None = None) -> list[str]:
    """The sized and seeded part of the synthetic demo's recipe. The self-play problems are the world seed's next
    problems after the warm start's (``skip``), a new block every round (``part={round}``): new to the policy
    (same split: compositions the eval split never holds)."""
    from o1coder.training.world_policy import WORLD_POLICY  # the tiny-world recipe's learning rate and batch

    s = {**SYNTHETIC, **(sizes or {})}
    unknown = sorted(set(s) - set(SYNTHETIC))
    if unknown:
        raise ValueError(f"unknown demo size(s) {unknown}; known: {sorted(SYNTHETIC)}")
    return [
        f"loop.rounds={s['rounds']}",
        f"loop.warm_start=synthetic:train,n={s['warm_start_problems']},seed={seed}",
        (f"loop.warm_start_sft={{max_steps: {s['warm_start_steps']}, learning_rate: {WORLD_POLICY.learning_rate}, "
         f"per_device_train_batch_size: {WORLD_POLICY.batch_size}, lr_scheduler_type: cosine, warmup_steps: 0.05}}"),
        (f"loop.train_problems=synthetic:train,n={s['train_problems']},seed={seed},skip={s['warm_start_problems']},"
         "part={round}"),
        "loop.train_limit=null",
        f"loop.eval_problems=synthetic:eval,n={s['eval_problems']},seed={seed}",
        "loop.eval_limit=null",
        f"loop.eval_search_limit={s['eval_trees']}",
    ]


def demo_recipe(extra: Sequence[str] = (), *, problems: str = "synthetic", seed: int = 0,
                sizes: dict | None = None) -> dict:
    """The demo's recipe: tiny-world (synthetic) or tiny-cpu (bundled) with the demo's overrides and ``seed``,
    then ``extra`` overrides. The model is set by :func:`run_demo` (it builds the initial weights)."""
    from o1coder.config import apply_overrides, load_recipe

    if problems not in PROBLEM_SETS:
        raise ValueError(f"demo problems must be one of {', '.join(PROBLEM_SETS)}; got {problems!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"--seed must be an integer >= 0; got {seed!r}")
    if problems == "synthetic":
        base, overrides = "tiny-world", [*SYNTHETIC_OVERRIDES, *synthetic_overrides(seed, sizes)]
    else:
        base, overrides = "tiny-cpu", list(BUNDLED_OVERRIDES)
    recipe = apply_overrides(load_recipe(base), [*overrides, *seed_overrides(seed), *extra])
    recipe["name"] = f"{base}-demo"
    recipe["seed"] = seed
    return recipe


def initial_model(recipe: dict, problems: str, seed: int) -> Path:
    """The untrained policy: the tiny model (bundled) or a tiny model whose tokenizer is trained on the world's
    warm-start problems (synthetic), with weights initialised from ``seed``. Cached under the models folder."""
    from o1coder import paths
    from o1coder.models import build_tiny_model

    if problems == "bundled":
        base = build_tiny_model()
    else:
        from o1coder.training.config import loop_config
        from o1coder.training.rounds import resolve
        from o1coder.training.world_policy import (
            INSTRUCTION_TOKENS,
            WORLD_POLICY,
            tokenizer_corpus,
            warm_start_rows,
        )

        # the tiny-world policy's tokenizer and shape (o1coder.training.world_policy), before its warm start
        rows = warm_start_rows(resolve(loop_config(recipe).warm_start), vanilla_share=0.0)
        base = build_tiny_model(paths.models_dir() / "demo" / f"world-base-{_digest(recipe)}",
                                texts=tokenizer_corpus(rows), vocab_size=WORLD_POLICY.vocab_size,
                                shape=WORLD_POLICY.shape, added_tokens=INSTRUCTION_TOKENS)
    return base if seed == 0 else reinitialised(base, seed)


def reinitialised(base: Path, seed: int) -> Path:
    """A copy of the model in ``base`` (same tokenizer and shape) with weights drawn from ``seed``; cached."""
    target = base.parent / f"{base.name}-init{seed}"
    marker = target / "o1coder_init.json"
    if marker.is_file():
        return target
    import torch
    import transformers

    config = transformers.AutoConfig.from_pretrained(base)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = transformers.AutoModelForCausalLM.from_config(config)
    model.generation_config = transformers.GenerationConfig.from_pretrained(base)
    transformers.AutoTokenizer.from_pretrained(base).save_pretrained(target)
    model.save_pretrained(target)
    marker.write_text(json.dumps({"base": str(base), "seed": seed}) + "\n")
    return target


def run_demo(runs_dir: str | Path | None = None, *, progress: Callable[[str, str], None] | None = None,
             extra: Sequence[str] = (), seed: int = 0, problems: str = "synthetic",
             sizes: dict | None = None) -> DemoReport:
    """Run the demo (see the module docstring); ``extra`` adds recipe overrides, ``sizes`` changes
    :data:`SYNTHETIC` (tests make it smaller)."""
    from o1coder import paths
    from o1coder.loop import run_loop

    start, cpu_start = time.monotonic(), time.process_time()
    stages: dict[str, float] = {}
    messages: dict[str, str] = {}

    def note(stage: str, message: str) -> None:
        if message != "start":
            stages[stage] = time.monotonic() - start
            messages[stage] = message
        if progress is not None:
            progress(stage, message)

    if hasattr(progress, "advance"):  # search problems and training steps as the stage's bar
        note.advance = progress.advance  # type: ignore[attr-defined]
    recipe = demo_recipe(extra, problems=problems, seed=seed, sizes=sizes)  # bad input fails before anything runs
    note("model", "start")
    recipe["model"]["name_or_path"] = str(initial_model(recipe, problems, seed))
    note("model", f"done: initial weights (seed {seed}) in {recipe['model']['name_or_path']}")
    run_id = run_loop(recipe, runs_dir=runs_dir, progress=note)
    return DemoReport(run_id, paths.runs_dir(runs_dir), time.monotonic() - start, stages, messages,
                      time.process_time() - cpu_start)


def _digest(recipe: dict) -> str:
    """A short name for the warm-start problem set (the tokenizer's corpus)."""
    import hashlib

    from o1coder.training.config import loop_config

    return hashlib.sha256(loop_config(recipe).warm_start.encode()).hexdigest()[:10]
