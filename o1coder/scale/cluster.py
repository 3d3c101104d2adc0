"""Ray, the cluster and the actors' size: importing Ray on demand, starting or joining a cluster, sizing actors.

Ray is optional (the ``scale`` extra): it is imported here, when a distributed run starts, never at package import.
Sizing is a pure function of the recipe's model section and the cluster's resources, so it is tested without Ray:

- vLLM: one engine per actor on ``tensor_parallel_size`` GPUs, so the actors are GPUs / tensor_parallel_size;
- transformers: one GPU per actor when the model runs on CUDA (device ``cuda*``, or ``auto`` on a cluster with
  GPUs), else CPU actors of ``actor_cpus`` CPUs each;
- openai: CPU actors that all call the same server (the sandboxes still scale with the cluster).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'o1coder[scale]'"
LOCAL = "local"  # the --ray value that starts a Ray cluster on this machine
START_ATTEMPTS = 3  # a local Ray node that misses its startup deadline is started again, twice at most
RETRY_PAUSE_S = 10.0  # between two tries: a burst of load on a small machine has time to pass
MAX_CPUS_PER_GPU_ACTOR = 8  # a GPU actor's CPUs run its sandbox: enough for its executions, not the whole node


def require_ray():
    """The ``ray`` module, or an ImportError that names the extra to install."""
    try:
        import ray
    except ImportError as error:
        raise ImportError(f"distributed search (--ray) needs Ray: {INSTALL_HINT}") from error
    return ray


@dataclass(frozen=True)
class ActorPlan:
    """How many search actors to start and what each one reserves."""

    count: int
    num_cpus: float
    num_gpus: float

    def describe(self) -> str:
        gpus = f", {self.num_gpus:g} GPU" if self.num_gpus else ""
        return f"{self.count} actors ({self.num_cpus:g} CPU{gpus} each)"


def actor_gpus(model, cluster_gpus: float) -> float:
    """GPUs one actor needs for the recipe's ``model:`` section (a ModelConfig)."""
    if model.backend == "vllm":
        if not cluster_gpus:
            raise ValueError("the vllm backend needs GPUs, but the Ray cluster has none; use a transformers recipe "
                             "on CPU actors or join a cluster with GPUs (--ray ADDRESS)")
        return float(model.tensor_parallel_size)
    if model.backend == "transformers" and (model.device.startswith("cuda")
                                           or (model.device == "auto" and cluster_gpus)):
        if not cluster_gpus:
            raise ValueError(f"model.device is {model.device!r} but the Ray cluster has no GPU; set "
                             "model.device=cpu (--set model.device=cpu) or join a cluster with GPUs")
        return 1.0
    return 0.0


def plan_actors(model, cluster: dict[str, float], problems: int, actors: int | None = None,
                actor_cpus: float | None = None) -> ActorPlan:
    """Actors for ``problems`` problems on a cluster with ``cluster`` resources (``ray.cluster_resources()``).

    Without ``actors``: as many as the cluster holds (one per GPU group for GPU actors, one per ``actor_cpus`` CPUs
    otherwise), never more than there are problems. ``actor_cpus`` defaults to 1 for CPU actors and to the
    cluster's CPUs per GPU (at most 8) for GPU actors, whose CPUs run the sandbox.
    """
    cpus, gpus = float(cluster.get("CPU", 0)), float(cluster.get("GPU", 0))
    num_gpus = actor_gpus(model, gpus)
    if actor_cpus is None:
        per_gpu = math.floor(cpus / gpus) if gpus else 1
        actor_cpus = float(max(1, min(MAX_CPUS_PER_GPU_ACTOR, per_gpu * num_gpus))) if num_gpus else 1.0
    if actor_cpus <= 0:
        raise ValueError(f"--actor-cpus must be > 0; got {actor_cpus}")
    fits = math.floor(gpus / num_gpus) if num_gpus else math.floor(cpus / actor_cpus)
    if actors is None:
        if fits < 1:
            need = f"{num_gpus:g} GPU" if num_gpus else f"{actor_cpus:g} CPU"
            raise ValueError(f"the Ray cluster ({cpus:g} CPU, {gpus:g} GPU) cannot hold one search actor ({need})")
        actors = fits
    elif actors < 1:
        raise ValueError(f"--actors must be >= 1; got {actors}")
    elif actors > fits:
        log.warning("%d actors asked for, the cluster holds %d at once: the others wait for resources", actors, fits)
    return ActorPlan(max(1, min(actors, problems)), float(actor_cpus), num_gpus)


def connect(address: str | None, *, num_cpus: int | None = None, **init_kwargs: Any) -> bool:
    """Join the Ray cluster at ``address``, or start one on this machine (``address`` "local" or None).

    Reuses a Ray already initialised in this process (a notebook, a test). Returns True when this call started or
    joined Ray, so the caller knows to ``ray.shutdown()`` afterwards.
    """
    ray = require_ray()
    if ray.is_initialized():
        log.info("using the Ray runtime already initialised in this process")
        return False
    if address in (None, LOCAL):
        cpus = num_cpus or os.cpu_count() or 1
        log.info("starting a local Ray cluster with %d CPUs", cpus)
        start_local(ray, num_cpus=cpus, **init_kwargs)
    else:
        log.info("joining the Ray cluster at %s", address)
        ray.init(address=address, **init_kwargs)
    return True


def start_local(ray, attempts: int = START_ATTEMPTS, **init_kwargs: Any) -> None:
    """``ray.init(**init_kwargs)`` for a new local cluster, tried again when its node misses a startup deadline.

    The raylet gives its dashboard agent 15 s to come up and aborts otherwise, and the node waits 30 s for its GCS
    to answer; on a small, busy machine a cold first start can take longer (the agent imports a lot), and a later
    try, with the files now cached, succeeds. Two tries were not always enough on a 2-core machine running three
    test workers (both missed their deadline within 45 s of each other), so there are three, a pause apart. A
    failed try leaves Ray's helper processes behind (``ray.shutdown`` does not know them): they are this process's
    children that were not there before the try, and are ended by pid.
    """
    import psutil  # a dependency of Ray

    me = psutil.Process()
    for attempt in range(1, attempts + 1):
        before = {child.pid for child in me.children(recursive=True)}
        try:
            ray.init(**init_kwargs)
            return
        except Exception as error:  # Ray raises a bare Exception when its node does not come up in time
            if attempt == attempts or "timed out during startup" not in str(error):
                raise
            log.warning("the local Ray node did not start in time (attempt %d of %d); starting it again",
                        attempt, attempts)
            ray.shutdown()
            for child in me.children(recursive=True):
                if child.pid not in before:
                    with contextlib.suppress(psutil.Error):
                        child.kill()
            time.sleep(RETRY_PAUSE_S)


def actor_env() -> dict[str, str]:
    """Environment variables passed to the actors: where o1coder keeps models and caches, and offline switches.

    A local cluster's workers inherit the environment Ray was started with, which may predate these settings (a
    notebook, a test); on a remote cluster the paths must exist there (shared storage) or be creatable.
    """
    prefixes = ("O1CODER_MODELS_DIR", "O1CODER_CACHE_DIR", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE",
                "TRANSFORMERS_OFFLINE", "HF_HOME", "TOKENIZERS_PARALLELISM")
    return {key: os.environ[key] for key in prefixes if key in os.environ}
