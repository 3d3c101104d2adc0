"""The three policy trainers on the tiny model: a few steps each, a loss logged, the weights changed, the
checkpoint saved as a plain model folder and loaded back. SFT's labels are checked on exact token ids."""

from __future__ import annotations

import math

import pytest
import torch
from test_search_mcts import A_BAD, A_GOOD, PROBLEM, A

from o1coder.config import ModelConfig
from o1coder.execution import Sandbox
from o1coder.models import build_tiny_model
from o1coder.models.transformers_backend import TransformersGenerator
from o1coder.search import SearchConfig
from o1coder.training import TrainingConfig, reward_tests_for, train_dpo, train_grpo, train_sft
from o1coder.training.sft import sft_trainer

MODEL = ModelConfig(name_or_path="tiny", device="cpu", dtype="float32")
PROMPT = "### Problem\nReturn twice x.\n\n### Solution\n"
GOOD, BAD = f"{A}\n{A_GOOD}\n", f"{A}\n{A_BAD}\n"
FAST = {"learning_rate": 1e-2, "max_steps": 2, "per_device_train_batch_size": 2, "disable_tqdm": True}


def weights(path) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in TransformersGenerator.from_pretrained(str(path)).model.state_dict()
            .items()}


def changed(before: dict, after: dict) -> float:
    return sum((after[k] - before[k]).abs().sum().item() for k in before)


@pytest.fixture(scope="module")
def base():
    return weights(build_tiny_model())


def check(result, base, stage):
    assert result.metrics["stage"] == stage and result.metrics["steps"] == 2
    assert result.losses and not any(math.isnan(loss) for loss in result.losses)  # logged, finite
    assert (result.output_dir / "training.json").is_file()
    reloaded = TransformersGenerator.from_pretrained(str(result.output_dir))  # a plain model folder + tokenizer
    assert changed(base, {k: v for k, v in reloaded.model.state_dict().items()}) > 0
    assert reloaded.generate(["def"], None)[0][0].completion_tokens > 0


def test_sft_labels_cover_the_response_only(tmp_path):
    trainer = sft_trainer([{"prompt": PROMPT, "completion": GOOD}], None, tmp_path, TrainingConfig(), MODEL,
                          max_steps=1)
    row = trainer.train_dataset[0]
    tokenizer = trainer.processing_class
    prompt_ids = tokenizer(PROMPT, add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(GOOD, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    assert row["input_ids"] == prompt_ids + completion_ids
    assert row["labels"] == [-100] * len(prompt_ids) + completion_ids


def test_sft_trains_saves_and_reloads(tmp_path, base):
    rows = [{"prompt": PROMPT, "completion": GOOD, "source": "trace"}] * 4
    check(train_sft(rows, None, tmp_path / "sft", TrainingConfig(sft=FAST), MODEL), base, "sft")


def test_sft_with_lora_saves_a_merged_model(tmp_path, base):
    config = TrainingConfig(lora=True, lora_r=4, sft=FAST)
    result = train_sft([{"prompt": PROMPT, "completion": GOOD}] * 4, None, tmp_path / "lora", config, MODEL)
    assert not (result.output_dir / "adapter_config.json").exists()
    check(result, base, "sft")


def test_sft_drops_rows_that_do_not_fit(tmp_path):
    with pytest.raises(ValueError, match="max_length"):
        train_sft([{"prompt": PROMPT, "completion": GOOD * 20}], None, tmp_path, TrainingConfig(max_length=64),
                  MODEL)


def test_dpo_against_the_starting_policy(tmp_path, base):
    pairs = [{"prompt": PROMPT, "chosen": GOOD, "rejected": BAD, "margin": 0.8}] * 4
    result = train_dpo(pairs, None, tmp_path / "dpo", TrainingConfig(dpo={**FAST, "beta": 0.1}), MODEL)
    check(result, base, "dpo")
    assert result.losses[0] == pytest.approx(0.6931, abs=1e-3)  # log 2: the policy starts equal to its reference
    assert result.metrics["data"] == {"pairs": 4, "kept": 4, "dropped_too_long": 0, "mean_margin": 0.8}


def test_grpo_with_the_phi_reward(tmp_path, base):
    def length_reward(completions, **kwargs):  # varies between samples, so the advantages are not all zero
        return [len(c) % 7 / 7 for c in completions]

    grpo = {**FAST, "per_device_train_batch_size": 2, "num_generations": 2, "max_completion_length": 12}
    with Sandbox(workers=1) as sandbox:
        result = train_grpo([PROBLEM], None, tmp_path / "grpo", TrainingConfig(grpo=grpo), MODEL, sandbox,
                            reward_tests_for(SearchConfig()), alpha=0.8, outcome_alpha=0.2,
                            scorer=lambda problem, steps: [0.5] * len(steps), extra_rewards=[length_reward])
    check(result, base, "grpo")
    logged = result.metrics["log_history"][0]
    assert logged["rewards/phi/mean"] == 0.0  # the untrained model writes no step: R = 0, r = []
    assert "rewards/length_reward/mean" in logged and result.metrics["mean_reward"] is not None
    assert result.metrics["alpha"] == 0.8
