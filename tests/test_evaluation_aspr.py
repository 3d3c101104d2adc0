"""ASPR on constructed trees whose answer is known: a scripted policy answers K code samples per state, and we
know how many of them pass the hidden tests.

    problem "t/one":  root -> A -> A2 -> "2 * x"      (passes hidden; value 0.5)
                      root -> A -> "x * x"            (passes the public test only; value 1.0: the search's best)
                      from state (A, A2): 3 of 4 samples pass                                 -> ASPR_p = 0.75
    problem "t/two":  root -> "x + x" (code as the first step)
                      from the bare prompt: 1 of 4 passes                                     -> ASPR_p = 0.25
    problem "t/none": root -> A -> "x * x" only: no correct path                              -> excluded
    ASPR = (0.75 + 0.25) / 2 = 0.5, over 2 problems, 1 excluded.
"""

from __future__ import annotations

import pytest

from o1coder.evaluation import Decoding, Sampler, aspr, problem_aspr, summarize
from o1coder.execution import Sandbox
from o1coder.models import SamplingParams, ScriptedGenerator
from o1coder.problems import Problem, TestCase
from o1coder.reasoning import Action, Step, render
from o1coder.search import Tree, best_terminal
from o1coder.search.scripted import steps_in_prompt

HIDDEN = [TestCase.assertion("assert double(2) == 4"), TestCase.assertion("assert double(3) == 6"),
          TestCase.assertion("assert double(0) == 0")]


def problem(pid: str) -> Problem:
    return Problem(id=pid, prompt="Return twice x.", entry_point="double", tests=HIDDEN,
                   public_tests=[TestCase.assertion("assert double(2) == 4")])


def code(title: str, body: str) -> str:
    return render(Step(Action.CODE, title, "Write it.", code=f"def double(x):\n    return {body}"))


def plan(action: Action, title: str) -> str:
    return render(Step(action, title, "Plan it.", pseudocode=f"function double(x)  # {title}"))


A, A2 = plan(Action.STRUCTURE, "A"), plan(Action.REFINE, "A2")
GOOD, GOOD2, SQUARE, WRONG = code("good", "2 * x"), code("good too", "x + x"), code("square", "x * x"), code("bad", "x")

SAMPLES = {  # state (step titles) -> the K = 4 next steps the scripted policy writes
    ("A", "A2"): [GOOD, GOOD2, GOOD, WRONG],
    (): [GOOD2, WRONG, SQUARE, A],  # the last one is not a code step: it counts as a failure
}


def respond(prompt, params, n):
    texts = SAMPLES[steps_in_prompt(prompt)]
    assert n == len(texts)
    return texts


def add(tree: Tree, parent: int, action: int, text: str, value: float = 0.0, reward: float | None = None):
    node = tree.add(parent, action, text)
    node.visits, node.value_sum, node.reward = 1, value, reward
    return node


def trees() -> dict[str, Tree]:
    one = Tree("t/one")
    one.add(None, None, "")
    a = add(one, 0, 1, A)
    a2 = add(one, a.id, 2, A2)
    add(one, a2.id, 3, GOOD, value=0.5, reward=1.0)  # node 3: correct on the hidden tests
    add(one, a.id, 3, SQUARE, value=1.0, reward=1.0)  # node 4: passes the public test, fails hidden ones
    two = Tree("t/two")
    two.add(None, None, "")
    add(two, 0, 3, GOOD2, reward=1.0)
    none = Tree("t/none")
    none.add(None, None, "")
    add(none, add(none, 0, 1, A).id, 3, SQUARE, reward=1.0)
    return {"t/one": one, "t/two": two, "t/none": none}


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(workers=2) as sb:
        yield sb


def sampler(generator) -> Sampler:
    params = SamplingParams(max_new_tokens=200, seed=0)
    return Sampler(generator, Decoding(params, params, max_depth=5, step_tokens=200, answer_tokens=400))


def test_aspr_on_a_constructed_tree(sandbox):
    generator = ScriptedGenerator(respond)
    items = [(problem(pid), tree) for pid, tree in trees().items()]
    report = aspr(items, "pseudocode", sampler(generator), sandbox, k=4)
    one, two, none = report.problems
    assert report.summary.value == pytest.approx(0.5)
    assert (report.summary.included, report.summary.excluded) == (2, 1)
    # t/one: the search's own best terminal (node 4) fails the hidden tests; the correct path runs through A2
    assert best_terminal(items[0][1]).id == 4
    assert (one.correct_node, one.state_node, one.state_steps, one.passed, one.rate) == (3, 2, 2, 3, 0.75)
    assert (one.code_nodes, one.correct_nodes) == (2, 1)
    assert (two.correct_node, two.state_node, two.state_steps, two.passed, two.rate) == (1, 0, 0, 1, 0.25)
    assert two.ends == {"code": 3, "no_code": 1}
    assert not none.included and none.rate is None and none.passed == 0 and none.code_nodes == 1
    # one call per included problem, K samples from the state's prompt, which ends with the state's steps
    assert [steps_in_prompt(p) for p in generator.prompts_seen] == [("A", "A2"), ()]
    assert generator.usage.calls == 2 and generator.usage.completions == 8
    assert summarize(report.problems).to_dict() == report.summary.to_dict()


def test_no_included_problem_gives_none(sandbox):
    generator = ScriptedGenerator(respond)
    record = problem_aspr(problem("t/none"), trees()["t/none"], "pseudocode", sampler(generator), sandbox, k=4)
    assert summarize([record]).to_dict() == {"value": None, "included": 0, "excluded": 1}
    assert generator.usage.calls == 0  # nothing is sampled for an excluded problem


def test_vanilla_state_is_the_vanilla_prompt(sandbox):
    answers = ["Twice.\n```python\ndef double(x):\n    return 2 * x\n```", "No idea.",
               "```python\ndef double(x):\n    return x\n```", "```python\ndef double(x):\n    return x + x\n```"]
    generator = ScriptedGenerator(lambda prompt, params, n: answers[:n])
    tree = Tree("t/v")
    tree.add(None, None, "")
    add(tree, 0, 3, answers[2], reward=0.2)
    add(tree, 0, 3, answers[0], reward=1.0)
    record = problem_aspr(problem("t/v"), tree, "vanilla", sampler(generator), sandbox, k=4)
    assert (record.correct_node, record.state_node, record.passed, record.rate) == (2, 0, 2, 0.5)
    assert generator.prompts_seen[0].endswith("### Answer\n")
    deep = trees()["t/one"]
    with pytest.raises(ValueError, match="mode 'vanilla' needs code nodes right under the root"):
        problem_aspr(problem("t/one"), deep, "vanilla", sampler(generator), sandbox, k=4)


def test_a_problem_without_hidden_tests_is_an_error(sandbox):
    bare = Problem(id="t/bare", prompt="x", entry_point="double", tests=[])
    with pytest.raises(ValueError, match="no hidden tests"):
        problem_aspr(bare, trees()["t/two"], "pseudocode", sampler(ScriptedGenerator(respond)), sandbox, k=4)
