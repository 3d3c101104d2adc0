"""The pseudocode and vanilla samplers on the scripted policy of test_search_mcts: trajectories advance one step per
batched call, end at code, dead steps or the depth limit, and merge into a tree the way the search's do."""

from __future__ import annotations

from test_search_mcts import A, A_GOOD, B, B_SYNTAX, JUNK, PROBLEM, TABLE

from o1coder.evaluation import Decoding, Sampler, answers_tree
from o1coder.models import SamplingParams, ScriptedGenerator
from o1coder.reasoning import END_OF_STEP
from o1coder.search.scripted import step_policy, steps_in_prompt


def sampler(generator, max_depth=5) -> Sampler:
    params = SamplingParams(max_new_tokens=100, seed=0)
    return Sampler(generator, Decoding(params, params, max_depth=max_depth, step_tokens=100, answer_tokens=300))


def test_trajectories_step_by_step():
    generator = ScriptedGenerator(step_policy(TABLE))
    a, b, junk = sampler(generator).answers(PROBLEM, "pseudocode", 3)
    assert (a.end, b.end, junk.end) == ("code", "code", "dead")
    assert a.texts == (A, A_GOOD) and b.texts == (B, B_SYNTAX) and junk.texts == (JUNK,)
    assert a.program == "def double(x):\n    return 2 * x" and b.program.endswith("x +") and junk.program is None
    words = [len(text.split(END_OF_STEP)[0].split()) for text in (A, A_GOOD)]  # generation stops at the marker
    assert a.tokens == sum(words)
    # depth 0: one prompt, 3 samples; depth 1: the two live trajectories in one call
    assert [steps_in_prompt(p) for p in generator.prompts_seen] == [(), ("A",), ("B",)]
    assert generator.usage.calls == 2
    tree = answers_tree(PROBLEM, [a, b, junk])
    assert [(n.parent, n.action, n.dead) for n in tree.nodes] == [
        (None, None, False), (0, 1, False), (1, 3, False), (0, 1, False), (3, 3, False), (0, None, True)]
    assert tree.root.visits == 3 and [n.id for n in tree.terminals()] == [2, 4]


def test_depth_limit_ends_a_trajectory_without_code():
    generator = ScriptedGenerator(step_policy(TABLE))
    answers = sampler(generator, max_depth=1).answers(PROBLEM, "pseudocode", 2)
    assert [x.end for x in answers] == ["depth", "depth"] and all(x.program is None for x in answers)
    assert generator.usage.calls == 1


def test_vanilla_answers():
    texts = ["Double.\n```python\ndef double(x):\n    return 2 * x\n```", "I cannot."]
    generator = ScriptedGenerator(lambda prompt, params, n: texts[:n])
    good, none = sampler(generator).answers(PROBLEM, "vanilla", 2)
    assert (good.end, none.end) == ("code", "no_code") and good.program.startswith("def double")
    assert generator.prompts_seen[0].endswith("### Answer\n") and generator.usage.calls == 1
    tree = answers_tree(PROBLEM, [good, none])
    assert [(n.depth, n.action, n.dead) for n in tree.nodes[1:]] == [(1, 3, False), (1, None, True)]
