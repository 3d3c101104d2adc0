"""Recipes, overrides and the model/sampling configs: loading, parsing and errors that name the bad field."""

from __future__ import annotations

import dataclasses

import pytest

from o1coder.config import (
    RECIPE_SECTIONS,
    ModelConfig,
    SamplingConfig,
    apply_overrides,
    field_help,
    list_recipes,
    load_recipe,
    model_config,
    sampling_config,
)


def test_presets_are_listed_and_valid():
    presets = list_recipes()
    assert {"tiny-cpu", "qwen2.5-coder-1.5b", "qwen2.5-coder-7b-vllm", "deepseek-coder-1.3b-tcg"} <= set(presets)
    for name in presets:
        recipe = load_recipe(name)
        assert recipe["name"] == name and recipe["description"]
        model_config(recipe)
        sampling_config(recipe)


def test_tiny_cpu_recipe():
    recipe = load_recipe("tiny-cpu")
    model = model_config(recipe)
    assert (model.backend, model.name_or_path, model.device, model.dtype) == ("transformers", "tiny", "cpu", "float32")
    assert sampling_config(recipe) == SamplingConfig(temperature=1.0, top_p=1.0, top_k=0, max_new_tokens=64, seed=0)


def test_vllm_recipe():
    model = model_config(load_recipe("qwen2.5-coder-7b-vllm"))
    assert (model.backend, model.enable_lora, model.max_model_len) == ("vllm", True, 8192)


def test_load_by_path(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("model:\n  name_or_path: /models/x\nsampling:\n  temperature: 1e-3\n")
    recipe = load_recipe(path)
    assert recipe["name"] == "mine" and recipe["model"] == {"name_or_path": "/models/x"}
    assert sampling_config(recipe).temperature == 0.001  # 1e-3 is a number, not the string YAML 1.1 would give


def test_unknown_preset_lists_the_presets():
    with pytest.raises(ValueError, match="unknown recipe 'nope'; presets: .*tiny-cpu"):
        load_recipe("nope")
    with pytest.raises(FileNotFoundError, match="missing.yaml"):
        load_recipe("missing.yaml")


def test_unknown_section_in_a_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("modle:\n  backend: vllm\n")
    with pytest.raises(ValueError, match="unknown top-level key.*'modle'"):
        load_recipe(path)


def test_overrides_parse_yaml_values_and_leave_the_recipe_alone():
    recipe = load_recipe("tiny-cpu")
    out = apply_overrides(
        recipe,
        [
            "model.name_or_path=Qwen/Qwen2.5-Coder-1.5B-Instruct",
            "sampling.temperature=0.7",
            "sampling.stop=['\\n\\n', '```']",
            "sampling.seed=",
            "model.trust_remote_code=true",
            "search.exploration_weight=1.5",
        ],
    )
    assert out["model"]["name_or_path"] == "Qwen/Qwen2.5-Coder-1.5B-Instruct"
    assert out["sampling"]["temperature"] == 0.7
    assert out["sampling"]["stop"] == ["\\n\\n", "```"]  # single quotes: YAML keeps backslashes
    assert out["sampling"]["seed"] is None and out["model"]["trust_remote_code"] is True
    assert out["search"]["exploration_weight"] == 1.5 and out["search"]["k"] == recipe["search"]["k"]
    assert recipe["model"]["name_or_path"] == "tiny" and recipe["search"]["exploration_weight"] == 2.0
    assert apply_overrides(recipe, ['sampling.stop=["\\n"]'])["sampling"]["stop"] == ["\n"]
    assert sampling_config(out).stop == ("\\n\\n", "```")


def test_override_errors():
    recipe = load_recipe("tiny-cpu")
    with pytest.raises(ValueError, match="unknown top-level key.*'modle'.*known sections: .*model"):
        apply_overrides(recipe, ["modle.backend=vllm"])
    with pytest.raises(ValueError, match="must look like section.key=value"):
        apply_overrides(recipe, ["model.backend"])
    with pytest.raises(ValueError, match="model.backend is a value, not a section"):
        apply_overrides(recipe, ["model.backend.x=1"])
    with pytest.raises(ValueError, match="not valid YAML"):
        apply_overrides(recipe, ["sampling.stop=[unclosed"])


@pytest.mark.parametrize(
    ("changes", "pattern"),
    [
        ({"backend": "tgi"}, r"ModelConfig\.backend must be one of 'transformers', 'vllm', 'openai'; got 'tgi'"),
        ({"device": "gpu"}, r"ModelConfig\.device must be .*'cuda:N'.*; got 'gpu'"),
        ({"dtype": "fp8"}, r"ModelConfig\.dtype .*got 'fp8'"),
        ({"max_batch_size": 0}, r"ModelConfig\.max_batch_size must be an integer >= 1; got 0"),
        ({"max_retries": -1}, r"ModelConfig\.max_retries must be an integer >= 0; got -1"),
        ({"gpu_memory_utilization": 1.5}, r"ModelConfig\.gpu_memory_utilization must be a number in \(0, 1\]"),
        ({"request_timeout": "soon"}, r"ModelConfig\.request_timeout must be a number; got 'soon'"),
        ({"api_key_env": "MY KEY"}, r"ModelConfig\.api_key_env must be an environment variable name"),
        ({"backend": "openai"}, r"ModelConfig\.base_url is required when backend is 'openai'"),
        ({"base_url": "localhost:8000"}, r"ModelConfig\.base_url must be a URL .*; got 'localhost:8000'"),
        ({"name_or_path": ""}, r"ModelConfig\.name_or_path must be"),
    ],
)
def test_model_config_validation_names_the_field(changes, pattern):
    with pytest.raises(ValueError, match=pattern):
        ModelConfig(**changes)


def test_unknown_model_key_names_it_and_suggests():
    with pytest.raises(ValueError, match=r"unknown key\(s\) in section 'model': 'name' \(did you mean 'name_or_path'"):
        ModelConfig.from_dict({"name": "x"})
    with pytest.raises(ValueError, match="'temprature' \\(did you mean 'temperature'\\?\\)"):
        sampling_config({"sampling": {"temprature": 0.5}})


@pytest.mark.parametrize(
    ("changes", "pattern"),
    [
        ({"temperature": -0.1}, r"SamplingParams\.temperature must be a finite number >= 0; got -0.1"),
        ({"top_p": 0}, r"SamplingParams\.top_p must be in \(0, 1\]; got 0"),
        ({"top_k": -1}, r"SamplingParams\.top_k must be an integer >= 0; got -1"),
        ({"max_new_tokens": 0}, r"SamplingParams\.max_new_tokens must be an integer >= 1; got 0"),
        ({"stop": ["ok", ""]}, r"SamplingParams\.stop must be a list of non-empty strings"),
        ({"seed": "7"}, r"SamplingParams\.seed must be an integer >= 0; got '7'"),
        ({"temperature": "hot"}, r"SamplingParams\.temperature must be a number; got 'hot'"),
    ],
)
def test_sampling_config_validation_names_the_field(changes, pattern):
    with pytest.raises(ValueError, match=pattern):
        SamplingConfig(**changes)


def test_every_field_has_help():
    for cls in (ModelConfig, SamplingConfig):
        helps = field_help(cls)
        assert helps and all(text.strip() for text in helps.values()), cls.__name__
    assert set(field_help(ModelConfig)) == {f.name for f in dataclasses.fields(ModelConfig)}


def test_sections_include_the_stages():
    assert {"model", "sampling", "search", "tcg", "prm", "evaluation"} <= set(RECIPE_SECTIONS)


def test_config_import_is_light():
    import subprocess
    import sys

    code = "import sys, o1coder.config, o1coder.models; print(sorted({'torch', 'transformers'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
