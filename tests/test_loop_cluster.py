"""The loop between stages and on a cluster: memory released between stages, options checked before the run,
and `o1coder loop --ray --accelerate-config` on the CPU (Ray actors search, every training stage runs in two
accelerate processes with gloo) with the tiny model."""

from __future__ import annotations

import gc
import json
import socket
from pathlib import Path

import pytest

from o1coder.config import apply_overrides, load_recipe
from o1coder.loop import run_loop
from o1coder.runs import get_run, list_runs
from o1coder.runs.loop_state import LoopState
from conftest import scripted_loop_policy as scripted

OVERRIDES = [
    "loop.rounds=1", "loop.train_limit=2", "loop.eval_limit=1", "loop.baseline=false", "search.rollouts=3",
    "training.sft={max_steps: 1, disable_tqdm: true}", "training.dpo={max_steps: 1, disable_tqdm: true}",
    "training.samples_per_problem=2", "prm.epochs=1", "prm.trainer={max_steps: 1}",
]


def live(kind: type) -> int:
    """Instances of ``kind`` still in memory, without collecting first (that is what the loop must have done)."""
    return sum(1 for obj in gc.get_objects() if isinstance(obj, kind))


def test_each_stage_starts_with_the_previous_stages_trainers_and_models_released(tmp_path):
    import transformers

    seen: dict[str, tuple[int, int]] = {}

    def progress(stage: str, message: str) -> None:
        if message == "start":  # the generator is scripted: no model should be alive between stages
            seen[stage] = (live(transformers.Trainer), live(transformers.PreTrainedModel))

    gc.collect()
    assert live(transformers.Trainer) == 0
    # the automatic collector could hide a missing release: only the loop's own collections may run
    gc.disable()
    try:
        run_id = run_loop(apply_overrides(load_recipe("tiny-cpu"), OVERRIDES), runs_dir=tmp_path,
                          generator_factory=scripted, progress=progress)
    finally:
        gc.enable()
    state = LoopState.load(run_id, tmp_path)
    assert "0/prm" in state.outputs and state.metrics["0/sft"]["steps"] == state.metrics["0/rl"]["steps"] == 1
    assert list(seen) == ["0/search", "0/data", "0/prm", "0/sft", "0/rl", "0/eval"]
    assert all(counts == (0, 0) for counts in seen.values()), seen


def test_the_loop_checks_its_cluster_options_before_a_run_is_recorded(tmp_path):
    recipe = apply_overrides(load_recipe("tiny-cpu"), ["loop.accelerate_config=no-such-preset"])
    with pytest.raises(FileNotFoundError, match=r"loop.accelerate_config \(--accelerate-config\).*presets: ddp-1gpu"):
        run_loop(recipe, runs_dir=tmp_path)
    with pytest.raises(ValueError, match="loop.ray_actors must be an integer >= 1"):
        run_loop(apply_overrides(load_recipe("tiny-cpu"), ["loop.ray_actors=0"]), runs_dir=tmp_path)
    assert list_runs(tmp_path) == []


def test_the_loop_command_turns_its_cluster_flags_into_the_recorded_loop_section(monkeypatch, tmp_path):
    from o1coder import loop as loop_module
    from o1coder.cli import main

    recorded = {}
    monkeypatch.setattr(loop_module, "run_loop", lambda recipe, **kw: recorded.update(recipe["loop"]) or "x")
    monkeypatch.setattr("o1coder.training.cli._print_summary", lambda *a: None)
    assert main(["loop", "--ray", "--actors", "2", "--accelerate-config", "ddp-8gpu", "--runs-dir",
                 str(tmp_path)]) == 0
    assert (recorded["ray"], recorded["ray_actors"], recorded["accelerate_config"]) == ("local", 2, "ddp-8gpu")
    assert main(["loop", "--actors", "2"]) == 2  # --actors without --ray
    assert main(["loop", "--resume", "x", "--ray"]) == 2  # a resumed loop keeps how it runs


def cpu_two_process_config(folder: Path) -> Path:
    """ddp-8gpu's layout on the CPU with 2 processes (gloo), on a free port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = folder / "cpu-2proc.yaml"
    config.write_text(f"compute_environment: LOCAL_MACHINE\ndistributed_type: MULTI_GPU\nmixed_precision: 'no'\n"
                      f"num_machines: 1\nnum_processes: 2\nmachine_rank: 0\nmain_process_ip: 127.0.0.1\n"
                      f"main_process_port: {port}\nrdzv_backend: static\nsame_network: true\nuse_cpu: true\n")
    return config


@pytest.mark.slow
def test_every_training_stage_of_the_loop_runs_in_two_accelerate_processes(tmp_path):
    """The PRM, SFT and DPO stages of a round, each launched with 2 CPU processes; the search stays in the loop."""
    from o1coder.models import build_tiny_model

    build_tiny_model()
    recipe = apply_overrides(load_recipe("tiny-cpu"),
                             [*OVERRIDES, f"loop.accelerate_config={cpu_two_process_config(tmp_path)}"])
    run_id = run_loop(recipe, runs_dir=tmp_path, generator_factory=scripted)
    state = LoopState.load(run_id, tmp_path)
    assert get_run(run_id, tmp_path).status == "finished" and state.is_done("0/eval")
    for job, written in (("0-prm", "prm.json"), ("0-sft", "training.json"), ("0-rl", "training.json")):
        report = json.loads((state.folder / "jobs" / f"{job}.result.json").read_text())
        assert report["metrics"]["processes"] == 2 and report["metrics"]["steps"] == 1, (job, report)
        assert (Path(report["output_dir"]) / written).is_file()
    assert state.outputs["0/prm"] == str(state.folder / "round-0" / "prm")
    assert state.policy == str(state.folder / "round-0" / "policy")
    assert state.metrics["0/rl"]["pairs"] > 0 and state.metrics["0/sft"]["steps"] == 1


@pytest.mark.slow
def test_the_loop_searches_on_ray_and_trains_under_accelerate_on_the_cpu(ray_runtime, tmp_path, capsys):
    from o1coder.cli import main
    from o1coder.models import build_tiny_model

    build_tiny_model()  # once, before the actors and the launched processes look for it
    # no untrained baseline and no PRM stage: each Ray search run starts its actors afresh and each stage launches
    # two processes (the PRM stage in two processes is the previous test's); this test is about the two together
    small = ["loop.train_limit=1", "loop.eval_limit=1", "loop.warm_start=bundled:train", "search.rollouts=1",
             "loop.baseline=false", "loop.prm=false",
             "sampling.max_new_tokens=16",
             # the untrained model's trees end at once (every step dead): a failing sample against the passing
             # reference makes the DPO pair
             "training.pair_sources=[samples, references]", "training.samples_per_problem=1",
             "training.sample_max_tokens=16",
             "training.sft={max_steps: 1, disable_tqdm: true}", "training.dpo={max_steps: 1, disable_tqdm: true}",
             "prm.trainer={max_steps: 1}"]
    code = main(["loop", "--recipe", "tiny-cpu", "--rounds", "1", "--runs-dir", str(tmp_path), "--ray",  # joins
                 "--actors", "1", "--accelerate-config", str(cpu_two_process_config(tmp_path)),  # ray_runtime's Ray
                 *(x for s in small for x in ("--set", s))])
    assert code == 0, capsys.readouterr().err[-3000:]
    [loop] = [r for r in list_runs(tmp_path) if r.kind == "loop"]
    state = LoopState.load(loop.id, tmp_path)
    assert get_run(loop.id, tmp_path).status == "finished" and state.is_done("0/eval")
    assert loop.config["loop"]["ray"] == "local"  # recorded: a resumed loop runs the same way
    # the searches ran on a Ray actor: the store says which actor searched each problem
    from o1coder.runs import problem_results

    for key in ("0/search", "0/eval"):
        stats = problem_results(state.runs[key], tmp_path)["stats"]
        assert len(stats) and all(s["actor"].startswith("o1coder-search-") for s in stats), key
    # the warm start and the DPO update trained in two processes, each written once by the main one
    for job in ("warm_start", "0-rl"):
        report = json.loads((state.folder / "jobs" / f"{job}.result.json").read_text())
        assert report["metrics"]["processes"] == 2 and report["metrics"]["steps"] == 1, report
        assert (Path(report["output_dir"]) / "training.json").is_file()
    assert state.policy == str(state.folder / "round-0" / "policy")
    assert (state.folder / "round-0" / "policy" / "config.json").is_file()


@pytest.mark.parametrize(("name", "accelerate"), [("qwen2.5-coder-7b-8gpu", "zero3-8gpu"),
                                                  ("qwen2.5-coder-1.5b-8gpu", "ddp-8gpu")])
def test_the_8gpu_recipes_run_the_loop_with_ray_search_and_accelerate_training(name, accelerate):
    pytest.importorskip("ray", reason="the loop's ray option needs Ray: pip install 'o1coder[scale]'")
    from o1coder.training import loop_config
    from o1coder.training.rounds import check_recipe

    recipe = load_recipe(name)
    check_recipe(recipe)  # every section, the accelerate preset resolved, Ray importable
    config = loop_config(recipe)
    assert (config.ray, config.accelerate_config) == ("local", accelerate)
