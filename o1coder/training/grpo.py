"""GRPO with reward phi: the policy samples whole traces, the sandbox and the PRM score them, phi combines.

The paper optimises the policy with PPO; TRL no longer ships PPO, and GRPO (group-relative advantages, no value
model) is its maintained on-policy method. A thin stage over TRL's ``GRPOTrainer``: the dataset is one row per
problem (``prompt`` = the zero-shot pseudocode prompt, ``problem_id``), TRL samples ``num_generations`` responses
per prompt, and :func:`o1coder.training.rewards.phi_reward` scores each batch in one parallel ``run_many``.
With ``beta > 0`` (TRL's KL coefficient) the reference is the policy the round starts from.

    result = train_grpo(problems, policy_dir, out_dir, config, model_config, sandbox, tests_for,
                        alpha=alpha_at(t, ...), outcome_alpha=0.2, scorer=prm_scorer)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from o1coder.config import ModelConfig
from o1coder.problems import Problem
from o1coder.training.config import TrainingConfig
from o1coder.training.data import prompt_of
from o1coder.training.policy import TrainResult, fit, load_policy, lora_config, require_training_libraries, trainer_args
from o1coder.training.rewards import Scorer, TestsFor, phi_reward

logger = logging.getLogger(__name__)


def grpo_trainer(problems: Sequence[Problem], policy: str | Path | None, output_dir: str | Path,
                 config: TrainingConfig, model_config: ModelConfig, sandbox, tests_for: TestsFor, *, alpha: float,
                 outcome_alpha: float, scorer: Scorer | None = None, extra_rewards: Sequence = (), chat: bool = False,
                 **args):
    """TRL's GRPOTrainer on ``problems`` with the phi reward, ready to ``train()``.

    ``extra_rewards``: more TRL reward functions ``(completions, **kwargs) -> list[float | None]`` (e.g. a format
    reward); TRL sums them with phi (``reward_weights`` in ``training.grpo`` weights them)."""
    require_training_libraries("GRPO")
    from datasets import Dataset
    from trl import GRPOTrainer

    if not problems:
        raise ValueError("GRPO needs at least one problem to sample responses for")
    model, tokenizer = load_policy(policy, model_config)
    dataset = Dataset.from_list([{"prompt": prompt_of(p, chat), "problem_id": p.id} for p in problems])
    reward = phi_reward(problems, sandbox, tests_for, alpha=alpha, gamma=config.gamma, outcome_alpha=outcome_alpha,
                        scorer=scorer)
    return GRPOTrainer(model=model, reward_funcs=[reward, *extra_rewards],
                       args=trainer_args("grpo", config, output_dir, **args), train_dataset=dataset,
                       processing_class=tokenizer, peft_config=lora_config(config))


def train_grpo(problems: Sequence[Problem], policy: str | Path | None, output_dir: str | Path,
               config: TrainingConfig, model_config: ModelConfig, sandbox, tests_for: TestsFor, *, alpha: float,
               outcome_alpha: float, scorer: Scorer | None = None, extra_rewards: Sequence = (), chat: bool = False,
               **args) -> TrainResult:
    """One GRPO round; the new policy (a merged model folder) goes to ``output_dir``."""
    trainer = grpo_trainer(problems, policy, output_dir, config, model_config, sandbox, tests_for, alpha=alpha,
                           outcome_alpha=outcome_alpha, scorer=scorer, extra_rewards=extra_rewards, chat=chat, **args)
    return fit(trainer, "grpo", output_dir, {"alpha": alpha, "gamma": config.gamma, "prm": scorer is not None,
                                            "problems": len(problems),
                                            "policy": str(policy or model_config.name_or_path),
                                            "trained_on": sorted(p.id for p in problems),
                                            "prompt": {"chat": chat, "few_shot": False}})
