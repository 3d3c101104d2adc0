"""The app's Metrics page shows how far a run's generated (TCG) reward tests agree with its hidden tests."""

from __future__ import annotations

import sys

from streamlit.testing.v1 import AppTest

from o1coder.bundled import load_bundled
from o1coder.paths import PROJECT_ROOT
from o1coder.runs.store import RunStore

sys.path.insert(0, str(PROJECT_ROOT / "app"))  # the app's own modules (ui.*), as streamlit puts them on the path


def test_metrics_page_pools_false_passes_and_fails(tmp_path, monkeypatch):
    problems = load_bundled("train")[:2]
    with RunStore(tmp_path) as store:
        run_id = store.create_run({"name": "tcg", "search": {"reward_tests": "generated"}}, problems,
                                  problem_spec="bundled:train", problem_limit=2)
        for step, (programs, false_passes, false_fails) in enumerate([(4, 1, 0), (6, 2, 3)]):
            store.log_metrics(run_id, step, {"generated/programs": programs, "generated/false_passes": false_passes,
                                             "generated/false_fails": false_fails})
        store.set_status(run_id, "finished")
    monkeypatch.setenv("O1CODER_RUNS_DIR", str(tmp_path))
    at = AppTest.from_file(str(PROJECT_ROOT / "app" / "main.py"), default_timeout=60)
    at.query_params.update({"run": run_id})
    at.run()
    at.switch_page("views/metrics.py").run()
    assert not at.exception, at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["generated-test false passes"] == "30.0%"  # (1 + 2) / (4 + 6)
    assert shown["generated-test false fails"] == "30.0%" and shown["programs compared"] == "10"
