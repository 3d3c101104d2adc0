"""build_generator: one ModelConfig in, the right backend out."""

from __future__ import annotations

import importlib.util

import pytest

from o1coder.config import ModelConfig, load_recipe, model_config
from o1coder.models import SamplingParams, build_generator, resolve_model_path
from o1coder.models.openai_backend import OpenAIGenerator
from o1coder.models.tiny import is_built, tiny_model_dir


def test_openai_backend_from_a_mapping(monkeypatch):
    monkeypatch.setenv("MY_KEY", "secret-value")
    generator = build_generator(
        {"backend": "openai", "name_or_path": "Qwen/Qwen2.5-Coder-7B-Instruct", "base_url": "http://127.0.0.1:9/v1/",
         "api_key_env": "MY_KEY", "request_timeout": 5, "max_retries": 1, "concurrency": 3}
    )  # fmt: skip
    assert isinstance(generator, OpenAIGenerator)
    assert (generator.base_url, generator.model, generator.timeout) == ("http://127.0.0.1:9/v1", generator.name, 5.0)
    assert (generator.max_retries, generator.concurrency) == (1, 3)
    assert "secret-value" not in repr(generator)


def test_tiny_cpu_recipe_builds_a_working_generator():
    pytest.importorskip("transformers")
    from o1coder.models.transformers_backend import TransformersGenerator

    generator = build_generator(model_config(load_recipe("tiny-cpu")))
    assert isinstance(generator, TransformersGenerator)
    assert generator.device.type == "cpu" and generator.max_batch_size == 16
    assert generator.name == resolve_model_path("tiny") == str(tiny_model_dir())  # "tiny" resolves to the cache
    assert is_built(tiny_model_dir())
    [[c]] = generator.generate(["def f():"], SamplingParams(max_new_tokens=4, seed=0))
    assert c.completion_tokens <= 4


def test_unknown_local_model_offline_is_a_clear_error(tmp_path):
    pytest.importorskip("transformers")
    missing = str(tmp_path / "no-such-model")
    with pytest.raises(OSError, match="use the offline tiny model"):
        build_generator(ModelConfig(name_or_path=missing, device="cpu"))


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed")
def test_vllm_backend_without_vllm():
    with pytest.raises(ImportError, match="o1coder\\[vllm\\]"):
        build_generator(ModelConfig(backend="vllm", name_or_path="some/model"))
