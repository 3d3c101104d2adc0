"""Budget-matched comparison on the scripted policy of test_search_mcts (token counts are word counts, so every
run's cost is exact), then the command line on the tiny model with one run per algorithm."""

from __future__ import annotations

import pytest
from test_search_mcts import A, A_BAD, A_GOOD, B, B_BAD, PROBLEM, TABLE

from o1coder.cli import main
from o1coder.evaluation import BudgetConfig, compare_budgets
from o1coder.evaluation.budget import BudgetPoint, interpolate, next_value
from o1coder.evaluation.record import run_budget
from o1coder.execution import Sandbox
from o1coder.models import ScriptedGenerator
from o1coder.reasoning import END_OF_STEP
from o1coder.runs import list_runs, metrics
from o1coder.search.scripted import step_policy

TRACES = [A + "\n" + A_BAD, B + "\n" + B_BAD, A + "\n" + A_GOOD]  # best-of-N: the third answer is the first right one
RECIPE = {"search": {"k": 3, "max_depth": 5, "max_step_tokens": 100, "reward_tests": "public"}}


def policy():
    steps = step_policy(TABLE)

    def respond(prompt, params, n):
        if END_OF_STEP in params.stop:  # MCTS and beam: one step at a time
            return steps(prompt, params, n)
        return [TRACES[i % len(TRACES)] for i in range(n)]  # best-of-N: whole traces

    return ScriptedGenerator(respond)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(workers=2) as sb:
        yield sb


def test_budgets_match_within_tolerance(sandbox):
    generator = policy()
    config = BudgetConfig(mcts_rollouts=[1, 2, 8], best_of_n_samples=[1, 2, 4], beam_widths=[1, 2],
                          targets=[112, 147], tolerance=0.15, max_refine=3)
    comparison = compare_budgets([PROBLEM], generator, sandbox, RECIPE, config)
    assert [(r["target"], r["algorithm"]) for r in comparison.rows] == [
        (t, a) for t in (112.0, 147.0) for a in ("mcts", "best_of_n", "beam")]
    assert comparison.all_matched
    points = {(p.algorithm, p.value): p for p in comparison.points}
    for row in comparison.rows:
        point = points[(row["algorithm"], row["value"])]
        assert abs(point.tokens - row["target"]) <= 0.15 * row["target"]
        assert row["tokens"] == point.tokens and row["pass@1"] == point.pass_at_1
    # best-of-N: 29 words per answer (A + A bad, B + B bad, A + A good alternate), so 147 tokens needs 5 answers,
    # which the sweep (1, 2, 4) does not have: one refining run found it
    assert points[("best_of_n", 5)].refined and points[("best_of_n", 5)].tokens == 141
    assert [p.pass_at_1 for p in comparison.points if p.algorithm == "best_of_n"][:3] == [0.0, 0.0, 1.0]
    # every run is done once: the runs' token counts add up to what the generator produced
    assert sum(p.tokens * p.problems for p in comparison.points) == generator.usage.completion_tokens
    frame = comparison.points_frame()
    assert set(frame.columns) >= {"algorithm", "knob", "value", "tokens", "pass_at_1", "refined"}


def test_an_unreachable_budget_is_reported_not_matched(sandbox):
    config = BudgetConfig(algorithms=["beam"], beam_widths=[1], targets=[40], tolerance=0.1, max_refine=2)
    [row] = compare_budgets([PROBLEM], policy(), sandbox, RECIPE, config).rows
    assert not row["matched"] and row["value"] == 1 and row["relative_gap"] > 0.1  # width 1 already costs more
    assert row["pass@1_interpolated"] is None  # below every measured run: no extrapolation


def test_knob_search_and_interpolation():
    def point(value, tokens, passed=0.0):
        return BudgetPoint("best_of_n", "n_samples", value, tokens, passed, 0, 1, 0.0)

    runs = [point(1, 30, 0.0), point(4, 120, 1.0)]
    assert next_value(runs, 60) == 2  # 1 + (60 - 30) / (120 - 30) * 3 = 2
    assert next_value(runs, 300) == 10  # ceil(4 * 300 / 120)
    assert next_value([point(4, 120)], 1000) == 16  # at most 4x the largest value per step
    assert next_value([point(3, 90)], 40) == 1
    assert next_value([point(1, 30), point(2, 60)], 45) is None  # no integer between 1 and 2
    assert interpolate(runs, 75) == pytest.approx(0.5)
    assert interpolate(runs, 10) is None and interpolate(runs, 121) is None


def test_run_budget_records_metrics_and_files(sandbox, tmp_path):
    recipe = {**RECIPE, "evaluation": {"budget": {"mcts_rollouts": [1, 2], "best_of_n_samples": [2, 4],
                                                  "beam_widths": [1], "max_refine": 0}}}
    run_id, comparison, files = run_budget(recipe, "bundled:eval", limit=1, runs_dir=tmp_path, out=tmp_path / "b",
                                           generator=policy(), sandbox=sandbox)
    stored = metrics(run_id, runs_dir=tmp_path)
    by_name = {(r.name, r.step): r.value for r in stored.itertuples()}
    for p in comparison.points:
        assert by_name[(f"budget/{p.algorithm}/tokens", p.value)] == p.tokens
        assert by_name[(f"budget/{p.algorithm}/pass@1", p.value)] == p.pass_at_1
    assert {"markdown", "csv", "points", "json"} <= set(files) and all(f.is_file() for f in files.values())
    [run] = list_runs(tmp_path)
    assert run.kind == "budget" and run.status == "finished"


def test_compare_budgets_from_the_command_line(tmp_path, capsys):
    code = main(["eval", "--compare-budgets", "--recipe", "tiny-cpu", "--benchmark", "bundled:eval", "--limit", "1",
                 "--runs-dir", str(tmp_path), "--out", str(tmp_path / "out"),
                 "--set", "evaluation.budget.mcts_rollouts=[1]", "--set", "evaluation.budget.best_of_n_samples=[1]",
                 "--set", "evaluation.budget.beam_widths=[1]", "--set", "evaluation.budget.max_refine=0",
                 "--set", "sampling.max_new_tokens=16"])
    assert code == 0
    assert "| Budget (tokens/problem) | Algorithm |" in capsys.readouterr().out
    assert (tmp_path / "out" / "budget.csv").is_file() and list_runs(tmp_path)[0].kind == "budget"


def test_figures(sandbox):
    pytest.importorskip("plotly")
    from o1coder.evaluation.figures import budget_figure, table1_figure
    from o1coder.evaluation.table import table1

    config = BudgetConfig(mcts_rollouts=[1, 2], best_of_n_samples=[2, 4], beam_widths=[1], max_refine=0)
    figure = budget_figure(compare_budgets([PROBLEM], policy(), sandbox, RECIPE, config))
    lines = [t for t in figure.data if t.mode == "lines+markers"]
    assert [t.name for t in lines] == ["MCTS", "Best-of-N", "Beam search"]
    assert list(lines[1].x) == sorted(lines[1].x)  # each curve runs left to right in tokens
    bars = table1_figure(table1([]))
    assert len(bars.data) == 4 and len(bars.data[0].x) == 4  # the paper's four models
