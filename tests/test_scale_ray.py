"""Distributed search on a local Ray cluster (2 CPUs, 2 actors): the same run as a local one, and a lost actor.

Two models: the tiny model (the transformers backend inside each actor, as on a CPU cluster) for the equivalence
with a local run, and a scripted model behind the OpenAI-compatible testing server for the crash test: it answers
with steps of the bundled reasoning traces, so trees grow deep and code runs in the actors' sandboxes, and a small
delay per call leaves time to kill an actor in the middle of a problem.
"""

from __future__ import annotations

import dataclasses
import random
import sqlite3
import threading
import time

import pytest

ray = pytest.importorskip("ray", reason="distributed search needs Ray: pip install 'o1coder[scale]'")

from o1coder.bundled import load_bundled, trace_of  # noqa: E402
from o1coder.cli import main  # noqa: E402
from o1coder.config import apply_overrides, load_recipe  # noqa: E402
from o1coder.models import ScriptedGenerator, build_tiny_model  # noqa: E402
from o1coder.models.testing_server import OpenAICompatibleServer  # noqa: E402
from o1coder.reasoning import render  # noqa: E402
from o1coder.runs import (  # noqa: E402
    db_path,
    get_run,
    latest_run,
    load_tree,
    metrics,
    problem_results,
    problems,
    run_search,
)
from o1coder.scale import run_search_ray  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(ray_runtime):
    return ray_runtime


def same_runs(runs_dir, local: str, distributed: str) -> list[str]:
    """Assert two runs searched the same problems into the same trees and results; returns the problem ids."""
    ids = list(problems(local, runs_dir)["problem_id"])
    assert list(problems(distributed, runs_dir)["problem_id"]) == ids
    assert set(problems(distributed, runs_dir)["status"]) == {"finished"}
    for pid in ids:
        assert load_tree(distributed, pid, runs_dir).to_dict() == load_tree(local, pid, runs_dir).to_dict(), pid
    columns = ["problem_id", "answer", "passed", "hidden_status", "n_nodes", "executions"]
    left = problem_results(local, runs_dir)[columns].sort_values("problem_id").reset_index(drop=True)
    right = problem_results(distributed, runs_dir)[columns].sort_values("problem_id").reset_index(drop=True)
    assert left.equals(right)
    return ids


def test_a_ray_run_finishes_the_same_problems_with_the_same_trees_as_a_local_run(cluster, tmp_path, capsys):
    build_tiny_model()  # once, before the actors look for it (they share the test session's models folder)
    overrides = ["search.rollouts=3", "execution.workers=1"]
    local = run_search(apply_overrides(load_recipe("tiny-cpu"), overrides), "bundled", limit=4, runs_dir=tmp_path)
    argv = ["search", "--recipe", "tiny-cpu", "--problems", "bundled", "--limit", "4", "--runs-dir", str(tmp_path),
            "--ray", "--actors", "2"]
    assert main([*argv, *(x for o in overrides for x in ("--set", o))]) == 0
    distributed = latest_run(tmp_path).id
    assert f"run {distributed} finished: 4/4 problems" in capsys.readouterr().out
    assert get_run(distributed, tmp_path).config == get_run(local, tmp_path).config
    same_runs(tmp_path, local, distributed)
    actors = {stats["actor"] for stats in problem_results(distributed, tmp_path)["stats"]}
    assert len(actors) == 2  # both actors searched


def trace_server(problem_set, delay: float) -> OpenAICompatibleServer:
    """A server answering with seeded variants of each problem's trace steps, right code or wrong code."""
    steps_by_text = {p.prompt.strip().splitlines()[0]: trace_of(p) for p in problem_set}

    def respond(prompt, params, n):
        steps = next(steps for text, steps in steps_by_text.items() if text in str(prompt))
        rng = random.Random(params.seed)
        texts = []
        for _ in range(n):
            if rng.random() < 0.3:
                wrong = dataclasses.replace(steps[-1], code="def f():\n    return 0\n")
                step = steps[-1] if rng.random() < 0.5 else wrong
            else:
                step = steps[rng.randrange(len(steps) - 1)]
                step = dataclasses.replace(step, title=f"{step.title} (variant {rng.randrange(3)})")
            texts.append(render(step))
        return texts

    return OpenAICompatibleServer(ScriptedGenerator(respond), model_name="scripted", delay_s=delay)


def kill_mid_problem(runs_dir, killed: list[str], stop: threading.Event) -> None:
    """Watch the store (read-only, as the app does) and kill the actor of the first problem seen half-searched."""
    while not stop.is_set() and not killed:
        try:
            runs = sqlite3.connect(f"file:{db_path(runs_dir)}?mode=ro", uri=True)
            rows = runs.execute("SELECT live FROM problems WHERE status = 'running' AND rollouts BETWEEN 2 AND 4"
                                " AND live LIKE '%o1coder-search-%'").fetchall()
            runs.close()
        except sqlite3.Error:
            rows = []
        for (live,) in rows:
            name = live.split('"actor": "')[1].split('"')[0]
            ray.kill(ray.get_actor(name))
            killed.append(name)
            return
        time.sleep(0.05)


def test_an_actor_killed_mid_problem_is_replaced_and_every_problem_finishes_once(cluster, tmp_path):
    problem_set = load_bundled("train")[:4]
    with trace_server(problem_set, delay=0.05) as server:
        recipe = {"name": "scripted", "seed": 0, "model": {"backend": "openai", "name_or_path": "scripted",
                                                          "base_url": server.url},
                  "sampling": {"max_new_tokens": 512}, "execution": {"workers": 1, "cpu_seconds": 2},
                  # one problem per actor at a time, so the killed actor loses exactly one (several in flight:
                  # test_scale_scheduler.py)
                  "search": {"rollouts": 8, "k": 3, "max_depth": 5, "few_shot": False, "concurrency": 1}}
        local = run_search(recipe, "bundled:train", limit=4, runs_dir=tmp_path)
        killed: list[str] = []
        stop = threading.Event()
        watcher = threading.Thread(target=kill_mid_problem, args=(tmp_path, killed, stop), daemon=True)
        watcher.start()
        try:
            distributed = run_search_ray(recipe, "bundled:train", limit=4, runs_dir=tmp_path, actors=2)
        finally:
            stop.set()
            watcher.join()
    assert killed, "no actor was caught in the middle of a problem"
    ids = same_runs(tmp_path, local, distributed)
    assert sum(load_tree(local, pid, tmp_path).to_dict()["nodes"][0]["visits"] for pid in ids) > 4 * 3  # deep trees
    lost = metrics(distributed, runs_dir=tmp_path)
    assert lost[lost["name"] == "ray_actors_lost"]["value"].max() == 1
    assert lost[lost["name"] == "ray_problems_retried"]["value"].max() == 1
    with sqlite3.connect(db_path(tmp_path)) as conn:  # no duplicate rows: one result per problem, one row per node
        assert conn.execute("SELECT count(*) FROM results WHERE run_id = ?", (distributed,)).fetchone()[0] == 4
        for pid in ids:
            stored = conn.execute("SELECT count(*), count(DISTINCT node_id), max(node_id) FROM nodes WHERE run_id = ?"
                                  " AND problem_id = ?", (distributed, pid)).fetchone()
            n = len(load_tree(local, pid, tmp_path).nodes)
            assert stored == (n, n, n - 1)
    assert get_run(distributed, tmp_path).status == "finished"
