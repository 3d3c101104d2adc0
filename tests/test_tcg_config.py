"""The recipes' tcg: section: validation that names the bad value, TRL configs built from it."""

from __future__ import annotations

import pytest

from o1coder.config import load_recipe
from o1coder.tcg import TCGConfig, tcg_config


@pytest.mark.parametrize("recipe", ["tiny-cpu", "deepseek-coder-1.3b-tcg"])
def test_presets_have_a_valid_tcg_section(recipe):
    config = tcg_config(load_recipe(recipe))
    assert (config.lora_r, config.lora_target_modules, config.cases_per_sample) == (1, "all-linear", 3)
    assert config.sft["learning_rate"] == config.dpo["learning_rate"] == 5e-4  # the paper's


@pytest.mark.parametrize("values, message", [
    ({"cases_per_sample": 0}, "cases_per_sample must be an integer >= 1; got 0"),
    ({"chat": "yes"}, "chat must be true or false; got 'yes'"),
    ({"lora_dropout": 1.0}, r"lora_dropout must be a number in \[0, 1\); got 1.0"),
    ({"lora_target_modules": []}, "lora_target_modules must be 'all-linear' or a non-empty list"),
    ({"sft": [1]}, "sft must be a mapping of keyword arguments; got \\[1\\]"),
    ({"cases_per_samples": 3}, "did you mean 'cases_per_sample'"),
])  # fmt: skip
def test_bad_values_are_named(values, message):
    with pytest.raises(ValueError, match=message):
        TCGConfig.from_dict(values)


def test_trainer_args_on_cpu_and_recipe_overrides(tmp_path):
    pytest.importorskip("trl")
    import torch

    from o1coder.tcg.train import trainer_args

    config = tcg_config(load_recipe("deepseek-coder-1.3b-tcg"))
    args = trainer_args("sft", config, tmp_path)
    assert (args.learning_rate, args.max_length, args.gradient_accumulation_steps, args.report_to) == \
        (5e-4, 2048, 4, [])
    if not torch.cuda.is_available():
        assert args.use_cpu and not args.bf16
    dpo = trainer_args("dpo", TCGConfig(dpo={"beta": 0.3}), tmp_path)
    assert (dpo.beta, dpo.logging_steps, dpo.save_strategy, dpo.activation_checkpointing) == (0.3, 1, "no", False)


def test_qlora_needs_an_adapter():
    with pytest.raises(ValueError, match="load_in_4bit .QLoRA. trains an adapter"):
        TCGConfig(lora=False, load_in_4bit=True)


def test_tiny_world_fine_tunes_the_whole_model():
    config = tcg_config(load_recipe("tiny-world"))
    assert config.lora is False and config.load_in_4bit is False and config.sft["num_train_epochs"] >= 3
