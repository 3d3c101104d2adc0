"""The transformers backend on the tiny model: batching, n-sampling, stop strings, seeds, counts, logprobs, chat."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest
from conftest import shared_models_dir

from o1coder.models import Generator, SamplingParams, build_tiny_model

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from o1coder.models.transformers_backend import TransformersGenerator, generation_kwargs  # noqa: E402

PROMPTS = ["def add(a, b):", "Step 1: define the structure of the algorithm.", "x = 1"]
SAMPLE = SamplingParams(temperature=1.0, max_new_tokens=12, seed=7)
CHAT = [{"role": "system", "content": "You write Python."}, {"role": "user", "content": "Add two numbers."}]


@pytest.fixture(scope="module")
def generator(tmp_path_factory):
    path = build_tiny_model(shared_models_dir(tmp_path_factory.getbasetemp()) / "tiny")
    return TransformersGenerator.from_pretrained(str(path), device="cpu", max_batch_size=16)


@pytest.fixture
def fresh(generator):
    """The shared generator with its usage and batch size reset, restored after the test."""
    saved = generator.max_batch_size
    generator.usage = type(generator.usage)()
    yield generator
    generator.max_batch_size = saved


def test_is_a_generator(generator):
    assert isinstance(generator, Generator)


def test_batched_n_sampling_shapes_and_token_counts(fresh):
    results = fresh.generate(PROMPTS, SAMPLE, n=3)
    assert [len(samples) for samples in results] == [3, 3, 3]
    for prompt, samples in zip(PROMPTS, results):
        expected_prompt_tokens = len(fresh.tokenizer(prompt)["input_ids"])
        for c in samples:
            assert c.prompt_tokens == expected_prompt_tokens
            assert c.completion_tokens == len(c.token_ids) <= 12
            assert c.text == fresh.tokenizer.decode(list(c.token_ids), skip_special_tokens=True)
            if c.finish_reason == "length":
                assert c.completion_tokens == 12
            else:  # the random model ended with an end-of-sequence token
                assert c.token_ids[-1] in fresh.eos_token_ids
    texts = [c.text for samples in results for c in samples]
    assert len(set(texts)) == len(texts)  # n samples of a random model differ


def test_batches_are_split_at_max_batch_size(fresh, monkeypatch):
    calls = []
    original = fresh.model.generate

    def counting(*args, **kwargs):
        calls.append(kwargs["input_ids"].shape[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(fresh.model, "generate", counting)
    fresh.generate(PROMPTS, SAMPLE, n=2)
    assert calls == [6]  # all prompts x n in one call
    calls.clear()
    fresh.max_batch_size = 4
    results = fresh.generate(PROMPTS, SAMPLE, n=2)
    assert calls == [4, 2]
    assert [len(samples) for samples in results] == [2, 2, 2]


def test_left_padding_puts_prompts_at_the_right_edge(fresh, monkeypatch):
    seen = {}
    original = fresh.model.generate

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(fresh.model, "generate", spy)
    fresh.generate(["a", "def add(a, b):\n    return a + b"], SAMPLE)
    mask = seen["attention_mask"]
    assert mask[:, -1].tolist() == [1, 1]
    assert mask[0, 0].item() == 0 and mask[0].sum().item() == len(fresh.tokenizer("a")["input_ids"])


def test_same_seed_same_samples_different_seed_different(fresh):
    first = _texts(fresh.generate(PROMPTS, SAMPLE, n=2))
    again = _texts(fresh.generate(PROMPTS, SAMPLE, n=2))
    other = _texts(fresh.generate(PROMPTS, replace(SAMPLE, seed=8), n=2))
    assert first == again
    assert first != other


def test_seeded_call_leaves_global_random_state_alone(fresh):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    fresh.generate(PROMPTS[:1], SAMPLE)
    assert torch.equal(torch.rand(3), expected)


def test_greedy_is_deterministic(fresh):
    greedy = SamplingParams(temperature=0.0, max_new_tokens=10, seed=None)
    results = fresh.generate(PROMPTS, greedy, n=2)
    assert all(samples[0].text == samples[1].text for samples in results)
    assert _texts(fresh.generate(PROMPTS, replace(greedy, seed=99), n=2)) == _texts(results)


def test_stop_strings_cut_the_text_and_stop_early(fresh):
    params = replace(SAMPLE, max_new_tokens=24)
    [[free]] = fresh.generate(["def add(a, b):"], params)
    stop = next(free.text[i : i + 2] for i in range(3, len(free.text) - 2) if free.text[i : i + 2].isprintable())
    [[stopped]] = fresh.generate(["def add(a, b):"], replace(params, stop=(stop, "never-appears")))
    # same seed, same batch: the same tokens are drawn until the stop string appears
    assert stopped.text == free.text[: free.text.index(stop)]
    assert stopped.finish_reason == "stop"
    ids = list(stopped.token_ids)
    assert stop in fresh._decode(ids) and stop not in fresh._decode(ids[:-1])  # counted up to the stop
    assert stopped.completion_tokens == len(ids) < 24
    assert ids == list(free.token_ids[: len(ids)])


def test_logprobs_match_a_forward_pass(fresh):
    [[c]] = fresh.generate(["def add(a, b):"], replace(SAMPLE, logprobs=True, temperature=0.7, top_k=50))
    assert c.token_logprobs is not None and len(c.token_logprobs) == c.completion_tokens
    prompt_ids = fresh.tokenizer("def add(a, b):")["input_ids"]
    ids = torch.tensor([prompt_ids + list(c.token_ids)])
    with torch.no_grad():
        logprobs = torch.log_softmax(fresh.model(ids).logits.float(), dim=-1)[0]
    expected = [logprobs[len(prompt_ids) - 1 + i, t].item() for i, t in enumerate(c.token_ids)]
    assert c.token_logprobs == pytest.approx(expected, abs=1e-4)
    assert c.logprob == pytest.approx(sum(expected), abs=1e-3)
    assert c.mean_logprob == pytest.approx(sum(expected) / len(expected), abs=1e-4)
    [[plain]] = fresh.generate(["def add(a, b):"], SAMPLE)
    assert plain.token_logprobs is None and plain.logprob is None


def test_chat_template_is_applied(fresh):
    [[c]] = fresh.generate([CHAT], SAMPLE)
    rendered = fresh.tokenizer.apply_chat_template(CHAT, tokenize=False, add_generation_prompt=True)
    assert rendered.endswith("<|im_start|>assistant\n")
    assert fresh.encode(CHAT) == fresh.tokenizer(rendered, add_special_tokens=False)["input_ids"]
    assert c.prompt_tokens == len(fresh.encode(CHAT))
    mixed = fresh.generate(["plain prompt", CHAT], SAMPLE)
    assert [samples[0].prompt_tokens for samples in mixed] == [len(fresh.encode("plain prompt")), c.prompt_tokens]


def test_chat_without_template_is_a_clear_error(generator):
    tokenizer = copy.deepcopy(generator.tokenizer)
    tokenizer.chat_template = None
    bare = TransformersGenerator(generator.model, tokenizer)
    with pytest.raises(ValueError, match="no chat template"):
        bare.generate([CHAT], SAMPLE)


def test_usage_accumulates(fresh):
    first = fresh.generate(PROMPTS, SAMPLE, n=2)
    second = fresh.generate(PROMPTS[:1], SAMPLE, n=3)
    usage = fresh.usage
    assert (usage.calls, usage.prompts, usage.completions) == (2, 4, 9)
    assert usage.prompt_tokens == sum(s[0].prompt_tokens for s in first + second)
    assert usage.completion_tokens == sum(c.completion_tokens for s in first + second for c in s)
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.seconds > 0


def test_bad_inputs_are_rejected(fresh):
    with pytest.raises(TypeError, match="wrap a single prompt"):
        fresh.generate("def f():", SAMPLE)
    with pytest.raises(ValueError, match="n .* >= 1"):
        fresh.generate(PROMPTS, SAMPLE, n=0)
    with pytest.raises(ValueError, match="empty prompt"):
        fresh.generate([""], SAMPLE)
    assert fresh.generate([], SAMPLE) == [] and fresh.usage.calls == 0


def test_training_mode_is_restored(fresh):
    fresh.model.train()
    try:
        fresh.generate(PROMPTS[:1], SAMPLE)
        assert fresh.model.training
    finally:
        fresh.model.eval()
    fresh.generate(PROMPTS[:1], SAMPLE)
    assert not fresh.model.training


@pytest.mark.gpu
def test_cuda_generation_is_seeded(tmp_path_factory):
    path = build_tiny_model(shared_models_dir(tmp_path_factory.getbasetemp()) / "tiny")
    gpu = TransformersGenerator.from_pretrained(str(path), device="cuda", dtype="float32")
    assert gpu.device.type == "cuda"
    first = gpu.generate(PROMPTS, SAMPLE, n=2)
    assert _texts(gpu.generate(PROMPTS, SAMPLE, n=2)) == _texts(first)
    assert all(c.prompt_tokens == len(gpu.encode(p)) for p, s in zip(PROMPTS, first) for c in s)


def test_generation_kwargs():
    greedy = SamplingParams(temperature=0, max_new_tokens=5)
    assert generation_kwargs(greedy) == {"max_new_tokens": 5, "do_sample": False}
    assert generation_kwargs(SamplingParams(temperature=0.5, top_p=0.9, max_new_tokens=5)) == {
        "max_new_tokens": 5,
        "do_sample": True,
        "temperature": 0.5,
        "top_p": 0.9,
        "top_k": 0,
    }


def _texts(results):
    return [[c.text for c in samples] for samples in results]
