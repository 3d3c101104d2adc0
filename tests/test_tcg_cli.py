"""`o1coder tcg ...` end to end on the tiny model: data, sft, dpo, generate, eval (a few steps, two problems)."""

from __future__ import annotations

import json

import pytest

from o1coder.cli import main
from o1coder.tcg import GeneratedTests

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")
FAST = ["--limit", "2", "--set", "tcg.sft.max_steps=2", "--set", "tcg.dpo.max_steps=2",
        "--set", "tcg.sampling.max_new_tokens=16"]


def test_tcg_data_writes_rows_and_reports(tmp_path, capsys):
    assert main(["tcg", "data", "--out", str(tmp_path), "--limit", "3"]) == 0
    out = capsys.readouterr().out
    assert "sft: 3 rows from 3 problems" in out and "dpo: 3 rows from 3 problems" in out
    rows = [json.loads(line) for line in (tmp_path / "sft.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and set(rows[0]) == {"prompt", "completion", "problem_id"}
    assert json.loads((tmp_path / "dpo_report.json").read_text())["rows"] == 3


def test_tcg_sft_dpo_generate_eval(tmp_path, capsys):
    sft, dpo, tests = tmp_path / "sft", tmp_path / "dpo", tmp_path / "tests.jsonl"
    assert main(["tcg", "sft", "--out", str(sft), *FAST]) == 0
    assert main(["tcg", "dpo", "--sft", str(sft), "--out", str(dpo), *FAST]) == 0
    assert (dpo / "adapter_config.json").is_file() and json.loads((dpo / "metrics.json").read_text())["steps"] == 2
    assert main(["tcg", "generate", "--adapter", str(dpo), "--out", str(tests), *FAST]) == 0
    generated = [GeneratedTests.from_dict(json.loads(line)) for line in tests.read_text().splitlines()]
    assert len(generated) == 2
    out = capsys.readouterr().out
    assert "tcg sft: 2 rows" in out and "tcg dpo: 2 rows" in out and "2 problems" in out


def test_tcg_eval_of_a_tests_file(tmp_path, capsys):
    from o1coder.bundled import load_bundled
    from o1coder.tcg import call_shape, case_to_test, cases_from_tests

    [problem] = load_bundled("eval")[:1]
    cases, _ = cases_from_tests(problem)
    record = GeneratedTests(problem.id, tests=[case_to_test(c, call_shape(problem)) for c in cases])
    path = tmp_path / "tests.jsonl"
    path.write_text(json.dumps(record.to_dict()) + "\n")
    report = tmp_path / "report.json"
    args = ["tcg", "eval", "--tests", str(path), "--limit", "1", "--max-mutants", "4", "--out", str(report)]
    assert main(args) == 0
    assert "validity: 100.0%" in capsys.readouterr().out
    assert json.loads(report.read_text())["valid_tests"] == len(cases)
    assert main(["tcg", "eval", "--tests", str(path), "--adapter", "x"]) == 2  # a clear error, not a traceback


def test_tcg_dpo_on_corrected_pairs_needs_the_sft_model_and_says_when_it_wrote_no_case(tmp_path, capsys):
    corrected = ["--set", "tcg.dpo_pairs=corrected", "--set", "tcg.corrected_samples=2"]
    assert main(["tcg", "dpo", "--out", str(tmp_path / "dpo"), *FAST, *corrected]) == 2
    assert "pairs the SFT model's own answers: give --sft" in capsys.readouterr().err
    sft = tmp_path / "sft"
    assert main(["tcg", "sft", "--out", str(sft), *FAST]) == 0
    # two steps of SFT leave the tiny model writing no parseable case: an error that counts what it sampled
    assert main(["tcg", "dpo", "--sft", str(sft), "--out", str(tmp_path / "dpo"), *FAST, *corrected]) == 2
    err = capsys.readouterr().err
    assert "made no pair from 2 problems (answers_sampled 4, answers_without_cases 4)" in err
    assert not (tmp_path / "dpo" / "metrics.json").exists()
