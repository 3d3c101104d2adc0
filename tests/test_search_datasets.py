"""D_process, D+ and sibling pairs from the hand-computed MCTS tree of test_search_mcts, checked exactly."""

from __future__ import annotations

import pytest
from test_search_mcts import A2, A2_GOOD, A_BAD, A_GOOD, B_BAD, B_SYNTAX, JUNK, PROBLEM, A, B, run

from o1coder.execution import Sandbox
from o1coder.reasoning import parse, pseudocode_messages, pseudocode_prompt
from o1coder.search import Tree
from o1coder.search.datasets import build_datasets, pair_rows, positive_rows, process_rows, save_datasets

A_VALUE = 2.2 / 3  # A: visits 3, rewards 1.0 + 0.2 + 1.0
B_VALUE = 0.1  # B: visits 2, rewards 0.0 + 0.2
PROMPT = pseudocode_prompt(PROBLEM, examples=())


@pytest.fixture(scope="module")
def tree() -> Tree:
    with Sandbox(workers=2) as sandbox:
        result, _ = run(sandbox)
    return Tree.from_dict(result.tree.to_dict())  # what `o1coder export` would read back


def test_d_process_every_visited_code_path_with_step_values(tree):
    rows = process_rows([tree], [PROBLEM])
    assert [(r["node_ids"], r["completions"], r["reward"], r["passed"]) for r in rows] == [
        ([1, 4], [A, A_GOOD], 1.0, True),
        ([1, 5], [A, A_BAD], pytest.approx(0.2), False),
        ([2, 7], [B, B_SYNTAX], 0.0, False),
        ([2, 8], [B, B_BAD], pytest.approx(0.2), False),
        ([1, 6, 9], [A, A2, A2_GOOD], 1.0, True),
    ]
    assert [r["labels"] for r in rows] == [
        pytest.approx([A_VALUE, 1.0]), pytest.approx([A_VALUE, 0.2]), pytest.approx([B_VALUE, 0.0]),
        pytest.approx([B_VALUE, 0.2]), pytest.approx([A_VALUE, 1.0, 1.0])]
    assert all(r["prompt"] == PROMPT and r["problem_id"] == "t/double" for r in rows)
    assert all(c.endswith("<|end_step|>") for r in rows for c in r["completions"])


def test_d_plus_paths_passing_all_reward_tests(tree):
    rows = positive_rows([tree], {PROBLEM.id: PROBLEM})
    assert rows == [
        {"problem_id": "t/double", "node_id": 4, "prompt": PROMPT, "completion": f"{A}\n{A_GOOD}\n", "reward": 1.0},
        {"problem_id": "t/double", "node_id": 9, "prompt": PROMPT, "completion": f"{A}\n{A2}\n{A2_GOOD}\n",
         "reward": 1.0},
    ]
    chat = positive_rows([tree], [PROBLEM], conversational=True)
    assert chat[0]["prompt"] == pseudocode_messages(PROBLEM, examples=())
    assert chat[0]["completion"] == [{"role": "assistant", "content": f"{A}\n{A_GOOD}\n"}]


def test_sibling_pairs_same_parent_different_value(tree):
    rows = pair_rows([tree], [PROBLEM])
    assert [(r["parent_id"], r["chosen_id"], r["rejected_id"]) for r in rows] == [(0, 1, 2), (1, 4, 5), (1, 6, 5),
                                                                                  (2, 8, 7)]
    assert [r["margin"] for r in rows] == pytest.approx([A_VALUE - B_VALUE, 0.8, 0.8, 0.2])
    root_pair, a_pair = rows[0], rows[1]
    assert (root_pair["prompt"], root_pair["chosen"], root_pair["rejected"]) == (PROMPT, A, B)
    # the prompt of a pair is the state: the problem and the steps so far, exactly as the search prompted it
    assert a_pair["prompt"] == pseudocode_prompt(PROBLEM, [parse(A).step], examples=())
    assert (a_pair["chosen"], a_pair["rejected"]) == (A_GOOD, A_BAD)
    with_dead = pair_rows([tree], [PROBLEM], include_dead=True)
    assert [(r["chosen_id"], r["rejected_id"]) for r in with_dead if r["parent_id"] == 0] == [(1, 2), (1, 3), (2, 3)]
    assert with_dead[1]["rejected"] == JUNK
    assert len(pair_rows([tree], [PROBLEM], min_margin=0.5)) == 3


def test_unknown_problem_is_named(tree):
    with pytest.raises(ValueError, match="tree of problem 't/double' has no matching problem"):
        process_rows([tree], [])


def test_datasets_saved_for_trl(tree, tmp_path):
    from datasets import load_from_disk

    datasets = build_datasets([tree], [PROBLEM])
    assert {name: len(d) for name, d in datasets.items()} == {"d_process": 5, "d_plus": 2, "pairs": 4}
    assert {"prompt", "completions", "labels"} <= set(datasets["d_process"].column_names)  # TRL's PRM layout
    assert {"prompt", "completion"} <= set(datasets["d_plus"].column_names)  # TRL's prompt-completion SFT layout
    assert {"prompt", "chosen", "rejected"} <= set(datasets["pairs"].column_names)  # TRL's preference layout
    paths = save_datasets([tree], [PROBLEM], tmp_path / "out")
    assert sorted(paths) == ["d_plus", "d_process", "pairs"]
    loaded = load_from_disk(str(paths["pairs"]))
    assert loaded.to_list() == datasets["pairs"].to_list()
    assert load_from_disk(str(paths["d_process"]))[4]["labels"] == pytest.approx([A_VALUE, 1.0, 1.0])


def test_empty_trees_give_empty_datasets_with_columns(tmp_path):
    empty = Tree("t/double")
    empty.add(None, None, "")
    datasets = build_datasets([empty], [PROBLEM])
    assert all(len(d) == 0 for d in datasets.values())
    assert "labels" in datasets["d_process"].column_names
    save_datasets([empty], [PROBLEM], tmp_path / "empty")
