"""Every notebook in notebooks/ runs top to bottom in a fresh kernel, and is committed without outputs.

Each notebook is executed headless with nbclient, with its folder as the working directory, in a kernel that runs
this interpreter (the project's venv under `make test`), with runs, caches and models in temporary folders and
the hub offline. A cell error fails the test. The last code cell of every notebook prints one JSON line, a summary
of what the notebook computed, and ``EXPECTED`` below checks it: a notebook that runs but computes nonsense fails.
A new notebook needs an entry in ``EXPECTED``.

The notebooks' sections on the synthetic world use a warm-started world policy. A user gets ``tiny-world`` (a
5-minute build, once); here the session builds a smaller one once (``small_world_policy`` in conftest.py: fewer SFT
steps, still solving about a third of the held-out problems greedily) and every notebook reads its folder from
``O1CODER_NOTEBOOK_POLICY`` in its parameter cell. The world checks assert pass counts with margins below what
this build measured (fixed seeds), and a direction only where it is robust.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import shared_models_dir

nbformat = pytest.importorskip("nbformat", reason="install the notebooks extra: pip install -e '.[notebooks]'")
nbclient = pytest.importorskip("nbclient", reason="install the notebooks extra: pip install -e '.[notebooks]'")
pytest.importorskip("ipykernel", reason="install the notebooks extra: pip install -e '.[notebooks]'")

from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402

from o1coder.paths import PROJECT_ROOT  # noqa: E402

NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds per cell
KERNEL_NAME = "o1coder-test"
STRIP_COMMAND = "python scripts/strip_notebooks.py"
# Test-size knobs the notebooks read from the environment (their parameter cells), each smaller than a user's
# default where the checks below hold as well: notebook 05 trains each of its two PRMs for 10 steps instead of 30
# (the training cell was most of that notebook's time; its checks are on the labels, finite losses and the
# evaluation's shape, none on how far 30 steps move the loss), and notebook 03's world section searches 6 held-out
# problems instead of 8 (its serial search() of them was most of that notebook's time; the first 4 alone solve
# none, the first 6 solve 2).
NOTEBOOK_PRM_STEPS = 10
NOTEBOOK_WORLD_PROBLEMS = 6  # notebook 03's world section searches the first 6 of its 8 held-out problems


def _strip_script():
    spec = importlib.util.spec_from_file_location("strip_notebooks", PROJECT_ROOT / "scripts" / "strip_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------------------------ what each notebook computes


def _check_problems_and_sandbox(s: dict) -> None:
    assert s["bundled"] >= 40
    assert s["statuses"] == {"correct": "passed", "wrong answer": "failed", "syntax error": "compile_error",
                             "exception": "runtime_error", "infinite loop": "timeout", "memory bomb": "memory"}
    assert len(s["hostile_passes"]) >= 8 and not any(s["hostile_passes"].values()), s["hostile_passes"]
    throughput = s["throughput"]
    assert throughput["programs"] >= 40 and throughput["passed"] == throughput["programs"]
    assert throughput["per_second"] > 0


def _check_pseudocode_reasoning(s: dict) -> None:
    assert s["recipe"] == "tiny-cpu"  # the committed notebook runs offline
    assert s["round_trip"] is True and s["trace_status"] == "passed"
    assert s["rewards"] == pytest.approx([1.0, 0.2 + 0.8 * 0.5])  # a correct trace; "return None" passes 2 of 4
    assert s["traces_passing"] == s["traces"] >= 40
    assert s["messy_ok"] == {"no end marker": True, "action in words": True, "bare word header": True,
                             "unfenced code": True, "chat around it": True, "two steps at once": True,
                             "no pseudocode": False, "junk": False}
    assert s["samples"] == 12 and 0 <= s["samples_passing"] <= s["programs_found"] <= s["samples"]


def _check_mcts_search(s: dict) -> None:
    assert (s["recipe"], s["policy"]) == ("tiny-cpu", "traces")  # the committed notebook runs offline, scripted
    # the hand-made first rollout (the prose walks through it): root, a structure step, a wrong program (0.2)
    assert s["first_rollout"] == [0, 1, 4] and s["first_reward"] == pytest.approx(0.2)
    assert s["first_rollout_same"] is True  # search() repeats it exactly: seeds derive from the node
    assert s["root_visits"] == s["root_children_visits"] == 16
    # no rollout revisits a known outcome, so the 16 rollouts grow the tree wider than they used to (20 nodes)
    assert s["nodes"] == 37 and s["max_depth"] == 5 and s["passing"] == 9 and s["solved"] is True
    assert s["uct_rows"] == 2 and s["root_dead_children"] == 1 and s["uct_choice"] == 2  # the dead child: no row
    assert s["inspector"] == {"selected": 4, "shows_q": True}  # select() on the wrong program
    assert s["run"] == {"status": "finished", "done": 6, "passed": 6, "stored_equals_search": True, "trees": 6}
    assert s["tiny"]["nodes"] >= 2 and s["tiny"]["dead"] == s["tiny"]["nodes"] - 1  # junk: every child dead
    world = s["world"]  # the world policy's steps parse and its programs pass (measured: 2 of 6 solved, 9 passing;
    # all 8: 3 solved, 19 passing)
    assert world["problems"] == NOTEBOOK_WORLD_PROBLEMS and world["solved"] >= 1 and world["passing"] >= 4
    assert world["terminals"] > world["passing"] and world["dead"] < world["nodes"] / 4


def _check_test_case_generator(s: dict) -> None:
    assert s["recipe"] == "tiny-cpu"
    assert s["sft_rows"] == s["dpo_pairs"] == s["report"]["rows"] == s["report"]["problems"] >= 30
    assert s["pair_inputs_equal"] is True and s["pair_outputs_wrong"] == 3  # same inputs, every output moved
    assert s["corrected_is_chosen"] is True  # corrected pairs: the reference's outputs put the true cases back
    assert s["loss_tokens"] > 10 and s["steps"] == {"sft": 4, "dpo": 4} and s["losses_finite"] is True
    assert s["generated"]["answers"] == 13
    assert s["hostile"] == {"well formed": 1, "chatty": 1, "truncated": 0, "no output": 0, "code injection": 0,
                            "deep nesting": 0, "huge field": 0, "swapped tags": 0, "duplicates": 1}
    assert s["mutants"] == 20
    tiny, true, shuffled = (s["eval"][k] for k in ("tiny model", "true cases", "shuffled outputs"))
    if s["generated"]["tests"] == 0:
        assert tiny["evaluated"] == 0 and tiny["validity"] is None
    assert true["evaluated"] == shuffled["evaluated"] == 13 and true["validity"] == 1.0
    assert true["mutants"] == shuffled["mutants"] > 100 and true["killed_by_dataset"] <= true["mutants"]
    assert 0.8 <= true["kill_rate"] <= 1.0
    assert shuffled["validity"] < 0.5 and shuffled["kill_rate"] < true["kill_rate"]


def _check_process_reward_model(s: dict) -> None:
    assert (s["recipe"], s["policy"]) == ("tiny-cpu", "traces")
    assert s["trees"] == 8 and s["rows"] >= 20 and s["pairs"] >= 10 and s["hard_labels"] == [0.0, 1.0]
    # one label per step, on the step's last token, equal to the step's value; -100 everywhere else
    assert s["labelled_tokens"] == s["row_steps"] >= 3
    assert s["label_values"] == pytest.approx(s["row_values"])
    assert s["steps"] == {"pointwise": NOTEBOOK_PRM_STEPS, "pairwise": NOTEBOOK_PRM_STEPS}
    assert all(0 < loss < 5 for losses in s["losses"].values() for loss in losses)
    assert len(s["heldout"]) == 2
    for mode, name in (("pointwise", "point-wise"), ("pairwise", "pair-wise")):
        e = s["eval"][mode]
        assert e["steps"] > 5 and e["pairs"] > 0 and e["best_of_n"] == 2
        assert 0.0 <= e["auc"] <= 1.0 and 0.0 <= e["pair_accuracy"] <= 1.0 and 0.0 <= e["ece"] <= 1.0
        assert s["roc_auc"][name] == pytest.approx(e["auc"]) and s["roc_steps"][name] == e["steps"]
    priors = s["puct"]["priors"]
    assert s["puct"]["nodes"] > len(priors) >= 2 and sum(priors) == pytest.approx(1.0)
    assert s["puct"]["prm_scored"] >= len(priors) - 1
    world = s["world"]  # trees of the world policy: real passing and failing programs (measured: 46 of 172 pass)
    assert world["trees"] == 12 and 10 <= world["passing"] < world["terminals"]
    assert world["prm_steps"] >= 5 and all(0 < loss < 5 for loss in world["losses"]) and world["heldout"] == 4
    assert world["eval_steps"] == world["scored"] > 20 and 0.1 < world["positive_rate"] < 0.9
    assert 0.0 <= world["auc"] <= 1.0


def _check_evaluation(s: dict) -> None:
    assert (s["recipe"], s["benchmark"]) == ("tiny-cpu", "bundled:eval")
    unbiased, naive = s["pass_at_k"]["unbiased"], s["pass_at_k"]["naive"]
    assert unbiased[0] == naive[0] == 0.0 and unbiased[-1] == naive[-1] == 1.0
    assert unbiased[1] == pytest.approx(0.5)  # c=1 of n=10: a 5-subset holds it half the time
    assert all(u >= v for u, v in zip(unbiased, naive))
    simulated, truth = s["simulation"], s["truth"]
    assert abs(simulated["unbiased (n=10)"] - truth) < 0.02 and abs(simulated["exactly k=5 samples"] - truth) < 0.02
    assert simulated["naive plug-in (n=10)"] < truth - 0.03
    assert s["aspr"] == {"value": 0.75, "included": 1, "excluded": 1} and s["aspr_rates"] == [0.75, None]
    for summary in s["tiny"].values():  # the untrained tiny model: nothing passes, no correct path anywhere
        assert set(summary["pass@k"].values()) == {0.0}
        assert (summary["aspr"], summary["aspr_excluded"]) == (None, 3)
    vanilla, pseudo = s["scripted"]["vanilla"], s["scripted"]["pseudocode"]
    assert vanilla["pass@k"] == pytest.approx({"1": 0.5, "4": 13 / 14, "8": 1.0})
    assert pseudo["pass@k"] == pytest.approx({"1": 0.25, "4": 31 / 42, "8": 1.0})
    assert (vanilla["aspr"], pseudo["aspr"]) == pytest.approx((0.625, 1 / 3))  # the prose explains the order
    assert vanilla["aspr_included"] == pseudo["aspr_included"] == 3
    for summary in s["world"].values():  # the world policy on 8 held-out problems (measured: pass@1 0.22 both modes)
        assert summary["problems"] == 8 and summary["samples"] == 4
        assert 0.0 < summary["pass@k"]["1"] <= summary["pass@k"]["4"] < 1.0
        assert summary["aspr_included"] >= 1 and 0.0 < summary["aspr"] <= 1.0
    assert s["table_rows"][:3] == ["tiny (untrained)", "trace policy (scripted)", "tiny-world"]
    assert len(s["table_rows"]) == 7
    budget = s["budget"]
    assert s["eval_status"] == budget["status"] == "finished"
    assert budget["algorithms"] == ["mcts", "best_of_n", "beam"] and budget["rows"] % 3 == 0
    assert budget["points"] >= 8 and budget["matched"] >= 3


def _check_quickstart(s: dict) -> None:
    assert s["recipe"] == "tiny-cpu" and s["bundled"] >= 40 and s["splits"]["train"] >= 30
    assert s["sandbox"] == {"reference": "passed", "wrong": "failed"}
    assert s["tiny_sample_tokens"] > 0
    assert s["tiny_run"]["status"] == "finished" and s["tiny_run"]["nodes"] >= 2
    assert s["tiny_run"]["dead"] == s["tiny_run"]["nodes"] - 1  # the untrained model's steps never parse
    # MCTS never revisits a known outcome: its rollouts reach new nodes (was 10 nodes, 15 executions)
    assert s["run"] == {"status": "finished", "done": 3, "passed": 3, "nodes": 21, "executions": 28}
    assert s["exported"] == {"trees": 3, "datasets": {"d_process": 23, "d_plus": 13, "pairs": 24}}
    world = s["world"]  # the world policy (measured: 19 of 50 held-out greedily, search 3 of 8)
    assert world["problems"] == 50 and world["solved"] >= 8 and world["parsed"] >= 0.9
    assert world["interval"][0] > 0.05  # non-zero with a margin: the 95% interval is clear of 0
    assert world["run"]["status"] == "finished" and world["run"]["done"] == 8 and world["run"]["passed"] >= 1
    assert s["notebooks"] == ["01_problems_and_sandbox", "02_pseudocode_reasoning", "03_mcts_search",
                              "04_test_case_generator", "05_process_reward_model", "06_policy_rl_and_self_play",
                              "07_evaluation"]


def _check_policy_rl_and_self_play(s: dict) -> None:
    assert s["recipe"] == "tiny-cpu"
    assert s["sft_rows"] >= 30 and s["sft_sources"] == ["trace"]
    assert s["steps"] == {"sft": 4, "dpo": 2} and s["losses_finite"] is True
    assert s["dpo_first_loss"] == pytest.approx(0.6931, abs=1e-3)  # log 2: policy == reference at the start
    assert s["alpha"]["constant"] == [0.9] * 6
    assert s["alpha"]["linear"] == pytest.approx([0.9, 0.8, 0.7, 0.6, 0.5, 0.5])
    assert s["alpha"]["log"] == pytest.approx([0.9, 0.7277, 0.627, 0.5555, 0.5, 0.5], abs=1e-4)
    # alpha 0.5, gamma 0.9: 0.5 * R + 0.5 * mean(0.9^j r_j)
    assert s["phi"] == pytest.approx({"passes, PRM likes the steps": 0.8524, "passes, PRM doubts the steps": 0.5799,
                                      "compiles, fails (R = 0.2), good steps": 0.4281,
                                      "syntax error, bad steps": 0.0428, "no PRM (r = [])": 0.2}, abs=1e-4)
    assert s["search"] == {"status": "finished", "done": 4, "trees": 4}
    # MCTS never revisits a known outcome, so the same rollouts reach more distinct programs (was 14, 23, 6)
    assert (s["d_plus"], s["candidates"], s["pairs"]) == (20, 31, 7) and s["pairs_ordered"] is True
    loop = s["loop"]
    assert (loop["status"], loop["kind"]) == ("finished", "loop")
    assert loop["stages"] == ["baseline", "0/search", "0/data", "0/prm", "0/sft", "0/rl", "0/eval"]
    assert loop["pass@1_versions"] == [0, 1] and loop["alpha"] == pytest.approx(0.9)
    assert loop["pairs"] >= 1 and loop["d_plus"] >= 1
    # one expert-iteration step of the world policy (measured: held-out 19 -> 20 of 50, train 18 -> 20 of 32)
    world = s["world"]
    assert world["problems"] == {"held-out": 50, "train": 32} and world["parsed"] >= 0.9
    assert world["before"]["held-out"] >= 8 and world["before"]["train"] >= 8
    assert world["search"] == {"status": "finished", "done": 32, "passed": world["search"]["passed"]}
    # search finds what greedy decoding misses (measured 24 vs 18 of 32), and D+ covers most problems it solved
    assert world["search"]["passed"] >= world["before"]["train"] + 2
    assert world["d_plus_problems"] >= world["search"]["passed"] - 4 and world["d_plus"] >= world["d_plus_problems"]
    assert world["sft_steps"] >= 5 and all(0 < loss < 1 for loss in world["sft_losses"])
    # the step keeps what the policy knows (a learning rate of 1e-3 halved held-out Pass@1); no direction asserted:
    # one step on 32 problems moves it by a few problems, inside its interval
    assert world["after"]["held-out"] >= world["before"]["held-out"] - 5
    assert world["after"]["train"] >= world["before"]["train"] - 3


EXPECTED: dict[str, Callable[[dict], None]] = {
    "00_quickstart": _check_quickstart,
    "01_problems_and_sandbox": _check_problems_and_sandbox,
    "02_pseudocode_reasoning": _check_pseudocode_reasoning,
    "03_mcts_search": _check_mcts_search,
    "04_test_case_generator": _check_test_case_generator,
    "05_process_reward_model": _check_process_reward_model,
    "06_policy_rl_and_self_play": _check_policy_rl_and_self_play,
    "07_evaluation": _check_evaluation,
}


# ------------------------------------------------------------------------------------------------------ execution


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory) -> Path:
    """A kernelspec whose interpreter is this one (the venv's under `make test`), whatever else is registered."""
    folder = tmp_path_factory.mktemp("kernels")
    spec_dir = folder / KERNEL_NAME
    spec_dir.mkdir()
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "o1coder (tests)", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return folder


@pytest.fixture(scope="module")
def notebook_env(tmp_path_factory) -> dict[str, str]:
    base = tmp_path_factory.getbasetemp()
    env = dict(os.environ)
    env.update({
        "O1CODER_CACHE_DIR": str(base / "cache"),
        "O1CODER_MODELS_DIR": str(shared_models_dir(base)),  # shared with the other tests: the tiny model is built once
        "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # the debugger's frozen-modules warning, on every kernel start
        "JUPYTER_PLATFORM_DIRS": "1",
        "O1CODER_NOTEBOOK_PRM_STEPS": str(NOTEBOOK_PRM_STEPS),
        "O1CODER_NOTEBOOK_WORLD_PROBLEMS": str(NOTEBOOK_WORLD_PROBLEMS),
    })
    return env


def _execute(nb, kernel_dir: Path, env: dict[str, str], cwd: Path):
    """Run ``nb`` in place in a fresh kernel; nbclient raises CellExecutionError on the first failing cell."""
    manager = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernel_dir)]))
    client = nbclient.NotebookClient(nb, km=manager, timeout=CELL_TIMEOUT, allow_errors=False,
                                     resources={"metadata": {"path": str(cwd)}})
    client.execute(env=env)
    return nb


def summary_of(nb) -> dict:
    """The JSON object printed on the last line of the last code cell's output."""
    last = [cell for cell in nb.cells if cell.cell_type == "code"][-1]
    text = "".join(o.get("text", "") for o in last.outputs if o.output_type == "stream" and o.name == "stdout")
    lines = [line for line in text.splitlines() if line.startswith("{")]
    assert lines, f"the last code cell printed no JSON summary line; it printed: {text[-500:]!r}"
    return json.loads(lines[-1])


@pytest.fixture(scope="module")
def run_notebook(kernel_dir, notebook_env, tmp_path_factory, request):
    """Executes a notebook once per test module and returns its summary; a notebook with a section on the synthetic
    world gets the session's small world policy (built on first use)."""
    summaries: dict[str, dict] = {}

    def run(path: Path) -> dict:
        if path.stem not in summaries:
            env = dict(notebook_env, O1CODER_RUNS_DIR=str(tmp_path_factory.mktemp(f"runs-{path.stem}")))
            if "O1CODER_NOTEBOOK_POLICY" in path.read_text():
                env["O1CODER_NOTEBOOK_POLICY"] = str(request.getfixturevalue("small_world_policy"))
            nb = _execute(nbformat.read(path, as_version=4), kernel_dir, env, cwd=path.parent)
            summaries[path.stem] = summary_of(nb)
        return summaries[path.stem]

    return run


# ---------------------------------------------------------------------------------------------------------- tests


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_stripped(path: Path):
    reasons = _strip_script().unstripped(nbformat.read(path, as_version=4))
    assert not reasons, (f"{path.name} is not stripped ({'; '.join(reasons)}); run `{STRIP_COMMAND} "
                         f"notebooks/{path.name}` before committing")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_a_summary_check(path: Path):
    assert path.stem in EXPECTED, (f"{path.name} has no entry in EXPECTED (tests/test_notebooks.py): add a check "
                                   "of the JSON summary its last cell prints")


def test_the_kernel_runs_the_project_interpreter(kernel_dir, notebook_env, tmp_path):
    probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, sys, json, o1coder\n"
        "print(json.dumps({'python': sys.executable, 'o1coder': o1coder.__file__, 'cwd': os.getcwd(),\n"
        "                  'runs': os.environ.get('O1CODER_RUNS_DIR')}))")])
    env = dict(notebook_env, O1CODER_RUNS_DIR=str(tmp_path / "runs"))
    seen = summary_of(_execute(probe, kernel_dir, env, cwd=NOTEBOOK_DIR))
    assert seen["python"] == sys.executable
    assert Path(seen["o1coder"]).resolve().is_relative_to(PROJECT_ROOT / "o1coder")
    assert Path(seen["cwd"]).resolve() == NOTEBOOK_DIR.resolve()
    assert seen["runs"] == str(tmp_path / "runs")


@pytest.mark.slow
@pytest.mark.timeout(1500)  # the first notebook with a world section also waits for the world policy build
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_and_computes(path: Path, run_notebook):
    summary = run_notebook(path)
    check = EXPECTED.get(path.stem)
    assert check is not None, f"{path.name} has no entry in EXPECTED"
    check(summary)


@pytest.mark.slow
@pytest.mark.timeout(1500)  # the first notebook with a world section also waits for the world policy build
def test_problems_notebook_reads_the_shared_benchmarks(shared_data, run_notebook):
    summary = run_notebook(NOTEBOOK_DIR / "01_problems_and_sandbox.ipynb")
    assert summary["mbpp"] == 974 and summary["humaneval"] == 164
