"""Policy training (method steps 4 and 6 of O1-CODER): SFT, iterative DPO and GRPO, with rewards through phi.

    from o1coder.training import phi, alpha_at, train_sft, train_dpo, train_grpo, preference_pairs
    phi(R=1.0, r=[0.8, 0.6], alpha=alpha_at(1, schedule="linear", start=0.9, end=0.5, rounds=4), gamma=0.9)
    train_sft(rows, "tiny", "out/sft", training_config(recipe), model_config(recipe))

Importing this package is cheap: torch, TRL and peft are imported by the trainers when they run. The self-play
loop that chains search, data, PRM, policy and evaluation round after round is :mod:`o1coder.loop`.
"""

from o1coder.training.config import LoopConfig, TrainingConfig, loop_config, training_config
from o1coder.training.data import (
    Candidate,
    SearchedTrees,
    d_plus_rows,
    dpo_pairs,
    preference_pairs,
    reference_candidates,
    sample_candidates,
    score_candidates,
    trace_rows,
    tree_candidates,
)
from o1coder.training.dpo import train_dpo
from o1coder.training.grpo import train_grpo
from o1coder.training.phi import alpha_at, discounted_process_reward, phi
from o1coder.training.policy import TrainResult, load_policy, trainer_args
from o1coder.training.rewards import (
    final_program,
    outcome_rewards,
    phi_reward,
    process_rewards,
    response_steps,
    reward_tests_for,
)
from o1coder.training.sft import train_sft

__all__ = [
    "Candidate",
    "LoopConfig",
    "SearchedTrees",
    "TrainResult",
    "TrainingConfig",
    "alpha_at",
    "d_plus_rows",
    "discounted_process_reward",
    "dpo_pairs",
    "final_program",
    "load_policy",
    "loop_config",
    "outcome_rewards",
    "phi",
    "phi_reward",
    "preference_pairs",
    "process_rewards",
    "reference_candidates",
    "response_steps",
    "reward_tests_for",
    "sample_candidates",
    "score_candidates",
    "trace_rows",
    "train_dpo",
    "train_grpo",
    "train_sft",
    "trainer_args",
    "training_config",
    "tree_candidates",
]  # fmt: skip
