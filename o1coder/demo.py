"""``o1coder demo``: the whole method, offline, on the tiny model, in about three minutes on a 2-core CPU.

One self-play loop (:mod:`o1coder.loop`) on the tiny-cpu recipe with the overrides in :data:`DEMO_OVERRIDES`:

1. **baseline** (seconds): the untrained tiny model searches 4 held-out bundled problems. Its steps do not parse,
   so the trees are shallow and every child is dead, but the first tree is in the run store within seconds of
   the start: the app has something to show at once (the target is 60 s), and this is the "before" Pass@1.
2. **warm start** (under two minutes): SFT of the tiny model on the reasoning traces of the 31 bundled training
   problems, so that its samples become parseable typed steps (about three steps in four parse after it; its code
   rarely compiles: 0.7M parameters do not learn Python in two minutes, so Pass@1 stays at 0 before and after).
3. **one round**: MCTS (6 rollouts) on 8 training problems with the fine-tuned policy (deeper trees, code steps
   executed in the sandbox), the merged data written with lineage, a point-wise PRM trained on the trees, SFT on
   D+ when a path passed, iterative DPO on pairs ranked by phi (search paths, fresh samples and the bundled traces
   as candidates), and the held-out problems searched again: the "after" Pass@1.

Why this order: the baseline search is the cheapest thing that writes a tree (no training first), so a viewer who
opens the app right after starting the demo sees a tree grow within the first minute; training comes after.
Torch uses one thread (``loop.threads``): on a small shared CPU that is several times faster than two.

The demo is an ordinary loop run: ``o1coder runs`` lists it (kind "loop") with its search runs, ``o1coder loop
--resume RUN`` continues it after an interruption, and its files are in ``<runs dir>/loop/<run id>/``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

DEMO_OVERRIDES: tuple[str, ...] = (
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
"""``--set``-style overrides of the tiny-cpu recipe that make the demo (recorded in its run like any recipe)."""


@dataclass
class DemoReport:
    """What the demo did and how long each stage took (seconds since the start)."""

    run_id: str
    runs_dir: Path
    seconds: float
    stages: dict[str, float] = field(default_factory=dict)  # stage -> seconds at its end
    messages: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        lines = [f"demo loop {self.run_id} finished in {self.seconds:.0f} s (runs in {self.runs_dir})"]
        lines += [f"  {stage:<12} done at {at:6.1f} s: {self.messages.get(stage, '')}"
                  for stage, at in self.stages.items()]
        lines.append("watch or inspect it with `make app` (Runs page), or `o1coder runs`")
        return "\n".join(lines)


def demo_recipe(extra: Sequence[str] = ()) -> dict:
    """The demo's recipe: tiny-cpu with :data:`DEMO_OVERRIDES`, then ``extra`` overrides."""
    from o1coder.config import apply_overrides, load_recipe

    recipe = apply_overrides(load_recipe("tiny-cpu"), [*DEMO_OVERRIDES, *extra])
    recipe["name"] = "tiny-cpu-demo"
    return recipe


def run_demo(runs_dir: str | Path | None = None, *, progress: Callable[[str, str], None] | None = None,
             extra: Sequence[str] = ()) -> DemoReport:
    """Run the demo (see the module docstring); ``extra`` adds recipe overrides (tests make it smaller)."""
    from o1coder import paths
    from o1coder.loop import run_loop
    from o1coder.models import build_tiny_model

    start = time.monotonic()
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
    recipe = demo_recipe(extra)  # a bad override fails before anything is built
    note("model", "start")
    build_tiny_model()
    note("model", "done: tiny model ready")
    run_id = run_loop(recipe, runs_dir=runs_dir, progress=note)
    return DemoReport(run_id, paths.runs_dir(runs_dir), time.monotonic() - start, stages, messages)
