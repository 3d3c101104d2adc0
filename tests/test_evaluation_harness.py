"""The Table 1 harness end to end on three bundled eval problems: a scripted policy that always writes the
reference solution (Pass@1 and ASPR exactly 1.0), then the untrained tiny model through `o1coder eval` (zeros);
both times the table must hold exactly what the run store holds."""

from __future__ import annotations

import pandas as pd
import pytest

from o1coder.bundled import load_bundled
from o1coder.cli import main
from o1coder.config import apply_overrides, load_recipe
from o1coder.evaluation import EvalConfig, eval_config, run_eval
from o1coder.evaluation.paper import TABLE1, paper_rows
from o1coder.evaluation.table import COLUMNS
from o1coder.execution import Sandbox
from o1coder.models import ScriptedGenerator
from o1coder.reasoning import END_OF_STEP, Action, Step, format_question, render
from o1coder.runs import get_run, list_runs, metrics, problem_results

BENCHMARK = "bundled:eval"


def reference_policy():
    """Answers every prompt with the reference solution of the problem it asks about."""
    problems = load_bundled("eval")

    def respond(prompt, params, n):
        question = prompt.rsplit("### Problem\n", 1)[1]
        [problem] = [p for p in problems if question.startswith(format_question(p))]
        if END_OF_STEP in params.stop:  # one pseudocode step: the code step
            text = render(Step(Action.CODE, "Solve it", "Write the code.", code=problem.reference))
        else:  # a vanilla answer
            text = f"Here is the solution.\n```python\n{problem.reference}\n```"
        return [text] * n

    return ScriptedGenerator(respond)


def final_metrics(run_id: str, runs_dir) -> dict[str, float]:
    frame = metrics(run_id, runs_dir=runs_dir)
    last = frame[frame["step"] == frame["step"].max()]
    return {row.name: row.value for row in last.itertuples()}


def check_table_matches_store(frame: pd.DataFrame, run_id: str, runs_dir, model: str) -> None:
    assert list(frame.columns[: len(COLUMNS)]) == list(COLUMNS)
    assert list(frame.index) == [model] + [f"{m} (paper)" for m in TABLE1]
    stored = final_metrics(run_id, runs_dir)
    ours = frame.loc[model]
    for mode in ("vanilla", "pseudocode"):
        for metric in ("pass@1", "aspr"):
            value, expected = ours[f"{mode}_{metric}"], stored[f"eval/{metric}/{mode}"]
            assert (pd.isna(value) and pd.isna(expected)) or value == expected
    for metric in ("pass@1", "aspr"):
        value, expected = ours[f"delta_{metric}"], stored[f"eval/delta/{metric}"]
        assert (pd.isna(value) and pd.isna(expected)) or value == expected


def test_scripted_reference_answers_score_one(tmp_path):
    recipe = load_recipe("tiny-cpu")
    config = EvalConfig(samples=2, k=[1, 2], aspr_k=3, aspr_search="search")
    generator = reference_policy()
    with Sandbox(workers=2) as sandbox:
        outcome = run_eval(recipe, BENCHMARK, config=config, limit=3, runs_dir=tmp_path, out=tmp_path / "out",
                           generator=generator, sandbox=sandbox)
    report = outcome.report
    for mode in ("vanilla", "pseudocode"):
        summary = report.summary(mode)
        assert summary["pass@k"] == {1: 1.0, 2: 1.0}
        assert (summary["aspr"], summary["aspr_included"], summary["aspr_excluded"]) == (1.0, 3, 0)
    stored = final_metrics(outcome.run_id, tmp_path)
    assert stored["eval/pass@1/vanilla"] == stored["eval/pass@1/pseudocode"] == 1.0
    assert stored["eval/aspr/pseudocode"] == 1.0 and stored["eval/delta/pass@1"] == 0.0
    check_table_matches_store(outcome.table, outcome.run_id, tmp_path, "tiny")
    run = get_run(outcome.run_id, tmp_path)
    assert (run.kind, run.status, run.problems_done, run.problems_passed) == ("eval", "finished", 3, 3)
    assert run.config["evaluation"]["aspr_k"] == 3
    results = problem_results(outcome.run_id, tmp_path)
    assert results["passed"].all() and set(results["stats"][0]) == {"vanilla", "pseudocode"}
    assert results["completion_tokens"].sum() == generator.usage.completion_tokens
    # the files hold the same table
    csv = pd.read_csv(outcome.files["csv"], index_col="model")
    assert csv.loc["tiny", "pseudocode_pass@1"] == 1.0 and len(csv) == 1 + len(TABLE1)
    markdown = outcome.files["markdown"].read_text()
    assert "| tiny | 100.0 | 100.0 | 100.0 | 100.0 | +0.0 | +0.0 |" in markdown
    assert "| Qwen2.5-Coder-7B (paper) | 57.7 | 49.3 | 58.2 | 74.9 | +0.5 | +25.6 |" in markdown
    assert outcome.files["json"].is_file()


def test_tiny_model_through_the_command_line(tmp_path, capsys):
    code = main(["eval", "--recipe", "tiny-cpu", "--benchmark", BENCHMARK, "--limit", "3", "--samples", "2",
                 "--k", "1,2", "--aspr-k", "2", "--aspr-search", "samples", "--runs-dir", str(tmp_path),
                 "--out", str(tmp_path / "out"), "--set", "evaluation.max_answer_tokens=48",
                 "--set", "sampling.max_new_tokens=32"])
    assert code == 0
    printed = capsys.readouterr().out
    [run] = list_runs(tmp_path)
    assert run.kind == "eval" and run.status == "finished" and run.problems_done == 3
    assert run.id in printed and "| Model | Vanilla Pass@1 |" in printed
    frame = pd.read_csv(tmp_path / "out" / "table1.csv", index_col="model")
    check_table_matches_store(frame, run.id, tmp_path, "tiny")
    stored = final_metrics(run.id, tmp_path)
    assert 0.0 <= stored["eval/pass@1/vanilla"] <= 1.0 and 0.0 <= stored["eval/pass@2/pseudocode"] <= 1.0
    assert stored["eval/aspr_problems/vanilla"] + stored["eval/aspr_excluded/vanilla"] == 3
    assert stored["eval/tokens/pseudocode"] > 0


def test_config_errors_are_clear():
    with pytest.raises(ValueError, match="pass@5 needs at least 5 samples"):
        eval_config(load_recipe("tiny-cpu"), samples=2, k=[1, 5])
    with pytest.raises(ValueError, match="evaluation.modes"):
        eval_config({}, modes="vanilla,cot")
    with pytest.raises(ValueError, match="did you mean 'aspr_k'"):
        eval_config(apply_overrides(load_recipe("tiny-cpu"), ["evaluation.aspr=3"]))
    assert eval_config({}, modes="pseudocode").modes == ["pseudocode"]
    assert eval_config(load_recipe("tiny-cpu"), samples=1).k == [1]  # the recipe's k = [1, 2] needs 2 samples
    assert main(["eval", "--k", "1,x"]) == 2


def test_paper_values_are_consistent():
    for model, metrics_ in TABLE1.items():
        for metric, (vanilla, pseudocode, printed_delta) in metrics_.items():
            assert round(pseudocode - vanilla, 1) == printed_delta, (model, metric)
    assert len(paper_rows()) == 4 and paper_rows()[3]["delta_aspr"] == pytest.approx(0.256)


def test_hidden_tests_leave_out_what_the_search_rewards_on():
    from o1coder.evaluation import hidden_tests
    from o1coder.search import SearchConfig, split_tests

    problem = load_bundled("eval")[0]
    assert hidden_tests(problem, SearchConfig(reward_tests="public")) == list(problem.tests)
    config = SearchConfig(reward_tests="heldout", heldout_fraction=0.4, seed=3)
    split = split_tests(problem, "heldout", seed=3, heldout_fraction=0.4)
    hidden = hidden_tests(problem, config)
    assert hidden == list(split.hidden) and not set(map(repr, hidden)) & set(map(repr, split.reward))
    assert len(hidden) + len(split.reward) == len(problem.tests)
