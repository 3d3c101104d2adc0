"""Shared test set-up: offline, one torch thread, benchmark data from ../shared/data when present."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
# Ray starts its workers at niceness 15, so that its own daemons stay responsive on a loaded machine: beside the
# suite's other workers (niceness 0) an actor then gets a few percent of a core, and a Ray test that takes 37 s alone
# took 370 s (one passed the 600 s limit). The tests' clusters start their workers at the suite's own priority.
os.environ.setdefault("RAY_worker_niceness", "0")

import importlib.util  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from o1coder.paths import PROJECT_ROOT  # noqa: E402

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
CHECKOUT_RUNS = PROJECT_ROOT / "data" / "runs"  # the user's runs: the tests never write there
_runs_existed = CHECKOUT_RUNS.exists()


def pytest_configure(config):
    try:  # keep torch to one thread when it is installed: the test machines are shared
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    if _starts_shared_ray(config):
        _start_shared_ray(config)


# A new Ray node must register within 30 s, a deadline Ray hard-codes. Started by a test worker while the other
# workers and the world-policy build keep both cores busy, three tries in a row missed it (a cold start takes about
# 16 s on an idle 2-core machine). So under pytest-xdist the controller starts one local cluster before it spawns the
# workers, on a quiet machine, and the tests that need Ray join it (fixture `ray_runtime`) instead of starting their
# own. A single-process run starts a cluster per module, as a user's session would.
SHARED_RAY = "O1CODER_TEST_RAY_ADDRESS"


def _starts_shared_ray(config) -> bool:
    """Under pytest-xdist's controller, when Ray is installed and the run includes a file of the "ray" group."""
    if not getattr(config.option, "numprocesses", None) or os.environ.get("PYTEST_XDIST_WORKER") \
            or SHARED_RAY in os.environ or importlib.util.find_spec("ray") is None:
        return False
    ray_files = {PROJECT_ROOT / prefix.split("::")[0] for prefix, group in WORKER_GROUPS.items() if group == "ray"}
    asked = [Path(config.invocation_params.dir, arg.split("::")[0]).resolve() for arg in config.args]
    return any(path == file or path in file.parents for path in asked for file in ray_files)


def _start_shared_ray(config) -> None:
    import ray

    from o1coder.scale.cluster import start_local

    try:
        start_local(ray, num_cpus=2, include_dashboard=False, object_store_memory=100 * 1024 * 1024,
                    log_to_driver=False)
    except Exception as error:  # the Ray tests then start their own clusters, and say so if that fails too
        config.get_terminal_writer().line(f"the session's shared Ray cluster did not start ({error}); the Ray "
                                          "tests start their own", yellow=True)
        return
    os.environ[SHARED_RAY] = ray.get_runtime_context().gcs_address  # the workers inherit it
    stopper = _SharedRayStopper(ray)
    config.pluginmanager.register(stopper, "o1coder-shared-ray")
    config.add_cleanup(stopper.stop)


class _SharedRayStopper:
    """Stops the shared cluster once the last test of the "ray" group has torn down (an idle cluster still takes
    about a tenth of a core, and the group is handed out first), or at the end of the session."""

    def __init__(self, ray) -> None:
        self.ray, self.pending = ray, None

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids) -> None:
        if self.pending is None:  # every worker collects the same tests
            self.pending = {nodeid for nodeid in ids if worker_group(nodeid) == "ray"}
            if not self.pending:
                self.stop()

    def pytest_runtest_logreport(self, report) -> None:
        if self.pending and report.when == "teardown":
            self.pending.discard(report.nodeid)
            if not self.pending:
                self.stop()

    def stop(self) -> None:
        if self.ray is not None:
            self.ray.shutdown()
            self.ray = None


@pytest.fixture(scope="module")
def ray_runtime():
    """Ray for the module's tests, disconnected after it: the session's shared cluster when the controller started
    one (``SHARED_RAY``), else a local cluster of 2 CPUs started here (and stopped after the module)."""
    ray = pytest.importorskip("ray", reason="needs Ray: pip install 'o1coder[scale]'")
    from o1coder.scale.cluster import connect

    if os.environ.get(SHARED_RAY):
        connect(os.environ[SHARED_RAY], log_to_driver=False)
    else:
        connect("local", num_cpus=2, include_dashboard=False, object_store_memory=100 * 1024 * 1024,
                log_to_driver=False)
    yield ray
    ray.shutdown()


# `make test` runs the suite in several pytest-xdist workers. The tests of one group run in one worker, one after the
# other: "ray" for the tests that use Ray (they take turns on one cluster of 2 CPUs: see `ray_runtime`; a test that
# takes `ray_runtime` outside the group fails at collection),
# "reduced-loop" for the readers of the session's reduced loop (one worker records it, not each), "mbppplus" for
# the two that load the whole MBPP+ file (the second reads the expected outputs the first cached). Keys are
# node-id prefixes. (xdist's own `xdist_group` marker does not group under pytest 9, whose node ids it cannot
# suffix: hence a scheduler of our own.)
WORKER_GROUPS = {
    "tests/test_scale_ray.py::": "ray",
    "tests/test_loop_cluster.py::test_the_loop_searches_on_ray": "ray",
    "tests/test_evaluation_resume.py::test_eval_on_ray_actors": "ray",
    "tests/test_app_loop.py::": "reduced-loop",
    "tests/test_loop_metrics.py::": "reduced-loop",
    "tests/test_loop.py::test_two_rounds_end_to_end": "reduced-loop",
    "tests/test_loaders.py::test_mbppplus_full_file": "mbppplus",
    "tests/test_verify_benchmarks.py::": "mbppplus",
}


def worker_group(nodeid: str) -> str | None:
    return next((group for prefix, group in WORKER_GROUPS.items() if nodeid.startswith(prefix)), None)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """For ``--dist load`` (xdist's default): scopes of one test each, except the groups of ``WORKER_GROUPS`` (larger
    scopes are handed out first). Other ``--dist`` modes keep xdist's own scheduler."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return worker_group(nodeid) or nodeid

    return GroupScheduling(config, log)


def pytest_collection_modifyitems(config, items):
    try:
        import torch

        has_gpu = torch.cuda.is_available()
    except ImportError:
        has_gpu = False
    if not has_gpu:
        skip = pytest.mark.skip(reason="needs a CUDA GPU")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)
    outside = [item.nodeid for item in items if "ray_runtime" in item.fixturenames and worker_group(item.nodeid) != "ray"]
    if outside:  # it would start a second cluster beside the shared one, or join it while another test uses it
        raise pytest.UsageError(f"tests that take ray_runtime must be in the \"ray\" group of WORKER_GROUPS "
                                f"(tests/conftest.py): {outside}")


# The tests' tiny-world policy: the default spec (o1coder.training.world_policy.WORLD_POLICY) with its SFT steps pinned
# here, as `o1coder warm-start --steps N` builds it, so that a longer default would not lengthen the suite. N was
# chosen by measurement (README, "Notebooks"): few steps whose greedy Pass@1 is non-zero with a margin on held-out
# and training problems; 400 is also the default now (held-out greedy about 40%, inside issue 13's window).
SMALL_WORLD_POLICY_STEPS = 400


WORLD_POLICY_USERS = {"test_notebooks.py", "test_world_policy.py"}  # test files that take small_world_policy
# The background build holds a lock in the models folder while it builds: under pytest-xdist each worker starts one,
# the second waits (asleep) for the first and then finds the finished build.
_BUILD = ("import fcntl, sys; sys.path.insert(0, sys.argv[1]); from conftest import small_world_spec; "
          "from o1coder.training.world_policy import build_world_policy, world_policy_dir; "
          "target = world_policy_dir(); target.parent.mkdir(parents=True, exist_ok=True); "
          "lock = open(target.parent / '.world-policy-build.lock', 'w'); fcntl.flock(lock, fcntl.LOCK_EX); "
          "build_world_policy(target, small_world_spec())")


@pytest.fixture(scope="session", autouse=True)
def _world_policy_in_background(request, _isolated_session):
    """The session's small world policy starts building at once, in a process of its own, when a collected test
    needs it: it trains on one core (one torch thread) for about three minutes while the tests collected before
    the notebooks run on the other, instead of the first notebook waiting for it. Yields the process, or None."""
    needed = any(item.path.name in WORLD_POLICY_USERS for item in request.session.items)
    if not needed or importlib.util.find_spec("trl") is None:
        yield None
        return
    log = _isolated_session / "world-policy-build.log"
    with log.open("w") as out:  # the environment holds the session's temporary models folder (_isolated_session)
        process = subprocess.Popen([sys.executable, "-c", _BUILD, str(Path(__file__).parent)], stdout=out,
                                   stderr=subprocess.STDOUT, cwd=PROJECT_ROOT, env=dict(os.environ))
    process.log = log
    yield process
    if process.poll() is None:  # the session ended before a test needed it
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def small_world_policy(_isolated_session, _world_policy_in_background) -> Path:
    """The reduced tiny-world build, once per session, in the session's models folder (where `tiny-world` resolves
    while a test patches ``WORLD_POLICY`` to :func:`small_world_spec`): the notebook tests hand it to the notebooks
    (``O1CODER_NOTEBOOK_POLICY``) and tests/test_world_policy.py checks the build itself. Built by the background
    process when there is one (this waits for it), else here."""
    pytest.importorskip("trl", reason="the world policy trains with TRL: install the train extra")
    from o1coder.training.world_policy import build_world_policy, world_policy_dir

    process = _world_policy_in_background
    if process is not None and process.wait() != 0:
        pytest.fail(f"the background build of the tests' world policy failed (exit {process.returncode}); its log:\n"
                    + process.log.read_text()[-4000:])
    return build_world_policy(world_policy_dir(), small_world_spec())


def small_world_spec():
    import dataclasses

    from o1coder.training.world_policy import WORLD_POLICY

    return dataclasses.replace(WORLD_POLICY, max_steps=SMALL_WORLD_POLICY_STEPS)


def scripted_loop_policy(policy):
    """The loop tests' ``generator_factory``: whatever the policy, the bundled traces replayed with mistakes (seeded),
    so trees hold passing and failing code; the training stages still train the tiny model."""
    from o1coder.bundled import load_bundled
    from o1coder.models import ScriptedGenerator
    from o1coder.search.scripted import trace_policy

    return ScriptedGenerator(trace_policy(load_bundled(), seed=7))


# A reduced self-play loop (2 rounds of 3 training and 3 held-out problems, warm start, ASPR, MCTS against best-of-N)
# recorded once per session: tests/test_loop.py checks its stages and datasets, tests/test_loop_metrics.py its
# measurements and tests/test_app_loop.py the app pages that draw them.
REDUCED_LOOP_OVERRIDES = [
    "loop.rounds=2", "loop.train_limit=3", "loop.eval_limit=3", "loop.warm_start=bundled:train",
    "loop.aspr_samples=2", "loop.compare_best_of_n=true", "search.rollouts=3",
    "training.sft={max_steps: 1, disable_tqdm: true}", "training.dpo={max_steps: 1, disable_tqdm: true}",
    "training.samples_per_problem=1", "prm.epochs=1", "prm.trainer={max_steps: 1}",
]


@pytest.fixture(scope="session")
def reduced_loop_run(tmp_path_factory) -> tuple[str, Path, list[str]]:
    """``(loop run id, runs folder, the stages in the order they started)`` of the session's reduced loop
    (``REDUCED_LOOP_OVERRIDES``), run once: it takes about half a minute, and tests/test_loop.py (two rounds end to
    end), tests/test_loop_metrics.py and tests/test_app_loop.py read the same run without changing it."""
    from o1coder.config import apply_overrides, load_recipe
    from o1coder.loop import run_loop

    runs = tmp_path_factory.mktemp("reduced-loop")
    recipe = apply_overrides(load_recipe("tiny-cpu"), REDUCED_LOOP_OVERRIDES)
    started: list[str] = []
    run_id = run_loop(recipe, runs_dir=runs, generator_factory=scripted_loop_policy,
                      progress=lambda stage, message: started.append(stage) if message == "start" else None)
    return run_id, runs, started


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The benchmark files of ../shared/data (never copied into the repository); skip when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"benchmark data folder {SHARED_DATA} is absent (see README: Benchmark data)")
    return SHARED_DATA


@pytest.fixture(scope="session", autouse=True)
def _isolated_session(tmp_path_factory):
    """The whole session (module- and session-scoped fixtures, subprocesses, notebook kernels) writes runs,
    caches and built models into the session's temporary folder, whatever the shell exports: a user's
    O1CODER_RUNS_DIR or the checkout's data/runs never receive a test run."""
    base = tmp_path_factory.getbasetemp()
    env = isolated_env(base)
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    yield base
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(autouse=True)
def _isolated_dirs(_isolated_session, monkeypatch):
    """Runs, caches and built models go to temporary folders unless a test says otherwise (a test's own
    monkeypatch.setenv is undone after it, back to the session's folders)."""
    for name, value in isolated_env(_isolated_session).items():
        monkeypatch.setenv(name, value)


def isolated_env(base: Path) -> dict[str, str]:
    """The session's runs, cache and models folders under its temporary folder ``base``, as ``{variable: path}``."""
    return {"O1CODER_RUNS_DIR": str(base / "runs"), "O1CODER_CACHE_DIR": str(base / "cache"),
            "O1CODER_MODELS_DIR": str(shared_models_dir(base))}


def shared_models_dir(base: Path) -> Path:
    """The session's built models: ``<base>/models``, or under pytest-xdist the folder beside the workers' own
    temporary folders, so that the workers of one run build each deterministic model once between them (builds
    are renamed into place whole, and the world policy's build holds a lock: see ``_BUILD``)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return base.parent / "models"
    return base / "models"


def pytest_sessionfinish(session, exitstatus):
    """Fail the session when it created the checkout's data/runs: a test wrote a run outside its temporary
    folders (the app would then list it to the user)."""
    if not _runs_existed and CHECKOUT_RUNS.exists():
        found = sorted(p.name for p in CHECKOUT_RUNS.iterdir())[:10]
        session.config.get_terminal_writer().line(
            f"ERROR: the tests created {CHECKOUT_RUNS} ({', '.join(found) or 'empty'}); every test must write runs "
            "under its temporary folders (O1CODER_RUNS_DIR, tmp_path)", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
