"""The `o1coder` command: help lists the stages; verify reports pass counts and fails on a broken reference."""

from __future__ import annotations

import json

from o1coder.cli import main
from o1coder.loaders.jsonl import save_jsonl
from o1coder.problems import Problem, TestCase


def test_help_lists_the_stages(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "verify" in out and "search" in out and "eval" in out


def test_verify_counts_passing_and_failing_references(tmp_path, capsys):
    good = Problem("t/good", "Double it.", "double", [TestCase.call("double", [2], 4)],
                   reference="def double(x):\n    return 2 * x\n")
    bad = Problem("t/bad", "Triple it.", "triple", [TestCase.assertion("assert triple(2) == 6")],
                  reference="def triple(x):\n    return 2 * x\n")
    none = Problem("t/none", "No reference.", None, [TestCase.stdio("1\n", "1\n")])
    path = tmp_path / "p.jsonl"
    save_jsonl([good, bad, none], path)
    code = main(["verify", "jsonl", "--path", str(path), "--json", "--workers", "1"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1  # a failing reference makes the command fail
    assert report["passed"] == 1 and report["checked"] == 2 and report["without_reference"] == 1
    assert report["failures"][0]["id"] == "t/bad" and "4 == 6 is false" in report["failures"][0]["message"]


def test_verify_reports_a_missing_file_clearly(tmp_path, capsys):
    assert main(["verify", "mbpp", "--path", str(tmp_path / "nope.jsonl")]) == 2
    assert "nope.jsonl" in capsys.readouterr().err
