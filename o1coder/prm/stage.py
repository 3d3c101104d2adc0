"""The PRM stage as a straight line: a run's trees -> rows -> a trained PRM -> its evaluation on held-out problems.

    result, evaluation = train_on_run("latest", load_recipe("tiny-cpu"), mode="pointwise")
    evaluation, problem_ids = evaluate_on_run("latest", result.output_dir)

``o1coder prm train`` and ``o1coder prm eval`` are thin wrappers around these two functions. The held-out
problems are chosen by problem (``prm.eval_fraction``, seeded) and recorded in the model's ``prm.json``, so a later
``evaluate_on_run`` on the same run scores only the problems the PRM never saw.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from o1coder.prm.config import PRMConfig, prm_config
from o1coder.prm.data import RunTrees, load_run_trees, pairwise_rows, pointwise_rows, split_problems
from o1coder.prm.evaluate import PRMEvaluation, evaluate
from o1coder.prm.modeling import TrainResult, read_info
from o1coder.trainkit import is_main_process, wait_for_everyone

logger = logging.getLogger(__name__)

EVAL_FILE = "eval.json"


def default_output_dir(mode: str, runs_dir: str | Path | None = None) -> Path:
    """``<runs dir>/prm/<mode>-<time>``: beside the runs it was trained on, ignored by git."""
    from o1coder.paths import runs_dir as resolve_runs_dir

    return resolve_runs_dir(runs_dir) / "prm" / f"{mode}-{time.strftime('%Y%m%d-%H%M%S')}"


def decision_point(info: dict[str, Any]) -> float:
    """Where a score counts as "good" for accuracy: 0.5 for hard-label or pair-wise models (scores are
    P(good) or a sigmoid around 0), the value threshold for soft-label models (scores estimate Q/N)."""
    return info["threshold"] if info.get("labels") == "soft" else 0.5


def train_on_run(run: str, recipe: dict[str, Any], mode: str | None = None, out: str | Path | None = None,
                 runs_dir: str | Path | None = None) -> tuple[TrainResult, PRMEvaluation | None]:
    """Train a PRM on the finished trees of ``run`` with the recipe's ``prm:`` section (``mode`` overrides it);
    evaluate it on the held-out problems (None when none are held out) and write ``eval.json`` beside it."""
    from o1coder.config import model_config

    config = prm_config(recipe, mode=mode)
    data = load_run_trees(run, runs_dir)
    if not data.trees:
        raise ValueError(f"run {data.run_id} has no finished problem yet: nothing to train a PRM on")
    train_ids, heldout_ids = split_problems(data.problem_ids, config.eval_fraction, config.seed)
    train = data.select(train_ids)
    out = Path(out) if out is not None else default_output_dir(config.mode, runs_dir)
    info = {"run": data.run_id, "train_problems": train_ids, "heldout_problems": heldout_ids}
    logger.info("prm %s on run %s: %d problems for training, %d held out", config.mode, data.run_id,
                len(train_ids), len(heldout_ids))
    if config.mode == "pointwise":
        from o1coder.prm.pointwise import train_pointwise

        rows = pointwise_rows(train.trees, train.problems, config.labels, config.threshold)
        result = train_pointwise(rows, model_config(recipe), config, out, info)
    else:
        from o1coder.prm.pairwise import train_pairwise

        rows = pairwise_rows(train.trees, train.problems, config.min_margin)
        result = train_pairwise(rows, model_config(recipe), config, out, info)
    evaluation = None
    if heldout_ids and is_main_process():  # under a multi-process launch, one evaluation and one eval.json
        from o1coder.prm.scorer import PRMScorer

        trainer = result.trainer
        scorer = PRMScorer(trainer.model, trainer.processing_class, result.info, config.score_batch_size)
        evaluation = _evaluate(scorer, data.select(heldout_ids), config, result.info)
        _write_eval(out, evaluation, data.run_id, heldout_ids)
    wait_for_everyone()
    return result, evaluation


def evaluate_on_run(run: str, model_dir: str | Path, recipe: dict[str, Any] | None = None,
                    runs_dir: str | Path | None = None, split: str = "auto", scorer=None
                    ) -> tuple[PRMEvaluation, list[str]]:
    """Evaluate the PRM in ``model_dir`` on ``run``'s trees. ``split``: "heldout" (the problems the PRM held out
    from this run), "all", or "auto" (held-out ones when the PRM was trained on this run, else all).
    Returns the evaluation and the problem ids it covered."""
    from o1coder.prm.scorer import PRMScorer

    info = read_info(model_dir)
    config = prm_config(recipe or {}, threshold=info.get("threshold"))
    data = load_run_trees(run, runs_dir)
    same_run = info.get("run") == data.run_id
    if split not in ("auto", "heldout", "all"):
        raise ValueError(f"split must be 'auto', 'heldout' or 'all'; got {split!r}")
    if split == "heldout" and not same_run:
        raise ValueError(f"the PRM in {model_dir} was trained on run {info.get('run')!r}, not {data.run_id!r}: it "
                         "has no held-out problems there; use split 'all'")
    if split == "heldout" or (split == "auto" and same_run):
        chosen = [pid for pid in data.problem_ids if pid in set(info.get("heldout_problems") or [])]
        if not chosen:
            raise ValueError(f"the PRM in {model_dir} held out no problem of run {data.run_id} (prm.eval_fraction "
                             "was 0): evaluate it on another run, or with split 'all' (not held out)")
        data = data.select(chosen)
    scorer = scorer or PRMScorer.load(model_dir, batch_size=config.score_batch_size)
    return _evaluate(scorer, data, config, info), data.problem_ids


def _evaluate(scorer, data: RunTrees, config: PRMConfig, info: dict[str, Any]) -> PRMEvaluation:
    return evaluate(scorer, data.trees, data.problems, threshold=info.get("threshold", config.threshold),
                    decision=decision_point(info), bins=config.calibration_bins, rerank=config.rerank)


def _write_eval(out: Path, evaluation: PRMEvaluation, run_id: str, problem_ids: list[str]) -> None:
    record = {"run": run_id, "problems": problem_ids, **evaluation.to_dict()}
    (out / EVAL_FILE).write_text(json.dumps(record, indent=2) + "\n")
