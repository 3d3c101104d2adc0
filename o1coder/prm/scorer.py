"""``PRMScorer``: a trained PRM as a function ``score(problem, steps) -> one score in [0, 1] per step``.

    scorer = PRMScorer.load("data/runs/prm/pointwise-...")
    scorer.score(problem, steps)                       # [0.71, 0.64, 0.93]
    scorer.score_many([(problem, steps), ...])         # batched
    search(problem, generator, sandbox, config, prior_fn=scorer)   # PUCT prior (prior: prm) and beam value

``steps`` are :class:`o1coder.reasoning.Step` objects (what the search passes) or their rendered texts (what
trees store). ``problem`` is a :class:`o1coder.problems.Problem`, whose prompt is the zero-shot pseudocode prompt
the training rows used, or a ready prompt string (rows, pairs). Step j's score depends only on the problem and
steps 0..j, so scoring a whole path once equals scoring each of its prefixes.

A point-wise model scores a path in one forward pass (each step read at its last token); a pair-wise model reads
one sequence per step (problem + steps so far + EOS), all of them batched.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from o1coder.prm.features import encode_state, encode_steps, step_texts
from o1coder.problems import Problem
from o1coder.reasoning import Step, pseudocode_prompt

logger = logging.getLogger(__name__)

Item = tuple[Problem | str, Sequence[str | Step]]


class PRMScorer:
    """A point-wise or pair-wise PRM with its tokenizer. Callable: ``scorer(problem, steps)`` is ``score``, so the
    scorer itself is a search ``prior_fn``."""

    def __init__(self, model, tokenizer, info: dict[str, Any], batch_size: int = 16) -> None:
        if info.get("mode") not in ("pointwise", "pairwise"):
            raise ValueError(f"PRM info must say mode 'pointwise' or 'pairwise'; got {info.get('mode')!r}")
        self.model, self.tokenizer, self.info, self.batch_size = model, tokenizer, info, batch_size
        self.model.eval()

    @classmethod
    def load(cls, path: str | Path, batch_size: int = 16, dtype: str = "auto") -> PRMScorer:
        """A trained PRM folder (the output of ``o1coder prm train``)."""
        from o1coder.prm.modeling import load_trained

        model, tokenizer, info = load_trained(path, dtype=dtype)
        return cls(model, tokenizer, info, batch_size)

    @property
    def mode(self) -> str:
        return self.info["mode"]

    def prompt(self, problem: Problem | str) -> str:
        """The text before the first step: the zero-shot pseudocode prompt of a problem, or a given prompt."""
        if isinstance(problem, str):
            return problem
        if isinstance(problem, Problem):
            return pseudocode_prompt(problem, examples=())  # zero-shot, as the training rows
        raise TypeError(f"problem must be a Problem or a prompt string; got {type(problem).__name__}")

    def score(self, problem: Problem | str, steps: Sequence[str | Step]) -> list[float]:
        """One score in [0, 1] per step (the last one rates the newest step); [] for no steps."""
        return self.score_many([(problem, steps)])[0]

    __call__ = score

    def score_many(self, items: Sequence[Item]) -> list[list[float]]:
        """``score`` for many (problem, steps) items, batched; results in input order."""
        prepared = [(self.prompt(problem), step_texts(steps)) for problem, steps in items]
        if self.mode == "pointwise":
            return self._pointwise(prepared)
        return self._pairwise(prepared)

    # -- internals ---------------------------------------------------------------------------------------------
    def _pointwise(self, prepared: list[tuple[str, list[str]]]) -> list[list[float]]:
        from o1coder.prm.pointwise import step_scores

        encoded = [encode_steps(self.tokenizer, prompt, steps) if steps else ([], [])
                   for prompt, steps in prepared]
        results: list[list[float]] = [[] for _ in prepared]
        todo = sorted((i for i, (ids, _) in enumerate(encoded) if ids), key=lambda i: len(encoded[i][0]))
        for chunk in _chunks(todo, self.batch_size):
            logits = self._forward([encoded[i][0] for i in chunk])
            scores = step_scores(logits)
            for row, i in enumerate(chunk):
                results[i] = [float(scores[row, p]) for p in encoded[i][1]]
        return results

    def _pairwise(self, prepared: list[tuple[str, list[str]]]) -> list[list[float]]:
        import torch

        sequences, owners = [], []
        for i, (prompt, steps) in enumerate(prepared):
            for j in range(len(steps)):
                sequences.append(encode_state(self.tokenizer, prompt, steps[: j + 1]))
                owners.append(i)
        flat: list[float] = [0.0] * len(sequences)
        todo = sorted(range(len(sequences)), key=lambda k: len(sequences[k]))
        for chunk in _chunks(todo, self.batch_size):
            logits = self._forward([sequences[k] for k in chunk])  # (batch, 1): read at the last non-pad token
            for k, value in zip(chunk, torch.sigmoid(logits[:, 0].float()).tolist()):
                flat[k] = float(value)
        results: list[list[float]] = [[] for _ in prepared]
        for owner, value in zip(owners, flat):  # sequences of one item are in step order
            results[owner].append(value)
        return results

    def _forward(self, batch: list[list[int]]):
        """Logits for right-padded sequences (the pad id also tells sequence classification where each ends).

        Callers sort by length so batches pad little; a batch without padding goes without an attention mask,
        which lets attention take its fused causal path (much faster on a CPU)."""
        import torch

        pad = self.tokenizer.pad_token_id
        width = max(len(ids) for ids in batch)
        device = next(self.model.parameters()).device
        input_ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids in batch], device=device)
        attention = None
        if any(len(ids) < width for ids in batch):
            attention = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids in batch], device=device)
        with torch.inference_mode():
            return self.model(input_ids=input_ids, attention_mask=attention).logits


def _chunks(items: list[int], size: int):
    for start in range(0, len(items), size):
        yield items[start: start + size]
