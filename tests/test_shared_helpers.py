"""What the stages share, written once: recipe validators, the run-status guard, the common CLI arguments, the
CLI's verb list (what the app asks), the training kit's pieces that need no model."""

from __future__ import annotations

import argparse

import pytest

from o1coder import validators as v


def test_validators_name_the_key_the_expected_form_and_the_value():
    assert v.integer("X", "n", 3, minimum=1) == 3 and v.integer("X", "n", None, optional=True) is None
    with pytest.raises(ValueError, match=r"^X.n must be an integer >= 1; got 0$"):
        v.integer("X", "n", 0, minimum=1)
    with pytest.raises(ValueError, match="X.n must be an integer >= 0; got True"):
        v.integer("X", "n", True)  # a bool is not an int here
    assert v.number("X", "p", 1, 0, 1) == 1.0 and isinstance(v.number("X", "p", 1, 0, 1), float)
    with pytest.raises(ValueError, match=r"X.p must be a number in \[0, 1\); got 1"):
        v.number("X", "p", 1, 0, 1, high_open=True)
    with pytest.raises(ValueError, match="X.lr must be a number > 0; got 0"):
        v.number("X", "lr", 0, 0, low_open=True)
    with pytest.raises(ValueError, match="X.w must be a number; got nan"):
        v.number("X", "w", float("nan"))
    with pytest.raises(ValueError, match="X.flag must be true or false; got 'yes'"):
        v.boolean("X", "flag", "yes")
    with pytest.raises(ValueError, match="X.mode must be one of 'a', 'b'; got 'c'"):
        v.choice("X", "mode", "c", ("a", "b"))
    shared = {"k": 1}
    copied = v.mapping("X", "trainer", shared)
    assert copied == shared and copied is not shared
    with pytest.raises(ValueError, match="X.targets must be 'all-linear' or a non-empty list"):
        v.module_names("X", "targets", [])


def test_every_config_reports_through_the_validators():
    from o1coder.prm.config import PRMConfig
    from o1coder.search.config import SearchConfig
    from o1coder.tcg.config import TCGConfig
    from o1coder.training.config import LoopConfig

    for build, message in ((lambda: PRMConfig(batch_size=0), "PRMConfig.batch_size must be an integer >= 1"),
                           (lambda: TCGConfig(lora_dropout=1), r"TCGConfig.lora_dropout must be a number in \[0, 1\)"),
                           (lambda: SearchConfig(k=0), "SearchConfig.k must be an integer >= 1"),
                           (lambda: LoopConfig(ray=""), "loop.ray must be a non-empty string or null")):
        with pytest.raises(ValueError, match=message):
            build()


def test_the_run_status_guard_records_how_a_block_ends(tmp_path):
    from o1coder.bundled import load_bundled
    from o1coder.runs import get_run
    from o1coder.runs.store import RunStore

    problems = load_bundled("train")[:1]
    with RunStore(tmp_path) as store:
        runs = [store.create_run({"name": "r"}, problems, problem_spec="bundled:train") for _ in range(4)]
        with store.guard(runs[0]):
            pass
        with pytest.raises(KeyboardInterrupt), store.guard(runs[1]):
            raise KeyboardInterrupt
        with pytest.raises(RuntimeError), store.guard(runs[2]):
            raise RuntimeError("the engine died")
        with store.guard(runs[3], finish=False):
            pass
    statuses = [get_run(r, tmp_path) for r in runs]
    assert [r.status for r in statuses] == ["finished", "interrupted", "failed", "running"]
    assert statuses[2].error == "RuntimeError: the engine died"


def test_common_arguments_are_the_same_in_every_verb():
    from o1coder.cli import build_parser
    from o1coder.cliargs import add_common_args, recipe_from_args

    parser = argparse.ArgumentParser()
    add_common_args(parser, set_example="search.k=2")
    args = parser.parse_args(["--set", "search.k=2", "--set", "loop.rounds=1", "--runs-dir", "R"])
    assert (args.recipe, args.runs_dir) == ("tiny-cpu", "R")
    recipe = recipe_from_args(args)
    assert recipe["search"]["k"] == 2 and recipe["loop"]["rounds"] == 1 and recipe["name"] == "tiny-cpu"
    with pytest.raises(ValueError, match="unknown recipe 'nope'"):
        recipe_from_args(argparse.Namespace(recipe="nope", set=[]))
    commands = [["search"], ["runs"], ["export", "x", "--out", "o"], ["tcg", "sft"], ["prm", "train", "--run", "x"],
                ["prm", "eval", "--run", "x", "--model", "m"], ["eval"], ["sft"], ["rl"], ["loop"], ["demo"]]
    for argv in commands:
        parsed = build_parser().parse_args([*argv, "--runs-dir", "R"])
        assert parsed.runs_dir == "R", argv


def test_the_app_asks_the_cli_for_its_verbs(monkeypatch):
    from o1coder import cli
    from o1coder.paths import PROJECT_ROOT

    assert cli.verbs()[:4] == ["verify", "search", "runs", "export"]
    assert {"tcg", "prm", "eval", "sft", "rl", "loop", "demo"} <= set(cli.verbs())
    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "app"))  # as the app runs: its folder on the path
    from ui import launch
    monkeypatch.setattr(cli, "verbs", lambda: ["search", "brand-new"])
    assert launch.cli_verbs() == {"search", "brand-new"}


def test_keep_fitting_drops_and_counts_the_rows_that_are_too_long():
    from o1coder.trainkit import keep_fitting

    rows = [{"text": "a" * n} for n in (3, 9, 5)]
    kept, dropped = keep_fitting(rows, lambda row: len(row["text"]), 5)
    assert kept == [rows[0], rows[2]] and dropped == 1


def test_rank_helpers_read_the_launchers_environment(monkeypatch):
    from o1coder import trainkit

    for name in ("RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert trainkit.is_main_process() and trainkit.share_of_cores(8) == 8 and trainkit.process_device() == "cpu"
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "3")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")
    assert not trainkit.is_main_process() and trainkit.share_of_cores(8) == 2 and trainkit.share_of_cores(2) == 1
    monkeypatch.setattr(trainkit, "on_gpu", lambda: True)
    assert trainkit.process_device() == "cuda:3"  # not GPU 0 for every rank


def test_rows_computed_once_are_written_for_the_other_ranks(tmp_path, monkeypatch):
    from o1coder.trainkit import computed_once

    for name in ("RANK", "LOCAL_WORLD_SIZE", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "pairs.jsonl"
    assert computed_once(path, lambda: [{"a": 1}, {"a": 2}]) == [{"a": 1}, {"a": 2}]
    monkeypatch.setenv("RANK", "1")  # another rank (no barrier in a single process): reads what rank 0 wrote
    assert computed_once(path, lambda: pytest.fail("only the main process computes")) == [{"a": 1}, {"a": 2}]
    (tmp_path / "pairs.jsonl.failed").write_text("ValueError: no pair\n")
    with pytest.raises(RuntimeError, match="the main process failed computing pairs.jsonl: ValueError: no pair"):
        computed_once(path, lambda: [])
