"""The synthetic world: determinism per seed, splits held out by composition, references and traces that pass in the
real sandbox, tests that tell programs apart, trace steps in the project's format, specs and bad options."""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict

import pytest

from o1coder.bundled import resolve_problem_spec, trace_of
from o1coder.cli import main
from o1coder.execution import Limits, Sandbox
from o1coder.loaders import synthetic
from o1coder.loaders.synthetic import LEVELS, capacity, compositions, parse_spec, split_of
from o1coder.problems import Problem, load_problems
from o1coder.reasoning import Action, extract_program, parse, render
from o1coder.reasoning.steps import parse_steps, render_trace

SPLITS = ("train", "eval")


def _load(split: str, n: int, level: int, seed: int = 0) -> list[Problem]:
    return load_problems("synthetic", split=split, n=n, seed=seed, level=level)


# a few hundred problems: every level, both splits, two seeds per split
SAMPLE = [p for level in LEVELS for split, seed in (("train", 0), ("eval", 1)) for p in _load(split, 40, level, seed)]


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(limits=Limits(cpu_seconds=5, wall_seconds=10), workers=2) as sb:
        yield sb


# ------------------------------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("level", list(LEVELS))
def test_same_seed_same_problems_and_a_longer_load_extends_a_shorter_one(level):
    first = [p.to_dict() for p in _load("train", 30, level, seed=5)]
    again = [p.to_dict() for p in _load("train", 30, level, seed=5)]
    longer = [p.to_dict() for p in _load("train", 60, level, seed=5)]
    assert first == again
    assert longer[:30] == first
    other = [p["id"] for p in (x.to_dict() for x in _load("train", 30, level, seed=6))]
    assert other != [p["id"] for p in first]  # the seed picks which problems


def test_problems_do_not_depend_on_the_process_hash_seed():
    """Python salts ``hash`` per process: nothing about a problem may depend on it."""
    import os
    import subprocess
    import sys

    script = ("import json; from o1coder.problems import load_problems; print(json.dumps([p.to_dict() for p in "
              "load_problems('synthetic', split='eval', n=25, level=5, seed=3)]))")
    outputs = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": salt}).stdout for salt in ("1", "2")}
    assert len(outputs) == 1
    assert json.loads(outputs.pop()) == [p.to_dict() for p in _load("eval", 25, 5, seed=3)]


def test_a_problem_is_the_same_whichever_seed_draws_it():
    by_id = {}
    for seed in range(4):
        for p in _load("eval", 150, 1, seed):
            assert by_id.setdefault(p.id, p.to_dict()) == p.to_dict()
    assert len(by_id) > 150  # different seeds drew different problems, and agreed on the shared ones


def test_no_duplicates_up_to_the_whole_split():
    whole = _load("eval", capacity(1, "eval"), 1, seed=3)
    assert len(whole) == capacity(1, "eval")
    assert len({p.id for p in whole}) == len(whole)
    assert len({p.prompt for p in whole}) == len(whole)
    assert len({json.dumps([t.to_dict() for t in p.tests]) for p in whole}) == len(whole)


def test_ids_are_stable_and_name_the_level():
    for p in SAMPLE:
        level = p.metadata["level"]
        identity = p.metadata["family"] + "|" + ",".join(p.metadata["parts"])
        assert p.id == f"synthetic/{level}/{hashlib.sha256(identity.encode()).hexdigest()[:12]}"
        assert Problem.from_dict(json.loads(json.dumps(p.to_dict()))) == p


# ------------------------------------------------------------------------------------------------------ splits


def _documented_split(key: str) -> str:
    """The rule as the README writes it, computed independently of the module."""
    return "eval" if int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 100 < synthetic.EVAL_PERCENT else "train"


@pytest.mark.parametrize("level", list(LEVELS))
def test_train_and_eval_compositions_are_disjoint_whatever_the_seeds(level):
    train = {p.metadata["composition"] for seed in (0, 1, 2) for p in _load("train", 80, level, seed)}
    evaluation = {p.metadata["composition"] for seed in (0, 7, 11) for p in _load("eval", 80, level, seed)}
    assert train and evaluation and not train & evaluation
    for key in train | evaluation:
        assert split_of(key) == _documented_split(key)
    assert all(_documented_split(k) == "train" for k in train)
    assert all(_documented_split(k) == "eval" for k in evaluation)
    all_train = {k for keys in compositions(level, "train").values() for k in keys}
    all_eval = {k for keys in compositions(level, "eval").values() for k in keys}
    assert not all_train & all_eval
    assert evaluation <= all_eval and train <= all_train


def test_a_composition_key_ignores_constants_order_and_form():
    keys = defaultdict(set)
    for p in SAMPLE:
        keys[p.metadata["composition"]].add(p.metadata["split"])
        parts = sorted(token.split("=")[0] for token in p.metadata["parts"])
        group = p.metadata["composition"].split("|")[0]
        assert p.metadata["composition"] == group + "|" + ",".join(parts)
    assert all(len(splits) == 1 for splits in keys.values())
    assert split_of("list|aggregate:sum,filter:even,transform:square") == split_of(
        "list|aggregate:sum,filter:even,transform:square")


@pytest.mark.parametrize("level", list(LEVELS))
def test_every_part_of_an_eval_composition_is_seen_in_train(level):
    train, evaluation = compositions(level, "train"), compositions(level, "eval")
    for family, eval_keys in evaluation.items():
        assert eval_keys, f"level {level}: family {family} has no eval composition"
        seen = {part for key in train[family] for part in key.split("|")[1].split(",")}
        needed = {part for key in eval_keys for part in key.split("|")[1].split(",")}
        assert needed <= seen, f"level {level}, {family}: parts only in eval: {sorted(needed - seen)}"


def test_level_one_train_uses_every_list_part():
    from o1coder.loaders.synthetic.parts import AGGREGATES, FILTERS, TRANSFORMS

    used = {part for key in compositions(1, "train")["list-function"] for part in key.split("|")[1].split(",")}
    assert used == {p.key for p in FILTERS + TRANSFORMS + AGGREGATES}


def test_capacity_is_what_a_split_can_hold():
    assert 1_000 < capacity(1, "train") < 2_000 and 300 < capacity(1, "eval") < 700
    assert capacity(5, "eval") > 100_000  # the top level is a large benchmark
    for level in LEVELS:
        share = capacity(level, "eval") / (capacity(level, "eval") + capacity(level, "train"))
        assert 0.15 < share < 0.40, (level, share)


# -------------------------------------------------------------------------------------- problems, tests, traces


def test_levels_have_their_families_and_test_forms():
    families = defaultdict(set)
    for p in SAMPLE:
        families[p.metadata["level"]].add(p.metadata["family"])
        kinds = {t.kind for t in p.tests + p.public_tests}
        assert kinds == ({"stdio"} if p.is_stdio else {"call"})
        assert len(p.tests) >= 3 and len(p.public_tests) >= 1
        assert not {json.dumps(t.to_dict()) for t in p.tests} & {json.dumps(t.to_dict()) for t in p.public_tests}
        if not p.is_stdio:
            assert all(t.fn == p.entry_point for t in p.tests)
    assert families[1] == {"list-function"}
    assert families[2] == {"list-stdio", "string-2"}
    assert families[3] == {"list-function", "list-cases", "string-3"}
    assert families[4] == {"grid", "list-cases", "string-4"}
    assert families[5] == {"grid-stdio", "list-function", "string-5"}


def test_answers_depend_on_the_input():
    for p in SAMPLE:
        answers = {json.dumps(t.to_dict().get("expected", t.stdout)) for t in p.tests + p.public_tests}
        assert len(answers) >= 2, f"{p.id} has the same answer for every test: {p.prompt}"


def test_statements_vary_in_wording():
    prompts = [p.prompt for p in _load("train", 200, 1)]
    openings = {p.split(",")[0].split(":")[0] for p in prompts}
    assert len(openings) == 3
    text = " ".join(prompts)
    assert "keep the numbers" in text and "select the numbers" in text and "keep only the values" in text
    assert "; finally " in text and ", then " in text
    assert "square each one" in text and "replace each of them by its square" in text


def test_trace_steps_parse_and_render_round_trip():
    for p in SAMPLE:
        steps = trace_of(p)
        actions = [s.action for s in steps]
        assert actions[0] is Action.STRUCTURE and actions[-1] is Action.CODE
        assert 1 <= actions.count(Action.REFINE) <= 2 and len(actions) == actions.count(Action.REFINE) + 2
        for step in steps:
            assert step.issues() == []
            assert parse(render(step)).step == step
        assert [r.step for r in parse_steps(render_trace(steps))] == steps
        pseudocode = [s.pseudocode for s in steps[:-1]]
        assert len(set(pseudocode)) == len(pseudocode), "each refine step must change the pseudocode"
        assert steps[-1].code == p.reference
        assert extract_program(steps[-1].code, p.entry_point).ok


def test_traces_are_short_at_level_one():
    lengths = [len(render_trace(trace_of(p))) for p in _load("train", 100, 1)]
    assert max(lengths) < 1_100 and sum(lengths) / len(lengths) < 900


def test_every_reference_and_trace_passes_hidden_and_public_tests(sandbox):
    jobs = []
    for p in SAMPLE:
        code = trace_of(p)[-1].code
        jobs += [(p.reference, p.tests, p.setup), (p.reference, p.public_tests, p.setup), (code, p.tests, p.setup)]
    results = sandbox.run_many(jobs)
    failures = [(job[0][:60], r.status, r.message if hasattr(r, "message") else "")
                for job, r in zip(jobs, results) if not r.all_passed]
    assert not failures, failures[:5]
    assert len(SAMPLE) >= 300


def test_tests_tell_compositions_apart(sandbox):
    """Another problem's reference (same family and level, another composition) fails this problem's tests."""
    by_family = defaultdict(list)
    for p in SAMPLE:
        by_family[(p.metadata["level"], p.metadata["family"])].append(p)
    jobs = []
    for group in by_family.values():
        for p, other in zip(group, group[1:] + group[:1]):
            if other.metadata["parts"] != p.metadata["parts"] and other.entry_point == p.entry_point or p.is_stdio:
                jobs.append((other.reference, p.tests, p.setup))
            elif not p.is_stdio:  # rename the other function so only its behaviour differs
                jobs.append((other.reference.replace(f"def {other.entry_point}(", f"def {p.entry_point}("),
                             p.tests, p.setup))
    results = sandbox.run_many(jobs)
    caught = sum(not r.all_passed for r in results)
    assert len(jobs) >= 250 and caught / len(jobs) >= 0.95


def _skipping_one_part(code: str) -> list[str]:
    """The program with one part's line left out (a filter's condition dropped instead, so it keeps everything)."""
    lines = code.split("\n")
    out = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if re.fullmatch(r"values = \[x for x in \w+ if .+\]", stripped):
            out.append("\n".join(lines[:i] + [re.sub(r" if .+\]$", "]", line)] + lines[i + 1:]))
        elif re.fullmatch(r"values = \[.+ for x in (values|results)\]", stripped) or re.fullmatch(r"s = .+", stripped):
            out.append("\n".join(lines[:i] + lines[i + 1:]))
    return out


def test_a_program_that_skips_a_part_fails_the_hidden_tests(sandbox):
    """Each part's line, left out of the reference, makes it fail: the tests check every part, not only the answer's
    shape (the filter is the part most easily skipped: a maximum of numbers above 3 is often the maximum of all)."""
    jobs = [(mutant, p.tests, p.setup) for p in SAMPLE for mutant in _skipping_one_part(p.reference)]
    results = sandbox.run_many(jobs)
    caught = sum(not r.all_passed for r in results)
    assert len(jobs) >= 600
    assert caught / len(jobs) >= 0.98, f"{len(jobs) - caught} of {len(jobs)} programs skipping a part passed"


# ------------------------------------------------------------------------------------------- specs and options


def test_specs_set_split_size_seed_and_level():
    problems = resolve_problem_spec("synthetic:eval,n=7,seed=2,level=3")
    assert [p.to_dict() for p in problems] == [p.to_dict() for p in _load("eval", 7, 3, seed=2)]
    assert len(resolve_problem_spec("synthetic:train")) == synthetic.DEFAULT_N["train"]
    assert all(p.metadata["level"] == synthetic.DEFAULT_LEVEL for p in resolve_problem_spec("synthetic:eval"))
    assert len(resolve_problem_spec("synthetic:train,n=50", limit=4)) == 4  # what --limit passes
    assert parse_spec("synthetic:eval, n=3 ,level=2") == {"split": "eval", "n": 3, "level": 2}


def test_skip_gives_the_problems_after_the_first_k():
    """``skip=K``: problems K.. of the seed's list, new to a policy warm-started on the first K (the demo's rounds)."""
    first = resolve_problem_spec("synthetic:train,n=30,seed=4")
    assert [p.id for p in resolve_problem_spec("synthetic:train,n=10,seed=4,skip=20")] == [p.id for p in first[20:]]
    assert parse_spec("synthetic:train,n=5,skip=3") == {"split": "train", "n": 5, "skip": 3}
    # part=P: the P-th block of n after the skipped ones (a loop's part={round}: new problems every round)
    assert [p.id for p in resolve_problem_spec("synthetic:train,n=4,seed=4,skip=10,part=2")] == \
        [p.id for p in first[18:22]]
    most = synthetic.capacity(1, "train")
    with pytest.raises(ValueError, match=f"n=10 after the first {most - 5} is more than the train split"):
        resolve_problem_spec(f"synthetic:train,n=10,skip={most - 5}")
    with pytest.raises(ValueError, match="skip must be an integer >= 0"):
        load_problems("synthetic", n=3, skip=-1)
    with pytest.raises(ValueError, match="part must be an integer >= 0"):
        load_problems("synthetic", n=3, part=-1)


@pytest.mark.parametrize("spec, words", [
    ("synthetic", ["synthetic:train", "synthetic:eval"]),
    ("synthetic:test", ["synthetic:train", "synthetic:eval"]),
    ("synthetic:train,size=3", ["'size=3'", "n=", "seed=", "level=", "skip=", "part="]),
    ("synthetic:train,n=many", ["n must be an integer", "'many'"]),
    ("synthetic:train,level=9", ["level 9", "1, 2, 3, 4, 5"]),
    ("synthetic:eval,n=0", ["n must be a positive integer", "0"]),
])
def test_bad_specs_name_the_option_and_what_is_allowed(spec, words):
    with pytest.raises(ValueError) as error:
        resolve_problem_spec(spec)
    for word in words:
        assert word in str(error.value)


@pytest.mark.parametrize("options, words", [
    ({"split": "test"}, ["split 'test'", "train, eval"]),
    ({"level": 0}, ["level 0", "1, 2, 3, 4, 5"]),
    ({"level": "2"}, ["level '2'"]),
    ({"level": 2.0}, ["level 2.0"]),
    ({"n": 0}, ["n must be a positive integer"]),
    ({"n": -3}, ["n must be a positive integer", "-3"]),
    ({"seed": 1.5}, ["seed must be an integer"]),
    ({"n": 10, "limit": 0}, ["limit must be a positive integer"]),
])
def test_bad_options_name_the_option_and_what_is_allowed(options, words):
    with pytest.raises(ValueError) as error:
        load_problems("synthetic", **options)
    for word in words:
        assert word in str(error.value)


def test_more_than_the_split_holds_is_an_error_naming_the_capacity():
    most = capacity(1, "eval")
    with pytest.raises(ValueError, match=rf"n={most + 1} .*eval split of level 1 holds \({most} distinct"):
        load_problems("synthetic", split="eval", n=most + 1)
    with pytest.raises(ValueError, match="generated, not read from a file"):
        load_problems("synthetic", "world.jsonl")
    with pytest.raises(TypeError, match="no option 'size'"):
        load_problems("synthetic", size=3)


def test_verify_runs_the_world_through_the_sandbox(capsys):
    assert main(["verify", "synthetic:eval,n=12,level=2", "--json", "--workers", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["checked"] == 12 and report["passed"] == 12
    assert main(["verify", "synthetic", "--limit", "5", "--json", "--workers", "1"]) == 0  # the defaults: train
    assert json.loads(capsys.readouterr().out)["passed"] == 5


# ---------------------------------------------------------------------------------------------- in the search


def test_a_recorded_search_on_the_world_solves_it_and_resolves_its_spec_again(tmp_path, sandbox):
    """The world through the search and the run store: a policy replaying the traces (with mistakes) solves most
    problems, and the recorded spec gives back the same problems (what --resume relies on)."""
    from o1coder.models import ScriptedGenerator
    from o1coder.runs import RunStore, get_run, problem_results
    from o1coder.runs.driver import planned_problems, search_problems
    from o1coder.search.scripted import trace_policy

    spec = "synthetic:eval,n=6,seed=4,level=2"
    chosen = resolve_problem_spec(spec)
    recipe = {"name": "scripted", "seed": 0, "search": {"rollouts": 10, "k": 3, "max_depth": 5, "few_shot": False}}
    with RunStore(tmp_path) as store:
        run_id = store.create_run(recipe, chosen, problem_spec=spec)
        search_problems(store, run_id, chosen, generator=ScriptedGenerator(trace_policy(chosen, seed=1)),
                        sandbox=sandbox, recipe=recipe)
    run = get_run(run_id, tmp_path)
    assert [p.to_dict() for p in planned_problems(run, tmp_path)] == [p.to_dict() for p in chosen]
    results = problem_results(run_id, tmp_path)
    assert len(results) == 6 and 4 <= int(results["passed"].sum()) <= 6
    assert {p.metadata["family"] for p in chosen} == {"list-stdio", "string-2"}


def test_the_app_shows_the_statements_of_a_run_on_the_world(monkeypatch):
    from o1coder.paths import PROJECT_ROOT

    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "app"))  # the app's own modules (ui.*), as streamlit does
    from ui.data import problem_statements

    assert problem_statements("synthetic:eval,n=5,level=2") == {p.id: p.prompt for p in _load("eval", 5, 2)}


def test_splits_are_disjoint_across_levels_too():
    train = {k for level in LEVELS for keys in compositions(level, "train").values() for k in keys}
    evaluation = {k for level in LEVELS for keys in compositions(level, "eval").values() for k in keys}
    assert not train & evaluation  # a level-3 program over several lists never reveals a level-1 eval composition


def test_the_traces_are_warm_start_rows():
    from o1coder.training.data import trace_rows

    problems = resolve_problem_spec("synthetic:train,n=20,level=2")
    rows = trace_rows(problems)
    assert [r["problem_id"] for r in rows] == [p.id for p in problems]
    for row, problem in zip(rows, problems):
        assert problem.prompt in row["prompt"]
        assert [r.step for r in parse_steps(row["completion"])] == trace_of(problem)


def test_the_readme_example_is_what_the_world_makes():
    from o1coder.loaders.synthetic.parts import AGGREGATES, FILTERS, TRANSFORMS, Use
    from o1coder.paths import PROJECT_ROOT
    from o1coder.reasoning.prompts import format_question

    part = {p.key: p for p in FILTERS + TRANSFORMS + AGGREGATES}
    uses = (Use(part["filter:greater"], 5), Use(part["transform:add"], 1), Use(part["aggregate:min"]))
    problem = LEVELS[1][0].build(uses, 1, "train")
    readme = PROJECT_ROOT.joinpath("README.md").read_text(encoding="utf-8")
    assert problem.id == "synthetic/1/4d3260a8ccad" and problem.id in readme
    assert " ".join(format_question(problem).split()) in " ".join(readme.split())
    assert render_trace(trace_of(problem)).strip() in readme
    assert problem in _load("train", capacity(1, "train"), 1)  # a problem the train split really holds
