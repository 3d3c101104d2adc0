"""One prompt from training to search: chat templates with a continued partial answer in every backend, chat
searches through a chat-only server, training rows in the form the search uses, and the loop searching its trained
policy zero-shot."""

from __future__ import annotations

import pytest

from o1coder.bundled import load_bundled, trace_of
from o1coder.config import ModelConfig
from o1coder.models import ScriptedGenerator, build_generator
from o1coder.models.base import SamplingParams, chat_template_options
from o1coder.models.openai_backend import build_request
from o1coder.models.testing_server import OpenAICompatibleServer
from o1coder.models.vllm_backend import chat_groups
from o1coder.reasoning import pseudocode_input, pseudocode_messages, pseudocode_prompt, render_trace
from o1coder.runs import get_run, load_tree, run_search
from o1coder.search.scripted import steps_in_prompt, trace_policy
from o1coder.training.data import in_chat_form, prompt_of

PROBLEMS = load_bundled("train")[:2]
STEPS = trace_of(PROBLEMS[0])[:2]
QUESTION = pseudocode_messages(PROBLEMS[0], examples=())
PARTIAL = pseudocode_messages(PROBLEMS[0], STEPS, examples=())


def test_template_options_continue_a_partial_answer():
    assert chat_template_options(QUESTION) == {"add_generation_prompt": True, "continue_final_message": False}
    assert PARTIAL[-1] == {"role": "assistant", "content": render_trace(STEPS)}
    assert chat_template_options(PARTIAL) == {"add_generation_prompt": False, "continue_final_message": True}
    assert chat_template_options("raw text") == {"add_generation_prompt": True, "continue_final_message": False}


def test_vllm_groups_chats_by_template_options():
    prompts = ["raw", PARTIAL, QUESTION, PARTIAL]
    assert chat_groups(prompts) == [([1, 3], {"add_generation_prompt": False, "continue_final_message": True}),
                                    ([2], {"add_generation_prompt": True, "continue_final_message": False})]


def test_openai_request_continues_the_final_message():
    path, body = build_request(PARTIAL, SamplingParams(), 2, "m")
    assert path == "/chat/completions"
    assert (body["add_generation_prompt"], body["continue_final_message"]) == (False, True)
    path, body = build_request(QUESTION, SamplingParams(), 2, "m")
    assert "continue_final_message" not in body


def test_transformers_renders_the_partial_answer_open():
    generator = build_generator(ModelConfig(name_or_path="tiny"))
    tokenizer = generator.tokenizer
    continued = tokenizer.decode(generator.encode(PARTIAL))
    assert continued.rstrip().endswith(render_trace(STEPS).rstrip())  # no end-of-turn: the model goes on
    fresh = tokenizer.decode(generator.encode(QUESTION))
    assert fresh.endswith("<|im_start|>assistant\n")  # a new answer starts


def test_scripted_policies_read_chat_states():
    assert steps_in_prompt(PARTIAL) == tuple(s.title for s in STEPS)
    assert steps_in_prompt(QUESTION) == ()
    assert steps_in_prompt(pseudocode_prompt(PROBLEMS[0], STEPS, examples=())) == tuple(s.title for s in STEPS)


def test_training_rows_take_the_search_form():
    assert prompt_of(PROBLEMS[0]) == pseudocode_input(PROBLEMS[0], examples=())
    rows = [{"problem_id": PROBLEMS[0].id, "prompt": prompt_of(PROBLEMS[0]), "completion": "steps"},
            {"problem_id": PROBLEMS[1].id, "prompt": prompt_of(PROBLEMS[1]), "chosen": "a", "rejected": "b"}]
    chat = in_chat_form(rows, PROBLEMS)
    assert chat[0]["prompt"] == QUESTION and chat[0]["completion"] == [{"role": "assistant", "content": "steps"}]
    assert chat[1]["rejected"] == [{"role": "assistant", "content": "b"}]
    with pytest.raises(ValueError, match="has no problem to build its chat prompt from"):
        in_chat_form(rows, PROBLEMS[:1])


@pytest.fixture(scope="module")
def chat_only():
    with OpenAICompatibleServer(ScriptedGenerator(trace_policy(PROBLEMS)), model_name="scripted",
                                completions=False) as server:
        yield server


def recipe(server, chat: bool) -> dict:
    return {"name": "chat", "seed": 0, "model": {"backend": "openai", "name_or_path": "scripted",
                                                 "base_url": server.url, "max_retries": 0},
            "sampling": {"max_new_tokens": 512}, "execution": {"workers": 2, "cpu_seconds": 2},
            "search": {"rollouts": 4, "k": 3, "max_depth": 5, "few_shot": False, "chat": chat}}


def test_a_chat_only_server_is_searched_through_the_chat_endpoint(chat_only, tmp_path):
    run_id = run_search(recipe(chat_only, chat=True), "bundled:train", limit=2, runs_dir=tmp_path)
    assert get_run(run_id, tmp_path).status == "finished"
    tree = load_tree(run_id, PROBLEMS[0].id, tmp_path)
    assert len(tree.nodes) > 4 and any(n.depth >= 2 for n in tree.nodes)  # steps were continued, not restarted
    continued = [b for b in chat_only.requests if b.get("continue_final_message")]
    assert continued and all(b["messages"][-1]["role"] == "assistant" for b in continued)
    assert all(b.get("add_generation_prompt") is False for b in continued)


def test_raw_prompts_to_a_chat_only_server_name_the_setting(chat_only, tmp_path):
    with pytest.raises(RuntimeError, match=r"has no /completions endpoint .*search.chat: true"):
        run_search(recipe(chat_only, chat=False), "bundled:train", limit=1, runs_dir=tmp_path)


def test_vllm_generator_continues_partial_answers_through_llm_chat():
    """VLLMGenerator._generate on a stand-in engine with vLLM's call shapes: raw prompts through generate, chats
    through chat with the options of their group, answers back in input order."""
    from types import SimpleNamespace

    from o1coder.models.vllm_backend import VLLMGenerator

    calls = []

    def output(tag):
        return SimpleNamespace(prompt_token_ids=[1], outputs=[SimpleNamespace(
            index=0, text=tag, token_ids=[2], cumulative_logprob=None, logprobs=None, finish_reason="stop",
            stop_reason=None)])

    class Engine:
        def generate(self, prompts, sampling, **kwargs):
            calls.append(("generate", len(prompts), {}))
            return [output("raw") for _ in prompts]

        def chat(self, conversations, sampling, **kwargs):
            options = {k: kwargs[k] for k in ("add_generation_prompt", "continue_final_message")}
            calls.append(("chat", len(conversations), options))
            tag = "continued" if options["continue_final_message"] else "new"
            return [output(tag) for _ in conversations]

    generator = object.__new__(VLLMGenerator)
    generator.llm, generator._lora_request = Engine(), None
    generator._vllm = SimpleNamespace(SamplingParams=lambda **kwargs: kwargs)
    results = generator._generate(["raw", PARTIAL, QUESTION, PARTIAL], SamplingParams(), 1)
    assert [r[0].text for r in results] == ["raw", "continued", "new", "continued"]
    assert calls == [("generate", 1, {}),
                     ("chat", 2, {"add_generation_prompt": False, "continue_final_message": True}),
                     ("chat", 1, {"add_generation_prompt": True, "continue_final_message": False})]
