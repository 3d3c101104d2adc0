"""The loop's training stages under ``accelerate launch``: one launch per stage, the loop itself stays one process.

``o1coder loop --accelerate-config FILE`` (``loop.accelerate_config``) trains the policy (warm start, SFT, DPO,
GRPO) and the PRM on every GPU of the machine while the loop, its run store and its search stay in the driver
process. Each training stage is written as a small job file (what to train, on which rows, from which policy,
into which folder, with which recipe) and run as::

    python -m accelerate.commands.launch --config_file FILE -m o1coder.scale.stages JOB.json

Every launched process runs the same library function the loop calls in-process without the option
(:func:`o1coder.training.train_sft` ...), so the two paths cannot drift; :func:`o1coder.trainkit.fit` makes the
main process write the folder and the others wait. The main process writes ``<job>.result.json`` (the output folder
and the training metrics), which the loop reads back as a :class:`~o1coder.trainkit.TrainResult`.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from o1coder.scale.launch import CHILD_ENV, resolve_config

log = logging.getLogger(__name__)

KINDS = ("sft", "dpo", "grpo", "prm")
METRIC_KEYS = ("steps", "first_loss", "last_loss", "mean_reward", "processes", "rows", "loss", "mode", "skipped")


def launch_command(config: str | Path, job_file: str | Path, python: str | None = None) -> list[str]:
    """The ``accelerate launch`` command running one job file (the launcher as a module of this interpreter)."""
    return [python or sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config),
            "-m", "o1coder.scale.stages", str(job_file)]


def run_stage(kind: str, job: dict[str, Any], job_file: Path, accelerate_config: str) -> dict[str, Any]:
    """Run a training job under ``accelerate launch`` and return what its main process reported:
    ``{"output_dir": folder or None, "metrics": {...}}``. A launch that fails raises a RuntimeError naming the
    stage, the config and the exit code (the processes' own errors are above it on stderr)."""
    if kind not in KINDS:
        raise ValueError(f"training job kind must be one of {', '.join(KINDS)}; got {kind!r}")
    config = resolve_config(accelerate_config)
    result_file = job_file.with_name(job_file.name.removesuffix(".json") + ".result.json")
    result_file.unlink(missing_ok=True)
    job_file.parent.mkdir(parents=True, exist_ok=True)
    job_file.write_text(json.dumps({"kind": kind, "result": str(result_file), **job}, indent=1, default=str) + "\n")
    command = launch_command(config, job_file)
    log.info("training stage %s under accelerate: %s", kind, " ".join(command))
    code = subprocess.run(command, env={**os.environ, CHILD_ENV: "1"}, check=False).returncode
    if code != 0 or not result_file.is_file():
        raise RuntimeError(f"the {kind} stage under `accelerate launch --config_file {config}` failed (exit code "
                           f"{code}); its processes' errors are above. Job: {job_file}")
    return json.loads(result_file.read_text())


# -- inside the launched processes -------------------------------------------------------------------------------
def _train_sft(job: dict[str, Any], recipe: dict[str, Any]):
    from o1coder.config import model_config
    from o1coder.training import train_sft, training_config

    return train_sft(_rows(job["rows"]), job.get("policy"), job["out"], training_config(recipe), model_config(recipe))


def _train_dpo(job: dict[str, Any], recipe: dict[str, Any]):
    from o1coder.config import model_config
    from o1coder.training import train_dpo, training_config

    return train_dpo(_rows(job["rows"]), job.get("policy"), job["out"], training_config(recipe), model_config(recipe))


def _train_grpo(job: dict[str, Any], recipe: dict[str, Any]):
    from o1coder.config import model_config
    from o1coder.execution import Sandbox
    from o1coder.runs.driver import sandbox_settings
    from o1coder.search.config import search_config
    from o1coder.trainkit import share_of_cores
    from o1coder.training import reward_tests_for, train_grpo, training_config
    from o1coder.training.rounds import load_scorer, resolve_many

    from o1coder.guidance import load_tcg

    limits, workers = sandbox_settings(recipe, job.get("workers"))
    search = search_config(recipe)
    with Sandbox(limits=limits, workers=share_of_cores(workers)) as sandbox:  # each rank runs its own rewards
        generated = load_tcg(job["tcg"], recipe, sandbox) if job.get("tcg") and search.reward_tests == "generated" \
            else None
        return train_grpo(resolve_many(job["problems"], job.get("limit")), job.get("policy"), job["out"],
                          training_config(recipe), model_config(recipe), sandbox, reward_tests_for(search, generated),
                          alpha=job["alpha"], outcome_alpha=job["outcome_alpha"],
                          scorer=load_scorer(job.get("prm"), recipe), chat=search.chat)


def _train_prm(job: dict[str, Any], recipe: dict[str, Any]):
    from o1coder.trainkit import TrainResult
    from o1coder.training.rounds import finished_trees, resolve_many, train_prm

    trees = [tree for run_id in job["runs"] for tree in finished_trees(run_id, job.get("runs_dir"))]
    folder, metrics = train_prm(trees, resolve_many(job["problems"], job.get("limit")), recipe, Path(job["out"]),
                                job.get("info") or {})
    if folder is not None:  # what the trainer logged, beside the loop's summary (rows, loss, mode)
        from o1coder.prm.modeling import METRICS_FILE

        logged = json.loads((folder / METRICS_FILE).read_text())
        metrics = {**{k: logged.get(k) for k in ("steps", "first_loss", "last_loss", "processes")}, **metrics}
    return TrainResult(folder, metrics)


RUNNERS: dict[str, Callable[[dict[str, Any], dict[str, Any]], Any]] = {
    "sft": _train_sft, "dpo": _train_dpo, "grpo": _train_grpo, "prm": _train_prm}


def _rows(path: str) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def run_job(job_file: str | Path) -> dict[str, Any]:
    """Run one job in this (launched) process; the main process writes the result file. Returns the result."""
    from o1coder.trainkit import is_main_process

    job = json.loads(Path(job_file).read_text())
    result = RUNNERS[job["kind"]](job, job["recipe"])
    metrics = {key: result.metrics[key] for key in METRIC_KEYS if key in result.metrics}
    report = {"output_dir": None if result.output_dir is None else str(result.output_dir), "metrics": metrics}
    if is_main_process():
        Path(job["result"]).write_text(json.dumps(report, indent=1, default=str) + "\n")
    return report


def main(argv: list[str] | None = None) -> int:
    from o1coder.trainkit import release_process_group

    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m o1coder.scale.stages JOB.json (written by the loop)", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        run_job(argv[0])
    finally:
        release_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
