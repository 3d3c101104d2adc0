"""``o1coder sft`` and ``o1coder rl`` on the tiny model: one step each, a checkpoint that loads."""

from __future__ import annotations

import json

import pytest

from o1coder.cli import main

QUICK = ["--set", "training.sft={max_steps: 1, per_device_train_batch_size: 1, disable_tqdm: true}",
         "--set", "training.dpo={max_steps: 1, per_device_train_batch_size: 1, disable_tqdm: true}",
         "--set", ("training.grpo={max_steps: 1, per_device_train_batch_size: 2, num_generations: 2, "
                   "max_completion_length: 8, disable_tqdm: true}"),
         "--set", "training.samples_per_problem=1", "--set", "training.sample_max_tokens=8"]


def test_sft_on_stored_traces(tmp_path, capsys):
    out = tmp_path / "sft"
    assert main(["sft", "--traces", "bundled:train", "--limit", "2", "--out", str(out), *QUICK]) == 0
    assert "sft: 2 rows, 1 steps" in capsys.readouterr().out
    record = json.loads((out / "training.json").read_text())
    assert record["data"] == {"sources": ["trace"], "rows": 2, "kept": 2, "dropped_too_long": 0}
    assert (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file()


@pytest.mark.parametrize("method", ["dpo", "grpo"])
def test_rl_one_step(tmp_path, capsys, method):
    out = tmp_path / method
    # DPO: the bundled trace (R = 1) against a fresh sample of the untrained model (R = 0) makes the pair
    assert main(["rl", "--method", method, "--problems", "bundled:train", "--limit", "1", "--out", str(out),
                 *QUICK]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"{method}: 1 ") and str(out) in printed
    assert json.loads((out / "training.json").read_text())["stage"] == method
