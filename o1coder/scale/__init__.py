"""Scaling out: distributed search on Ray, multi-GPU training launches, memory estimates for real models.

    from o1coder.scale import run_search_ray
    run_id = run_search_ray(load_recipe("tiny-cpu"), "bundled", limit=4, actors=2)   # o1coder search --ray

- ``driver`` / ``actors`` / ``cluster``: ``o1coder search --ray [ADDRESS]``; Ray (the ``scale`` extra) is imported
  only when a distributed run starts.
- ``launch``: ``--accelerate-config FILE`` on the training verbs re-runs the command under ``accelerate launch``.
- ``stages``: the loop's training stages as ``accelerate launch`` jobs (``o1coder loop --accelerate-config FILE``).
- ``memory``: parameter counts, LoRA sizes, optimizer states and KV cache of the real presets' models.

Importing this package is cheap (no Ray, no torch, not the run store): every CLI parser that offers
``--accelerate-config`` imports it; ``run_search_ray`` loads the driver on first use.
"""

from o1coder.scale.cluster import INSTALL_HINT, ActorPlan, plan_actors, require_ray
from o1coder.scale.launch import add_accelerate_option, maybe_relaunch, relaunch_command


def __getattr__(name: str):
    if name == "run_search_ray":
        from o1coder.scale.driver import run_search_ray

        return run_search_ray
    raise AttributeError(f"module 'o1coder.scale' has no attribute {name!r}")


__all__ = [
    "INSTALL_HINT",
    "ActorPlan",
    "add_accelerate_option",
    "maybe_relaunch",
    "plan_actors",
    "relaunch_command",
    "require_ray",
    "run_search_ray",
]
