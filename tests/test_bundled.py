"""The bundled problems: counts and shape, the build script agreeing with the files, problem specs, and the key
check: every reference, every trace's code and every few-shot example passes its tests in the sandbox."""

from __future__ import annotations

import importlib.util
import re

import pytest

from o1coder import bundled
from o1coder.bundled import SPLITS, load_bundled, parse_problem_spec, resolve_problem_spec, trace_of
from o1coder.problems import Problem
from o1coder.reasoning import EXAMPLES, Action, extract_program, parse, render
from o1coder.reasoning.steps import Step

PROBLEMS = load_bundled()


def _build_module():
    path = bundled.bundled_dir() / "build.py"
    spec = importlib.util.spec_from_file_location("o1coder_bundled_build", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------------------------- counts and shape


def test_counts_and_splits():
    train, evaluation = load_bundled("train"), load_bundled("eval")
    assert len(PROBLEMS) >= 40 and len(train) + len(evaluation) == len(PROBLEMS)
    assert 25 <= len(train) <= 35 and len(evaluation) >= 10
    functions = [p for p in PROBLEMS if not p.is_stdio]
    stdio = [p for p in PROBLEMS if p.is_stdio]
    assert len(functions) >= 32 and len(stdio) >= 8
    assert any(p.is_stdio for p in train) and any(p.is_stdio for p in evaluation)
    assert {p.metadata["split"] for p in PROBLEMS} == set(SPLITS)
    refines = [sum(s.action is Action.REFINE for s in trace_of(p)) for p in PROBLEMS]
    assert {1, 2, 3} <= set(refines)  # traces of different lengths, as a search would find


def test_ids_and_prompts_are_unique():
    assert len({p.id for p in PROBLEMS}) == len(PROBLEMS)
    assert len({p.prompt for p in PROBLEMS}) == len(PROBLEMS)
    few_shot_names = {e.problem.id.split("/")[-1] for e in EXAMPLES}
    assert not few_shot_names & {p.id.split("/")[-1] for p in PROBLEMS}  # few-shot examples never leak answers


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.id)
def test_problem_is_well_formed(problem: Problem):
    assert re.fullmatch(r"bundled/[a-z][a-z0-9_]*", problem.id)
    assert problem.prompt.strip() and problem.reference and problem.reference.strip()
    assert len(problem.tests) >= 3
    assert problem.public_tests == problem.tests[:1]
    kinds = {t.kind for t in problem.tests}
    if problem.is_stdio:
        assert kinds == {"stdio"}
    else:
        assert kinds == {"assertion"}
        assert problem.id == f"bundled/{problem.entry_point}"
        assert all(problem.entry_point in t.code for t in problem.tests)
    assert problem.metadata["split"] in SPLITS
    assert Problem.from_dict(problem.to_dict()) == problem


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.id)
def test_trace_shape(problem: Problem):
    steps = trace_of(problem)
    actions = [s.action for s in steps]
    assert actions[0] is Action.STRUCTURE and actions[-1] is Action.CODE
    assert 1 <= actions.count(Action.REFINE) <= 3 and len(actions) == actions.count(Action.REFINE) + 2
    assert all(s.title for s in steps)
    for step in steps:
        assert step.issues() == []
        assert parse(render(step)).step == step
    pseudocode = [s.pseudocode for s in steps[:-1]]
    assert len(set(pseudocode)) == len(pseudocode), "each refine step must change the pseudocode"
    assert extract_program(steps[-1].code, problem.entry_point).ok


def test_trace_of_needs_a_trace():
    with pytest.raises(ValueError, match="no reasoning trace"):
        trace_of(Problem("x/1", "p", "f", []))
    assert all(isinstance(s, Step) for s in trace_of(PROBLEMS[0]))


def test_files_are_what_the_build_script_writes():
    build = _build_module()
    for split, problems in build.build().items():
        path = bundled.bundled_dir() / f"{split}.jsonl"
        assert path.read_text(encoding="utf-8") == build.render_jsonl(problems), \
            f"{path} is stale: run `python data/bundled/build.py`"


def test_unknown_split_is_a_clear_error():
    with pytest.raises(ValueError, match="train, eval"):
        load_bundled("test")


# ------------------------------------------------------------------------------------------------ problem specs


def test_bundled_specs():
    assert [p.id for p in resolve_problem_spec("bundled")] == [p.id for p in PROBLEMS]
    assert [p.id for p in resolve_problem_spec("bundled:train")] == [p.id for p in load_bundled("train")]
    assert [p.id for p in resolve_problem_spec(" bundled:eval ")] == [p.id for p in load_bundled("eval")]


@pytest.mark.parametrize("spec, message", [
    ("", "empty problem spec"),
    ("bundled:test", "unknown bundled split"),
    ("mbpp:", "no path"),
    ("../data/file.jsonl", "dataset name"),
    (":path", "dataset name"),
])
def test_bad_specs(spec, message):
    with pytest.raises(ValueError, match=message):
        resolve_problem_spec(spec)


@pytest.mark.parametrize("spec, expected", [
    ("mbpp@test:../shared/data/mbpp.jsonl", ("mbpp", "test", "../shared/data/mbpp.jsonl")),
    ("mbpp@train", ("mbpp", "train", None)),
    ("mbpp@train+validation:m.jsonl", ("mbpp", "train+validation", "m.jsonl")),
    ("synthetic@eval", ("synthetic", "eval", None)),
    ("jsonl:C:/odd:path.jsonl", ("jsonl", None, "C:/odd:path.jsonl")),
    ("bundled:eval", ("bundled", "eval", None)),
    ("bundled@train", ("bundled", "train", None)),
])
def test_spec_parts(spec, expected):
    parsed = parse_problem_spec(spec)
    assert (parsed.name, parsed.split, parsed.path) == expected


@pytest.mark.parametrize("spec, message", [
    ("mbpp@:data.jsonl", "no split name"),
    ("@test:data.jsonl", "dataset name"),
    ("humaneval@test:x.jsonl.gz", "'humaneval' loader has no splits; drop '@test'"),
    ("bundled@train:x.jsonl", "bundled problems have no path"),
])
def test_bad_split_specs(spec, message):
    with pytest.raises(ValueError, match=message):
        resolve_problem_spec(spec)


def test_split_specs_pass_the_split_to_the_loader(monkeypatch):
    calls = []
    monkeypatch.setattr(bundled, "load_problems", lambda name, path=None, **options: calls.append(
        (name, path, options)) or [])
    resolve_problem_spec("mbpp@validation:../shared/data/mbpp.jsonl", limit=2)
    resolve_problem_spec("mbppplus@test")
    assert calls == [("mbpp", "../shared/data/mbpp.jsonl", {"split": "validation", "limit": 2}),
                     ("mbppplus", None, {"split": "test"})]
    assert [p.id for p in resolve_problem_spec("bundled@eval")] == [p.id for p in load_bundled("eval")]


def test_loader_specs_are_delegated(monkeypatch):
    calls = []
    monkeypatch.setattr(bundled, "load_problems", lambda name, path=None, **options: calls.append(
        (name, path, options)) or [])
    resolve_problem_spec("mbpp:../shared/data/mbpp.jsonl")
    resolve_problem_spec("humaneval", limit=3)
    resolve_problem_spec("jsonl:C:/odd:path.jsonl")
    assert calls == [("mbpp", "../shared/data/mbpp.jsonl", {}), ("humaneval", None, {"limit": 3}),
                     ("jsonl", "C:/odd:path.jsonl", {})]


# --------------------------------------------------------------------------------- the key check: in the sandbox

try:
    from o1coder.execution import Limits, Sandbox
except ImportError:  # the sandbox is a separate piece of work; the data checks above still run
    Sandbox = None


def _jobs():
    jobs = []
    for problem in PROBLEMS:
        jobs.append((f"{problem.id} reference", problem.reference, problem))
        jobs.append((f"{problem.id} trace code", trace_of(problem)[-1].code, problem))
    for example in EXAMPLES:
        jobs.append((f"{example.problem.id} few-shot code", example.steps[-1].code, example.problem))
        jobs.append((f"{example.problem.id} few-shot reference", example.problem.reference, example.problem))
    return jobs


@pytest.mark.skipif(Sandbox is None, reason="o1coder.execution.Sandbox is not importable")
def test_every_reference_and_trace_passes_its_tests_in_the_sandbox():
    jobs = _jobs()
    with Sandbox(limits=Limits(cpu_seconds=5, wall_seconds=10), workers=2) as sandbox:
        results = sandbox.run_many([(code, p.tests, p.setup) for _, code, p in jobs], cache=False)
    failures = [f"{label}: {r.status} {[o.message for o in r.outcomes if o.status != 'passed'][:2]} {r.message}"
                for (label, _, _), r in zip(jobs, results) if not r.all_passed]
    assert not failures, "\n".join(failures)
    assert all(r.n_tests >= 3 for r in results)
