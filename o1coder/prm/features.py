"""Token-level PRM inputs: where each step ends in token space, label vectors, pair encodings, the collator.

Training and scoring go through the same functions, so a score is always read where the label was put:

- **Point-wise.** The text is ``prompt + render_trace(steps)`` (each step followed by ``STEP_SEPARATOR``). A step's
  label sits on its *last token*: the token that covers the character just before the step's end offset
  (:func:`o1coder.reasoning.step_end_offsets`: the end of its ``<|end_step|>`` marker). Every other position is
  -100, as in TRL's former PRMTrainer. The model is causal, so one forward pass over the whole path gives every
  step's score, and a step's score does not depend on the steps after it.
- **Pair-wise.** A step is judged as a sequence: ``prompt + render_trace(steps so far + [step])`` and the EOS
  token, so that a sequence-classification model (which reads the last non-padding token) reads the same place
  in training (TRL's RewardTrainer appends EOS too) and in scoring.

Character offsets become token positions through the tokenizer's offset mapping, so this needs a "fast"
tokenizer; special tokens the tokenizer adds (a BOS) have empty spans and are never chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from o1coder.reasoning import STEP_SEPARATOR, Step, render

IGNORE_INDEX = -100  # positions without a label: ignored by the loss, as in transformers' losses


def step_texts(steps: Sequence[str | Step]) -> list[str]:
    """Steps as rendered text (Step objects are rendered; strings are taken as already rendered)."""
    texts = [render(s) if isinstance(s, Step) else s for s in steps]
    for i, text in enumerate(texts):
        if not isinstance(text, str) or not text:
            raise ValueError(f"step {i} is empty or not text ({type(text).__name__}); a PRM scores rendered steps")
    return texts


def state_text(prompt: str, steps: Sequence[str]) -> str:
    """The prompt followed by the steps, each with its separator: the text a policy has produced so far."""
    return prompt + "".join(text + STEP_SEPARATOR for text in steps)


def text_step_ends(prompt: str, steps: Sequence[str]) -> list[int]:
    """Character offset in :func:`state_text` just past each step (for rendered steps, ``len(prompt)`` plus what
    ``step_end_offsets`` gives for the trace)."""
    ends, position = [], len(prompt)
    for text in steps:
        position += len(text)
        ends.append(position)
        position += len(STEP_SEPARATOR)
    return ends


def token_positions(offsets: Sequence[tuple[int, int]], char_ends: Sequence[int]) -> list[int]:
    """For each character end offset, the index of the last token that starts before it (the token covering the
    character just before the end). Tokens with empty spans (special tokens) are skipped."""
    positions, i = [], 0
    spans = [(k, s, e) for k, (s, e) in enumerate(offsets) if e > s]
    for end in char_ends:
        while i < len(spans) and spans[i][1] < end:
            i += 1
        if i == 0:
            raise ValueError(f"no token starts before character {end}: the step text is empty")
        positions.append(spans[i - 1][0])
    return positions


def encode_steps(tokenizer, prompt: str, steps: Sequence[str]) -> tuple[list[int], list[int]]:
    """``(input_ids, step_positions)``: the whole path tokenized once, and each step's last-token index."""
    text = state_text(prompt, steps)
    try:
        encoded = tokenizer(text, return_offsets_mapping=True, add_special_tokens=True)
    except NotImplementedError as error:  # slow (Python) tokenizers have no offset mapping
        raise ValueError(f"the PRM needs a fast tokenizer (offset mapping); {type(tokenizer).__name__} has "
                         "none: load it with use_fast=True") from error
    positions = token_positions(encoded["offset_mapping"], text_step_ends(prompt, steps))
    if len(set(positions)) != len(positions):
        raise ValueError("two steps end in the same token; a PRM needs every step to end in its own token")
    return list(encoded["input_ids"]), positions


def pointwise_features(tokenizer, prompt: str, steps: Sequence[str], labels: Sequence[float]) -> dict[str, list]:
    """``{"input_ids", "labels"}``: labels are -100 everywhere except the last token of each step."""
    if len(steps) != len(labels):
        raise ValueError(f"{len(steps)} steps but {len(labels)} labels; a point-wise row needs one label per step")
    input_ids, positions = encode_steps(tokenizer, prompt, steps)
    token_labels: list[float] = [float(IGNORE_INDEX)] * len(input_ids)
    for position, label in zip(positions, labels):
        token_labels[position] = float(label)
    return {"input_ids": input_ids, "labels": token_labels}


def encode_state(tokenizer, prompt: str, steps: Sequence[str]) -> list[int]:
    """Token ids of ``state_text(prompt, steps)`` followed by EOS: what a pair-wise PRM reads to judge the last
    step."""
    eos = tokenizer.eos_token_id
    if eos is None:
        raise ValueError(f"tokenizer {type(tokenizer).__name__} has no EOS token; a pair-wise PRM reads its score "
                         "there (set tokenizer.eos_token)")
    return list(tokenizer(state_text(prompt, steps), add_special_tokens=True)["input_ids"]) + [eos]


def pair_features(tokenizer, prompt: str, chosen: str, rejected: str) -> dict[str, list[int]]:
    """``{"chosen_ids", "rejected_ids"}`` for TRL's RewardTrainer (its pre-tokenized input format). ``prompt``
    already holds the steps before the two siblings (as :func:`o1coder.search.datasets.pair_rows` writes it)."""
    return {"chosen_ids": encode_state(tokenizer, prompt, [chosen]),
            "rejected_ids": encode_state(tokenizer, prompt, [rejected])}


@dataclass
class StepLabelCollator:
    """Pads point-wise rows on the right: ``input_ids`` with the pad id, ``attention_mask`` with 0 and
    ``labels`` (float: soft labels) with -100. transformers' DataCollatorForTokenClassification would cast the
    labels to integers."""

    pad_token_id: int

    def __call__(self, examples: Sequence[dict[str, Any]]) -> dict[str, Any]:
        import torch

        width = max(len(e["input_ids"]) for e in examples)
        ids, mask, labels = [], [], []
        for e in examples:
            pad = width - len(e["input_ids"])
            ids.append(list(e["input_ids"]) + [self.pad_token_id] * pad)
            mask.append([1] * len(e["input_ids"]) + [0] * pad)
            labels.append(list(e["labels"]) + [float(IGNORE_INDEX)] * pad)
        return {"input_ids": torch.tensor(ids, dtype=torch.long),
                "attention_mask": torch.tensor(mask, dtype=torch.long),
                "labels": torch.tensor(labels, dtype=torch.float32)}
