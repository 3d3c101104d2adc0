"""``--accelerate-config``: the relaunch command, when it happens, and the bundled accelerate configs (no GPU needed)."""

from __future__ import annotations

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


@pytest.mark.slow
def test_a_training_verb_runs_data_parallel_in_two_processes_on_the_cpu(tmp_path, monkeypatch):
    """The whole path: --accelerate-config relaunches `tcg sft` under accelerate, two ranks train (gloo on CPU)."""
    import socket

    from o1coder.models import build_tiny_model

    build_tiny_model()  # before the two processes look for it
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "cpu-2proc.yaml"  # ddp-8gpu's layout, on the CPU with 2 processes
    config.write_text(f"compute_environment: LOCAL_MACHINE\ndistributed_type: MULTI_GPU\nmixed_precision: 'no'\n"
                      f"num_machines: 1\nnum_processes: 2\nmachine_rank: 0\nmain_process_ip: 127.0.0.1\n"
                      f"main_process_port: {port}\nrdzv_backend: static\nsame_network: true\nuse_cpu: true\n")
    out = tmp_path / "sft"
    argv = ["tcg", "sft", "--recipe", "tiny-cpu", "--limit", "2", "--set", "tcg.sft.max_steps=1", "--out", str(out),
            "--accelerate-config", str(config)]
    monkeypatch.delenv(CHILD_ENV, raising=False)
    result = subprocess.run([sys.executable, "-m", "o1coder.cli", *argv], capture_output=True, text=True, timeout=400,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("tcg sft:") == 2  # one summary per rank
    assert (out / "adapter_model.safetensors").is_file() and (out / "metrics.json").is_file()
