"""The tiny policy warm-started on the synthetic world: its data, its cache, and a short real warm start."""

from __future__ import annotations

import json

import pytest

from o1coder.bundled import load_bundled, trace_of
from o1coder.evaluation.traces import TraceEvaluation, TraceScore, _read_trace, wilson_interval
from o1coder.reasoning import PSEUDOCODE_INSTRUCTION, render_trace
from o1coder.training import world_policy
from o1coder.training.world_policy import WorldPolicySpec, build_info, build_world_policy, warm_start_rows

pytest.importorskip("trl")
transformers = pytest.importorskip("transformers")

SOLVED_AT_LEAST = 8  # of the 24 held-out problems below, greedy, by the session's small world policy (measured: 16)

@pytest.mark.parametrize("name, value", [("train_problems", 0), ("max_steps", -1), ("batch_size", 1.5),
                                         ("vanilla_share", 1.5), ("learning_rate", 0.0), ("threads", True)])
def test_bad_spec_values_name_the_field(name, value):
    with pytest.raises(ValueError, match=f"WorldPolicySpec.{name}"):
        WorldPolicySpec(**{name: value})


def test_warm_start_rows_are_traces_then_vanilla_answers():
    problems = load_bundled("train")[:4]
    rows = warm_start_rows(problems, vanilla_share=0.5)
    assert [r["source"] for r in rows] == ["trace"] * 4 + ["vanilla"] * 2
    assert [r["problem_id"] for r in rows] == [p.id for p in problems] + [p.id for p in problems[:2]]
    assert rows[0]["completion"] == render_trace(trace_of(problems[0]))
    code = trace_of(problems[0])[-1].code
    assert rows[4]["completion"].endswith(f"```python\n{code}\n```")
    assert rows[4]["prompt"].startswith("Solve the programming problem. First think it through")
    assert not any(r["prompt"] == rows[4]["prompt"] for r in rows[:4])  # the vanilla prompt, not the step prompt


def test_problems_without_a_trace_are_refused():
    problem = load_bundled("train")[0]
    bare = type(problem)(**{**problem.__dict__, "metadata": {}})
    with pytest.raises(ValueError, match="1 of 2 world problems have no reasoning trace"):
        warm_start_rows([problem, bare], vanilla_share=0.0)


def test_wilson_interval_exact_values():
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(0.27754, abs=1e-5)
    low, high = wilson_interval(5, 10)
    assert (low, high) == (pytest.approx(0.23659, abs=1e-5), pytest.approx(0.76341, abs=1e-5))
    with pytest.raises(ValueError, match="at least one trial"):
        wilson_interval(0, 0)


def test_a_reference_trace_reads_as_three_parsed_steps_and_its_program():
    problem = load_bundled("train")[0]
    steps, parsed, program = _read_trace(problem, render_trace(trace_of(problem)))
    assert (steps, parsed) == (3, 3)
    assert program == trace_of(problem)[-1].code
    assert _read_trace(problem, "no steps here at all") == (1, 0, None)
    truncated = render_trace(trace_of(problem)[:2]) + "Action 3 (code): Write"
    steps, parsed, program = _read_trace(problem, truncated)
    assert (steps, parsed, program) == (3, 2, None)


def test_trace_evaluation_summaries():
    scores = [TraceScore("a", 3, 3, "x", True, 100), TraceScore("b", 3, 2, None, False, 50),
              TraceScore("c", 1, 0, None, False, 30), TraceScore("d", 3, 3, "y", False, 20)]
    evaluation = TraceEvaluation(scores)
    assert (evaluation.problems, evaluation.solved, evaluation.pass_at_1) == (4, 1, 0.25)
    assert evaluation.step_parse_rate == pytest.approx(8 / 10)
    assert evaluation.mean_tokens == 50


@pytest.fixture(scope="module")
def world_problems():
    pytest.importorskip("o1coder.loaders.synthetic", reason="the synthetic world is not in this checkout")
    from o1coder.problems import load_problems

    return load_problems("synthetic", split="eval", n=24, seed=11)


@pytest.mark.slow
def test_short_warm_start_parses_most_of_its_steps(small_world_policy, world_problems, monkeypatch):
    """The session's small build (conftest.py; the notebooks use the same one, so it is built once): the default
    recipe with fewer steps, cached where `tiny-world` resolves, and already solving held-out problems."""
    import torch

    from o1coder.execution import Sandbox
    from o1coder.evaluation.traces import evaluate_traces
    from o1coder.models import SamplingParams
    from o1coder.models.factory import resolve_model_path
    from o1coder.models.transformers_backend import TransformersGenerator

    spec = WorldPolicySpec(**build_info(small_world_policy)["spec"])
    monkeypatch.setattr(world_policy, "WORLD_POLICY", spec)
    threads = torch.get_num_threads()
    folder = build_world_policy()  # the default spec and folder: what `model.name_or_path: tiny-world` resolves to
    assert folder == small_world_policy
    assert resolve_model_path("tiny-world") == str(folder) == str(world_policy.world_policy_dir())
    info = build_info(folder)
    assert info["spec"] == spec.to_dict() and info["steps"] == spec.max_steps
    assert info["last_loss"] < info["first_loss"] / 3  # it learnt (random init starts near log(vocab) ~ 6)
    config = json.loads((folder / "config.json").read_text())
    assert (config["hidden_size"], config["num_hidden_layers"]) == (128, 2)
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    assert len(tokenizer(PSEUDOCODE_INSTRUCTION, add_special_tokens=False)["input_ids"]) == 1
    assert len(tokenizer) <= config["vocab_size"] <= spec.vocab_size + 64  # the world's vocabulary, not tiny's

    generator = TransformersGenerator.from_pretrained(str(folder), max_batch_size=24)
    with Sandbox(workers=1) as sandbox:
        evaluation = evaluate_traces(generator, world_problems, sandbox,
                                     SamplingParams(temperature=0.0, max_new_tokens=320, seed=0))
    assert evaluation.step_parse_rate >= 0.9, evaluation.scores
    assert evaluation.solved >= SOLVED_AT_LEAST, evaluation.scores  # held-out compositions, solved
    assert torch.get_num_threads() == threads  # the build restored the caller's thread count

    def rebuild(*args):
        raise AssertionError("rebuilt although a finished build of the same spec exists")

    monkeypatch.setattr(world_policy, "_build_into", rebuild)
    assert build_world_policy() == folder  # cached: the demo, notebooks and app reuse it
    with pytest.raises(AssertionError, match="rebuilt"):  # another spec is another policy
        build_world_policy(spec=WorldPolicySpec(**{**spec.to_dict(), "max_steps": 41}))


def test_instructions_are_one_token_and_round_trip():
    pytest.importorskip("tokenizers")
    from o1coder.models.tiny import train_tokenizer
    from o1coder.reasoning import VANILLA_INSTRUCTION
    from o1coder.training.world_policy import INSTRUCTION_TOKENS, tokenizer_corpus

    rows = warm_start_rows(load_bundled("train")[:6], vanilla_share=0.5)
    plain = train_tokenizer(tokenizer_corpus(rows), 400)
    tokenizer = train_tokenizer(tokenizer_corpus(rows), 400, INSTRUCTION_TOKENS)
    assert len(tokenizer.encode(PSEUDOCODE_INSTRUCTION).ids) == 1
    assert len(tokenizer.encode(VANILLA_INSTRUCTION).ids) == 1
    for row, saved in ((rows[0], 100), (rows[-1], 10)):  # a pseudocode row, a vanilla row (shorter instruction)
        ids = tokenizer.encode(row["prompt"] + row["completion"]).ids
        assert tokenizer.decode(ids) == row["prompt"] + row["completion"]
        assert len(ids) < len(plain.encode(row["prompt"] + row["completion"]).ids) - saved


def test_tiny_world_recipe_sections_are_valid():
    from o1coder.config import load_recipe, model_config
    from o1coder.evaluation.config import eval_config
    from o1coder.search.config import search_config
    from o1coder.tcg import tcg_config
    from o1coder.training.config import loop_config, training_config

    recipe = load_recipe("tiny-world")
    assert model_config(recipe).name_or_path == "tiny-world"
    assert search_config(recipe).few_shot is False and eval_config(recipe).few_shot is False  # trained zero-shot
    assert (tcg_config(recipe).lora_r, training_config(recipe).method) == (16, "dpo")
    assert (loop_config(recipe).train_problems, loop_config(recipe).eval_problems) == ("synthetic:train",
                                                                                      "synthetic:eval")
