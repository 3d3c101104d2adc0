"""PRM training on the tiny model: each trainer runs a few steps, logs a loss, changes the weights, saves, and the
reloaded PRM scores exactly as the trained one; the scorer guides a search; `o1coder prm train / eval`.

The trees come from a real run in a temporary run store: a scripted policy answers with (variants of) the bundled
problems' reasoning steps and wrong programs, so the trees have several levels, executed code and varied values.
"""

from __future__ import annotations

import dataclasses
import json
import random

import pytest
from test_search_mcts import PROBLEM, TABLE

from o1coder.bundled import load_bundled, trace_of
from o1coder.cli import main
from o1coder.config import ModelConfig
from o1coder.execution import Limits, Sandbox
from o1coder.models import ScriptedGenerator
from o1coder.prm import (
    PRMConfig,
    PRMScorer,
    load_run_trees,
    pairwise_rows,
    pointwise_rows,
    read_info,
    train_pairwise,
    train_pointwise,
)
from o1coder.prm.modeling import load_base, load_tokenizer
from o1coder.reasoning import render
from o1coder.runs import RunStore
from o1coder.runs.driver import search_problems
from o1coder.search import SearchConfig, search
from o1coder.search.scripted import step_policy

RECIPE = {"name": "scripted", "seed": 0, "search": {"rollouts": 8, "k": 3, "max_depth": 4, "few_shot": False}}
TINY = ModelConfig(name_or_path="tiny", device="cpu", dtype="float32")


def trace_policy(problems):
    """Steps of the trace of the problem in the prompt: refinements with varied titles, its code, or wrong code."""
    traces = {p.prompt.strip().splitlines()[0]: trace_of(p) for p in problems}

    def respond(prompt, params, n):
        steps = next(s for first_line, s in traces.items() if first_line in str(prompt))
        rng, texts = random.Random(params.seed), []
        for _ in range(n):
            if rng.random() < 0.35:
                wrong = dataclasses.replace(steps[-1], code="def f():\n    return 0\n")
                step = steps[-1] if rng.random() < 0.5 else wrong
            else:
                step = steps[rng.randrange(len(steps) - 1)]
                step = dataclasses.replace(step, title=f"{step.title} (variant {rng.randrange(3)})")
            texts.append(render(step))
        return texts

    return ScriptedGenerator(respond)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(limits=Limits(cpu_seconds=2, wall_seconds=5), workers=2) as sb:
        yield sb


@pytest.fixture(scope="module")
def store_run(tmp_path_factory, sandbox):
    """(runs dir, run id) of a finished 4-problem search."""
    runs_dir = tmp_path_factory.mktemp("prm_runs")
    problems = load_bundled("train")[:4]
    with RunStore(runs_dir) as store:
        run_id = store.create_run(RECIPE, problems, problem_spec="bundled:train", problem_limit=4)
        search_problems(store, run_id, problems, generator=trace_policy(problems), sandbox=sandbox, recipe=RECIPE)
    return runs_dir, run_id


@pytest.fixture(scope="module")
def data(store_run):
    runs_dir, run_id = store_run
    return load_run_trees(run_id, runs_dir)


@pytest.fixture(scope="module")
def pointwise(data, tmp_path_factory):
    rows = pointwise_rows(data.trees, data.problems)
    config = PRMConfig(learning_rate=1e-3, trainer={"max_steps": 3}, score_batch_size=4)
    return train_pointwise(rows, TINY, config, tmp_path_factory.mktemp("pw"), {"run": data.run_id}), rows


def _items(data, rows):
    return [(data.problems[r["problem_id"]], r["completions"]) for r in rows[:6]]


def _changed(model, mode: str, num_labels: int, prefix: str = "") -> set[str]:
    """Names of the trained model's weights that differ from the untrained start (same seeded head)."""
    start = dict(load_base("tiny", mode, num_labels, load_tokenizer("tiny")).named_parameters())
    trained = {name.removeprefix(prefix): p for name, p in model.named_parameters()}
    return {name for name, p in start.items() if name in trained and not p.detach().equal(trained[name].detach())}


def _reload_matches(result, data, rows) -> list[list[float]]:
    trainer = result.trainer
    live = PRMScorer(trainer.model, trainer.processing_class, result.info, batch_size=4).score_many(_items(data, rows))
    reloaded = PRMScorer.load(result.output_dir, batch_size=4).score_many(_items(data, rows))
    assert reloaded == live
    assert all(0.0 <= s <= 1.0 for scores in live for s in scores)
    assert [len(s) for s in live] == [len(r["completions"]) for r in rows[:6]]
    return live


def _logged_a_loss(result, steps: int) -> None:
    assert result.metrics["steps"] == steps
    losses = [e["loss"] for e in result.metrics["log_history"] if "loss" in e]
    assert len(losses) == steps and all(loss > 0 for loss in losses)
    assert json.loads((result.output_dir / "metrics.json").read_text())["first_loss"] == losses[0]


def test_pointwise_soft_labels_train_save_reload(pointwise, data):
    result, rows = pointwise
    _logged_a_loss(result, 3)
    changed = _changed(result.trainer.model, "pointwise", 1)
    assert {"score.weight", "model.layers.0.mlp.up_proj.weight"} <= changed  # full fine-tuning: head and body
    _reload_matches(result, data, rows)
    info = read_info(result.output_dir)
    assert info["mode"] == "pointwise" and info["labels"] == "soft" and info["lora"] is False
    assert info["run"] == data.run_id and info["base_model"] == "tiny"
    assert result.metrics["data"]["rows"] == len(rows) and result.metrics["data"]["labelled_steps"] > len(rows)


def test_pointwise_hard_labels_two_class_head_with_lora(data, tmp_path):
    rows = pointwise_rows(data.trees, data.problems, labels="hard", threshold=0.5)
    config = PRMConfig(labels="hard", num_labels=2, lora=True, lora_r=2, learning_rate=1e-3,
                       trainer={"max_steps": 2})
    result = train_pointwise(rows, TINY, config, tmp_path / "pw-lora")
    _logged_a_loss(result, 2)
    changed = _changed(result.trainer.model, "pointwise", 2, prefix="base_model.model.")
    assert "model.layers.0.mlp.up_proj.weight" not in changed  # LoRA: the base stays frozen
    names = {n for n, _ in result.trainer.model.named_parameters()}
    assert any("lora_B" in n for n in names) and (tmp_path / "pw-lora" / "adapter_config.json").is_file()
    lora_b = [p for n, p in result.trainer.model.named_parameters() if "lora_B" in n]
    assert any(p.abs().sum() > 0 for p in lora_b)  # initialised at zero, moved by training
    _reload_matches(result, data, rows)
    assert read_info(tmp_path / "pw-lora")["lora"] is True


def test_pairwise_bradley_terry_with_lora_and_margin(data, tmp_path):
    rows = pairwise_rows(data.trees, data.problems)
    assert len(rows) >= 4
    config = PRMConfig(mode="pairwise", lora=True, lora_r=2, use_margin=True, learning_rate=1e-3,
                       trainer={"max_steps": 2})
    result = train_pairwise(rows, TINY, config, tmp_path / "pp")
    _logged_a_loss(result, 2)
    assert "accuracy" in result.metrics["log_history"][0]  # RewardTrainer's own metrics
    lora_b = [p for n, p in result.trainer.model.named_parameters() if "lora_B" in n]
    assert lora_b and any(p.abs().sum() > 0 for p in lora_b)
    _reload_matches(result, data, rows=pointwise_rows(data.trees, data.problems))
    assert read_info(tmp_path / "pp")["mode"] == "pairwise"


def test_scores_of_a_path_equal_scores_of_its_prefixes(pointwise, data):
    result, rows = pointwise
    scorer = PRMScorer.load(result.output_dir, batch_size=1)
    problem, steps = data.problems[rows[-1]["problem_id"]], rows[-1]["completions"]
    whole = scorer.score(problem, steps)
    assert [scorer(problem, steps[: j + 1])[-1] for j in range(len(steps))] == pytest.approx(whole, abs=1e-6)
    assert scorer.score(problem, []) == []


def test_the_scorer_is_a_search_prior_and_a_beam_value(pointwise, sandbox):
    scorer = PRMScorer.load(pointwise[0].output_dir, batch_size=1)
    generator = ScriptedGenerator(step_policy(TABLE))
    puct = search(PROBLEM, generator, sandbox, SearchConfig(rollouts=3, selection="puct", prior="prm"),
                  prior_fn=scorer)
    root_children = [puct.tree.nodes[i] for i in puct.tree.root.children]
    live = [c for c in root_children if not c.dead]
    assert live and all(0 <= c.prm <= 1 for c in live)
    assert sum(c.prior for c in root_children) == pytest.approx(1.0)
    beam = search(PROBLEM, ScriptedGenerator(step_policy(TABLE)), sandbox,
                  SearchConfig(algorithm="beam", beam_width=2, max_depth=3), prior_fn=scorer)
    assert any(n.prm is not None for n in beam.tree.nodes)


def test_cli_train_then_eval_on_held_out_problems(store_run, tmp_path, capsys):
    runs_dir, run_id = store_run
    out = tmp_path / "cli-pp"
    assert main(["prm", "train", "--run", run_id, "--runs-dir", str(runs_dir), "--mode", "pairwise",
                 "--out", str(out), "--set", "prm.trainer={max_steps: 2}", "--set", "prm.score_batch_size=1"]) == 0
    printed = capsys.readouterr().out
    assert "prm pairwise on run" in printed and "held-out evaluation (1 problems" in printed
    info = read_info(out)
    assert len(info["heldout_problems"]) == 1 and len(info["train_problems"]) == 3
    saved = json.loads((out / "eval.json").read_text())
    assert saved["problems"] == info["heldout_problems"] and saved["steps"] > 0

    assert main(["prm", "eval", "--run", "latest", "--runs-dir", str(runs_dir), "--model", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["problems"] == info["heldout_problems"]
    assert {"auc", "accuracy", "ece", "bins", "pair_accuracy", "best_of_n"} <= set(report)
    assert report["steps"] == saved["steps"] and report["accuracy"] == pytest.approx(saved["accuracy"])

    assert main(["prm", "eval", "--run", run_id, "--runs-dir", str(runs_dir), "--model", str(tmp_path)]) == 2
    assert "not a trained PRM folder" in capsys.readouterr().err
