"""PRM rows and token features, checked exactly: labels only on the last token of each step, -100 elsewhere.

The rows come from the hand-computed MCTS tree of test_search_mcts (values known exactly); token ids are checked
on a character-level tokenizer built here (one token per character, plus a BOS) and on the tiny model's tokenizer.
"""

from __future__ import annotations

import pytest
from test_search_mcts import A2, A2_GOOD, A_BAD, A_GOOD, B_BAD, B_SYNTAX, PROBLEM, A, B, run

from o1coder.execution import Sandbox
from o1coder.prm import (
    IGNORE_INDEX,
    PRMConfig,
    StepLabelCollator,
    encode_state,
    pair_features,
    pairwise_rows,
    pointwise_features,
    pointwise_rows,
    prm_config,
    split_problems,
    step_loss,
    token_positions,
)
from o1coder.prm.features import state_text, text_step_ends
from o1coder.reasoning import END_OF_STEP, parse, pseudocode_prompt, step_end_offsets
from o1coder.search import Tree
from o1coder.search.datasets import pair_rows

A_VALUE = 2.2 / 3
B_VALUE = 0.1
X = IGNORE_INDEX


@pytest.fixture(scope="module")
def tree() -> Tree:
    with Sandbox(workers=2) as sandbox:
        result, _ = run(sandbox)
    return Tree.from_dict(result.tree.to_dict())


@pytest.fixture(scope="module")
def char_tokenizer():
    """One token per character (ids in order of first use below), a BOS added in front: exact ids by hand."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    chars = "P:abcde\n"
    vocab = {"<bos>": 0, "<eos>": 1, "<pad>": 2, **{c: i + 3 for i, c in enumerate(chars)}}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<pad>"))
    backend.pre_tokenizer = pre_tokenizers.Split(Regex("[\\s\\S]"), behavior="isolated")
    backend.post_processor = processors.TemplateProcessing(single="<bos> $A", special_tokens=[("<bos>", 0)])
    return PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<bos>", eos_token="<eos>",
                                   pad_token="<pad>")


@pytest.fixture(scope="module")
def tiny_tokenizer():
    from o1coder.prm.modeling import load_tokenizer

    return load_tokenizer("tiny")


def test_pointwise_rows_soft_and_hard_labels(tree):
    soft = pointwise_rows([tree], [PROBLEM])
    assert [r["node_ids"] for r in soft] == [[1, 4], [1, 5], [2, 7], [2, 8], [1, 6, 9]]
    assert [r["completions"] for r in soft][4] == [A, A2, A2_GOOD]
    assert [r["labels"] for r in soft] == [pytest.approx(v) for v in (
        [A_VALUE, 1.0], [A_VALUE, 0.2], [B_VALUE, 0.0], [B_VALUE, 0.2], [A_VALUE, 1.0, 1.0])]
    assert all(r["values"] == r["labels"] for r in soft)
    hard = pointwise_rows([tree], [PROBLEM], labels="hard", threshold=0.5)
    assert [r["labels"] for r in hard] == [[1, 1], [1, 0], [0, 0], [0, 0], [1, 1, 1]]
    assert [r["values"] for r in hard] == [r["labels"] for r in soft]
    assert [r["labels"] for r in pointwise_rows([tree], [PROBLEM], "hard", threshold=0.2)][1] == [1, 1]
    with pytest.raises(ValueError, match="'soft' or 'hard'"):
        pointwise_rows([tree], [PROBLEM], labels="fuzzy")


def test_vanilla_best_of_n_trees_are_left_out(tree):
    vanilla = Tree.from_dict({**tree.to_dict(), "config": {"search": {"algorithm": "best_of_n",
                                                                      "best_of_n_prompt": "vanilla"}}})
    assert pointwise_rows([vanilla], [PROBLEM]) == [] and pairwise_rows([vanilla], [PROBLEM]) == []
    assert len(pointwise_rows([vanilla, tree], [PROBLEM])) == 5


def test_pairwise_rows_are_the_search_sibling_pairs(tree):
    rows = pairwise_rows([tree], [PROBLEM])
    assert rows == pair_rows([tree], [PROBLEM])
    assert [(r["chosen"], r["rejected"]) for r in rows] == [(A, B), (A_GOOD, A_BAD), (A2, A_BAD), (B_BAD, B_SYNTAX)]
    assert [r["chosen_id"] for r in pairwise_rows([tree], [PROBLEM], min_margin=0.5)] == [1, 4, 6]


def test_split_by_problem_is_seeded_and_keeps_both_sides():
    ids = [f"p{i}" for i in range(10)]
    train, held = split_problems(ids, 0.2, seed=0)
    assert len(held) == 2 and sorted(train + held) == sorted(ids) and not set(train) & set(held)
    assert split_problems(reversed(ids), 0.2, seed=0) == (train, held)
    assert split_problems(ids, 0.2, seed=1) != (train, held)
    train2, held2 = split_problems(["a", "b"], 0.01)  # a fraction above 0 holds out at least one problem
    assert len(train2) == len(held2) == 1
    assert split_problems(["a"], 0.5) == (["a"], [])
    assert split_problems(ids, 0.0) == (ids, [])


def test_token_positions_skip_special_tokens():
    offsets = [(0, 0), (0, 2), (2, 3), (3, 6), (6, 7)]  # a BOS, then four tokens
    assert token_positions(offsets, [3, 7]) == [2, 4]
    assert token_positions(offsets, [5]) == [3]  # the token covering the character before the end
    with pytest.raises(ValueError, match="no token starts before"):
        token_positions(offsets, [0])


def test_pointwise_features_exact_ids_and_labels(char_tokenizer):
    # "P:" + "ab\n" + "cde\n": the steps end at characters 4 and 8; with the BOS, at tokens 4 and 8
    features = pointwise_features(char_tokenizer, "P:", ["ab", "cde"], [0.25, 1.0])
    assert features["input_ids"] == [0, 3, 4, 5, 6, 10, 7, 8, 9, 10]
    assert features["labels"] == [X, X, X, X, 0.25, X, X, X, 1.0, X]
    with pytest.raises(ValueError, match="2 steps but 1 labels"):
        pointwise_features(char_tokenizer, "P:", ["ab", "cde"], [1.0])


def test_pair_features_exact_ids(char_tokenizer):
    assert encode_state(char_tokenizer, "P:", ["ab"]) == [0, 3, 4, 5, 6, 10, 1]  # BOS ... "\n", EOS
    assert pair_features(char_tokenizer, "P:ab\n", "c", "de") == {
        "chosen_ids": [0, 3, 4, 5, 6, 10, 7, 10, 1], "rejected_ids": [0, 3, 4, 5, 6, 10, 8, 9, 10, 1]}


def test_step_ends_agree_with_the_reasoning_format(tree):
    rows = pointwise_rows([tree], [PROBLEM])
    steps = [parse(text).step for text in rows[4]["completions"]]
    prompt = rows[4]["prompt"]
    assert text_step_ends(prompt, rows[4]["completions"]) == [len(prompt) + o for o in step_end_offsets(steps)]
    assert state_text(prompt, rows[4]["completions"]) == prompt + f"{A}\n{A2}\n{A2_GOOD}\n"


def test_pointwise_features_on_the_tiny_tokenizer(tree, tiny_tokenizer):
    row = pointwise_rows([tree], [PROBLEM])[4]
    features = pointwise_features(tiny_tokenizer, row["prompt"], row["completions"], row["labels"])
    ids, labels = features["input_ids"], features["labels"]
    assert ids == tiny_tokenizer(state_text(row["prompt"], row["completions"]))["input_ids"]
    labelled = [i for i, x in enumerate(labels) if x != X]
    assert [labels[i] for i in labelled] == pytest.approx(row["labels"])
    in_prompt = row["prompt"].count(END_OF_STEP)  # the instruction shows the format, marker included
    for k, i in enumerate(labelled):  # each labelled token closes the k-th end marker, and nothing earlier does
        text = tiny_tokenizer.decode(ids[: i + 1])
        assert text.rstrip("\n").endswith(END_OF_STEP) and text.count(END_OF_STEP) == in_prompt + k + 1
        assert tiny_tokenizer.decode(ids[:i]).count(END_OF_STEP) == in_prompt + k
    assert labelled[-1] == len(ids) - 1  # the last step's marker is the last token (it carries the "\n")
    assert row["prompt"] == pseudocode_prompt(PROBLEM, examples=())


def test_collator_pads_right_with_float_labels():
    batch = StepLabelCollator(pad_token_id=2)([{"input_ids": [5, 6, 7], "labels": [X, X, 0.25]},
                                               {"input_ids": [8], "labels": [1.0]}])
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 2, 2]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[X, X, 0.25], [1.0, X, X]]
    assert str(batch["labels"].dtype) == "torch.float32"


def test_step_loss_bce_and_soft_cross_entropy():
    import math

    import torch

    labels = torch.tensor([[X, 0.25, X, 1.0]])
    zero1, zero2 = {"logits": torch.zeros(1, 4, 1)}, {"logits": torch.zeros(1, 4, 2)}
    assert step_loss(zero1, labels).item() == pytest.approx(math.log(2))
    assert step_loss(zero2, labels).item() == pytest.approx(math.log(2))
    assert step_loss(zero1, labels, num_items_in_batch=4).item() == pytest.approx(math.log(2) / 2)
    sure = torch.tensor([[[0.0], [math.log(0.25 / 0.75)], [0.0], [30.0]]])
    entropy = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    assert step_loss({"logits": sure}, labels).item() == pytest.approx(entropy / 2, abs=1e-6)
    two = torch.tensor([[[0.0, 0.0], [0.0, math.log(1 / 3)], [0.0, 0.0], [0.0, 30.0]]])
    assert step_loss({"logits": two}, labels).item() == pytest.approx(entropy / 2, abs=1e-6)


def test_config_validation_names_the_bad_value():
    assert prm_config({}) == PRMConfig()
    assert prm_config({"prm": {"labels": "hard"}}, mode="pairwise").mode == "pairwise"
    for bad, message in (({"mode": "listwise"}, "PRMConfig.mode"), ({"num_labels": 3}, "num_labels must be 1 or 2"),
                         ({"threshold": 1.5}, r"threshold must be a number in \[0, 1\]"),
                         ({"eval_fraction": 1.0}, r"eval_fraction must be a number in \[0, 1\)"),
                         ({"learning_rat": 1e-3}, "did you mean 'learning_rate'"),
                         ({"trainer": [1]}, "trainer must be a mapping")):
        with pytest.raises(ValueError, match=message):
            PRMConfig.from_dict(bad)
