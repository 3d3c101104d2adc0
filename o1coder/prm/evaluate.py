"""How good is a PRM: its step scores against held-out MC values, and best-of-N reranking with it.

- **Steps.** Every distinct step on a visited code path (the D_process steps) with its MC value Q/N; a step is
  positive when Q/N >= threshold. ``auc``: the chance that a random positive step outscores a random negative one
  (rank-based, ties count half; None with one class only). ``accuracy``: share of steps where
  ``score >= decision`` agrees with the label; the decision point is 0.5 for a model trained on hard labels
  (its score is P(good)) and the threshold for one trained on soft labels (its score estimates Q/N).
  ``ece``: expected calibration error over equal-width score bins, ``sum_b n_b / n * |mean score_b - positive
  rate_b|``; ``bins`` is the reliability table. ``mse``: mean squared error of the score against Q/N.
- **Pairs.** ``pair_accuracy``: share of sibling pairs where the higher-valued step gets the higher score.
- **Best-of-N.** For each tree, the code terminals (visited or not: each was executed); the PRM picks the one whose
  path scores best (``rerank``: the last step's score, the minimum or the mean over steps; ties to the earliest
  created); "random" is the expected pass rate of a uniformly random terminal (the share that passes: exact, no
  sampling noise); "oracle" is 1 when any terminal passes. Passing means passing every reward test of the search
  (trees store no hidden-test verdict per terminal).

A pair-wise PRM's score is sigmoid(reward), which Bradley-Terry does not calibrate: judge it by AUC, pair
accuracy and best-of-N; its accuracy and ECE say little.

Everything takes a scorer with ``score_many([(problem or prompt, steps), ...]) -> [[score per step], ...]``, so
a fake scorer tests this module without a model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from o1coder.prm.data import stepwise_trees
from o1coder.search.datasets import pair_rows, process_rows
from o1coder.search.tree import Tree


def auc(scores: Sequence[float], labels: Sequence[bool | float]) -> float | None:
    """Area under the ROC curve by the rank-sum formula (average ranks for ties); None without both classes."""
    positives = sum(1 for y in labels if y)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):  # tied scores share the average of their ranks (1-based)
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    rank_sum = sum(r for r, y in zip(ranks, labels) if y)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def accuracy(scores: Sequence[float], labels: Sequence[bool | float], decision: float = 0.5) -> float | None:
    """Share of items where ``score >= decision`` equals the label; None for no items."""
    if not scores:
        return None
    return sum((s >= decision) == bool(y) for s, y in zip(scores, labels)) / len(scores)


def calibration(scores: Sequence[float], labels: Sequence[bool | float], bins: int = 10,
                values: Sequence[float] | None = None) -> tuple[float | None, list[dict[str, Any]]]:
    """``(ece, reliability bins)``. Bins split [0, 1] into equal widths (a score of 1 goes to the last); each bin:
    ``lower``, ``upper``, ``count``, ``mean_score``, ``positive_rate`` and, given ``values``, ``mean_value``."""
    if bins < 1:
        raise ValueError(f"bins must be >= 1; got {bins}")
    members: list[list[int]] = [[] for _ in range(bins)]
    for i, s in enumerate(scores):
        members[min(max(int(s * bins), 0), bins - 1)].append(i)
    table, ece = [], 0.0
    for b, idx in enumerate(members):
        row: dict[str, Any] = {"lower": b / bins, "upper": (b + 1) / bins, "count": len(idx), "mean_score": None,
                               "positive_rate": None}
        if values is not None:
            row["mean_value"] = None
        if idx:
            row["mean_score"] = sum(scores[i] for i in idx) / len(idx)
            row["positive_rate"] = sum(1 for i in idx if labels[i]) / len(idx)
            if values is not None:
                row["mean_value"] = sum(values[i] for i in idx) / len(idx)
            ece += len(idx) / len(scores) * abs(row["mean_score"] - row["positive_rate"])
        table.append(row)
    return (ece if scores else None), table


@dataclass
class PRMEvaluation:
    """Step, pair and best-of-N metrics of one PRM on one set of trees (see the module docstring)."""

    threshold: float
    decision: float
    steps: int = 0
    positive_rate: float | None = None
    auc: float | None = None
    accuracy: float | None = None
    ece: float | None = None
    mse: float | None = None
    bins: list[dict[str, Any]] = field(default_factory=list)
    pairs: int = 0
    pair_accuracy: float | None = None
    best_of_n: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary_lines(self) -> list[str]:
        def f(x):
            return "n/a" if x is None else f"{x:.3f}"

        bon = self.best_of_n
        lines = [f"steps: {self.steps} (positive: Q/N >= {self.threshold}, rate {f(self.positive_rate)})",
                 (f"  AUC {f(self.auc)}  accuracy {f(self.accuracy)} (score >= {self.decision})  "
                  f"ECE {f(self.ece)}  MSE vs Q/N {f(self.mse)}"),
                 f"pairs: {self.pairs}  pair accuracy {f(self.pair_accuracy)}"]
        if bon.get("problems"):
            lines.append(f"best-of-N on {bon['problems']} problems ({bon['mean_candidates']:.1f} terminals each, "
                         f"rerank by {bon['rerank']}): PRM {f(bon['prm_pass_rate'])}  random "
                         f"{f(bon['random_pass_rate'])}  oracle {f(bon['oracle_pass_rate'])}")
        lines.append("reliability (score bin: count, mean score, positive rate):")
        lines += [f"  [{b['lower']:.1f}, {b['upper']:.1f}): {b['count']}, {f(b['mean_score'])}, "
                  f"{f(b['positive_rate'])}" for b in self.bins if b["count"]]
        return lines


def evaluate(scorer, trees: Iterable[Tree], problems, threshold: float = 0.5, decision: float | None = None,
             bins: int = 10, rerank: str = "last") -> PRMEvaluation:
    """Score the steps, sibling pairs and terminals of ``trees`` and compare with their MC values."""
    trees = stepwise_trees(trees)
    result = PRMEvaluation(threshold=threshold, decision=threshold if decision is None else decision)
    _step_metrics(result, scorer, trees, problems, bins)
    pairs = pair_rows(trees, problems)
    if pairs:
        scored = scorer.score_many([(p["prompt"], [side]) for p in pairs for side in (p["chosen"], p["rejected"])])
        wins = [scored[2 * i][-1] > scored[2 * i + 1][-1] for i in range(len(pairs))]
        result.pairs, result.pair_accuracy = len(pairs), sum(wins) / len(wins)
    result.best_of_n = best_of_n(scorer, trees, problems, rerank)
    return result


def _step_metrics(result: PRMEvaluation, scorer, trees: list[Tree], problems, bins: int) -> None:
    rows = process_rows(trees, problems)
    scored = scorer.score_many([(r["prompt"], r["completions"]) for r in rows])
    seen: dict[tuple[str, int], tuple[float, float]] = {}  # a step shared by several paths counts once
    for row, scores in zip(rows, scored):
        for node_id, value, score in zip(row["node_ids"], row["labels"], scores):
            seen.setdefault((row["problem_id"], node_id), (score, value))
    scores = [s for s, _ in seen.values()]
    values = [v for _, v in seen.values()]
    labels = [v >= result.threshold for v in values]
    result.steps = len(scores)
    if not scores:
        return
    result.positive_rate = sum(labels) / len(labels)
    result.auc = auc(scores, labels)
    result.accuracy = accuracy(scores, labels, result.decision)
    result.ece, result.bins = calibration(scores, labels, bins, values)
    result.mse = sum((s - v) ** 2 for s, v in zip(scores, values)) / len(scores)


def path_score(scores: Sequence[float], rerank: str = "last") -> float:
    """One number for a path from its step scores: the last, the minimum or the mean."""
    if not scores:
        return -math.inf
    if rerank == "last":
        return scores[-1]
    if rerank == "min":
        return min(scores)
    if rerank == "mean":
        return sum(scores) / len(scores)
    raise ValueError(f"rerank must be 'last', 'min' or 'mean'; got {rerank!r}")


def best_of_n(scorer, trees: Iterable[Tree], problems, rerank: str = "last") -> dict[str, Any]:
    """Pass rate of the PRM's pick among each tree's code terminals vs a random pick and the oracle."""
    from o1coder.reasoning import pseudocode_prompt

    index = problems if isinstance(problems, dict) else {p.id: p for p in problems}
    per_problem = []
    for tree in trees:
        terminals = [n for n in tree.terminals() if n.exec is not None]
        if not terminals:
            continue
        prompt = pseudocode_prompt(index[tree.problem_id], examples=())  # as the scorer and the rows
        paths = [[n.text for n in tree.path(t.id)[1:]] for t in terminals]
        totals = [path_score(s, rerank) for s in scorer.score_many([(prompt, p) for p in paths])]
        best = max(range(len(terminals)), key=lambda i: (totals[i], -terminals[i].created))
        passed = [bool(t.exec.get("all_passed")) for t in terminals]
        per_problem.append({"problem_id": tree.problem_id, "candidates": len(terminals), "prm": passed[best],
                            "random": sum(passed) / len(passed), "oracle": any(passed),
                            "picked_node": terminals[best].id})
    n = len(per_problem)

    def mean(key):
        return sum(float(p[key]) for p in per_problem) / n if n else None

    return {"rerank": rerank, "problems": n, "mean_candidates": mean("candidates") or 0.0,
            "prm_pass_rate": mean("prm"), "random_pass_rate": mean("random"), "oracle_pass_rate": mean("oracle"),
            "per_problem": per_problem}
