"""MCTS on a scripted policy: every visit count, value, UCT choice and reward below is computed by hand.

The policy (k = 3 samples per expansion, UCT with c = 2):

    root -> A (structure), B (structure), junk (dead)
    A    -> A good (code, passes: reward 1.0), A bad (code, fails: 0.2 = alpha * compiles), A2 (refine)
    B    -> B syntax (code, does not compile: 0.0), B bad (code, fails: 0.2), B syntax again (merged)
    A2   -> A2 good (code, passes: 1.0), A2 good again (merged), junk (dead)

Node ids follow creation: 0 root, 1 A, 2 B, 3 junk, 4 A good, 5 A bad, 6 A2, 7 B syntax, 8 B bad, 9 A2 good,
10 junk under A2. Rollouts, by hand (unvisited children first, ties to the earliest; dead children and terminals
already visited are never selected, a node with nothing left is re-expanded once, then exhausted):

    0: expand root, pick A; expand A, pick A good -> 1.0           path 0 1 4
    1: pick B (unvisited; junk is dead); expand B, B syntax -> 0.0 path 0 2 7
    2: UCT at N=2: A 1 + 2 sqrt(ln 2) = 2.665 > B 1.665; A bad (A good is settled) -> 0.2     path 0 1 5
    3: UCT at N=3: A .6 + 2 sqrt(ln 3 / 2) = 2.082 < B 2 sqrt(ln 3) = 2.096; B bad -> 0.2     path 0 2 8
    4: UCT at N=4: A .6 + 2 sqrt(ln 4 / 2) = 2.265 > B .1 + 1.665; A2 unvisited; expand A2 -> A2 good 1.0
    5: UCT at N=5: A .733 + 2 sqrt(ln 5 / 3) = 2.198 > B .1 + 2 sqrt(ln 5 / 2) = 1.894 -> A -> A2, whose children
       are settled or dead: re-expanded (the same samples merge), exhausted; again from the root: A (only A2 left,
       exhausted) re-expanded, exhausted; B the same; the root the same: the search stops, "exhausted", after 5
       rollouts. Reward executions: 5, one per distinct program, none repeated.
"""

from __future__ import annotations

import math

import pytest

from o1coder.execution import Sandbox
from o1coder.models import ScriptedGenerator
from o1coder.problems import Problem, TestCase
from o1coder.reasoning import Action, Step, render
from o1coder.search import SearchConfig, Tree, best_terminal, search
from o1coder.search.scripted import step_policy, steps_in_prompt
from o1coder.search.seeding import derive_seed
from o1coder.search.selection import exploration_weight


def code(title: str, body: str) -> str:
    return render(Step(Action.CODE, title, "Write it.", code=f"def double(x):\n    {body}"))


def plan(action: Action, title: str) -> str:
    return render(Step(action, title, "Plan it.", pseudocode=f"function double(x)  # {title}"))


A, B, A2 = plan(Action.STRUCTURE, "A"), plan(Action.STRUCTURE, "B"), plan(Action.REFINE, "A2")
A_GOOD, A_BAD = code("A good", "return 2 * x"), code("A bad", "return x")
B_SYNTAX, B_BAD = code("B syntax", "return x +"), code("B bad", "return 3 * x")
A2_GOOD = code("A2 good", "return x + x")
JUNK = "hello world, no step here"

TABLE = {
    (): [A, B, JUNK],
    ("A",): [A_GOOD, A_BAD, A2],
    ("B",): [B_SYNTAX, B_BAD, B_SYNTAX],
    ("A", "A2"): [A2_GOOD, A2_GOOD, JUNK],
}

PROBLEM = Problem(
    id="t/double", prompt="Return twice x.", entry_point="double",
    tests=[TestCase.assertion("assert double(2) == 4"), TestCase.assertion("assert double(3) == 6"),
           TestCase.assertion("assert double(0) == 0")],
    public_tests=[TestCase.assertion("assert double(2) == 4")],
)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(workers=2) as sb:
        yield sb


def run(sandbox, **overrides):
    generator = ScriptedGenerator(step_policy(TABLE))
    config = SearchConfig(**{"rollouts": 7, "k": 3, "max_depth": 5, **overrides})
    return search(PROBLEM, generator, sandbox, config), generator


def test_visits_values_and_rewards_by_hand(sandbox):
    result, _ = run(sandbox)
    nodes = result.tree.nodes
    assert [n.text for n in nodes] == [
        "", A, B, JUNK, A_GOOD, A_BAD, A2, B_SYNTAX, B_BAD, A2_GOOD, JUNK]
    assert [n.parent for n in nodes] == [None, 0, 0, 0, 1, 1, 1, 2, 2, 6, 6]
    assert [n.depth for n in nodes] == [0, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3]
    assert [n.action for n in nodes] == [None, 1, 1, None, 3, 3, 2, 3, 3, 3, None]
    assert [n.visits for n in nodes] == [5, 3, 2, 0, 1, 1, 1, 1, 1, 1, 0]
    assert [n.value_sum for n in nodes] == pytest.approx([2.4, 2.2, 0.2, 0, 1, 0.2, 1, 0, 0.2, 1, 0])
    assert nodes[1].value == pytest.approx(2.2 / 3)
    assert [n.reward for n in nodes] == pytest.approx([None, None, None, 0, 1, 0.2, None, 0, 0.2, 1, 0])
    assert [n.expanded for n in nodes] == [True, True, True, False, False, False, True] + [False] * 4
    assert [n.expansions for n in nodes] == [2, 2, 2, 0, 0, 0, 2] + [0] * 4
    assert [n.id for n in nodes if n.exhausted] == [0, 1, 2, 6]
    assert result.stats["rollouts"] == 5 and result.stats["stop_reason"] == "exhausted"
    assert result.stats["generator_calls"] == 8  # root, A, B, A2 once each, then each once more
    assert result.stats["passing_terminals"] == 2


def test_dead_and_settled_children_are_never_selected_again(sandbox):
    recorder = Recorder()
    result = search(PROBLEM, ScriptedGenerator(step_policy(TABLE)), sandbox,
                    SearchConfig(rollouts=50, k=3, max_depth=5), recorder)
    leaves = recorder.leaves
    assert len(leaves) == 5 and len(set(leaves)) == 5  # every rollout ends at a leaf never visited before
    dead = [n for n in result.tree.nodes if n.dead]
    assert len(dead) == 2 and all(n.visits == 0 for n in dead)
    assert all(n.visits == 1 for n in result.tree.terminals())


def test_max_reexpansions_bounds_the_extra_samples(sandbox):
    no_retry, generator = run(sandbox, max_reexpansions=0)
    assert no_retry.stats["stop_reason"] == "exhausted"
    assert no_retry.stats["generator_calls"] == 4 == generator.usage.calls
    assert [n.expansions for n in no_retry.tree.nodes if n.expanded] == [1, 1, 1, 1]
    twice, _ = run(sandbox, max_reexpansions=2, rollouts=50)
    assert twice.stats["generator_calls"] == 12 and twice.stats["rollouts"] == 5
    with pytest.raises(ValueError, match="max_reexpansions must be an integer >= 0"):
        SearchConfig(max_reexpansions=-1)


def test_reexpansion_draws_a_new_seed_and_finds_new_steps(sandbox):
    # A2 answers junk only the first time; its re-expansion (a new seed) finds a passing program
    seeds = []

    def respond(prompt, params, n):
        state = steps_in_prompt(prompt)
        if state == ("A", "A2"):
            seeds.append(params.seed)
            first = params.seed == derive_seed(0, "t/double", "expand", 6)
            return [JUNK] * n if first else [A2_GOOD] * n
        return step_policy(TABLE)(prompt, params, n)

    result = search(PROBLEM, ScriptedGenerator(respond), sandbox, SearchConfig(rollouts=50, k=3, max_depth=5))
    assert seeds == [derive_seed(0, "t/double", "expand", 6), derive_seed(0, "t/double", "expand", 6, 1)]
    a2 = result.tree.nodes[6]
    children = [result.tree.nodes[i] for i in a2.children]
    assert [c.text for c in children] == [JUNK, A2_GOOD] and a2.expansions == 2
    assert children[1].visits == 1 and children[1].reward == 1.0
    assert result.stats["stop_reason"] == "exhausted"


def test_a_search_with_only_dead_steps_stops_early_and_says_so(sandbox):
    generator = ScriptedGenerator(step_policy({}))  # every state answers unparseable text
    result = search(PROBLEM, generator, sandbox, SearchConfig(rollouts=20, k=3))
    assert result.stats["stop_reason"] == "exhausted" and result.stats["rollouts"] == 0
    assert generator.usage.calls == 2 and result.tree.root.exhausted and result.best is None
    assert result.tree.root.visits == 0  # nothing was learned, so nothing was backpropagated


def test_uct_terms_recorded_at_the_last_selection(sandbox):
    result, _ = run(sandbox)
    nodes = result.tree.nodes
    # the last scoring at the root was in rollout 5 (N_root = 5, c = 2); the last one with A still open: both scored
    a, b, junk = nodes[1].uct, nodes[2].uct, nodes[3].uct
    assert a == pytest.approx({"q": 2.2 / 3, "explore": 2 * math.sqrt(math.log(5) / 3), "score": 2.1982, "c": 2.0},
                              abs=1e-4)
    assert b["score"] == pytest.approx(0.1 + 2 * math.sqrt(math.log(5) / 2))
    assert junk is None  # dead: never scored
    # A2 was last chosen at A in rollout 5, the only child left open there (N_A = 3)
    assert nodes[6].uct == pytest.approx({"q": 1.0, "explore": 2 * math.sqrt(math.log(3)), "score": 3.0963,
                                          "c": 2.0}, abs=1e-4)


def test_dead_children_and_merged_duplicates(sandbox):
    result, _ = run(sandbox)
    junk, b_syntax, a2_good, dead2 = (result.tree.nodes[i] for i in (3, 7, 9, 10))
    assert junk.dead and junk.reward == 0.0 and junk.action is None and junk.text == JUNK
    assert junk.errors and "no step header" in junk.errors[0]
    # merged: one repeat in the first samples, then every re-expansion sample (the scripted policy repeats itself)
    assert b_syntax.duplicates == 3 and a2_good.duplicates == 3 and result.tree.nodes[4].duplicates == 1
    assert len(result.tree.nodes[2].children) == 2  # three samples, two distinct steps
    assert dead2.dead and dead2.visits == 0
    assert b_syntax.exec["status"] == "compile_error" and b_syntax.exec["compiled"] is False
    assert result.tree.nodes[5].exec == {
        "status": "failed", "n_passed": 0, "n_tests": 1, "compiled": True, "pass_rate": 0.0, "all_passed": False,
        "outcomes": [{"status": "failed", "message": "double(2): 2 == 4 is false"}]}


def test_answer_is_the_best_terminal_and_hidden_tests_score_it_once(sandbox):
    result, _ = run(sandbox)
    # A good and A2 good both have reward 1 and value 1: the earlier one wins
    assert result.best.id == 4
    assert result.answer == "def double(x):\n    return 2 * x"
    assert result.hidden.n_passed == 3 and result.solved
    # reward executions: A good + A bad, B syntax + B bad, A2 good; hidden: the answer once
    assert result.stats["executions_by_test_set"] == {"reward": 5, "hidden": 1}
    assert result.stats["programs_executed"] == 6


def test_the_majority_answer_is_the_program_most_paths_wrote(sandbox):
    """Three programs pass the one public test; the first is wrong on the hidden ones, the other two are one program
    written twice (layout and a comment apart). 'first' hands in the first, 'majority' the program written twice."""
    wrong, right, again = code("C1", "return x + 2"), code("C2", "return 2 * x"), code("C3", "return 2*x  # twice")
    table = {(): [plan(Action.STRUCTURE, "P")], ("P",): [wrong, right, again]}
    results = {}
    for answer in ("first", "majority"):
        config = SearchConfig(rollouts=1, k=3, max_depth=3, answer=answer)
        results[answer] = search(PROBLEM, ScriptedGenerator(step_policy(table)), sandbox, config)
    first, majority = results["first"], results["majority"]
    assert [n.reward for n in first.tree.terminals()] == [1.0, 1.0, 1.0]
    assert first.best.text == wrong and not first.solved and first.hidden.n_passed == 1
    assert majority.best.text == right and majority.solved
    assert majority.stats["executions_by_test_set"]["hidden"] == 1
    # the tree remembers its rule: the app's gold path and any later reader pick the same node
    assert best_terminal(majority.tree).id == majority.best.id and best_terminal(first.tree).id == first.best.id
    assert best_terminal(majority.tree, "first").id == first.best.id
    with pytest.raises(ValueError, match="answer must be one of 'first', 'majority'; got 'vote'"):
        best_terminal(majority.tree, "vote")


def test_early_stop_after_passing_terminals(sandbox):
    result, _ = run(sandbox, rollouts=50, stop_after_passing=2)
    assert result.stats["stop_reason"] == "passing" and result.stats["rollouts"] == 5
    result, _ = run(sandbox, rollouts=50, stop_after_passing=1)
    assert result.stats["rollouts"] == 1 and len(result.tree.nodes) == 7


def test_depth_limit_ends_paths_with_reward_zero(sandbox):
    result, _ = run(sandbox, max_depth=2, rollouts=7)
    a2 = result.tree.nodes[6]
    assert a2.text == A2 and a2.reward == 0.0 and not a2.expanded and a2.children == []
    assert len(result.tree.nodes) == 9 and max(n.depth for n in result.tree.nodes) == 2
    # rollout 4 ends at A2 (depth limit): 0 instead of 1.0; then everything is settled
    assert result.tree.nodes[1].visits == 3 and result.tree.nodes[1].value_sum == pytest.approx(1.2)
    assert a2.visits == 1 and a2.value == 0.0
    assert result.stats["rollouts"] == 5 and result.stats["stop_reason"] == "exhausted"
    assert result.stats["generator_calls"] == 6  # root, A, B, then each re-expanded once


def test_budget_caps_stop_between_rollouts(sandbox):
    result, _ = run(sandbox, max_executions=2)
    assert result.stats["stop_reason"] == "execution_budget" and result.stats["rollouts"] == 1
    assert result.stats["executions_by_test_set"]["reward"] == 2
    result, _ = run(sandbox, max_generated_tokens=1)
    assert result.stats["stop_reason"] == "token_budget" and result.stats["rollouts"] == 1
    assert result.stats["generator_calls"] == 2 and result.stats["tokens"]["completion"] > 1


def test_token_accounting_matches_the_generator(sandbox):
    result, generator = run(sandbox)
    assert result.stats["tokens"] == {"prompt": generator.usage.prompt_tokens,
                                      "completion": generator.usage.completion_tokens}
    assert result.stats["generator_calls"] == generator.usage.calls
    for node in result.tree.nodes[1:]:
        assert node.tokens == len(node.text.replace("<|end_step|>", "").split())


def test_seeds_derive_from_seed_problem_and_node():
    seen = []

    def respond(prompt, params, n):
        seen.append((steps_in_prompt(prompt), params.seed, params.stop[0], n))
        return step_policy(TABLE)(prompt, params, n)

    with Sandbox(workers=1) as sb:
        search(PROBLEM, ScriptedGenerator(respond), sb, SearchConfig(rollouts=2, seed=7))
    assert seen == [((), derive_seed(7, "t/double", "expand", 0), "<|end_step|>", 3),
                    (("A",), derive_seed(7, "t/double", "expand", 1), "<|end_step|>", 3),
                    (("B",), derive_seed(7, "t/double", "expand", 2), "<|end_step|>", 3)]
    assert derive_seed(7, "t/double", "expand", 0) == derive_seed(7, "t/double", "expand", 0) < 2**31


def test_same_seed_same_tree_and_json_round_trip(sandbox):
    first, _ = run(sandbox)
    second, _ = run(sandbox)
    assert first.tree.to_dict() == second.tree.to_dict()
    data = first.tree.to_dict()
    assert Tree.from_dict(data).to_dict() == data
    assert data["config"]["search"]["rollouts"] == 7 and data["config"]["reward_tests"]["n_reward"] == 1


def test_decaying_exploration_weight_is_recorded():
    assert exploration_weight(2.0, "constant", 5, 10) == 2.0
    assert exploration_weight(2.0, "exponential", 0, 10) == 2.0
    assert exploration_weight(2.0, "exponential", 5, 10, 0.1) == pytest.approx(2 * 0.1**0.5)
    assert exploration_weight(2.0, "linear", 5, 10, 0.1) == pytest.approx(1.1)
    assert exploration_weight(2.0, "linear", 10, 10, 0.1) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="unknown exploration schedule 'cosine'"):
        exploration_weight(2.0, "cosine", 0, 10)


def test_linear_decay_changes_the_choice(sandbox):
    # at rollout 3 of 7 with linear decay to 0.1: c = 2 * (1 - 0.9 * 3/7) = 1.229; A .6 + 1.229 * .741 = 1.511 >
    # B = 1.229 * 1.048 = 1.288: the search deepens A (A2 good) where the constant c explored B (B bad)
    constant, linear = Recorder(), Recorder()
    for recorder, schedule in ((constant, "constant"), (linear, "linear")):
        search(PROBLEM, ScriptedGenerator(step_policy(TABLE)), sandbox,
               SearchConfig(rollouts=7, k=3, exploration_schedule=schedule), recorder)
    rewards = {name: [e[2] for e in r.events if e[0] == "rollout"] for name, r in (("c", constant), ("l", linear))}
    assert rewards["c"] == pytest.approx([1.0, 0.0, 0.2, 0.2, 1.0])
    assert rewards["l"] == pytest.approx([1.0, 0.0, 0.2, 1.0, 0.2])


class Recorder:
    def __init__(self):
        self.events, self.leaves = [], []

    def node_added(self, tree, node):
        self.events.append(("added", node.id, node.visits))

    def node_updated(self, tree, node):
        self.events.append(("updated", node.id, node.visits))

    def rollout_finished(self, tree, rollout, stats):
        self.events.append(("rollout", rollout, stats["reward"], len(tree.nodes)))
        self.leaves.append(stats["leaf"])


def test_observer_sees_every_node_and_rollout(sandbox):
    recorder = Recorder()
    search(PROBLEM, ScriptedGenerator(step_policy(TABLE)), sandbox, SearchConfig(rollouts=7, k=3), recorder)
    added = [e[1] for e in recorder.events if e[0] == "added"]
    assert added == list(range(11))
    rollouts = [e for e in recorder.events if e[0] == "rollout"]
    assert [e[1] for e in rollouts] == list(range(5))
    assert [e[2] for e in rollouts] == pytest.approx([1.0, 0.0, 0.2, 0.2, 1.0])
    # the last update of the root before each rollout ends carries its new visit count
    root_visits = [e[2] for e in recorder.events if e[0] == "updated" and e[1] == 0]
    assert root_visits[-1] == 5 and sorted(set(root_visits)) == list(range(6))


def test_puct_with_a_prm_prior_follows_the_prior(sandbox):
    scores = {"A": 0.2, "B": 0.8, "A2": 0.5}

    def prior_fn(problem, steps):
        return [scores.get(s.title, 0.5) for s in steps]

    config = SearchConfig(rollouts=3, k=3, selection="puct", prior="prm", exploration_weight=1.0)
    result = search(PROBLEM, ScriptedGenerator(step_policy(TABLE)), sandbox, config, prior_fn=prior_fn)
    a, b, junk = result.tree.nodes[1:4]
    assert (a.prm, b.prm, junk.prm) == (0.2, 0.8, None)
    assert (a.prior, b.prior, junk.prior) == pytest.approx((0.2, 0.8, 0.0))
    # rollout 0 goes to B, the prior's favourite, though A was sampled first
    assert result.tree.nodes[4].parent == 2
    assert b.visits >= 2 and junk.visits == 0


def test_prm_prior_without_a_prior_fn_is_an_error(sandbox):
    with pytest.raises(ValueError, match="prior='prm' needs prior_fn"):
        run(sandbox, selection="puct", prior="prm")


class RecordingSandbox:
    """Passes jobs through to a real sandbox and remembers which tests each program ran on."""

    def __init__(self, inner):
        self.inner, self.test_sets = inner, []

    def run_many(self, jobs, cache=None):
        jobs = list(jobs)
        self.test_sets.extend(tuple(tests) for _, tests, _ in jobs)
        return self.inner.run_many(jobs, cache=cache)


def test_hidden_tests_never_steer_the_search(sandbox):
    recording = RecordingSandbox(sandbox)
    config = SearchConfig(rollouts=7, k=3, reward_tests="heldout", heldout_fraction=0.34)
    result = search(PROBLEM, ScriptedGenerator(step_policy(TABLE)), recording, config)
    split = result.tree.config["reward_tests"]
    assert (split["mode"], split["n_reward"], split["n_hidden"]) == ("heldout", 1, 2)
    reward_tests = {PROBLEM.tests[i] for i in split["heldout_indices"]}
    *during, final = recording.test_sets
    assert len(during) == 5 and all(set(tests) == reward_tests for tests in during)
    assert set(final) == set(PROBLEM.tests) - reward_tests  # the answer, scored once on the hidden rest
    assert result.stats["executions_by_test_set"] == {"reward": 5, "hidden": 1}
    assert result.hidden.n_tests == 2


class BatchedPrior:
    """A PRM-like prior_fn with score_many: counts its calls and the paths in each."""

    scores = {"A": 0.2, "B": 0.8, "A2": 0.5}

    def __init__(self):
        self.batches: list[int] = []

    def __call__(self, problem, steps):
        raise AssertionError("the search must score a node's children in one score_many call")

    def score_many(self, items):
        self.batches.append(len(items))
        return [[self.scores.get(s.title, 0.5) for s in steps] for _, steps in items]


def test_puct_scores_a_nodes_children_in_one_batched_call(sandbox):
    prior = BatchedPrior()
    config = SearchConfig(rollouts=3, k=3, selection="puct", prior="prm", exploration_weight=1.0)
    result = search(PROBLEM, ScriptedGenerator(step_policy(TABLE)), sandbox, config, prior_fn=prior)
    expanded = [n for n in result.tree.nodes if n.expanded]
    # one call per expansion with that expansion's new live children (re-expansions merge: nothing new to score)
    live_children = [sum(1 for i in n.children if not result.tree.nodes[i].dead) for n in expanded]
    assert sorted(prior.batches) == sorted(live_children) and len(prior.batches) == len(expanded) == 3
    assert [result.tree.nodes[i].prm for i in result.tree.root.children] == [0.2, 0.8, None]
