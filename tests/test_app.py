"""Every page of the app (AppTest, no browser) on runs recorded by a real search: the tiny model's run, a deep run
replaying the bundled traces, a crashed run and a live one (tests/e2e/app_fixture.py). The tests assert what the
pages show against what the run store holds."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

from o1coder.paths import PROJECT_ROOT
from o1coder.reasoning import parse
from o1coder.runs import get_run, load_tree, problem_results
from o1coder.viz import figure_node_ids

MAIN = PROJECT_ROOT / "app" / "main.py"
sys.path.insert(0, str(PROJECT_ROOT / "tests" / "e2e"))
sys.path.insert(0, str(PROJECT_ROOT / "app"))  # the app's own modules (ui.*), as streamlit puts them on the path

from app_fixture import add_live_nodes, build_for_tests  # noqa: E402


@pytest.fixture(scope="module")
def fx(tmp_path_factory) -> dict:
    return build_for_tests(tmp_path_factory)


@pytest.fixture
def runs_dir(fx, monkeypatch) -> Path:
    monkeypatch.setenv("O1CODER_RUNS_DIR", fx["runs_dir"])
    return Path(fx["runs_dir"])


def open_page(page: str = "runs", **params) -> AppTest:
    """The app at ``page`` with the given query parameters, after its script has run."""
    at = AppTest.from_file(str(MAIN), default_timeout=60)
    at.query_params.update({k: str(v) for k, v in params.items()})
    at.run()
    if page != "runs":
        at.switch_page(f"views/{page}.py").run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    """Everything the page wrote as text (markdown, captions, alerts, code, subheaders)."""
    parts = []
    for kind in ("title", "subheader", "markdown", "caption", "info", "warning", "error", "success", "code"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def tree_figure_ids(at: AppTest) -> list[int]:
    charts = at.get("plotly_chart")
    assert charts, "no figure on the page"
    return figure_node_ids(charts[0].proto.spec)


# --- runs ---------------------------------------------------------------------------------------------------------


def test_runs_page_lists_every_run_and_shows_the_chosen_one(fx, runs_dir):
    at = open_page("runs")
    table = at.dataframe[0].value
    assert set(table["run"]) == {fx["tiny"], fx["trace"], fx["failed"], fx["eval"], fx["live"]}
    statuses = dict(zip(table["run"], table["status"]))
    assert statuses[fx["tiny"]] == "finished" and statuses[fx["failed"]] == "failed"
    assert statuses[fx["live"]] == "running"  # its writer (this process) is alive
    tiny = get_run(fx["tiny"], runs_dir)
    row = table[table["run"] == fx["tiny"]].iloc[0]
    assert (row["recipe"], row["tokens"], row["problems"]) == ("tiny-cpu", tiny.tokens, "1/1")
    assert row["model"] == "tiny (transformers)"

    at.sidebar.selectbox[0].set_value(fx["trace"]).run()
    assert at.query_params["run"] == fx["trace"]
    assert f"Run {fx['trace']}" in texts(at)
    problems = at.dataframe[1].value
    expected = problem_results(fx["trace"], runs_dir)
    assert list(problems["problem_id"]) == list(expected["problem_id"])
    assert list(problems["passed"]) == list(expected["passed"])


def test_no_runs_explains_what_a_run_is_and_the_demo_button_says_when_it_is_missing(tmp_path, monkeypatch):
    import ui.launch

    monkeypatch.setenv("O1CODER_RUNS_DIR", str(tmp_path))
    monkeypatch.setattr(ui.launch, "cli_verbs", lambda: {"search", "runs"})
    at = open_page("runs")
    assert "A **run** is one search over a problem set" in texts(at)
    at.button[0].click().run()
    assert not at.exception
    assert "has no `demo` command yet" in texts(at)
    assert not (tmp_path / "logs").exists()


def test_the_demo_button_starts_a_background_process_and_follows_it(tmp_path, monkeypatch):
    import ui.launch

    monkeypatch.setenv("O1CODER_RUNS_DIR", str(tmp_path))
    monkeypatch.setattr(ui.launch, "cli_verbs", lambda: {"demo", "search"})
    real_start = ui.launch.start
    # the real start (Popen, own session, log file), running `o1coder runs` in place of the demo: quick and offline
    monkeypatch.setattr(ui.launch, "start", lambda label, args, where: real_start(label, ["runs", *args[1:]], where))
    at = open_page("runs")
    at.button[0].click().run()
    assert not at.exception
    launched = at.session_state["launched"]
    assert len(launched) == 1 and launched[0].label == "demo"
    launched[0].process.wait(timeout=60)
    at.run()
    status = at.get("status")[0].proto
    assert status.label == f"`o1coder demo` (pid {launched[0].pid}): finished"
    log = launched[0].log
    assert log.parent == tmp_path / "logs" and f"no runs in {tmp_path}" in log.read_text()


def test_the_search_form_checks_the_recipe_then_starts_o1coder_search(fx, runs_dir, monkeypatch):
    import ui.launch

    started = []
    fake = SimpleNamespace(Popen=lambda argv, **kw: started.append((argv, kw)) or _Done(), DEVNULL=-3, STDOUT=-2)
    monkeypatch.setattr(ui.launch, "subprocess", fake)  # only the app's launcher sees the fake
    at = open_page("runs")
    at.text_area(key="form_overrides").set_value("search.rollots=4")
    at.button(key="FormSubmitter:search_form-Start the search").click().run()
    assert "Not started" in texts(at) and "rollots" in texts(at) and not started

    at.text_area(key="form_overrides").set_value("search.rollouts=4")
    at.selectbox(key="form_backend").set_value("transformers")
    at.text_input(key="form_problems").set_value("bundled:eval")
    at.number_input(key="form_limit").set_value(2)
    at.button(key="FormSubmitter:search_form-Start the search").click().run()
    assert not at.exception and len(started) == 1
    argv, options = started[0]
    assert argv[1:] == ["-m", "o1coder.cli", "search", "--recipe", "tiny-cpu", "--problems", "bundled:eval",
                        "--limit", "2", "--set", "search.rollouts=4", "--set", "model.backend=transformers",
                        "--runs-dir", str(runs_dir.resolve())]
    assert options["start_new_session"] is True


class _Done:
    pid = 12345

    def poll(self):
        return 0


# --- search tree ---------------------------------------------------------------------------------------------------


def test_the_tree_figure_has_the_runs_nodes(fx, runs_dir):
    at = open_page("tree", run=fx["trace"], problem=fx["deep_problem"])
    tree = load_tree(fx["trace"], fx["deep_problem"], runs_dir)
    assert sorted(tree_figure_ids(at)) == [n.id for n in tree.nodes]
    assert f"{len(tree.nodes)} of {len(tree.nodes)} nodes" in texts(at)
    assert "Click a node in the tree" in texts(at)


def test_selecting_a_node_shows_its_code_values_and_tests(fx, runs_dir):
    at = open_page("tree", run=fx["trace"], problem=fx["deep_problem"])
    node = load_tree(fx["trace"], fx["deep_problem"], runs_dir).nodes[fx["code_node"]]
    at.number_input(key="node_input").set_value(node.id).run()
    assert not at.exception
    assert at.query_params["node"] == str(node.id)
    code = parse(node.text).step.code
    assert any(c.value == code and c.language == "python" for c in at.code)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["value Q/N"] == f"{node.value:.3f}" and metrics["visits N"] == str(node.visits)
    assert metrics["reward"] == f"{node.reward:.3f}" and metrics["PRM score"] == f"{node.prm:.3f}"
    assert f"{node.exec['n_passed']}/{node.exec['n_tests']} reward tests passed" in texts(at)
    assert len(at.dataframe[0].value) == len(node.exec["outcomes"])
    # a terminal is selected once, as an unvisited child, so UCT terms sit on the step nodes the search weighed
    scored = next(n for n in load_tree(fx["trace"], fx["deep_problem"], runs_dir).nodes if n.uct)
    at.number_input(key="node_input").set_value(scored.id).run()
    assert f"UCT at its last selection: q = {scored.uct['q']:.3f}" in texts(at)
    # the path from the root: one button per node; the root's button selects the root
    at.button(key="path_0").click().run()
    assert at.query_params["node"] == "0" and "The root" in texts(at)


def test_a_link_opens_the_same_view_and_replay_shows_the_first_nodes(fx, runs_dir):
    at = open_page("tree", run=fx["trace"], problem=fx["deep_problem"], node=fx["code_node"])
    assert f"Node #{fx['code_node']} · code" in texts(at)
    at.slider(key="replay").set_value(4).run()
    assert sorted(tree_figure_ids(at)) == [0, 1, 2, 3]
    assert "4 of" in texts(at)


def test_a_live_tree_grows_through_incremental_reads(fx, runs_dir):
    import ui.data

    source = load_tree(fx["trace"], fx["live_problem"], runs_dir)
    at = open_page("tree", run=fx["live"], problem=fx["live_problem"])
    assert "is running" in texts(at)
    follower = ui.data.live_tree(str(runs_dir.resolve()), fx["live"], fx["live_problem"])
    before = len(tree_figure_ids(at))
    assert before == 6 and follower.reads == 6
    add_live_nodes(runs_dir, fx["live"], source, 6, 20)
    at.run()
    assert not at.exception
    assert sorted(tree_figure_ids(at)) == list(range(20))
    assert follower.reads == 20  # only the 14 new rows were read


# --- step rewards, refinement, metrics --------------------------------------------------------------------------


def test_step_rewards_page_counts_match_the_store(fx, runs_dir):
    at = open_page("rewards", run=fx["trace"])
    trees = [load_tree(fx["trace"], pid, runs_dir) for pid in fx["problems"]]
    nodes = [n for t in trees for n in t.nodes]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["steps"] == str(sum(1 for n in nodes if n.parent is not None))
    assert metrics["terminals"] == str(sum(1 for n in nodes if n.reward is not None))
    assert len(at.get("plotly_chart")) == 3  # values, PRM vs MC (the stand-in PRM scored every step), breakdown
    assert f"{sum(1 for n in nodes if n.prm is not None)} scored steps" in texts(at)
    breakdown = at.dataframe[0].value
    assert list(breakdown["terminals"]) == [sum(1 for n in t.nodes if n.reward is not None) for t in trees]

    at = open_page("rewards", run=fx["tiny"])
    assert "No step of this run has a PRM score" in texts(at)


def test_refinement_page_shows_each_step_its_diff_and_the_code(fx, runs_dir):
    tree = load_tree(fx["trace"], fx["deep_problem"], runs_dir)
    end = fx["deep_terminal"]
    at = open_page("refinement", run=fx["trace"], problem=fx["deep_problem"], node=end)
    shown = texts(at)
    path = tree.path(end)[1:]
    for node in path:
        assert f"#{node.id}" in shown
    refinements = [n for n in path if n.action == 2 and not n.dead]
    for i in range(1, len(refinements) + 1):
        assert f"Refinement {i}" in shown
    code = parse(tree.nodes[end].text).step.code
    assert any(c.value == code for c in at.code)
    assert "leads to passing code" in shown or "no passing code below" in shown


def test_metrics_page_matches_the_run_store(fx, runs_dir):
    for run_id in (fx["tiny"], fx["trace"]):
        run = get_run(run_id, runs_dir)
        at = open_page("metrics", run=run_id)
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["Pass@1"] == f"{run.pass_rate:.1%}"
        assert metrics["tokens"] == f"{run.tokens:,}" and metrics["executions"] == f"{run.executions:,}"
        assert metrics["problems"] == f"{run.problems_done}/{run.problems_planned}"
        results = at.dataframe[0].value
        assert list(results["passed"]) == list(problem_results(run_id, runs_dir)["passed"])
        assert at.get("plotly_chart"), "no metrics figure"
    compare = at.selectbox(key="compare_run")
    compare.set_value(fx["tiny"]).run()
    summary = at.dataframe[1].value
    assert list(summary.columns) == [fx["trace"], fx["tiny"]]


# --- errors ---------------------------------------------------------------------------------------------------------


def test_table1_puts_the_evaluation_runs_row_above_the_papers(fx, runs_dir):
    from o1coder.runs import metrics

    at = open_page("metrics", run=fx["eval"])
    final = metrics(fx["eval"], runs_dir=runs_dir).sort_values("step").groupby("name").tail(1)
    values = dict(zip(final["name"], final["value"]))
    shown = {m.label: m.value for m in at.metric}
    assert shown["Pass@1 (pseudocode)"] == f"{values['eval/pass@1/pseudocode']:.1%}"
    assert shown["ASPR (vanilla)"] == f"{values['eval/aspr/vanilla']:.1%}"
    table = next(m.value for m in at.markdown if m.value.startswith("| Model |"))
    lines = table.splitlines()
    ours = f"| bundled traces · {fx['eval']} | {100 * values['eval/pass@1/vanilla']:.1f} |"
    assert lines[2].startswith(ours)
    assert "Qwen2.5-Coder-7B (paper)" in lines[-1] or any("Qwen2.5-Coder-7B (paper)" in line for line in lines)

    at = open_page("metrics", run=fx["tiny"])  # the view is the same from any run's page
    assert any(m.value.startswith("| Model |") and fx["eval"] in m.value for m in at.markdown)
    at = open_page("tree", run=fx["eval"])  # an evaluation run has answers, not trees
    assert "This run (eval) recorded no search tree" in texts(at)


def test_a_crashed_run_says_why(fx, runs_dir):
    for page in ("tree", "metrics"):
        at = open_page(page, run=fx["failed"])
        assert "crashed: OSError: the generator crashed" in texts(at)
        assert f"--resume {fx['failed']}" in texts(at)


def test_an_unknown_run_in_a_link_falls_back_to_the_newest(fx, runs_dir):
    at = open_page("runs", run="no-such-run")
    assert "There is no run 'no-such-run'" in texts(at)
    assert at.query_params["run"] == fx["live"]


@pytest.mark.parametrize("content", [b"this is not a database\n" * 100, "another sqlite database"])
def test_a_corrupt_run_store_is_a_message_on_every_page(tmp_path, monkeypatch, content):
    store = tmp_path / "runs.sqlite"
    if isinstance(content, bytes):
        store.write_bytes(content)
    else:
        with sqlite3.connect(store) as conn:
            conn.execute("CREATE TABLE users (name TEXT)")
    monkeypatch.setenv("O1CODER_RUNS_DIR", str(tmp_path))
    at = open_page("runs")
    for page in ("runs", "tree", "rewards", "refinement", "metrics"):
        if page != "runs":
            at.switch_page(f"views/{page}.py").run()
        assert not at.exception
        assert any("The run store cannot be read" in e.value and str(store) in e.value for e in at.error), page
