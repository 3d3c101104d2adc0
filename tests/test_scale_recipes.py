"""The real-model presets load and validate, and the memory arithmetic behind their README figures holds."""

from __future__ import annotations

import dataclasses

import pytest

from o1coder.config import load_recipe
from o1coder.runs.driver import check_recipe
from o1coder.scale import memory
from o1coder.scale.memory import DEEPSEEK_CODER_1_3B, GB, QWEN25_CODER_1_5B, QWEN25_CODER_7B

PRESETS = ["qwen2.5-coder-1.5b-1gpu", "qwen2.5-coder-1.5b-8gpu", "qwen2.5-coder-7b-1gpu", "qwen2.5-coder-7b-8gpu",
           "deepseek-coder-1.3b-tcg-8gpu"]


@pytest.mark.parametrize("name", PRESETS)
def test_every_real_preset_validates_section_by_section(name):
    from o1coder.prm.config import prm_config
    from o1coder.tcg.config import tcg_config
    from o1coder.tcg.train import trainer_args

    recipe = load_recipe(name)
    check_recipe(recipe)  # model, sampling, search, execution
    assert memory.SHAPES[recipe["model"]["name_or_path"]]  # every preset's model has a memory estimate
    if "prm" in recipe:
        prm_config(recipe)
    if "tcg" in recipe:
        config = tcg_config(recipe)
        assert trainer_args("sft", config, "out").per_device_train_batch_size * 8 == 32  # the 1-GPU preset's batch
    if "training" in recipe:  # through the training stage's own config and TRL's config classes
        from o1coder.training.config import training_config
        from o1coder.training.policy import trainer_args

        config = training_config(recipe)
        for kind in ("sft", "dpo", "grpo"):
            trainer_args(kind, config, "out")
        assert config.grpo["use_vllm"] and config.grpo["vllm_mode"] in ("colocate", "server")


def build_on_meta(shape):
    """transformers' own model for the shape, without memory: the reference the arithmetic is checked against."""
    import torch
    import transformers

    cls = transformers.Qwen2Config if shape.qkv_bias else transformers.LlamaConfig
    config = cls(hidden_size=shape.hidden, intermediate_size=shape.intermediate, num_hidden_layers=shape.layers,
                 num_attention_heads=shape.heads, num_key_value_heads=shape.kv_heads, vocab_size=shape.vocab,
                 tie_word_embeddings=shape.tied_embeddings)
    with torch.device("meta"):
        return transformers.AutoModelForCausalLM.from_config(config)


@pytest.mark.parametrize("shape", [QWEN25_CODER_1_5B, QWEN25_CODER_7B, DEEPSEEK_CODER_1_3B], ids=lambda s: s.name)
def test_parameter_and_lora_counts_match_the_models_transformers_builds(shape):
    from peft import LoraConfig, get_peft_model

    model = build_on_meta(shape)
    assert shape.params() == sum(p.numel() for p in model.parameters())
    peft = get_peft_model(model, LoraConfig(r=8, target_modules="all-linear", task_type="CAUSAL_LM"))
    assert shape.lora_params(8) == sum(p.numel() for n, p in peft.named_parameters() if "lora_" in n)


def test_the_readme_figures():
    assert round(QWEN25_CODER_1_5B.params() / 1e9, 2) == 1.54 and round(QWEN25_CODER_7B.params() / 1e9, 2) == 7.62
    assert round(DEEPSEEK_CODER_1_3B.params() / 1e9, 2) == 1.35
    assert QWEN25_CODER_1_5B.kv_bytes_per_token() == 28 * 1024 and QWEN25_CODER_7B.kv_bytes_per_token() == 56 * 1024
    assert DEEPSEEK_CODER_1_3B.kv_bytes_per_token() == 192 * 1024
    assert round(memory.full_finetune_bytes(QWEN25_CODER_7B) / GB, 1) == 121.8
    assert round(memory.full_finetune_bytes(QWEN25_CODER_7B, 8, "zero3") / GB, 1) == 15.2
    assert round(memory.full_finetune_bytes(QWEN25_CODER_7B, 8, "zero2") / GB, 1) == 28.6
    assert round(QWEN25_CODER_7B.lora_params(64) / 1e6) == 161
    assert round(memory.lora_bytes(DEEPSEEK_CODER_1_3B, 1, quantized=True)["base"] / GB, 2) == 0.89
    assert round(memory.kv_cache_bytes(QWEN25_CODER_7B, 32, 4096) / GB, 1) == 7.5
    with pytest.raises(ValueError, match="sharding must be"):
        memory.full_finetune_bytes(QWEN25_CODER_7B, 8, "zero4")


def test_shapes_are_frozen_records():
    assert dataclasses.is_dataclass(QWEN25_CODER_7B) and QWEN25_CODER_7B.head_dim == 128
