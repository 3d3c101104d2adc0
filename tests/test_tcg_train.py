"""TCG training on the tiny model: TRL prepares our rows as our tokenisers say; SFT and DPO train a few steps,
log a loss, change the adapter, save and reload; DPO's reference is the SFT adapter, frozen."""

from __future__ import annotations

import json
import math

import pytest

from o1coder.bundled import load_bundled
from o1coder.config import ModelConfig
from o1coder.tcg import (
    TCGConfig,
    dpo_rows,
    sft_rows,
    tokenize_dpo_row,
    tokenize_sft_row,
)
from o1coder.tcg.train import METRICS_FILE, dpo_trainer, fit, load_trained, sft_trainer

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:`is_gradient_checkpointing` is deprecated:FutureWarning")
pytest.importorskip("trl")

MODEL = ModelConfig(name_or_path="tiny", device="cpu", dtype="float32")
STEPS = {"max_steps": 3, "per_device_train_batch_size": 2, "learning_rate": 1e-2, "disable_tqdm": True}
CONFIG = TCGConfig(max_length=768, solutions_per_problem=1, sft=STEPS, dpo={**STEPS, "beta": 0.5})


@pytest.fixture(scope="module")
def problems():
    return load_bundled("train")[:4]


def trainable(model) -> dict:
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def logits(model, tokenizer) -> torch.Tensor:
    ids = tokenizer("def add(a, b):\n    return a + b", return_tensors="pt")["input_ids"]
    model.eval()
    with torch.no_grad():
        return model(input_ids=ids).logits


@pytest.fixture(scope="module")
def sft_run(problems, tmp_path_factory):
    rows, report = sft_rows(problems, CONFIG)
    out = tmp_path_factory.mktemp("tcg") / "sft"
    trainer = sft_trainer(rows, MODEL, CONFIG, out, report)
    dataset = [dict(r) for r in trainer.train_dataset]
    before = trainable(trainer.model)
    result = fit(trainer, "sft", out, CONFIG, report)
    return rows, report, dataset, before, result


def test_sft_trainer_tokenises_rows_like_tokenize_sft_row(sft_run):
    rows, _, dataset, _, result = sft_run
    tokenizer = result.trainer.processing_class
    by_prompt = {json.dumps(r["prompt"]): r for r in rows}
    assert len(dataset) == len(rows) == 4
    for example in dataset:
        ours = tokenize_sft_row(by_prompt[json.dumps(example["prompt"])], tokenizer)
        assert example["input_ids"] == ours["input_ids"]
        assert example["labels"] == [t if m else -100 for t, m in zip(ours["input_ids"], ours["completion_mask"])]
        answer = tokenizer.decode([t for t in example["labels"] if t != -100])
        assert answer.startswith("<input>\n") and answer.endswith("</output><|im_end|>\n")


def test_sft_logs_a_loss_changes_the_adapter_and_saves(sft_run):
    _, report, _, before, result = sft_run
    metrics = json.loads((result.output_dir / METRICS_FILE).read_text())
    assert metrics["steps"] == 3 and math.isfinite(metrics["first_loss"]) and math.isfinite(metrics["last_loss"])
    assert metrics["data"] == report.to_dict() and metrics["tcg"]["lora_r"] == 1
    after = trainable(result.trainer.model)
    assert before.keys() == after.keys() and all("lora_" in name for name in after)
    assert all(not torch.equal(before[n], after[n]) for n in after), "every LoRA matrix should have moved"
    assert (result.output_dir / "adapter_config.json").is_file()


def test_sft_adapter_reloads_to_the_same_model(sft_run):
    result = sft_run[-1]
    tokenizer = result.trainer.processing_class
    reloaded = load_trained(result.output_dir, MODEL)
    assert torch.allclose(logits(reloaded, tokenizer), logits(result.trainer.model, tokenizer), atol=1e-5)
    with reloaded.disable_adapter():  # and the adapter is not a no-op
        assert not torch.allclose(logits(reloaded, tokenizer), logits(result.trainer.model, tokenizer), atol=1e-5)


def test_dpo_starts_from_sft_trains_against_it_and_saves(problems, sft_run, tmp_path):
    sft_result = sft_run[-1]
    rows, report = dpo_rows(problems, CONFIG)
    trainer = dpo_trainer(rows, MODEL, CONFIG, tmp_path / "dpo", sft_dir=sft_result.output_dir, report=report)
    # TRL's tokenisation is ours
    tokenizer = trainer.processing_class
    by_prompt = {json.dumps(r["prompt"]): r for r in rows}
    for example in trainer.train_dataset:
        ours = tokenize_dpo_row(by_prompt[json.dumps(example["prompt"])], tokenizer)
        assert {k: example[k] for k in ours} == ours
    # the policy starts at the SFT adapter and the reference is a frozen copy of it
    sft_weights = trainable(sft_result.trainer.model)
    policy = {n: p for n, p in trainer.model.named_parameters() if ".default." in n}
    reference = {n.replace(".ref.", ".default."): p for n, p in trainer.model.named_parameters() if ".ref." in n}
    assert policy.keys() == reference.keys() and all(not p.requires_grad for p in reference.values())
    for name, weight in sft_weights.items():
        assert torch.equal(policy[name], weight) and torch.equal(reference[name], weight)
    result = fit(trainer, "dpo", tmp_path / "dpo", CONFIG, report)
    assert result.metrics["steps"] == 3 and math.isfinite(result.metrics["last_loss"])
    assert any("rewards/margins" in entry for entry in result.metrics["log_history"])
    assert all(not torch.equal(policy[n].detach(), w) for n, w in sft_weights.items())
    assert all(torch.equal(reference[n].detach(), w) for n, w in sft_weights.items())
    reloaded = load_trained(result.output_dir, MODEL)
    assert torch.allclose(logits(reloaded, tokenizer), logits(trainer.model, tokenizer), atol=1e-5)


def test_unknown_trainer_keys_are_named(problems, tmp_path):
    rows, _ = sft_rows(problems[:1], CONFIG)
    bad = TCGConfig(sft={"learning_rat": 1e-3})
    with pytest.raises(ValueError, match="tcg.sft has a key that TRL's SFTConfig does not take"):
        sft_trainer(rows, MODEL, bad, tmp_path)


def test_all_rows_too_long_is_a_clear_error(problems, tmp_path):
    rows, _ = sft_rows(problems[:1], CONFIG)
    with pytest.raises(ValueError, match="no training rows left"):
        sft_trainer(rows, MODEL, TCGConfig(max_length=16), tmp_path)


def test_full_fine_tuning_trains_the_whole_model_and_dpo_against_a_frozen_copy(problems, tmp_path):
    """lora: false (for tiny-world): SFT moves every weight and saves a model folder that generation loads as the
    model itself; DPO starts from it, trains it and keeps the SFT model frozen as the reference."""
    import transformers

    from o1coder.models import resolve_model_path
    from o1coder.tcg.train import train_sft, trained_model_config

    config = TCGConfig(max_length=768, solutions_per_problem=1, lora=False, sft=STEPS, dpo={**STEPS, "beta": 0.5})
    rows, report = sft_rows(problems, config)
    sft = train_sft(rows, MODEL, config, tmp_path / "sft", report)
    assert (sft.output_dir / "config.json").is_file() and not (sft.output_dir / "adapter_config.json").exists()
    assert json.loads((sft.output_dir / METRICS_FILE).read_text())["tcg"]["lora"] is False
    generating = trained_model_config(sft.output_dir, MODEL)
    assert (generating.name_or_path, generating.lora_path) == (str(sft.output_dir), None)
    sft_weights = {n: p.detach().clone() for n, p in
                   transformers.AutoModelForCausalLM.from_pretrained(str(sft.output_dir)).named_parameters()}
    base_weights = {n: p.detach() for n, p in
                    transformers.AutoModelForCausalLM.from_pretrained(
                        resolve_model_path(MODEL.name_or_path)).named_parameters()}
    assert any(not torch.equal(sft_weights[n], base_weights[n]) for n in sft_weights), "SFT moved no weight"

    rows, report = dpo_rows(problems, config)
    trainer = dpo_trainer(rows, MODEL, config, tmp_path / "dpo", sft_dir=sft.output_dir, report=report)
    reference = dict(trainer.ref_model.named_parameters())
    assert all(torch.equal(reference[n].detach(), w) for n, w in sft_weights.items())
    result = fit(trainer, "dpo", tmp_path / "dpo", config, report)
    assert result.metrics["steps"] == 3 and math.isfinite(result.metrics["last_loss"])
    policy = dict(trainer.model.named_parameters())
    assert any(not torch.equal(policy[n].detach(), w) for n, w in sft_weights.items()), "DPO moved no weight"
    assert all(torch.equal(reference[n].detach(), w) for n, w in sft_weights.items()), "the reference moved"
    assert trained_model_config(result.output_dir, MODEL).name_or_path == str(result.output_dir)


def test_trained_model_config_names_a_folder_that_is_neither(tmp_path):
    from o1coder.tcg.train import trained_model_config

    with pytest.raises(ValueError, match="neither a LoRA adapter"):
        trained_model_config(tmp_path, MODEL)
