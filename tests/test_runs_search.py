"""The real search writing to the run store: a concurrent reader, Ctrl-C and crashes, equivalence after a resume.

The generator is scripted (seeded by each call's seed) and answers with steps of the bundled problems' reasoning
traces, so trees grow several levels deep, code gets executed, and the same seed always gives the same tree.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time

import pandas  # noqa: F401 - imported up front: a first import inside the reader would take the whole search
import pytest

from o1coder.bundled import load_bundled, trace_of
from o1coder.execution import Limits, Sandbox
from o1coder.models import ScriptedGenerator
from o1coder.reasoning import render
from o1coder.runs import RunStore, get_run, list_runs, load_tree, node_counts, nodes_since, problems
from o1coder.runs.driver import search_problems
from o1coder.search.tree import Tree

RECIPE = {"name": "scripted", "seed": 0, "search": {"rollouts": 10, "k": 3, "max_depth": 5, "few_shot": False}}


def trace_generator(problem_steps: dict, fail_at_call: int | None = None, error: type = KeyboardInterrupt,
                    delay: float = 0.0):
    """Steps from the trace of the problem whose statement is in the prompt: variants of its pseudocode steps, its
    code, or a wrong program. ``fail_at_call``: raise ``error`` on that call (Ctrl-C or a crash mid-search).
    ``delay``: seconds per call, as a model would take."""
    calls = {"n": 0}

    def respond(prompt, params, n):
        calls["n"] += 1
        time.sleep(delay)
        if fail_at_call is not None and calls["n"] == fail_at_call:
            raise error("stopped by the test")
        steps = next(steps for text, steps in problem_steps.items() if text in str(prompt))
        rng = random.Random(params.seed)
        texts = []
        for _ in range(n):
            roll = rng.random()
            if roll < 0.3:
                wrong = dataclasses.replace(steps[-1], code="def f():\n    return 0\n")
                step = steps[-1] if rng.random() < 0.5 else wrong
            else:
                step = steps[rng.randrange(len(steps) - 1)]
                step = dataclasses.replace(step, title=f"{step.title} (variant {rng.randrange(3)})")
            texts.append(render(step))
        return texts

    return ScriptedGenerator(respond)


@pytest.fixture(scope="module")
def problem_set():
    return load_bundled("train")[:3]


def traces(problems) -> dict:
    """First line of the problem statement (it is in every prompt) -> the problem's reasoning trace."""
    return {p.prompt.strip().splitlines()[0]: trace_of(p) for p in problems}


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(limits=Limits(cpu_seconds=2, wall_seconds=5), workers=2) as sb:
        yield sb


def search_into(tmp_path, problems, sandbox, generator, run_id=None):
    with RunStore(tmp_path) as store:
        run_id = run_id or store.create_run(RECIPE, problems, problem_spec="bundled:train", problem_limit=3)
        search_problems(store, run_id, problems, generator=generator, sandbox=sandbox, recipe=RECIPE)
    return run_id


def test_a_concurrent_reader_never_fails_and_watches_the_trees_grow(tmp_path, problem_set, sandbox):
    steps = traces(problem_set)
    seen: dict[str, list[int]] = {p.id: [] for p in problem_set}
    errors: list[BaseException] = []
    done = threading.Event()

    def read_until_done():
        cursors: dict[str, int] = {}
        watched: dict[str, Tree] = {}
        try:
            while True:
                last = done.is_set()  # one more full read after the writer is done
                runs = list_runs(tmp_path)
                if not runs:
                    continue
                run = runs[0].id
                for pid, count in node_counts(run, tmp_path).items():
                    seen[pid].append(count)
                    changes = nodes_since(run, pid, cursors.get(pid, 0), tmp_path)
                    changes.apply(watched.setdefault(pid, Tree(pid)))
                    cursors[pid] = changes.cursor
                problems(run, tmp_path)
                if last:
                    return
        except BaseException as e:  # noqa: BLE001 - any failure of a reader is what this test looks for
            errors.append(e)

    reader = threading.Thread(target=read_until_done, daemon=True)
    reader.start()
    try:
        run = search_into(tmp_path, problem_set, sandbox, trace_generator(steps, delay=0.005))
    finally:
        done.set()
        reader.join(timeout=30)
    assert not errors, errors
    assert get_run(run, tmp_path).status == "finished"
    for p in problem_set:
        counts = seen[p.id]
        final = len(load_tree(run, p.id, tmp_path).nodes)
        assert counts == sorted(counts), f"{p.id}: the node count went down: {counts}"
        assert final > 4 and counts[-1] == final
    assert max(len(set(c)) for c in seen.values()) >= 3, f"the reader did not see a tree grow: {seen}"


def test_ctrl_c_then_resume_gives_the_trees_of_an_uninterrupted_run(tmp_path, problem_set, sandbox):
    steps = traces(problem_set)
    reference = search_into(tmp_path / "ref", problem_set, sandbox, trace_generator(steps))

    with RunStore(tmp_path / "cut") as store:
        run = store.create_run(RECIPE, problem_set, problem_spec="bundled:train", problem_limit=3)
        with pytest.raises(KeyboardInterrupt):
            search_problems(store, run, problem_set, sandbox=sandbox, recipe=RECIPE,
                            generator=trace_generator(steps, fail_at_call=16))
    info = get_run(run, tmp_path / "cut")
    assert info.status == "interrupted" and 0 < info.problems_done < 3
    assert "running" not in set(problems(run, tmp_path / "cut")["status"])

    with RunStore(tmp_path / "cut") as store:
        todo = store.resume_run(run)
        assert len(todo) == 3 - info.problems_done
        search_problems(store, run, [p for p in problem_set if p.id in todo], sandbox=sandbox, recipe=RECIPE,
                        generator=trace_generator(steps))
    info = get_run(run, tmp_path / "cut")
    assert (info.status, info.problems_done, info.sessions) == ("finished", 3, 2)
    assert info.pass_rate == get_run(reference, tmp_path / "ref").pass_rate
    for p in problem_set:
        assert (load_tree(run, p.id, tmp_path / "cut").to_dict()
                == load_tree(reference, p.id, tmp_path / "ref").to_dict())


def test_a_crash_marks_the_run_failed_with_the_error(tmp_path, problem_set, sandbox):
    steps = traces(problem_set)
    with pytest.raises(OSError, match="stopped by the test"):
        search_into(tmp_path, problem_set, sandbox, trace_generator(steps, fail_at_call=3, error=OSError))
    info = list_runs(tmp_path)[0]
    assert info.status == "failed" and info.error == "OSError: stopped by the test" and info.ended is not None


def test_store_writes_stay_cheap(tmp_path, problem_set, sandbox):
    """One commit per rollout, a few milliseconds at most (bench/search_overhead.py measures the share of wall time
    with a real model; here the scripted generator takes no time, so only the absolute cost is meaningful)."""
    from o1coder.runs import problem_results

    steps = traces(problem_set)
    run = search_into(tmp_path, problem_set, sandbox, trace_generator(steps))
    stats = problem_results(run, tmp_path)["stats"]
    rollouts = sum(s["rollouts"] for s in stats)
    observer_seconds = sum(s["observer_seconds"] for s in stats)
    assert rollouts >= 3 * RECIPE["search"]["rollouts"] - 3
    assert observer_seconds / rollouts < 0.01, (observer_seconds, rollouts)


def test_export_writes_trees_and_nonempty_datasets(tmp_path, problem_set, sandbox):
    from datasets import load_from_disk

    from o1coder.runs.export import export_run

    run = search_into(tmp_path, problem_set, sandbox, trace_generator(traces(problem_set)))
    report = export_run(run, tmp_path / "out", tmp_path)
    assert report.note is None and len(report.trees) == 3 and not report.skipped
    assert set(report.datasets) == {"d_process", "d_plus", "pairs"} and all(report.datasets.values())
    for name, rows in report.datasets.items():
        assert len(load_from_disk(str(tmp_path / "out" / "datasets" / name))) == rows
