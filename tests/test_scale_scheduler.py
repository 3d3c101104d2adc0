"""The distributed driver's scheduling and failure handling, in-process: a fake Ray whose actors are plain objects.

The fake delivers results in a seeded random order (so rollouts of problems on different actors interleave in the
store, as on a cluster) and can make an actor die at its N-th streamed message or in its constructor. The real Ray
is exercised in test_scale_ray.py; here every failure path runs in a second.
"""

from __future__ import annotations

import dataclasses
import random
import sys
from types import SimpleNamespace

import pytest

from o1coder.bundled import load_bundled, trace_of
from o1coder.execution import Limits, Sandbox
from o1coder.models import ScriptedGenerator
from o1coder.reasoning import render
from o1coder.runs import RunStore, get_run, load_tree, metrics, problems
from o1coder.runs.driver import search_problems
from o1coder.scale import actors as scale_actors
from o1coder.scale import driver
from o1coder.scale.actors import ProblemDone, RolloutUpdate, SearchWorker
from o1coder.search.config import search_config

RECIPE = {"name": "scripted", "seed": 0, "search": {"rollouts": 6, "k": 3, "max_depth": 5, "few_shot": False}}


class ActorDied(Exception):
    """Stands for ray.exceptions.RayActorError."""

    def __init__(self, init_failed: bool = False):
        super().__init__("the actor died")
        self.actor_init_failed = init_failed


class Ref:
    def __init__(self, value=None, error: BaseException | None = None):
        self.value, self.error = value, error


class Stream:
    """An ObjectRefGenerator over the worker's generator; the actor may die after ``life`` messages."""

    def __init__(self, actor, items):
        self.actor, self.items = actor, items

    def __next__(self) -> Ref:
        if self.actor.dead or self.actor.fake.lives_left(self.actor) == 0:
            self.actor.dead = True
            return Ref(error=ActorDied())
        try:
            return Ref(next(self.items))
        except StopIteration:
            raise
        except Exception as error:  # noqa: BLE001 - a search error reaches the driver through get()
            return Ref(error=error)


class Method:
    def __init__(self, actor, name):
        self.actor, self.name = actor, name

    def options(self, **_):
        return self

    def remote(self, *args):
        if self.actor.dead:
            return Ref(error=ActorDied(init_failed=self.actor.init_error is not None))
        result = getattr(self.actor.worker, self.name)(*args)
        return Stream(self.actor, result) if self.name == "search" else Ref(result)


class Actor:
    def __init__(self, fake, index, args):
        self.fake, self.index, self.dead, self.sent, self.init_error = fake, index, False, 0, None
        try:
            self.worker = fake.worker_class(*args)
        except Exception as error:  # noqa: BLE001 - a constructor error kills the actor, as in Ray
            self.init_error, self.dead = error, True

    def __getattr__(self, name):
        return Method(self, name)


class FakeRay:
    """Just the Ray calls the scheduler makes. ``lives``: actor index -> messages it streams before dying."""

    exceptions = SimpleNamespace(RayActorError=ActorDied)

    def __init__(self, worker_class, lives: dict[int, int] | None = None, seed: int = 0):
        self.worker_class, self.lives, self.rng = worker_class, dict(lives or {}), random.Random(seed)
        self.actors: list[Actor] = []
        self.killed: list[int] = []

    def lives_left(self, actor: Actor) -> int | None:
        if actor.index not in self.lives:
            return None
        self.lives[actor.index] -= 1
        return self.lives[actor.index] + 1

    def remote(self, cls):
        fake = self

        class Handle:
            @staticmethod
            def options(**_):
                return SimpleNamespace(remote=lambda *args: fake._new(args))

        return Handle

    def _new(self, args) -> Actor:
        actor = Actor(self, len(self.actors), args)
        self.actors.append(actor)
        return actor

    def wait(self, items, num_returns=1, timeout=None):
        chosen = self.rng.choice(items)
        return [chosen], [i for i in items if i is not chosen]

    def get(self, ref, timeout=None):
        if isinstance(ref, list):
            return [self.get(r) for r in ref]
        if ref.error is not None:
            raise ref.error
        return ref.value

    def kill(self, actor: Actor) -> None:
        actor.dead = True
        self.killed.append(actor.index)

    def cluster_resources(self):
        return {"CPU": 2.0}


@pytest.fixture(scope="module")
def problem_set():
    return load_bundled("train")[:3]


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(limits=Limits(cpu_seconds=2, wall_seconds=5), workers=2) as sb:
        yield sb


def trace_generator(problem_set):
    steps_by_text = {p.prompt.strip().splitlines()[0]: trace_of(p) for p in problem_set}

    def respond(prompt, params, n):
        steps = next(steps for text, steps in steps_by_text.items() if text in str(prompt))
        rng = random.Random(params.seed)
        out = []
        for _ in range(n):
            step = steps[rng.randrange(len(steps))]
            if step.action != 3:
                step = dataclasses.replace(step, title=f"{step.title} ({rng.randrange(3)})")
            out.append(render(step))
        return out

    return ScriptedGenerator(respond)


def scripted_worker(problem_set, sandbox, fail_init: bool = False):
    """A SearchWorker on the scripted model and the test's sandbox (what the real one builds from the recipe)."""

    class Worker(SearchWorker):
        def __init__(self, recipe, workers=None, threads=None):
            if fail_init:
                raise OSError("could not load model 'nope'")
            self.config, self.sampling, self.concurrency = search_config(recipe), None, 1
            self.generator, self.sandbox = trace_generator(problem_set), sandbox

        def close(self):
            pass

    return Worker


def run_with(fake, tmp_path, monkeypatch, problem_set, **kwargs):
    monkeypatch.setattr(driver, "require_ray", lambda: fake)
    monkeypatch.setattr(driver, "connect", lambda *a, **k: False)
    with RunStore(tmp_path) as store:
        run_id = store.create_run(RECIPE, problem_set, problem_spec="bundled:train", problem_limit=3)
        store.set_status(run_id, "interrupted")  # resumed below: open_run needs no spec resolution then
    monkeypatch.setattr(driver, "planned_problems", lambda run, runs_dir=None: list(problem_set))
    return driver.run_search_ray(None, resume=run_id, runs_dir=tmp_path, actors=2, **kwargs)


def local_trees(tmp_path, problem_set, sandbox):
    with RunStore(tmp_path / "local") as store:
        run_id = store.create_run(RECIPE, problem_set, problem_spec="bundled:train", problem_limit=3)
        search_problems(store, run_id, problem_set, generator=trace_generator(problem_set), sandbox=sandbox,
                        recipe=RECIPE)
    return {p.id: load_tree(run_id, p.id, tmp_path / "local").to_dict() for p in problem_set}


def test_the_worker_streams_each_rollout_then_the_result(problem_set, sandbox):
    worker = scripted_worker(problem_set, sandbox)(RECIPE)
    items = list(worker.search(problem_set[0]))
    *rollouts, done = items
    assert all(isinstance(i, RolloutUpdate) for i in rollouts) and isinstance(done, ProblemDone)
    assert [u.rollout for u in rollouts] == list(range(len(rollouts))) and len(rollouts) >= 1
    assert done.result["n_nodes"] == len(done.tree.nodes) and done.problem_id == problem_set[0].id
    ids = {n.id for u in rollouts for n in u.nodes}
    assert ids == {n.id for n in done.tree.nodes}  # every node was streamed before the end


def test_interleaved_actors_write_the_same_trees_as_a_local_run(tmp_path, monkeypatch, problem_set, sandbox):
    fake = FakeRay(scripted_worker(problem_set, sandbox))
    run_id = run_with(fake, tmp_path, monkeypatch, problem_set)
    expected = local_trees(tmp_path, problem_set, sandbox)
    assert get_run(run_id, tmp_path).status == "finished"
    for pid, tree in expected.items():
        assert load_tree(run_id, pid, tmp_path).to_dict() == tree
    assert len({live["actor"] for live in problems(run_id, tmp_path)["live"]}) == 2
    assert sorted(fake.killed) == [0, 1]  # closed at the end


def test_a_problem_lost_with_its_actor_is_searched_again_on_a_replacement(tmp_path, monkeypatch, problem_set,
                                                                           sandbox):
    fake = FakeRay(scripted_worker(problem_set, sandbox), lives={0: 3})
    run_id = run_with(fake, tmp_path, monkeypatch, problem_set)
    expected = local_trees(tmp_path, problem_set, sandbox)
    for pid, tree in expected.items():
        assert load_tree(run_id, pid, tmp_path).to_dict() == tree
    assert len(fake.actors) == 3 and fake.actors[0].dead  # actor 2 replaced actor 0
    points = metrics(run_id, runs_dir=tmp_path)
    assert points[points["name"] == "ray_actors_lost"]["value"].tolist() == [1.0]
    assert get_run(run_id, tmp_path).status == "finished" and get_run(run_id, tmp_path).problems_done == 3


def test_each_actor_keeps_several_problems_in_flight_and_a_lost_one_hands_them_all_back(
        tmp_path, monkeypatch, problem_set, sandbox):
    """search.concurrency 2: an actor gets two problems at once (one engine, shared batches); when it dies, both
    go back to the queue and are searched again from scratch on its replacement."""
    recipe = {**RECIPE, "search": {**RECIPE["search"], "concurrency": 2}}
    monkeypatch.setattr(sys.modules[__name__], "RECIPE", recipe)
    dispatched: list[str] = []
    in_flight: list[int] = []
    real_dispatch = driver.Scheduler._dispatch

    def spy(self, actor, problem):
        dispatched.append(problem.id)
        real_dispatch(self, actor, problem)
        in_flight.append(len(actor.flights))

    monkeypatch.setattr(driver.Scheduler, "_dispatch", spy)
    fake = FakeRay(scripted_worker(problem_set, sandbox), lives={0: 4, 1: 4})  # both first actors die mid-search
    run_id = run_with(fake, tmp_path, monkeypatch, problem_set)
    assert max(in_flight) == 2  # two problems at once on one actor
    points = metrics(run_id, runs_dir=tmp_path)
    retried = points[points["name"] == "ray_problems_retried"]["value"].tolist()
    lost = points[points["name"] == "ray_actors_lost"]["value"].tolist()
    assert lost[-1] == 2 and retried[-1] >= 3  # two actors lost, each with the problems it had in flight
    assert len(dispatched) == 3 + retried[-1]  # every lost problem searched again, nothing else twice
    expected = local_trees(tmp_path, problem_set, sandbox)
    for pid, tree in expected.items():
        assert load_tree(run_id, pid, tmp_path).to_dict() == tree
    run = get_run(run_id, tmp_path)
    assert run.status == "finished" and run.problems_done == 3


def test_a_problem_that_keeps_killing_actors_fails_the_run_resumably(tmp_path, monkeypatch, problem_set, sandbox):
    fake = FakeRay(scripted_worker(problem_set, sandbox), lives={i: 2 for i in range(20)})
    with pytest.raises(RuntimeError, match="lost with its actor 3 times"):
        run_with(fake, tmp_path, monkeypatch, problem_set)
    run = get_run(get_run("latest", tmp_path).id, tmp_path)
    assert run.status == "failed" and "lost with its actor" in run.error
    assert set(problems(run.id, tmp_path)["status"]) == {"pending"}  # nothing half-written: resume redoes them


def test_an_actor_that_cannot_start_fails_the_run_with_its_error(tmp_path, monkeypatch, problem_set, sandbox):
    fake = FakeRay(scripted_worker(problem_set, sandbox, fail_init=True))
    with pytest.raises(RuntimeError, match="failed to start"):
        run_with(fake, tmp_path, monkeypatch, problem_set)
    assert get_run("latest", tmp_path).status == "failed"


def test_without_ray_the_error_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)
    from o1coder.scale.cluster import require_ray

    with pytest.raises(ImportError, match=r"pip install 'o1coder\[scale\]'"):
        require_ray()
    assert scale_actors.SearchWorker  # the worker module itself needs no Ray
