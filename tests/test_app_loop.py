"""The app on a self-play loop recorded by a real (reduced) loop: the learning curve on the Metrics page and the
loop's child runs nested under it on the Runs page. Searches use the scripted policy; training stages train the
tiny model."""

from __future__ import annotations

import json
import sys

import pytest
from streamlit.testing.v1 import AppTest

from o1coder.paths import PROJECT_ROOT
from o1coder.runs import metrics
from o1coder.runs.loop_state import LoopState

MAIN = PROJECT_ROOT / "app" / "main.py"
sys.path.insert(0, str(PROJECT_ROOT / "app"))

@pytest.fixture
def loop_run(reduced_loop_run):
    """The session's reduced loop (conftest.py: 2 rounds of 3 training and 3 held-out problems, with a warm start,
    ASPR and MCTS against best-of-N), shared with tests/test_loop_metrics.py: policy versions 0 to 3."""
    return reduced_loop_run[:2]


def open_page(page: str, **params) -> AppTest:
    at = AppTest.from_file(str(MAIN), default_timeout=60)
    at.query_params.update(params)
    at.run()
    if page != "runs":
        at.switch_page(f"views/{page}.py").run()
    assert not at.exception, at.exception
    return at


def test_metrics_page_draws_the_learning_curve_with_intervals(loop_run, monkeypatch):
    run_id, runs = loop_run
    monkeypatch.setenv("O1CODER_RUNS_DIR", str(runs))
    at = open_page("metrics", run=run_id)
    assert "Learning curve" in [s.value for s in at.subheader]
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    [curve] = [t for t in figure["data"] if t.get("name") == "Pass@1"]
    stored = metrics(run_id, "loop/pass@1", runs_dir=runs)
    assert curve["x"] == [0, 1, 2, 3] and curve["y"] == pytest.approx(list(stored["value"]))
    low = metrics(run_id, "loop/pass@1_low", runs_dir=runs)["value"]
    assert curve["error_y"]["arrayminus"] == pytest.approx(list(stored["value"] - low))
    assert any(t.get("name") == "ASPR" for t in figure["data"])
    assert any(t.get("name", "").startswith("best-of-N") for t in figure["data"])
    table = next(d.value for d in at.dataframe if "Pass@1" in d.value.columns)
    assert list(table["version"]) == [0, 1, 2, 3] and set(table["problems"]) == {3}


def test_runs_page_nests_the_loops_child_runs_under_it(loop_run, monkeypatch):
    run_id, runs = loop_run
    monkeypatch.setenv("O1CODER_RUNS_DIR", str(runs))
    at = open_page("runs", run=run_id)
    table = at.dataframe[0].value
    names = list(table["run"])
    state = LoopState.load(run_id, runs)
    assert names[0] == run_id  # the newest top-level run; every other run is one of its children
    assert sorted(names[1:]) == sorted(f"  └ {child}" for child in state.runs.values())
    kinds = dict(zip(table["run"], table["kind"]))
    assert kinds[f"  └ {state.runs['0/search']}"] == "search · 0/search"
