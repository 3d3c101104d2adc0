"""The OpenAI-compatible client against a real local server (127.0.0.1, ephemeral port) serving the tiny model.

The server generates with the transformers backend, one request per prompt, so every answer can be compared
exactly with the same request made to the transformers backend directly.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from o1coder.models import Generator, SamplingParams, build_tiny_model
from o1coder.models.openai_backend import OpenAIGenerator, OpenAIRequestError, build_request, parse_response
from o1coder.models.testing_server import OpenAICompatibleServer

pytest.importorskip("torch")
pytest.importorskip("transformers")

from o1coder.models.transformers_backend import TransformersGenerator  # noqa: E402

PROMPTS = ["def add(a, b):", "Step 1: define the structure.", "x = 1"]
SAMPLE = SamplingParams(temperature=1.0, max_new_tokens=10, seed=3)
CHAT = [{"role": "user", "content": "Add two numbers."}]


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    path = build_tiny_model(tmp_path_factory.getbasetemp() / "models" / "tiny")
    return TransformersGenerator.from_pretrained(str(path), device="cpu")


@pytest.fixture
def server(local):
    with OpenAICompatibleServer(local, model_name="tiny") as running:
        yield running


def client(server, **options) -> OpenAIGenerator:
    options.setdefault("backoff_base", 0.01)
    return OpenAIGenerator("tiny", server.url, **options)


def test_is_a_generator(server):
    assert isinstance(client(server), Generator)
    assert server.url.startswith("http://127.0.0.1:")


def test_completions_match_the_backend_behind_the_server(server, local):
    remote = client(server).generate(PROMPTS, SAMPLE, n=3)
    assert [len(samples) for samples in remote] == [3, 3, 3]
    for prompt, samples in zip(PROMPTS, remote):
        [direct] = local.generate([prompt], SAMPLE, n=3)
        assert [c.text for c in samples] == [c.text for c in direct]
        assert [c.finish_reason for c in samples] == [c.finish_reason for c in direct]
        assert all(c.prompt_tokens == len(local.tokenizer(prompt)["input_ids"]) for c in samples)
        assert sum(c.completion_tokens for c in samples) == sum(c.completion_tokens for c in direct)
    assert sorted(body["prompt"] for body in server.requests) == sorted(PROMPTS)  # sent concurrently
    assert {body["n"] for body in server.requests} == {3}


def test_chat_goes_to_chat_completions(server, local):
    [[c]] = client(server).generate([CHAT], SAMPLE)
    [[direct]] = local.generate([CHAT], SAMPLE)
    assert c.text == direct.text and c.prompt_tokens == direct.prompt_tokens == len(local.encode(CHAT))
    assert server.requests[-1]["messages"] == CHAT


def test_stop_seed_and_sampling_parameters_reach_the_server(server, local):
    params = replace(SAMPLE, max_new_tokens=20, top_k=40, top_p=0.9)
    [[free]] = client(server).generate(["def add(a, b):"], params)
    stop = free.text[4:6]
    [[stopped]] = client(server).generate(["def add(a, b):"], replace(params, stop=(stop,)))
    [[direct]] = local.generate(["def add(a, b):"], replace(params, stop=(stop,)))
    assert stopped.text == direct.text == free.text[: free.text.index(stop)]
    assert stopped.finish_reason == "stop" and stopped.completion_tokens == direct.completion_tokens
    body = server.requests[-1]
    assert (body["stop"], body["seed"], body["top_k"], body["top_p"], body["max_tokens"]) == ([stop], 3, 40, 0.9, 20)


def test_seeds(server):
    remote = client(server)
    first = _texts(remote.generate(PROMPTS, SAMPLE, n=2))
    assert _texts(remote.generate(PROMPTS, SAMPLE, n=2)) == first
    assert _texts(remote.generate(PROMPTS, replace(SAMPLE, seed=4), n=2)) != first


def test_greedy(server):
    greedy = SamplingParams(temperature=0.0, max_new_tokens=8)
    [samples] = client(server).generate(["def add(a, b):"], greedy, n=2)
    assert samples[0].text == samples[1].text and samples[0].completion_tokens == 8


def test_logprobs_and_per_choice_counts(server, local):
    params = replace(SAMPLE, logprobs=True)
    [remote] = client(server).generate(["def add(a, b):"], params, n=2)
    [direct] = local.generate(["def add(a, b):"], params, n=2)
    for r, d in zip(remote, direct):
        assert r.token_logprobs == pytest.approx(d.token_logprobs, abs=1e-5)
        assert r.completion_tokens == d.completion_tokens == len(r.token_logprobs)
    [[chat]] = client(server).generate([CHAT], params)
    [[chat_direct]] = local.generate([CHAT], params)
    assert chat.token_logprobs == pytest.approx(chat_direct.token_logprobs, abs=1e-5)


def test_usage_accumulates(server):
    remote = client(server)
    results = remote.generate(PROMPTS, SAMPLE, n=2) + remote.generate([CHAT], SAMPLE)
    usage = remote.usage
    assert (usage.calls, usage.prompts, usage.completions) == (2, 4, 7)
    assert usage.prompt_tokens == sum(s[0].prompt_tokens for s in results)
    assert usage.completion_tokens == sum(c.completion_tokens for s in results for c in s) > 0


def test_requests_run_concurrently(local):
    with OpenAICompatibleServer(local, delay_s=0.3) as server:
        results = client(server, concurrency=4).generate(PROMPTS + ["y = 2"], SAMPLE)
    assert server.peak_concurrency >= 2
    assert len(results) == 4 and all(len(samples) == 1 for samples in results)


def test_many_calls_are_concurrent_requests_bounded_by_the_limit_each_with_its_seed(local):
    """generate_calls (many searches in flight): one request per prompt of every call, at most `concurrency` at
    once, each carrying its own call's seed and n; results regrouped per call."""
    from o1coder.models.base import GenerationCall

    calls = [GenerationCall([f"x = {i}"], replace(SAMPLE, seed=i), n=1 + i % 2) for i in range(6)]
    with OpenAICompatibleServer(local, delay_s=0.2) as server:
        remote = client(server, concurrency=3)
        results = remote.generate_calls(calls)
    assert 2 <= server.peak_concurrency <= 3
    assert sorted((r["seed"], r["n"]) for r in server.requests) == [(i, 1 + i % 2) for i in range(6)]
    assert [len(r[0]) for r in results] == [1 + i % 2 for i in range(6)] and remote.usage.calls == 1


@pytest.mark.parametrize("status", [429, 503])
def test_retries_on_rate_limits_and_server_errors(server, status):
    server.fail_next(2, status=status)
    [[c]] = client(server, max_retries=3).generate(["def add(a, b):"], SAMPLE)
    assert len(server.requests) == 3 and c.text


def test_gives_up_after_max_retries(server):
    server.fail_next(5, status=503)
    with pytest.raises(OpenAIRequestError, match="failed after 2 attempt") as error:
        client(server, max_retries=1).generate(["def add(a, b):"], SAMPLE)
    assert error.value.status == 503 and len(server.requests) == 2


def test_client_errors_are_not_retried(server):
    server.fail_next(1, status=400)
    with pytest.raises(OpenAIRequestError, match="HTTP 400"):
        client(server, max_retries=3).generate(["def add(a, b):"], SAMPLE)
    assert len(server.requests) == 1


def test_connection_errors_are_retried_then_reported(local):
    with OpenAICompatibleServer(local) as server:
        url = server.url
    remote = OpenAIGenerator("tiny", url, max_retries=2, backoff_base=0.01)
    with pytest.raises(OpenAIRequestError, match="failed after 3 attempt"):
        remote.generate(["def add(a, b):"], SAMPLE)


def test_timeout(local):
    with OpenAICompatibleServer(local, delay_s=1.0) as server:
        remote = client(server, timeout=0.2, max_retries=0)
        with pytest.raises(OpenAIRequestError, match="(?i)timed? ?out"):
            remote.generate(["def add(a, b):"], SAMPLE)


def test_api_key_from_the_environment_is_sent_and_never_shown(local, monkeypatch):
    secret = "sk-test-0123456789"
    with OpenAICompatibleServer(local, api_key=secret) as server:
        monkeypatch.delenv("O1CODER_TEST_KEY", raising=False)
        with pytest.raises(OpenAIRequestError, match="HTTP 401") as error:
            client(server, api_key_env="O1CODER_TEST_KEY").generate(["x"], SAMPLE)
        assert error.value.status == 401
        monkeypatch.setenv("O1CODER_TEST_KEY", secret)
        remote = client(server, api_key_env="O1CODER_TEST_KEY")
        [[c]] = remote.generate(["def add(a, b):"], SAMPLE)
    assert c.text and secret not in repr(remote) and secret not in str(vars(remote).get("name"))


def test_build_request_bodies():
    params = SamplingParams(temperature=0.5, top_p=0.9, max_new_tokens=7, stop=("\n\n",), seed=1, logprobs=True)
    assert build_request("p", params, 2, "m") == (
        "/completions",
        {"model": "m", "n": 2, "max_tokens": 7, "temperature": 0.5, "top_p": 0.9, "stop": ["\n\n"], "seed": 1,
         "logprobs": 1, "prompt": "p"},
    )  # fmt: skip
    path, body = build_request(CHAT, SamplingParams(top_k=5), 1, "m")
    assert path == "/chat/completions" and body["messages"] == CHAT and body["top_k"] == 5
    assert "seed" not in body and "stop" not in body and "logprobs" not in body


def test_parse_response_splits_usage_across_choices_without_logprobs():
    payload = {
        "choices": [
            {"index": 1, "text": "abcdef", "finish_reason": "length"},
            {"index": 0, "text": "ab", "finish_reason": "stop"},
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 11},
    }
    first, second = parse_response(payload, chat=False, n=2)
    assert (first.text, first.finish_reason, second.text, second.finish_reason) == ("ab", "stop", "abcdef", "length")
    assert first.prompt_tokens == second.prompt_tokens == 5
    assert first.completion_tokens + second.completion_tokens == 11
    assert first.completion_tokens < second.completion_tokens  # split by text length
    with pytest.raises(OpenAIRequestError, match="1 choices for n=2"):
        parse_response({"choices": [payload["choices"][0]]}, chat=False, n=2)


def _texts(results):
    return [[c.text for c in samples] for samples in results]
