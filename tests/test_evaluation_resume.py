"""`o1coder eval` with many problems in flight, stopped and resumed: no finished problem evaluated twice, no
duplicate row, the same table as a run that was never stopped. And `o1coder eval --ray` on a local cluster."""

from __future__ import annotations

import math
import sqlite3
from types import SimpleNamespace

import pytest
from kill_in_flight import kill_with_problems_in_flight
from test_evaluation_harness import final_metrics, reference_policy

from o1coder.cli import main
from o1coder.config import load_recipe
from o1coder.evaluation import EvalConfig, run_eval
from o1coder.execution import Sandbox
from o1coder.models import ScriptedGenerator, build_tiny_model
from o1coder.paths import PROJECT_ROOT
from o1coder.runs import (
    db_path,
    get_run,
    latest_run,
    problem_results,
    problems,
)

BENCHMARK = "bundled:eval"


def stopping(policy: ScriptedGenerator, at_call: int) -> ScriptedGenerator:
    """``policy`` that raises KeyboardInterrupt (Ctrl-C) on its ``at_call``-th call."""
    calls = {"n": 0}

    def respond(prompt, params, n):
        calls["n"] += 1
        if calls["n"] == at_call:
            raise KeyboardInterrupt
        return policy.respond(prompt, params, n)

    return ScriptedGenerator(respond)


def rows_without_timing(run_id: str, runs_dir) -> dict:
    frame = problem_results(run_id, runs_dir).set_index("problem_id")
    return {pid: (row.answer, row.passed, row.completion_tokens, row.executions) for pid, row in frame.iterrows()}


def test_an_interrupted_evaluation_resumes_to_the_table_of_an_uninterrupted_one(tmp_path):
    recipe = {**load_recipe("tiny-cpu"), "search": {**load_recipe("tiny-cpu")["search"], "concurrency": 3}}
    config = EvalConfig(samples=2, k=[1, 2], aspr_k=2, aspr_search="samples")
    with Sandbox(workers=2) as sandbox:
        whole = run_eval(recipe, BENCHMARK, config=config, limit=6, runs_dir=tmp_path / "whole",
                         generator=reference_policy(), sandbox=sandbox)
        cut = tmp_path / "cut"
        with pytest.raises(KeyboardInterrupt):
            run_eval(recipe, BENCHMARK, config=config, limit=6, runs_dir=cut, generator=stopping(
                reference_policy(), at_call=17), sandbox=sandbox)
        run = latest_run(cut)
        assert run.status == "interrupted" and 0 < run.problems_done < 6
        before = problem_results(run.id, cut).set_index("problem_id")
        with pytest.raises(ValueError, match="drop the benchmark"):
            run_eval(None, "bundled:train", resume=run.id, runs_dir=cut)
        resumed = run_eval(None, None, resume=run.id, runs_dir=cut, generator=reference_policy(), sandbox=sandbox)
    assert resumed.run_id == run.id
    run = get_run(run.id, cut)
    assert (run.status, run.problems_done, run.sessions) == ("finished", 6, 2)
    after = problem_results(run.id, cut).set_index("problem_id")
    for problem_id in before.index:  # finished before the stop: kept, not evaluated again
        assert after.loc[problem_id, "ended"] == before.loc[problem_id, "ended"]
    assert rows_without_timing(run.id, cut) == rows_without_timing(whole.run_id, tmp_path / "whole")
    assert resumed.report.to_dict()["summary"] == whole.report.to_dict()["summary"]
    assert final_metrics(run.id, cut) == final_metrics(whole.run_id, tmp_path / "whole")
    conn = sqlite3.connect(db_path(cut))
    assert conn.execute("SELECT count(*), count(DISTINCT problem_id) FROM results WHERE run_id = ?",
                        (run.id,)).fetchone() == (6, 6)
    conn.close()


def test_eval_resume_arguments_are_checked(tmp_path, capsys):
    assert main(["eval", "--resume", "nope", "--limit", "2", "--runs-dir", str(tmp_path)]) == 2
    assert "drop --limit" in capsys.readouterr().err
    assert main(["eval", "--actors", "2", "--runs-dir", str(tmp_path)]) == 2
    assert "add --ray" in capsys.readouterr().err


@pytest.mark.slow
def test_an_evaluation_killed_with_problems_in_flight_resumes_with_none_lost_and_none_repeated(tmp_path):
    """`o1coder eval` on the tiny model at concurrency 3, SIGKILL, `o1coder eval --resume RUN`."""
    build_tiny_model()
    runs_dir = str(tmp_path / "runs")
    args = ["eval", "--recipe", "tiny-cpu", "--benchmark", BENCHMARK, "--limit", "8", "--samples", "2", "--k",
            "1,2", "--aspr-k", "2", "--aspr-search", "samples", "--workers", "1", "--runs-dir", runs_dir,
            "--set", "search.concurrency=3", "--set", "sampling.max_new_tokens=24",
            "--set", "evaluation.max_answer_tokens=32", "--set", "search.max_depth=3"]
    assert kill_with_problems_in_flight(args, runs_dir, tmp_path / "killed.log", PROJECT_ROOT, 240) >= 2
    run = get_run("latest", runs_dir)
    assert run.status == "running" and 2 <= run.problems_done < 8
    before = problem_results(run.id, runs_dir).set_index("problem_id")

    assert main(["eval", "--resume", run.id, "--runs-dir", runs_dir]) == 0
    run = get_run(run.id, runs_dir)
    assert (run.status, run.problems_done, run.sessions) == ("finished", 8, 2)
    after = problem_results(run.id, runs_dir).set_index("problem_id")
    assert sorted(after.index) == sorted(problems(run.id, runs_dir)["problem_id"])  # none lost
    for problem_id in before.index:  # none repeated
        assert after.loc[problem_id, "ended"] == before.loc[problem_id, "ended"]
    stored = final_metrics(run.id, runs_dir)
    assert stored["eval/aspr_problems/pseudocode"] + stored["eval/aspr_excluded/pseudocode"] == 8
    conn = sqlite3.connect(db_path(runs_dir))
    assert conn.execute("SELECT count(*), count(DISTINCT problem_id) FROM results WHERE run_id = ?",
                        (run.id,)).fetchone() == (8, 8)
    conn.close()


@pytest.mark.slow
def test_eval_on_ray_actors_writes_the_rows_of_a_local_evaluation(ray_runtime, tmp_path, capsys):
    """`o1coder eval --ray --actors 2` on a local cluster: the same per-problem rows and Table 1 as `o1coder eval`
    (one torch thread on both sides, one problem per batch as in tiny-cpu)."""
    build_tiny_model()
    args = ["eval", "--recipe", "tiny-cpu", "--benchmark", BENCHMARK, "--limit", "3", "--samples", "2", "--k", "1,2",
            "--aspr-k", "2", "--aspr-search", "samples", "--workers", "1", "--runs-dir", str(tmp_path),
            "--set", "sampling.max_new_tokens=24", "--set", "evaluation.max_answer_tokens=32",
            "--set", "search.max_depth=3"]
    assert main(args) == 0
    local = latest_run(tmp_path).id
    assert main([*args, "--ray", "--actors", "2"]) == 0  # joins the module's Ray
    distributed = latest_run(tmp_path).id
    assert distributed != local and get_run(distributed, tmp_path).status == "finished"
    assert rows_without_timing(distributed, tmp_path) == rows_without_timing(local, tmp_path)
    assert comparable(final_metrics(distributed, tmp_path)) == comparable(final_metrics(local, tmp_path))
    capsys.readouterr()


class _Ref:
    """An ObjectRef stand-in (hashable, like the real one)."""

    def __init__(self, handle, problems):
        self.handle, self.problems = handle, problems


class _FakeRay:
    """The Ray calls run_eval_ray makes, in-process: actors are plain EvalWorkers, calls run when waited on; the
    first actor dies on its first batch when ``kill_first`` (an actor lost with its problems)."""

    class RayActorError(Exception):
        pass

    exceptions = SimpleNamespace(RayActorError=RayActorError)

    def __init__(self, kill_first: bool):
        self.kill_first, self.started, self.killed = kill_first, 0, 0

    def remote(self, cls):
        fake = self

        class Handle:
            def __init__(self, *args):
                self.worker, self.index = cls(*args), fake.started
                fake.started += 1
                self.evaluate = SimpleNamespace(remote=lambda problems: _Ref(self, problems))

        return SimpleNamespace(options=lambda **_: SimpleNamespace(remote=lambda *args: Handle(*args)))

    def wait(self, refs, num_returns=1):
        return [refs[0]], refs[1:]

    def get(self, ref):
        if self.kill_first and ref.handle.index == 0:
            raise self.RayActorError("actor 0 died")
        return ref.handle.worker.evaluate(ref.problems)

    def kill(self, handle):
        self.killed += 1

    def cluster_resources(self):
        return {"CPU": 2.0}


@pytest.mark.parametrize("kill_first", [False, True])
def test_eval_ray_scheduling_writes_the_rows_of_a_local_evaluation(tmp_path, monkeypatch, kill_first):
    """run_eval_ray with a stand-in for Ray (EvalWorkers in-process; the real cluster: the slow test above): batches
    of search.concurrency problems, a lost actor's batch evaluated again on a replacement, rows as a local run's."""
    from o1coder.evaluation import distributed
    from o1coder.scale import cluster

    build_tiny_model()
    recipe = {**load_recipe("tiny-cpu"), "search": {**load_recipe("tiny-cpu")["search"], "concurrency": 2,
                                                    "max_depth": 3},
              "sampling": {**load_recipe("tiny-cpu")["sampling"], "max_new_tokens": 16},
              "execution": {"workers": 1}}
    config = EvalConfig(samples=2, k=[1, 2], aspr_k=2, aspr_search="samples", max_answer_tokens=24)
    local = run_eval(recipe, BENCHMARK, config=config, limit=3, runs_dir=tmp_path)
    fake = _FakeRay(kill_first)
    monkeypatch.setattr(cluster, "require_ray", lambda: fake)
    monkeypatch.setattr(cluster, "connect", lambda *a, **k: False)
    outcome = distributed.run_eval_ray(recipe, BENCHMARK, config=config, limit=3, runs_dir=tmp_path, actors=2)
    assert get_run(outcome.run_id, tmp_path).status == "finished"
    assert fake.started == (3 if kill_first else 2)  # 2 actors for 2 batches (2 + 1 problems), 1 replacement
    assert rows_without_timing(outcome.run_id, tmp_path) == rows_without_timing(local.run_id, tmp_path)
    assert comparable(final_metrics(outcome.run_id, tmp_path)) == comparable(final_metrics(local.run_id, tmp_path))


def comparable(points: dict) -> dict:
    """Metric points with NaN (an undefined ASPR) as None, so equal runs compare equal."""
    return {name: None if value is None or math.isnan(value) else value for name, value in points.items()}
