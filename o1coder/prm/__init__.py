"""The process reward model (PRM): method step 5 of O1-CODER.

A PRM rates each reasoning step of a (problem, steps) path with a score in [0, 1]. It learns from the MCTS trees in
the run store: point-wise, a token-classification head predicts each step's value Q/N (soft label) or
Q/N >= threshold (hard label) at the step's last token; pair-wise, Bradley-Terry on sibling steps (TRL's
RewardTrainer). The trained PRM serves the search (PUCT prior, beam value) and RL (process rewards r_j).
Importing this package is cheap: torch, transformers and TRL are imported when a model is built or loaded.

    from o1coder.prm import PRMScorer, train_on_run, evaluate_on_run
    result, evaluation = train_on_run("latest", load_recipe("tiny-cpu"), mode="pointwise")
    scorer = PRMScorer.load(result.output_dir)
    scorer.score(problem, steps)                     # one score per step
    search(problem, generator, sandbox, config, prior_fn=scorer)
"""

from o1coder.prm.config import PRMConfig, prm_config
from o1coder.prm.data import (
    RunTrees,
    hard_label,
    load_run_trees,
    pairwise_rows,
    pointwise_rows,
    split_problems,
    stepwise_trees,
)
from o1coder.prm.evaluate import PRMEvaluation, accuracy, auc, best_of_n, calibration, evaluate, path_score
from o1coder.prm.features import (
    IGNORE_INDEX,
    StepLabelCollator,
    encode_state,
    encode_steps,
    pair_features,
    pointwise_features,
    state_text,
    token_positions,
)
from o1coder.prm.modeling import TrainResult, load_trained, read_info
from o1coder.prm.pairwise import train_pairwise
from o1coder.prm.pointwise import step_loss, train_pointwise
from o1coder.prm.scorer import PRMScorer
from o1coder.prm.stage import evaluate_on_run, train_on_run

__all__ = [
    "IGNORE_INDEX", "PRMConfig", "PRMEvaluation", "PRMScorer", "RunTrees", "StepLabelCollator", "TrainResult",
    "accuracy", "auc", "best_of_n", "calibration", "encode_state", "encode_steps", "evaluate", "evaluate_on_run",
    "hard_label", "load_run_trees", "load_trained", "pair_features", "pairwise_rows", "path_score",
    "pointwise_features", "pointwise_rows", "prm_config", "read_info", "split_problems", "state_text", "step_loss",
    "stepwise_trees", "token_positions", "train_on_run", "train_pairwise", "train_pointwise",
]  # fmt: skip
