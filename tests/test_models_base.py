"""The Generator protocol's data types and shared behaviour, without any model."""

from __future__ import annotations

import threading

import pytest

from o1coder.models import Completion, Generator, SamplingParams, ScriptedGenerator, Usage, truncate_at_stop


def test_sampling_params_defaults_and_normalisation():
    params = SamplingParams(stop=["\n\n", "```"], temperature=1)
    assert params.stop == ("\n\n", "```") and isinstance(params.temperature, float)
    assert SamplingParams(stop="\n").stop == ("\n",)
    assert SamplingParams(temperature=0).greedy and not SamplingParams().greedy
    assert hash(params) == hash(SamplingParams(stop=("\n\n", "```"), temperature=1.0))  # frozen, hashable
    with pytest.raises(AttributeError):
        params.temperature = 0.5  # type: ignore[misc]


def test_completion_logprob_summaries():
    c = Completion("x", "stop", 3, 2, token_ids=(4, 5), token_logprobs=(-1.0, -0.5))
    assert c.logprob == -1.5 and c.mean_logprob == -0.75
    assert Completion("x", "length", 3, 2).logprob is None


def test_truncate_at_stop_uses_the_earliest_stop():
    assert truncate_at_stop("abc\n\ndef```", ["```", "\n\n"]) == ("abc", True)
    assert truncate_at_stop("abc", ["z"]) == ("abc", False)
    assert truncate_at_stop("abc", []) == ("abc", False)


def test_usage_record_snapshot_and_difference():
    usage = Usage()
    results = [[Completion("a", "stop", 10, 3), Completion("b", "length", 10, 5)], [Completion("c", "stop", 4, 1)]]
    usage.record(results, seconds=0.5)
    before = usage.snapshot()
    usage.record(results[1:], seconds=0.25)
    assert usage.as_dict() == {
        "calls": 2, "prompts": 3, "completions": 4, "prompt_tokens": 18, "completion_tokens": 10,
        "seconds": 0.75, "total_tokens": 28,
    }  # fmt: skip
    spent = usage - before
    assert (spent.calls, spent.prompt_tokens, spent.completion_tokens) == (1, 4, 1)


def test_usage_is_thread_safe():
    usage = Usage()
    batch = [[Completion("a", "stop", 1, 1)]]
    threads = [threading.Thread(target=lambda: [usage.record(batch) for _ in range(500)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (usage.calls, usage.prompt_tokens, usage.completion_tokens) == (2000, 2000, 2000)


def test_scripted_generator():
    def respond(prompt, params, n):
        return [f"step {i} then more words\n\nignored" for i in range(n)]

    generator = ScriptedGenerator(respond)
    assert isinstance(generator, Generator)
    [samples] = generator.generate(["solve it"], SamplingParams(stop=("\n\n",)), n=2)
    assert [c.text for c in samples] == ["step 0 then more words", "step 1 then more words"]
    assert [(c.finish_reason, c.prompt_tokens, c.completion_tokens) for c in samples] == [("stop", 2, 5)] * 2
    [[short]] = generator.generate([[{"role": "user", "content": "a b c"}]], SamplingParams(max_new_tokens=2))
    assert (short.text, short.finish_reason, short.completion_tokens, short.prompt_tokens) == ("step 0", "length", 2, 3)
    assert generator.usage.calls == 2 and generator.usage.completion_tokens == 12
    assert len(generator.prompts_seen) == 2


@pytest.mark.parametrize(
    ("prompts", "error", "pattern"),
    [
        ("just a string", TypeError, "wrap a single prompt"),
        ([{"role": "user", "content": "x"}], ValueError, "prompt 0 must be a string or a non-empty list"),
        ([[]], ValueError, "prompt 0 must be"),
        (["ok", [{"role": "user"}]], ValueError, "prompt 1: each message must be a dict"),
    ],
)
def test_bad_prompts_are_named(prompts, error, pattern):
    generator = ScriptedGenerator(lambda prompt, params, n: ["x"] * n)
    with pytest.raises(error, match=pattern):
        generator.generate(prompts)


def test_bad_n_and_params():
    generator = ScriptedGenerator(lambda prompt, params, n: ["x"] * n)
    with pytest.raises(ValueError, match="got True"):
        generator.generate(["p"], n=True)
    with pytest.raises(TypeError, match="params must be a SamplingParams"):
        generator.generate(["p"], {"temperature": 0})
