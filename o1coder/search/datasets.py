"""Training data from search trees: D_process, D+ and sibling pairs, as rows and as ``datasets.Dataset`` on disk.

- **D_process**: every visited root-to-code path with each step's value Q/N, in TRL's process-reward layout:
  ``prompt``, ``completions`` (the step texts) and ``labels`` (the step values, soft labels in [0, 1]; the PRM stage
  thresholds them for hard labels). Paths ending in a dead step or at the depth limit are not included: they have
  no code to judge, and their steps already appear with low values on the paths that do.
- **D+**: the paths whose code passes every reward test, as SFT rows ``prompt`` / ``completion`` (the whole
  rendered trace), in TRL's standard (strings) or conversational (messages) format.
- **Pairs**: children of one parent with different values: ``prompt`` (the problem and the steps so far),
  ``chosen`` (the higher-valued step), ``rejected`` and ``margin``, for pair-wise PRM training and DPO.

Prompts are the zero-shot pseudocode prompt by default: the policy is trained to produce the format without
examples, which keeps training sequences short. Rows carry ``problem_id`` and node ids so any row can be traced back
to its tree. ``datasets`` (the ``train`` extra) is imported only by the functions that build ``Dataset`` objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from o1coder.problems import Problem
from o1coder.reasoning import (
    STEP_SEPARATOR,
    FewShotExample,
    pseudocode_messages,
    pseudocode_prompt,
    vanilla_messages,
    vanilla_prompt,
)
from o1coder.search.tree import Node, Tree

VALUE_TOLERANCE = 1e-9  # values closer than this are equal: no pair


def _index(problems: Iterable[Problem] | Mapping[str, Problem]) -> dict[str, Problem]:
    return dict(problems) if isinstance(problems, Mapping) else {p.id: p for p in problems}


def _problem(index: dict[str, Problem], tree: Tree) -> Problem:
    try:
        return index[tree.problem_id]
    except KeyError:
        raise ValueError(f"tree of problem {tree.problem_id!r} has no matching problem in the problems given; pass "
                         "the problems that were searched") from None


def _prompt(problem: Problem, prefix: Sequence[Node], examples: Sequence[FewShotExample], vanilla: bool = False
            ) -> str:
    if vanilla:  # best-of-N with the vanilla prompt: answers are plain text, not steps
        return vanilla_prompt(problem, examples=examples)
    # node texts are rendered steps, so joining them is render_trace() of the steps (no re-parsing)
    return pseudocode_prompt(problem, examples=examples) + "".join(n.text + STEP_SEPARATOR for n in prefix)


def _is_vanilla(tree: Tree) -> bool:
    search = tree.config.get("search") or {}
    return search.get("algorithm") == "best_of_n" and search.get("best_of_n_prompt") == "vanilla"


def _code_paths(tree: Tree) -> list[list[Node]]:
    """Root-to-code paths, root excluded, in node creation order."""
    return [tree.path(n.id)[1:] for n in tree.terminals()]


def _passes(node: Node) -> bool:
    return bool(node.exec and node.exec.get("all_passed"))


def process_rows(trees: Iterable[Tree], problems, examples: Sequence[FewShotExample] = ()) -> list[dict]:
    """D_process: one row per visited code node, with the value of every step on its path."""
    index, rows = _index(problems), []
    for tree in trees:
        problem = _problem(index, tree)
        prompt = _prompt(problem, [], examples, _is_vanilla(tree))
        for path in _code_paths(tree):
            leaf = path[-1]
            if leaf.visits == 0:
                continue  # executed when sampled but never reached by a rollout: its values are not estimates yet
            rows.append({"problem_id": tree.problem_id, "node_ids": [n.id for n in path], "prompt": prompt,
                         "completions": [n.text for n in path], "labels": [n.value for n in path],
                         "reward": leaf.reward, "passed": _passes(leaf)})
    return rows


def positive_rows(trees: Iterable[Tree], problems, examples: Sequence[FewShotExample] = (),
                  conversational: bool = False) -> list[dict]:
    """D+: one SFT row per code node that passes all reward tests (visited or not: the sandbox verified it)."""
    index, rows = _index(problems), []
    for tree in trees:
        problem = _problem(index, tree)
        for path in _code_paths(tree):
            if not _passes(path[-1]):
                continue
            trace = "".join(n.text + STEP_SEPARATOR for n in path)
            vanilla = _is_vanilla(tree)
            if conversational:
                messages = vanilla_messages if vanilla else pseudocode_messages
                prompt = messages(problem, examples=examples)
                completion = [{"role": "assistant", "content": trace}]
            else:
                prompt, completion = _prompt(problem, [], examples, vanilla), trace
            rows.append({"problem_id": tree.problem_id, "node_id": path[-1].id, "prompt": prompt,
                         "completion": completion, "reward": path[-1].reward})
    return rows


def pair_rows(trees: Iterable[Tree], problems, examples: Sequence[FewShotExample] = (),
              min_margin: float = 0.0, include_dead: bool = False) -> list[dict]:
    """Sibling pairs: for each parent, every two visited children whose values differ by more than ``min_margin``.

    Dead children (text that did not parse) are left out unless ``include_dead``: as a "rejected" step they teach
    only what the parser already rejects. MCTS never selects a dead child (its reward 0 is known when it is created),
    so with ``include_dead`` they count unvisited, with value 0.
    """
    index, rows = _index(problems), []
    for tree in trees:
        problem = _problem(index, tree)
        for parent in tree.nodes:
            children = [tree.nodes[i] for i in parent.children]
            children = [c for c in children if (c.dead and include_dead) or (c.visits > 0 and not c.dead)]
            if len(children) < 2:
                continue
            prompt = _prompt(problem, tree.path(parent.id)[1:], examples, _is_vanilla(tree))
            for i, a in enumerate(children):
                for b in children[i + 1:]:
                    margin = abs(a.value - b.value)
                    if margin <= max(min_margin, VALUE_TOLERANCE):
                        continue
                    chosen, rejected = (a, b) if a.value > b.value else (b, a)
                    rows.append({"problem_id": tree.problem_id, "parent_id": parent.id, "chosen_id": chosen.id,
                                 "rejected_id": rejected.id, "prompt": prompt, "chosen": chosen.text,
                                 "rejected": rejected.text, "chosen_value": chosen.value,
                                 "rejected_value": rejected.value, "margin": margin})
    return rows


_COLUMNS = {
    "d_process": ("problem_id", "node_ids", "prompt", "completions", "labels", "reward", "passed"),
    "d_plus": ("problem_id", "node_id", "prompt", "completion", "reward"),
    "pairs": ("problem_id", "parent_id", "chosen_id", "rejected_id", "prompt", "chosen", "rejected",
              "chosen_value", "rejected_value", "margin"),
}


def build_datasets(trees: Iterable[Tree], problems, examples: Sequence[FewShotExample] = (),
                   conversational: bool = False) -> dict:
    """``{"d_process", "d_plus", "pairs"}`` as ``datasets.Dataset`` objects (empty ones keep their columns)."""
    try:
        from datasets import Dataset
    except ImportError as error:  # pragma: no cover - the train extra is part of the dev environment
        raise ImportError("building datasets needs the 'datasets' package: pip install 'o1coder[train]'") from error
    trees = list(trees)
    rows = {"d_process": process_rows(trees, problems, examples),
            "d_plus": positive_rows(trees, problems, examples, conversational),
            "pairs": pair_rows(trees, problems, examples)}
    return {name: Dataset.from_list(r) if r else Dataset.from_dict({c: [] for c in _COLUMNS[name]})
            for name, r in rows.items()}


def save_datasets(trees: Iterable[Tree], problems, out_dir: str | Path, examples: Sequence[FewShotExample] = (),
                  conversational: bool = False) -> dict[str, Path]:
    """Build the three datasets and ``save_to_disk`` them under ``out_dir`` (``datasets.load_from_disk`` reads
    them back). Returns name -> folder."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, dataset in build_datasets(trees, problems, examples, conversational).items():
        paths[name] = out / name
        dataset.save_to_disk(str(paths[name]))
    return paths
