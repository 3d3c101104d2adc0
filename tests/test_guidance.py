"""A PRM and a TCG given once reach the search: `o1coder search --prm DIR --tcg DIR`, checked before the run,
recorded with their content hashes, loaded where the search runs.

A tiny TCG (two SFT steps) and a tiny point-wise PRM (two steps on a scripted search's trees) are trained here.
The policy is a scripted one behind the OpenAI-compatible testing server (it replays the bundled reasoning traces
with mistakes), so the search has live steps for the PRM to score; the TCG's tests are whatever the tiny TCG writes.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from o1coder.bundled import load_bundled
from o1coder.cli import main
from o1coder.execution import Limits, Sandbox
from o1coder.guidance import folder_hash, load_guidance, set_guidance, with_guidance
from o1coder.models import ScriptedGenerator
from o1coder.models.testing_server import OpenAICompatibleServer
from o1coder.reasoning import extract_program
from o1coder.runs import list_runs, load_tree, metrics
from o1coder.runs.driver import search_problems
from o1coder.runs.store import RunStore
from o1coder.search.scripted import trace_policy
from o1coder.viz.metrics import generated_agreement

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")
PROBLEMS = load_bundled("train")[:2]
PUCT_PRM = ["--set", "search.selection=puct", "--set", "search.prior=prm"]
GENERATED = ["--set", "search.reward_tests=generated"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(prm folder, tcg folder), each trained for two steps on the tiny model."""
    root = tmp_path_factory.mktemp("guides")
    tcg = root / "tcg"
    assert main(["tcg", "sft", "--out", str(tcg), "--limit", "2", "--set", "tcg.sft.max_steps=2",
                 "--set", "tcg.sampling.max_new_tokens=24"]) == 0
    runs = root / "runs"
    recipe = {"name": "scripted", "seed": 0, "search": {"rollouts": 6, "k": 3, "max_depth": 5, "few_shot": False}}
    with Sandbox(limits=Limits(cpu_seconds=2, wall_seconds=5), workers=2) as sandbox, RunStore(runs) as store:
        run_id = store.create_run(recipe, PROBLEMS, problem_spec="bundled:train", problem_limit=2)
        search_problems(store, run_id, PROBLEMS, generator=ScriptedGenerator(trace_policy(PROBLEMS)),
                        sandbox=sandbox, recipe=recipe)
    prm = root / "prm"
    assert main(["prm", "train", "--run", run_id, "--runs-dir", str(runs), "--out", str(prm),
                 "--set", "prm.trainer.max_steps=2", "--set", "prm.eval_fraction=0"]) == 0
    return prm, tcg


@pytest.fixture(scope="module")
def server():
    with OpenAICompatibleServer(ScriptedGenerator(trace_policy(PROBLEMS)), model_name="scripted") as srv:
        yield srv


@pytest.fixture
def recipe_file(tmp_path, server):
    recipe = {"name": "scripted", "seed": 0,
              "model": {"backend": "openai", "name_or_path": "scripted", "base_url": server.url},
              "sampling": {"max_new_tokens": 512}, "execution": {"workers": 2, "cpu_seconds": 2},
              "search": {"rollouts": 6, "k": 3, "max_depth": 5, "few_shot": False}}
    path = tmp_path / "scripted.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def search_cli(recipe_file, runs_dir, *extra) -> int:
    return main(["search", "--recipe", str(recipe_file), "--problems", "bundled:train", "--limit", "2",
                 "--runs-dir", str(runs_dir), *extra])


def test_search_with_prm_and_tcg_records_and_uses_both(trained, recipe_file, tmp_path):
    prm, tcg = trained
    runs = tmp_path / "runs"
    assert search_cli(recipe_file, runs, "--prm", str(prm), "--tcg", str(tcg), *PUCT_PRM, *GENERATED) == 0
    [run] = list_runs(runs)
    assert run.status == "finished"
    assert run.config["guidance"] == {"prm": str(prm), "prm_sha256": folder_hash(prm),
                                      "tcg": str(tcg), "tcg_sha256": folder_hash(tcg)}
    for problem in PROBLEMS:
        tree = load_tree(run.id, problem.id, runs)
        split = tree.config["reward_tests"]
        assert split["mode"] == "generated" and split["n_hidden"] == len(problem.tests)
        scored = [n for n in tree.nodes[1:] if not n.dead]
        assert scored and all(n.prm is not None and 0.0 <= n.prm <= 1.0 for n in scored)  # the PRM's scores
        root_children = [tree.nodes[i] for i in tree.root.children]
        assert sum(c.prior for c in root_children) == pytest.approx(1.0)  # PUCT priors from the PRM
        live = [c for c in root_children if not c.dead]
        total = sum(c.prm for c in live)
        for child in live:
            assert child.prior == pytest.approx(child.prm / total)
        for node in tree.terminals():  # code ran on the TCG's tests, never on the hidden ones
            assert node.exec["n_tests"] == split["n_reward"]
    # how far the generated tests agree with the hidden ones, per problem, pooled on the app's Metrics page
    points = metrics(run.id, runs_dir=runs)
    per_problem = points[points.name == "generated/programs"]
    trees = [load_tree(run.id, p.id, runs) for p in PROBLEMS]
    # one point per problem, in the order the problems finished (several are in flight at once)
    assert sorted(per_problem.value) == sorted(float(len([n for n in t.terminals() if n.exec])) for t in trees)
    pooled = generated_agreement(points)
    assert pooled["programs"] == per_problem.value.sum() > 0
    assert 0.0 <= pooled["false_pass"] <= 1.0 and 0.0 <= pooled["false_fail"] <= 1.0
    with Sandbox(workers=2) as sandbox:  # recount by hand: verdict on the TCG's tests vs on the hidden tests
        expected = 0
        for problem, tree in zip(PROBLEMS, trees):
            for node in (n for n in tree.terminals() if n.exec):
                hidden = sandbox.run(extract_program(node.text, problem.entry_point).code or "", problem.tests,
                                     problem.setup)
                expected += bool(node.exec["all_passed"]) and not hidden.all_passed
    assert pooled["false_pass"] == pytest.approx(expected / pooled["programs"])


def test_the_same_tcg_writes_the_same_reward_tests(trained):
    _, tcg = trained
    recipe = with_guidance({"search": {"reward_tests": "generated"}}, tcg=tcg)
    with Sandbox(workers=1) as sandbox:
        guidance = load_guidance(recipe, sandbox)
        first = guidance.reward_tests_fn(PROBLEMS[0])
        assert guidance.reward_tests_fn(PROBLEMS[0]) == first  # generated once per problem, cached
    assert guidance.prior_fn is None and guidance.record["tcg_sha256"] == folder_hash(tcg)


@pytest.mark.parametrize("extra, message", [
    (GENERATED, "search.reward_tests=generated needs a test case generator: give --tcg DIR"),
    (PUCT_PRM, "search.selection=puct with search.prior=prm needs a process reward model: give --prm DIR"),
    (["--prm", "{prm}"], "--prm .* is given but this search would not use it"),
    (["--tcg", "{tcg}"], "--tcg .* is given but this search would not use it"),
    (["--prm", "{tcg}", *PUCT_PRM], "is not a trained PRM folder"),
    (["--tcg", "{missing}", *GENERATED], "no such folder"),
])
def test_a_missing_or_wrong_guide_is_an_error_before_the_run(trained, recipe_file, tmp_path, capsys, extra,
                                                             message):
    prm, tcg = trained
    args = [a.format(prm=prm, tcg=tcg, missing=tmp_path / "nope") for a in extra]
    runs = tmp_path / "runs"
    assert search_cli(recipe_file, runs, *args) == 2
    assert re.search(message, capsys.readouterr().err)
    assert not (runs / "runs.sqlite").exists() or list_runs(runs) == []  # nothing was recorded


def test_a_changed_prm_folder_is_refused_against_its_recorded_hash(trained, recipe_file, tmp_path, capsys):
    prm, _ = trained
    copy = tmp_path / "prm"
    copy.mkdir()
    for path in prm.iterdir():
        if path.is_file():
            (copy / path.name).write_bytes(path.read_bytes())
    recipe = set_guidance(yaml.safe_load(recipe_file.read_text()), prm=copy)
    recipe["search"].update(selection="puct", prior="prm")
    recorded = with_guidance(recipe)
    assert recorded["guidance"]["prm_sha256"] == folder_hash(prm)  # content, not path or timestamps
    info = json.loads((copy / "prm.json").read_text())
    (copy / "prm.json").write_text(json.dumps({**info, "note": "edited"}))
    with pytest.raises(ValueError, match="its files changed since the run recorded it"):
        with_guidance(recorded)


def test_rl_outcome_on_generated_tests_needs_the_tcg_and_takes_it(trained, tmp_path, capsys):
    _, tcg = trained
    quick = ["--set", "training.dpo={max_steps: 1, per_device_train_batch_size: 1, disable_tqdm: true}",
             "--set", "training.samples_per_problem=1", "--set", "training.sample_max_tokens=8",
             "--set", "training.pair_sources=[samples, references]"]
    base = ["rl", "--method", "dpo", "--problems", "bundled:train", "--limit", "1", *quick]
    assert main([*base, *GENERATED, "--out", str(tmp_path / "a")]) == 2
    assert "search.reward_tests=generated needs a test case generator for the RL outcome: give --tcg DIR" in \
        capsys.readouterr().err
    assert main([*base, "--tcg", str(tcg), "--out", str(tmp_path / "b")]) == 2  # given but unused
    assert "--set search.reward_tests=generated, or drop --tcg" in capsys.readouterr().err
    out = tmp_path / "c"
    code = main([*base, *GENERATED, "--tcg", str(tcg), "--set", "training.outcome=tau", "--out", str(out)])
    err = capsys.readouterr().err
    # the tiny TCG's tests may not separate the reference from the sample (then no pair): either the round trains,
    # or it stops at the pairs, past every TCG check
    assert code == 0 and (out / "training.json").is_file() or (code == 2 and "no preference pair" in err)


def test_a_ray_search_worker_loads_the_runs_prm_and_tcg(trained, server):
    """What each `--ray` actor does with the run's recipe (a plain class; Ray only wraps it)."""
    from o1coder.scale.actors import ProblemDone, SearchWorker

    prm, tcg = trained
    recipe = {"name": "scripted", "seed": 0,
              "model": {"backend": "openai", "name_or_path": "scripted", "base_url": server.url},
              "sampling": {"max_new_tokens": 512}, "execution": {"workers": 1, "cpu_seconds": 2},
              "search": {"rollouts": 3, "k": 3, "max_depth": 5, "few_shot": False, "selection": "puct",
                         "prior": "prm", "reward_tests": "generated"}}
    worker = SearchWorker(with_guidance(recipe, prm=prm, tcg=tcg), threads=1)
    try:
        assert worker.guidance.prior_fn is not None and worker.guidance.reward_tests_fn is not None
        [done] = [item for item in worker.search(PROBLEMS[0]) if isinstance(item, ProblemDone)]
        assert done.tree.config["reward_tests"]["mode"] == "generated"
        live = [n for n in done.tree.nodes[1:] if not n.dead]
        assert live and all(n.prm is not None for n in live)
    finally:
        worker.close()


def test_eval_searches_with_the_prm_and_tcg(trained, recipe_file, tmp_path, capsys):
    prm, tcg = trained
    runs = tmp_path / "runs"
    args = ["eval", "--recipe", str(recipe_file), "--benchmark", "bundled:train", "--limit", "1", "--samples", "1",
            "--k", "1", "--modes", "pseudocode", "--aspr-k", "1", "--runs-dir", str(runs), "--json"]
    assert main([*args, "--tcg", str(tcg)]) == 2  # given, but the recipe rewards with public tests
    assert "--tcg" in capsys.readouterr().err and list_runs(runs) == []
    assert main([*args, "--prm", str(prm), "--tcg", str(tcg), *PUCT_PRM, *GENERATED]) == 0
    [run] = list_runs(runs)
    assert run.kind == "eval" and run.status == "finished"
    assert run.config["guidance"]["prm_sha256"] == folder_hash(prm)
    assert run.config["guidance"]["tcg_sha256"] == folder_hash(tcg)
