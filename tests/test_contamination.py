"""A policy is never scored on problems its lineage trained on, unless asked: `o1coder eval` and the loop.

The lineage is read from the checkpoints' training.json (``policy`` = the parent, ``trained_on`` = the problems of
its rows); the tests build a real one with `o1coder sft` on the tiny model (one step).
"""

from __future__ import annotations

import json

import pytest

from o1coder.cli import main
from o1coder.config import apply_overrides, load_recipe
from o1coder.loop import run_loop
from o1coder.runs import list_runs
from o1coder.runs.lineage import check_contamination, trained_on

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")
QUICK = ["--set", "training.sft={max_steps: 1, per_device_train_batch_size: 1, disable_tqdm: true}"]


def checkpoint(folder, parent, problems):
    folder.mkdir(parents=True)
    (folder / "training.json").write_text(json.dumps({"stage": "sft", "policy": str(parent),
                                                      "trained_on": problems}))
    return folder


def test_lineage_follows_parents_and_names_the_checkpoint(tmp_path):
    first = checkpoint(tmp_path / "a", "tiny", ["mbpp/601", "mbpp/602"])
    second = checkpoint(tmp_path / "b", first, ["mbpp/700"])
    assert trained_on(second) == {"mbpp/700": str(second), "mbpp/601": str(first), "mbpp/602": str(first)}
    assert trained_on("Qwen/Qwen2.5-Coder-7B-Instruct") == {} and trained_on(None) == {}
    with pytest.raises(ValueError, match=r"2 problem\(s\) .*mbpp/601, mbpp/700\. .*--allow-contamination"):
        check_contamination(second, ["mbpp/11", "mbpp/601", "mbpp/700"])
    assert check_contamination(second, ["mbpp/11", "mbpp/12"]) == {}
    assert set(check_contamination(second, ["mbpp/601"], allow=True)) == {"mbpp/601"}  # allowed: a warning


@pytest.fixture(scope="module")
def policy(tmp_path_factory):
    out = tmp_path_factory.mktemp("policy") / "sft"
    assert main(["sft", "--traces", "bundled:eval", "--limit", "2", "--out", str(out), *QUICK]) == 0
    return out


def test_eval_refuses_problems_the_policy_trained_on(policy, tmp_path, capsys):
    record = json.loads((policy / "training.json").read_text())
    assert len(record["trained_on"]) == 2 and all(p.startswith("bundled/") for p in record["trained_on"])
    args = ["eval", "--recipe", "tiny-cpu", "--set", f"model.name_or_path={policy}", "--benchmark", "bundled:eval",
            "--limit", "1", "--samples", "1", "--k", "1", "--modes", "vanilla", "--runs-dir", str(tmp_path)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert record["trained_on"][0] in err and "--allow-contamination" in err
    assert list_runs(tmp_path) == []  # refused before the run was recorded
    assert main([*args, "--allow-contamination", "--json"]) == 0
    [run] = list_runs(tmp_path)
    assert run.kind == "eval" and run.status == "finished"


def test_the_loop_refuses_to_evaluate_on_its_training_problems(tmp_path):
    recipe = apply_overrides(load_recipe("tiny-cpu"), ["loop.eval_problems=bundled:train", "loop.train_limit=2"])
    with pytest.raises(ValueError, match=r"loop.eval_problems shares \d+ problem\(s\) .*bundled/.*"
                                         r"--allow-contamination"):
        run_loop(recipe, runs_dir=tmp_path)
    assert list_runs(tmp_path) == []  # refused before the loop was recorded
