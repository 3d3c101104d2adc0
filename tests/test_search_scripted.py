"""The trace policy: a scripted generator that replays the bundled reasoning traces with mistakes (notebooks and
tests use it to grow deep trees on a CPU). Seeded, deep, with right, wrong and dead steps, and it answers the
vanilla and whole-trace prompts too."""

from __future__ import annotations

import pytest

from o1coder.bundled import load_bundled, trace_of
from o1coder.execution import Limits, Sandbox
from o1coder.models import ScriptedGenerator
from o1coder.models.base import SamplingParams
from o1coder.reasoning import (
    STEP_STOP_STRINGS,
    TRACE_STOP_STRINGS,
    VANILLA_STOP_STRINGS,
    Action,
    extract_program,
    parse_steps,
    pseudocode_prompt,
    vanilla_prompt,
)
from o1coder.search import SearchConfig, search
from o1coder.search.scripted import steps_in_prompt, trace_policy

PROBLEMS = load_bundled("train")[:3]


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(limits=Limits(cpu_seconds=2, wall_seconds=5), workers=2) as sb:
        yield sb


def test_searches_grow_deep_trees_with_right_wrong_and_dead_steps(sandbox):
    config = SearchConfig(rollouts=12, k=3, max_depth=5)
    results = [search(p, ScriptedGenerator(trace_policy(PROBLEMS)), sandbox, config) for p in PROBLEMS]
    again = search(PROBLEMS[0], ScriptedGenerator(trace_policy(PROBLEMS)), sandbox, config)
    assert again.tree.to_dict() == results[0].tree.to_dict()  # seeded by the search's seeds only
    nodes = [n for r in results for n in r.tree.nodes]
    assert max(n.depth for n in nodes) >= 3
    assert any(n.dead for n in nodes)
    rewards = {n.reward for n in nodes if n.action == 3 and not n.dead}
    assert {1.0, 0.2} <= rewards  # the trace's code passes; "return None" compiles and fails
    assert sum(r.solved for r in results) >= 2
    for result in results:  # pseudocode steps are the trace's, retitled
        titles = {s.title for s in trace_of(next(p for p in PROBLEMS if p.id == result.problem_id))}
        for node in result.tree.nodes[1:]:
            if node.action in (1, 2):
                assert node.text.split(":", 1)[1].split(" (variant")[0].strip() in titles


def test_answers_vanilla_and_whole_trace_prompts():
    respond = trace_policy(PROBLEMS)
    problem = PROBLEMS[1]
    vanilla = respond(vanilla_prompt(problem), SamplingParams(stop=VANILLA_STOP_STRINGS, seed=3), 8)
    programs = {extract_program(text, problem.entry_point).code for text in vanilla}
    assert problem.reference.strip() in {p.strip() for p in programs} and len(programs) == 2
    whole = respond(pseudocode_prompt(problem), SamplingParams(stop=TRACE_STOP_STRINGS, seed=1), 12)
    for text in whole:
        read = parse_steps(text)
        assert all(r.ok for r in read[:-1])
        ends_in_code = read[-1].ok and read[-1].step.action == Action.CODE
        assert ends_in_code or text.endswith("escri") or len(read) == 8  # code, junk, or the step cap
    assert max(len(parse_steps(text)) for text in whole) >= 2
    one = respond(pseudocode_prompt(problem, trace_of(problem)[:1]), SamplingParams(stop=STEP_STOP_STRINGS), 6)
    assert all(len(parse_steps(text)) == 1 for text in one)
    assert steps_in_prompt(pseudocode_prompt(problem, trace_of(problem)[:1])) == (trace_of(problem)[0].title,)


def test_a_prompt_about_another_problem_is_an_error():
    respond = trace_policy(PROBLEMS)
    with pytest.raises(ValueError, match="none of its 3 problems"):
        respond(pseudocode_prompt(load_bundled("eval")[0]), SamplingParams(stop=STEP_STOP_STRINGS), 1)
