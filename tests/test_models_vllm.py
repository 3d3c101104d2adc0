"""The vLLM backend's translations, tested without vLLM on stand-in objects with vLLM's attribute names."""

from __future__ import annotations

import importlib.util
from types import SimpleNamespace

import pytest
from conftest import shared_models_dir

from o1coder.models import SamplingParams, Usage
from o1coder.models.vllm_backend import VLLMGenerator, completions_from_output, llm_kwargs, vllm_sampling_kwargs


def test_sampling_kwargs_for_sampling():
    params = SamplingParams(temperature=0.8, top_p=0.95, top_k=0, max_new_tokens=128, stop=("\n\n",), seed=5)
    assert vllm_sampling_kwargs(params, n=4) == {
        "n": 4,
        "temperature": 0.8,
        "top_p": 0.95,
        "top_k": -1,
        "max_tokens": 128,
        "stop": ["\n\n"],
        "seed": 5,
        "logprobs": None,
    }


def test_sampling_kwargs_for_greedy_with_logprobs():
    params = SamplingParams(temperature=0.0, top_k=20, max_new_tokens=8, logprobs=True)
    assert vllm_sampling_kwargs(params, n=1) == {
        "n": 1,
        "temperature": 0.0,
        "top_p": 1.0,
        "top_k": 20,
        "max_tokens": 8,
        "stop": None,
        "seed": None,
        "logprobs": 0,
    }


def _logprob(value):
    return SimpleNamespace(logprob=value, rank=1, decoded_token=None)


def test_request_output_to_completions():
    output = SimpleNamespace(
        prompt="def f(x):",
        prompt_token_ids=[11, 12, 13, 14],
        outputs=[
            SimpleNamespace(index=1, text="return x", token_ids=[7, 8, 9], cumulative_logprob=None, logprobs=None,
                            finish_reason="length", stop_reason=None),
            SimpleNamespace(index=0, text="pass", token_ids=[5, 2], cumulative_logprob=None, logprobs=None,
                            finish_reason="stop", stop_reason="\n\n"),
        ],
    )  # fmt: skip
    first, second = completions_from_output(output)
    assert (first.text, first.finish_reason, first.prompt_tokens, first.completion_tokens) == ("pass", "stop", 4, 2)
    assert first.token_ids == (5, 2) and first.token_logprobs is None and first.logprob is None
    assert (second.text, second.finish_reason, second.completion_tokens, second.token_ids) == (
        "return x", "length", 3, (7, 8, 9)
    )  # fmt: skip


def test_request_output_logprobs_pick_the_chosen_token():
    positions = [{5: _logprob(-0.5), 6: _logprob(-1.0)}, {2: _logprob(-0.25)}]
    output = SimpleNamespace(
        prompt_token_ids=[1],
        outputs=[SimpleNamespace(index=0, text="ok", token_ids=[5, 2], cumulative_logprob=-0.75, logprobs=positions,
                                 finish_reason="abort", stop_reason=None)],
    )  # fmt: skip
    [c] = completions_from_output(output)
    assert c.token_logprobs == (-0.5, -0.25)
    assert c.logprob == -0.75 and c.mean_logprob == -0.375
    assert c.finish_reason == "stop"


def test_llm_kwargs():
    assert llm_kwargs("Qwen/Qwen2.5-Coder-7B-Instruct", dtype="bfloat16", tensor_parallel_size=2) == {
        "model": "Qwen/Qwen2.5-Coder-7B-Instruct",
        "dtype": "bfloat16",
        "tensor_parallel_size": 2,
        "gpu_memory_utilization": 0.9,
        "enable_prefix_caching": True,
        "trust_remote_code": False,
        "enable_lora": False,
    }
    with_lora = llm_kwargs("m", enable_lora=True, max_lora_rank=64, max_model_len=4096, enforce_eager=True)
    assert with_lora["enable_lora"] is True and with_lora["max_lora_rank"] == 64
    assert with_lora["max_model_len"] == 4096 and with_lora["enforce_eager"] is True


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed")
def test_many_calls_go_to_one_generate_with_each_prompts_own_sampling_params():
    """generate_calls: every prompt of every call in one LLM.generate (chats in one LLM.chat), each with its call's
    n and seed, and the outputs regrouped per call."""
    from o1coder.models.base import GenerationCall

    seen = {}

    class FakeLLM:
        def generate(self, prompts, sampling, **kwargs):
            seen["generate"] = (list(prompts), list(sampling))
            return [_output(f"{p}!", s.n) for p, s in zip(prompts, sampling)]

        def chat(self, chats, sampling, **kwargs):
            seen["chat"] = (list(chats), list(sampling))
            return [_output(f"{c[-1]['content']}?", s.n) for c, s in zip(chats, sampling)]

    generator = VLLMGenerator.__new__(VLLMGenerator)
    generator.usage, generator.llm, generator._lora_request = Usage(), FakeLLM(), None
    generator._vllm = SimpleNamespace(SamplingParams=lambda **kw: SimpleNamespace(**kw))
    chat = [{"role": "user", "content": "hi"}]
    calls = [GenerationCall(["a", "b"], SamplingParams(seed=1), 2), GenerationCall([chat], SamplingParams(seed=2), 1),
             GenerationCall(["c"], SamplingParams(seed=3, max_new_tokens=7), 3)]
    results = generator.generate_calls(calls)
    prompts, sampling = seen["generate"]
    assert prompts == ["a", "b", "c"] and [(s.n, s.seed, s.max_tokens) for s in sampling] == [
        (2, 1, 256), (2, 1, 256), (3, 3, 7)]
    assert seen["chat"][0] == [chat] and (seen["chat"][1][0].n, seen["chat"][1][0].seed) == (1, 2)
    assert [[[c.text for c in samples] for samples in r] for r in results] == [
        [["a!", "a!"], ["b!", "b!"]], [["hi?"]], [["c!", "c!", "c!"]]]
    assert generator.usage.calls == 1 and generator.usage.completions == 8  # one engine pass for three calls


def _output(text, n):
    return SimpleNamespace(prompt_token_ids=[1, 2], outputs=[
        SimpleNamespace(index=i, text=text, token_ids=[3], logprobs=None, finish_reason="stop") for i in range(n)])


def test_missing_vllm_names_the_extra():
    with pytest.raises(ImportError, match=r"pip install 'o1coder\[vllm\]'"):
        VLLMGenerator("tiny")


@pytest.mark.gpu
def test_vllm_generates_with_the_tiny_model(tmp_path_factory):
    pytest.importorskip("vllm")
    from o1coder.models import build_tiny_model

    path = build_tiny_model(shared_models_dir(tmp_path_factory.getbasetemp()) / "tiny")
    generator = VLLMGenerator(str(path), gpu_memory_utilization=0.3, max_model_len=512, enforce_eager=True)
    params = SamplingParams(max_new_tokens=8, seed=0, logprobs=True)
    results = generator.generate(["def add(a, b):", [{"role": "user", "content": "hi"}]], params, n=2)
    assert [len(samples) for samples in results] == [2, 2]
    assert all(len(c.token_logprobs) == c.completion_tokens <= 8 for samples in results for c in samples)
    again = generator.generate(["def add(a, b):", [{"role": "user", "content": "hi"}]], params, n=2)
    assert [[c.text for c in s] for s in again] == [[c.text for c in s] for s in results]
    assert generator.usage.calls == 2
