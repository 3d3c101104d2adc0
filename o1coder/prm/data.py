"""PRM training rows from search trees: point-wise (every step of a code path, with its label) and pair-wise
(sibling steps, the higher-valued one wins).

The rows themselves come from :mod:`o1coder.search.datasets`, which owns the tree -> dataset format:
D_process (``process_rows``) for point-wise rows and sibling pairs (``pair_rows``) for pair-wise rows. This module
only adds what the PRM needs on top: hard labels at a threshold, a held-out split by problem (steps of one problem
share prefixes, so a split by row would leak), and reading the trees of a run from the run store.

Point-wise row: ``prompt``, ``completions`` (step texts), ``labels`` (training targets), ``values`` (the MC values
Q/N the labels came from), plus ``problem_id``, ``node_ids``, ``reward``, ``passed``.
Pair-wise row: ``prompt`` (problem + steps so far), ``chosen``, ``rejected``, ``margin``, values and node ids.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from o1coder.problems import Problem
from o1coder.search.datasets import pair_rows, process_rows
from o1coder.search.tree import Tree

logger = logging.getLogger(__name__)


def hard_label(value: float, threshold: float) -> float:
    """1.0 when a step's value reaches the threshold, else 0.0."""
    return 1.0 if value >= threshold else 0.0


def stepwise_trees(trees: Iterable[Tree]) -> list[Tree]:
    """The trees whose nodes are pseudocode steps: best-of-N with the vanilla prompt stores whole free-form answers
    under another prompt, which a PRM (trained and queried with the pseudocode prompt) must not learn from."""
    kept, dropped = [], []
    for tree in trees:
        search = tree.config.get("search") or {}
        vanilla = search.get("algorithm") == "best_of_n" and search.get("best_of_n_prompt") == "vanilla"
        (dropped if vanilla else kept).append(tree)
    if dropped:
        logger.warning("%d trees of vanilla best-of-N answers left out of the PRM data (no pseudocode steps): %s",
                       len(dropped), [t.problem_id for t in dropped[:5]])
    return kept


def pointwise_rows(trees: Iterable[Tree], problems, labels: str = "soft", threshold: float = 0.5,
                   examples: Sequence = ()) -> list[dict]:
    """D_process rows with training ``labels`` (soft: Q/N; hard: Q/N >= threshold) and the raw ``values``."""
    if labels not in ("soft", "hard"):
        raise ValueError(f"labels must be 'soft' or 'hard'; got {labels!r}")
    rows = process_rows(stepwise_trees(trees), problems, examples)
    for row in rows:
        row["values"] = list(row["labels"])
        if labels == "hard":
            row["labels"] = [hard_label(v, threshold) for v in row["values"]]
    return rows


def pairwise_rows(trees: Iterable[Tree], problems, min_margin: float = 0.0, examples: Sequence = ()) -> list[dict]:
    """Sibling pairs (``prompt`` = problem + steps so far, ``chosen`` = the higher-valued step, ``rejected``)."""
    return pair_rows(stepwise_trees(trees), problems, examples, min_margin=min_margin)


def split_problems(problem_ids: Iterable[str], eval_fraction: float, seed: int = 0) -> tuple[list[str], list[str]]:
    """``(train ids, held-out ids)``: a seeded shuffle of the sorted ids, ``eval_fraction`` of them held out.

    At least one problem is held out when the fraction is > 0 and there are two or more problems, and at least
    one is always left for training. Both lists keep the sorted order.
    """
    ids = sorted(set(problem_ids))
    if not 0 <= eval_fraction < 1:
        raise ValueError(f"eval_fraction must be in [0, 1); got {eval_fraction!r}")
    n_eval = round(eval_fraction * len(ids))
    if eval_fraction > 0 and len(ids) >= 2:
        n_eval = min(max(n_eval, 1), len(ids) - 1)
    shuffled = list(ids)
    random.Random(seed).shuffle(shuffled)
    held = set(shuffled[:n_eval])
    return [i for i in ids if i not in held], [i for i in ids if i in held]


@dataclass
class RunTrees:
    """The finished trees of one run and the problems they were searched on (needed for prompts)."""

    run_id: str
    trees: list[Tree]
    problems: dict[str, Problem]
    skipped: list[str] = field(default_factory=list)  # problems not finished yet

    def select(self, problem_ids: Iterable[str]) -> RunTrees:
        """The same run restricted to ``problem_ids``."""
        keep = set(problem_ids)
        return RunTrees(self.run_id, [t for t in self.trees if t.problem_id in keep],
                        {k: v for k, v in self.problems.items() if k in keep}, list(self.skipped))

    @property
    def problem_ids(self) -> list[str]:
        return [t.problem_id for t in self.trees]


def load_run_trees(run: str, runs_dir: str | Path | None = None) -> RunTrees:
    """Trees of the finished problems of ``run`` (an id or "latest") and its problems, re-read from the run's
    problem spec (the run store keeps trees, not problem statements) and checked against its data hash."""
    from o1coder.runs import readers
    from o1coder.runs.driver import planned_problems

    info = readers.get_run(run, runs_dir)
    status = readers.problems(info.id, runs_dir)
    by_id = {p.id: p for p in planned_problems(info, runs_dir)}
    trees, skipped = [], []
    for problem_id, problem_status in zip(status["problem_id"], status["status"]):
        if problem_status != "finished":
            skipped.append(problem_id)
            continue
        trees.append(readers.load_tree(info.id, problem_id, runs_dir))
    if skipped:
        logger.info("run %s: %d problems not finished yet, left out: %s", info.id, len(skipped), skipped[:5])
    return RunTrees(info.id, trees, {t.problem_id: by_id[t.problem_id] for t in trees}, skipped)
