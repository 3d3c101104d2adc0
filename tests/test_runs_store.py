"""The run store on hand-built trees: exact round trips, incremental reads, resume bookkeeping, clear errors."""

from __future__ import annotations

import os
import sqlite3

import pytest

from o1coder.problems import Problem, TestCase
from o1coder.runs import (
    NodeChanges,
    RunNotFound,
    RunStore,
    RunStoreError,
    StoreObserver,
    db_path,
    get_run,
    latest_run,
    list_runs,
    load_tree,
    metrics,
    node_counts,
    nodes_since,
    problem_results,
    problems,
)
from o1coder.search.tree import Tree

RECIPE = {"name": "unit", "seed": 7, "search": {"rollouts": 3}}


def make_problems(n: int = 3) -> list[Problem]:
    return [Problem(f"t/p{i}", f"Return {i}.", f"f{i}", [TestCase.call(f"f{i}", [], i)]) for i in range(n)]


def grow(tree: Tree, observer: StoreObserver, rollouts: int = 3) -> Tree:
    """A fake search: every rollout adds a structure step, a refine step and a code step, then backpropagates."""
    if not tree.nodes:
        observer.node_added(tree, tree.add(None, None, ""))
    for r in range(rollouts):
        a = tree.add(0, 1, f"## Step {r}: structure\ndef f(): ...", tokens=7, logprob=-3.5, prior=0.25)
        b = tree.add(a.id, 2, "refine", uct={"q": 0.5, "explore": 1.25, "score": 1.75})
        dead = tree.add(a.id, 2, "garbage", dead=True, errors=["no step header"], reward=0.0)
        code = tree.add(b.id, 3, "```python\ndef f(): return 1\n```", reward=0.2 + 0.8 * (r % 2), prm=0.5,
                        exec={"status": "failed", "n_passed": r % 2, "n_tests": 1, "compiled": True,
                              "outcomes": [{"status": "failed", "message": "f() == 2 is false"}]})
        for node in (a, b, dead, code):
            observer.node_added(tree, node)
        for node in tree.path(code.id):
            node.visits += 1
            node.value_sum += code.reward
            observer.node_updated(tree, node)
        observer.rollout_finished(tree, r, {"rollouts": r + 1, "tokens": {"prompt": 10, "completion": 5}})
    return tree


def result_for(tree: Tree, passed: bool) -> dict:
    return {"answer": "def f(): return 1", "best_node": tree.terminals()[0].id, "passed": int(passed),
            "hidden_status": "passed" if passed else "failed", "hidden_n_passed": int(passed), "hidden_n_tests": 1,
            "hidden": {"status": "passed" if passed else "failed"}, "prompt_tokens": 10, "completion_tokens": 5,
            "executions": 3, "wall_seconds": 0.5, "n_nodes": len(tree.nodes), "stats": {"rollouts": 3}}


@pytest.fixture
def store(tmp_path):
    with RunStore(tmp_path) as s:
        yield s


def test_a_tree_round_trips_exactly(store, tmp_path):
    run = store.create_run(RECIPE, make_problems(1), problem_spec="unit")
    observer = StoreObserver(store, run)
    store.start_problem(run, "t/p0")
    tree = grow(Tree("t/p0", config={"algorithm": "mcts", "k": 3}), observer)
    observer.finish(tree, result_for(tree, True))
    loaded = load_tree(run, "t/p0", tmp_path)
    assert loaded.to_dict() == tree.to_dict()
    assert [n.children for n in loaded.nodes] == [n.children for n in tree.nodes]
    assert observer.commits == 4 and observer.seconds > 0


def test_nodes_since_returns_only_changes_and_rebuilds_the_tree(store, tmp_path):
    run = store.create_run(RECIPE, make_problems(1))
    observer = StoreObserver(store, run)
    tree, watched, cursor, seen_counts = Tree("t/p0"), Tree("t/p0"), 0, []
    for _ in range(4):
        grow(tree, observer, rollouts=1)
        changes = nodes_since(run, "t/p0", cursor, tmp_path)
        assert changes.cursor > cursor
        changes.apply(watched)
        cursor = changes.cursor
        seen_counts.append(len(watched.nodes))
        assert [n.to_dict() for n in watched.nodes] == [n.to_dict() for n in tree.nodes]
    assert seen_counts == [5, 9, 13, 17]
    # the last rollout touched 4 new nodes and the root's path; untouched siblings are not sent again
    assert nodes_since(run, "t/p0", cursor, tmp_path).nodes == []
    observer.rollout_finished(tree, 4, {})  # nothing changed: nothing written
    assert nodes_since(run, "t/p0", cursor, tmp_path).cursor == cursor
    assert node_counts(run, tmp_path) == {"t/p0": 17}


def test_changes_arrive_parents_first_even_when_a_parent_was_updated_last(store, tmp_path):
    run = store.create_run(RECIPE, make_problems(1))
    observer = StoreObserver(store, run)
    tree = grow(Tree("t/p0"), observer, rollouts=2)
    rebuilt = NodeChanges(nodes_since(run, "t/p0", 0, tmp_path).nodes).apply(Tree("t/p0"))
    assert rebuilt.to_dict() == tree.to_dict()


def test_run_record_totals_and_metrics(store, tmp_path):
    run = store.create_run(RECIPE, make_problems(3), problem_spec="unit:x", problem_limit=3)
    observer = StoreObserver(store, run)
    for i, passed in ((0, True), (1, False)):
        store.start_problem(run, f"t/p{i}")
        tree = grow(Tree(f"t/p{i}"), observer)
        observer.finish(tree, result_for(tree, passed), metrics={"problem_passed": float(passed)})
    info = get_run(run, tmp_path)
    assert (info.status, info.problems_planned, info.problems_done, info.problems_passed) == ("running", 3, 2, 1)
    assert info.pass_rate == 0.5 and info.tokens == 30 and info.executions == 6
    assert info.seed == 7 and info.config == RECIPE and info.recipe == "unit" and len(info.data_hash) == 64
    assert {"python", "torch", "transformers", "o1coder"} <= set(info.versions)
    results = problem_results(run, tmp_path)
    assert list(results["problem_id"]) == ["t/p0", "t/p1"] and list(results["passed"]) == [True, False]
    assert results["stats"][0] == {"rollouts": 3}
    pass_rate = metrics(run, "pass_rate", tmp_path)
    assert list(pass_rate["step"]) == [1, 2] and list(pass_rate["value"]) == [1.0, 0.5]
    assert set(metrics(run, runs_dir=tmp_path)["name"]) == {"pass_rate", "tokens", "executions", "problem_passed"}
    store.log_metrics(run, 2, {"pass_rate": 0.25})  # same (name, step): replaced, not duplicated
    assert list(metrics(run, "pass_rate", tmp_path)["value"]) == [1.0, 0.25]
    status = problems(run, tmp_path)
    assert list(status["status"]) == ["finished", "finished", "pending"] and status["rollouts"][0] == 3


def test_runs_are_listed_newest_first_and_latest_resolves(store, tmp_path):
    first = store.create_run(RECIPE, make_problems(1))
    second = store.create_run({**RECIPE, "name": "other"}, make_problems(2))
    assert [r.id for r in list_runs(tmp_path)] == [second, first]
    assert latest_run(tmp_path).id == second and get_run("latest", tmp_path).recipe == "other"
    assert first < second or first[:15] == second[:15]  # ids sort by start time (to the second)
    store.set_status(first, "finished")
    assert get_run(first, tmp_path).status == "finished" and get_run(first, tmp_path).ended is not None
    with pytest.raises(ValueError, match="status"):
        store.set_status(first, "done")


def test_resume_forgets_the_unfinished_problem_and_never_duplicates(tmp_path):
    store = RunStore(tmp_path)
    run = store.create_run(RECIPE, make_problems(3))
    observer = StoreObserver(store, run)
    store.start_problem(run, "t/p0")
    finished = grow(Tree("t/p0"), observer)
    observer.finish(finished, result_for(finished, True))
    store.start_problem(run, "t/p1")
    grow(Tree("t/p1"), observer, rollouts=2)  # then the process dies: no finish, no status change
    assert node_counts(run, tmp_path) == {"t/p0": 13, "t/p1": 9}

    resumed = RunStore(tmp_path)
    assert resumed.resume_run(run) == ["t/p1", "t/p2"]
    assert node_counts(run, tmp_path) == {"t/p0": 13}
    info = get_run(run, tmp_path)
    assert (info.status, info.sessions, info.problems_done) == ("running", 2, 1)
    observer = StoreObserver(resumed, run)
    for pid in ("t/p1", "t/p2"):
        resumed.start_problem(run, pid)
        tree = grow(Tree(pid), observer)
        observer.finish(tree, result_for(tree, False))
    resumed.set_status(run, "finished")
    assert node_counts(run, tmp_path) == {"t/p0": 13, "t/p1": 13, "t/p2": 13}
    assert load_tree(run, "t/p0", tmp_path).to_dict() == finished.to_dict()
    conn = sqlite3.connect(db_path(tmp_path))
    for table, key in (("results", "problem_id"), ("problems", "problem_id"), ("metrics", "name, step"),
                       ("nodes", "problem_id, node_id")):
        duplicates = conn.execute(f"SELECT count(*) FROM (SELECT {key} FROM {table} WHERE run_id = ? GROUP BY {key}"
                                  " HAVING count(*) > 1)", (run,)).fetchone()[0]
        assert duplicates == 0, table
    assert list(metrics(run, "pass_rate", tmp_path)["step"]) == [1, 2, 3]
    assert resumed.resume_run(run) == []  # a finished run has nothing left
    assert get_run(run, tmp_path).status == "finished"


def test_an_interrupted_run_puts_its_problem_back(store, tmp_path):
    run = store.create_run(RECIPE, make_problems(2))
    store.start_problem(run, "t/p0")
    store.set_status(run, "interrupted")
    assert list(problems(run, tmp_path)["status"]) == ["pending", "pending"]
    assert store.resume_run(run) == ["t/p0", "t/p1"]


def test_a_run_whose_process_is_alive_is_not_resumed(store, tmp_path):
    run = store.create_run(RECIPE, make_problems(1))
    store.conn.execute("UPDATE runs SET pid = ? WHERE id = ?", (os.getppid(), run))  # a live process, not us
    with pytest.raises(RunStoreError, match="still running"):
        store.resume_run(run)


def test_unknown_runs_and_problems_are_named(store, tmp_path):
    with pytest.raises(RunNotFound, match="nope"):
        get_run("nope", tmp_path)
    run = store.create_run(RECIPE, make_problems(1))
    with pytest.raises(RunNotFound, match="t/zz"):
        load_tree(run, "t/zz", tmp_path)
    with pytest.raises(RunStoreError, match="not part of run"):
        store.start_problem(run, "t/zz")
    with pytest.raises(ValueError, match="duplicate"):
        store.create_run(RECIPE, make_problems(1) * 2)


def test_an_empty_runs_directory_has_no_runs(tmp_path):
    assert list_runs(tmp_path / "none") == [] and latest_run(tmp_path / "none") is None
    with pytest.raises(RunNotFound):
        get_run("latest", tmp_path / "none")
    assert not (tmp_path / "none").exists()  # reading never creates the store


def test_the_default_runs_directory_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("O1CODER_RUNS_DIR", str(tmp_path / "env"))
    with RunStore() as store:
        run = store.create_run(RECIPE, make_problems(1))
    assert db_path() == tmp_path / "env" / "runs.sqlite" and latest_run().id == run


def test_the_database_is_in_wal_mode(store):
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
