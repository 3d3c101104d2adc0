"""``--accelerate-config``: the relaunch command, when it happens, and the bundled accelerate configs (no GPU needed)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from o1coder.cli import build_parser
from o1coder.scale import launch
from o1coder.scale.launch import CHILD_ENV, list_presets, maybe_relaunch, relaunch_command, resolve_config

PRESETS = ["ddp-1gpu", "ddp-8gpu", "fsdp-1gpu", "fsdp-8gpu", "zero2-1gpu", "zero2-8gpu", "zero3-1gpu", "zero3-8gpu"]


def test_the_command_reruns_the_same_verb_under_accelerate_launch_without_the_option():
    argv = ["tcg", "sft", "--recipe", "r.yaml", "--accelerate-config", "zero3-8gpu", "--out", "o", "--set", "a=1"]
    assert relaunch_command("/cfg/z3.yaml", argv, python="/venv/bin/python") == [
        "/venv/bin/python", "-m", "accelerate.commands.launch", "--config_file", "/cfg/z3.yaml",
        "-m", "o1coder.cli", "tcg", "sft", "--recipe", "r.yaml", "--out", "o", "--set", "a=1"]
    assert relaunch_command("c.yaml", ["prm", "train", "--accelerate-config=c.yaml", "--run", "latest"])[-5:] == [
        "o1coder.cli", "prm", "train", "--run", "latest"]
    assert relaunch_command("c.yaml", ["prm", "train"])[0] == sys.executable


def test_presets_resolve_by_name_files_by_path_and_anything_else_is_a_clear_error(tmp_path):
    assert list_presets() == PRESETS
    assert resolve_config("zero3-8gpu").name == "zero3-8gpu.yaml"
    own = tmp_path / "mine.yaml"
    own.write_text("distributed_type: 'NO'\n")
    assert resolve_config(str(own)) == own.resolve()
    with pytest.raises(FileNotFoundError, match="neither a file nor a preset; presets: ddp-1gpu"):
        resolve_config("zero4")


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_is_a_config_accelerate_reads(name):
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(resolve_config(name)))
    gpus = int(name.split("-")[1].removesuffix("gpu"))
    assert config.num_processes == gpus and config.mixed_precision == "bf16" and config.num_machines == 1
    kind = name.split("-")[0]
    expected = {"ddp": "MULTI_GPU" if gpus > 1 else "NO", "fsdp": "FSDP", "zero2": "DEEPSPEED",
                "zero3": "DEEPSPEED"}[kind]
    assert str(config.distributed_type).split(".")[-1] == expected
    if kind.startswith("zero"):
        assert config.deepspeed_config["zero_stage"] == int(kind[-1])
        assert (config.deepspeed_config["offload_optimizer_device"] == "cpu") == (gpus == 1)  # offload on 1 GPU
    if kind == "fsdp":
        assert config.fsdp_config["fsdp_version"] == 2 and config.fsdp_config["fsdp_offload_params"] == (gpus == 1)


def parse(argv):
    return build_parser().parse_args(argv)


def test_the_training_verbs_offer_the_option_and_relaunch_through_it(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(launch.subprocess, "run",
                        lambda cmd, env, check: calls.append((cmd, env)) or subprocess.CompletedProcess(cmd, 3))
    monkeypatch.delenv(CHILD_ENV, raising=False)
    for argv in (["tcg", "sft", "--out", str(tmp_path)], ["tcg", "dpo", "--out", str(tmp_path)],
                 ["prm", "train", "--run", "latest", "--out", str(tmp_path)]):
        argv = [*argv, "--accelerate-config", "ddp-8gpu"]
        monkeypatch.setattr(sys, "argv", ["o1coder", *argv])
        args = parse(argv)
        assert args.func(args) == 3  # the launcher's exit code, the verb itself never ran here
        command, env = calls[-1]
        assert command[:5] == [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
                               str(resolve_config("ddp-8gpu"))]
        assert command[5:] == ["-m", "o1coder.cli", *argv[:-2]] and env[CHILD_ENV] == "1"
    assert all("--accelerate-config" not in a.option_strings for a in build_parser()._actions)  # verbs only


def test_no_relaunch_without_the_option_inside_a_launched_process_or_without_out(monkeypatch):
    monkeypatch.setattr(launch.subprocess, "run", lambda *a, **k: pytest.fail("must not launch"))
    monkeypatch.delenv(CHILD_ENV, raising=False)
    assert maybe_relaunch(parse(["tcg", "sft"]), ["tcg", "sft"]) is None
    argv = ["tcg", "sft", "--accelerate-config", "ddp-8gpu"]
    with pytest.raises(ValueError, match="needs --out"):
        maybe_relaunch(parse(argv), argv)
    with pytest.raises(ValueError, match="not in the command line"):  # main(argv) called from Python
        maybe_relaunch(parse([*argv, "--out", "o"]), ["tcg", "sft"])
    monkeypatch.setenv(CHILD_ENV, "1")
    assert maybe_relaunch(parse([*argv, "--out", "o"]), [*argv, "--out", "o"]) is None


def test_a_launched_process_runs_the_verb_itself(monkeypatch):
    monkeypatch.setenv(CHILD_ENV, "1")
    ran = []
    verb = launch._relaunching(lambda args: ran.append(args) or 0)  # what add_accelerate_option installs
    args = parse(["prm", "train", "--run", "latest", "--out", "o", "--accelerate-config", "ddp-8gpu"])
    assert verb(args) == 0 and ran == [args]


def cpu_two_process_config(folder) -> str:
    """ddp-8gpu's layout on the CPU with 2 processes (gloo), on a port free now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = folder / f"cpu-2proc-{port}.yaml"
    config.write_text(f"compute_environment: LOCAL_MACHINE\ndistributed_type: MULTI_GPU\nmixed_precision: 'no'\n"
                      f"num_machines: 1\nnum_processes: 2\nmachine_rank: 0\nmain_process_ip: 127.0.0.1\n"
                      f"main_process_port: {port}\nrdzv_backend: static\nsame_network: true\nuse_cpu: true\n")
    return str(config)


@pytest.fixture(scope="module")
def search_run(tmp_path_factory):
    """A finished search whose trees have scored steps (for `prm train`): the scripted trace policy of the PRM tests."""
    from o1coder.bundled import load_bundled
    from o1coder.execution import Limits, Sandbox
    from o1coder.models import ScriptedGenerator
    from o1coder.runs.driver import search_problems
    from o1coder.runs.store import RunStore
    from o1coder.search.scripted import trace_policy

    runs_dir = tmp_path_factory.mktemp("launch_runs")
    problems = load_bundled("train")[:3]
    recipe = {"name": "scripted", "seed": 0, "search": {"rollouts": 6, "k": 3, "max_depth": 4, "few_shot": False}}
    with Sandbox(limits=Limits(cpu_seconds=2, wall_seconds=5), workers=2) as sandbox, RunStore(runs_dir) as store:
        run_id = store.create_run(recipe, problems, problem_spec="bundled:train", problem_limit=3)
        search_problems(store, run_id, problems, generator=ScriptedGenerator(trace_policy(problems, seed=7)),
                        sandbox=sandbox, recipe=recipe)
    return runs_dir, run_id


# verb, its arguments, the summary line it prints, the file its output folder must hold
VERBS = {
    "tcg sft": (["tcg", "sft", "--limit", "2", "--set", "tcg.sft.max_steps=1"], "tcg sft:", "metrics.json"),
    "tcg dpo": (["tcg", "dpo", "--limit", "2", "--set", "tcg.dpo.max_steps=1"], "tcg dpo:", "metrics.json"),
    "prm train": (["prm", "train", "--set", "prm.trainer={max_steps: 1}", "--set", "prm.eval_fraction=0.4"],
                  "prm pointwise on run", "prm.json"),
    "sft": (["sft", "--traces", "bundled:train", "--limit", "2", "--set", "training.sft.max_steps=1"], "sft:",
            "training.json"),
    "rl": (["rl", "--limit", "2", "--set", "training.dpo.max_steps=1", "--set",
            "training.pair_sources=[samples, references]", "--set", "training.samples_per_problem=1", "--set",
            "training.sample_max_tokens=16"], "dpo:", "dpo_pairs.jsonl"),
}


@pytest.mark.slow
@pytest.mark.parametrize("verb", list(VERBS))
def test_each_training_verb_runs_in_two_processes_and_writes_once(verb, tmp_path, monkeypatch, search_run):
    """`--accelerate-config` relaunches the verb under accelerate; two ranks train (gloo on the CPU), rank 0 alone
    writes the folder and prints the summary, and no rank aborts at exit. (A teardown race once aborted 1 launch in
    15 before the process group was destroyed at exit; each of the five launches here checks for it.)"""
    from o1coder.models import build_tiny_model

    build_tiny_model()  # before the two processes look for it
    monkeypatch.delenv(CHILD_ENV, raising=False)
    args, summary, marker = VERBS[verb]
    runs_dir, run_id = search_run
    if verb == "prm train":
        args = [*args, "--run", run_id, "--runs-dir", str(runs_dir)]
    out = tmp_path / "out"
    argv = ["-v", *args, "--recipe", "tiny-cpu", "--out", str(out), "--accelerate-config",
            cpu_two_process_config(tmp_path)]
    result = subprocess.run([sys.executable, "-m", "o1coder.cli", *argv], capture_output=True, text=True,
                            timeout=500, check=False)
    assert result.returncode == 0, f"{verb}: {result.stderr[-3000:]}"
    assert "terminate called" not in result.stderr and "process group has NOT been destroyed" not in result.stderr
    assert result.stdout.count(summary) == 1, result.stdout  # rank 0 prints, rank 1 does not
    assert result.stderr.count(f"{out} written by process 0 of 2") == 1, result.stderr[-3000:]
    assert (out / marker).is_file()
    if verb == "prm train":  # evaluated once, by rank 0, on the held-out problems
        assert json.loads((out / "eval.json").read_text())["problems"]

