"""Policy training data: SFT rows (D+ and stored traces) and DPO pairs ranked by phi, each row with its lineage.

Every row says where it came from: ``source`` ("trace", "tree", "sample" or "reference"), ``run_id`` (the search
run whose tree produced it, None for traces and fresh samples) and ``round`` (the loop round, None outside the
loop). Prompts are the zero-shot pseudocode prompt, as in :mod:`o1coder.search.datasets` and the PRM: the policy
learns the step format without examples, which keeps sequences short. A response is the rendered steps, exactly
the text a search node holds, so SFT targets, DPO answers and search states are one format.

DPO candidates for a problem come from its searched trees (every root-to-code path, R = the node's reward), fresh
whole traces sampled from the current policy, and optionally the problem's stored reference trace; each gets
phi(R, r) with r from the PRM, and pairs match the best with the worst, the second best with the second worst...
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from o1coder.models.base import SamplingParams
from o1coder.problems import Problem
from o1coder.reasoning import STEP_SEPARATOR, TRACE_STOP_STRINGS, pseudocode_input, render_trace
from o1coder.search.datasets import positive_rows
from o1coder.search.tree import Tree
from o1coder.training.config import TrainingConfig
from o1coder.training.phi import phi
from o1coder.training.rewards import (
    Scorer,
    TestsFor,
    final_program,
    outcome_rewards,
    process_rewards,
    response_steps,
)

logger = logging.getLogger(__name__)


@dataclass
class SearchedTrees:
    """The finished trees of one search run, and the loop round that searched them (None outside the loop)."""

    run_id: str
    trees: list[Tree]
    round: int | None = None


@dataclass
class Candidate:
    """One response to a problem, with its rewards once scored."""

    problem_id: str
    completion: str
    source: str  # "tree", "sample" or "reference"
    outcome: float = 0.0  # R
    steps: list = field(default_factory=list)  # Step objects or rendered step texts (what the PRM reads)
    process: list[float] = field(default_factory=list)  # r_1..r_m
    phi: float | None = None
    run_id: str | None = None
    round: int | None = None


def index(problems: Iterable[Problem] | Mapping[str, Problem]) -> dict[str, Problem]:
    return dict(problems) if isinstance(problems, Mapping) else {p.id: p for p in problems}


def prompt_of(problem: Problem, chat: bool = False):
    """The zero-shot pseudocode prompt a policy is trained on: raw text, or chat messages (``search.chat``)."""
    return pseudocode_input(problem, examples=(), chat=chat)


RESPONSE_FIELDS = ("completion", "chosen", "rejected")


def in_chat_form(rows: Sequence[dict], problems: Iterable[Problem] | Mapping[str, Problem]) -> list[dict]:
    """Rows in TRL's conversational form, for a policy searched with chat prompts (``search.chat``): the prompt as
    the zero-shot chat messages of its problem, each response as one assistant message. The chat template then
    renders training exactly as the search renders its prompt, the steps being the assistant's answer."""
    by_id = index(problems)
    out = []
    for row in rows:
        if row["problem_id"] not in by_id:
            raise ValueError(f"row of problem {row['problem_id']!r} has no problem to build its chat prompt from")
        converted = {**row, "prompt": prompt_of(by_id[row["problem_id"]], chat=True)}
        for key in RESPONSE_FIELDS:
            if isinstance(row.get(key), str):
                converted[key] = [{"role": "assistant", "content": row[key]}]
        out.append(converted)
    return out


def trace_rows(problems: Iterable[Problem], round: int | None = None) -> list[dict]:
    """SFT rows from the problems' stored reasoning traces (``metadata["trace"]``); problems without one are
    skipped."""
    from o1coder.bundled import trace_of

    rows = []
    for problem in problems:
        if not problem.metadata.get("trace"):
            continue
        rows.append({"problem_id": problem.id, "prompt": prompt_of(problem),
                     "completion": render_trace(trace_of(problem)), "source": "trace", "run_id": None,
                     "round": round})
    return rows


def d_plus_rows(searched: Iterable[SearchedTrees], problems) -> list[dict]:
    """D+ as SFT rows (the searched paths whose code passes every reward test), duplicates removed."""
    rows, seen = [], set()
    for batch in searched:
        for row in positive_rows(batch.trees, problems):
            key = (row["prompt"], row["completion"])
            if key in seen:
                continue
            seen.add(key)
            rows.append({"problem_id": row["problem_id"], "prompt": row["prompt"], "completion": row["completion"],
                         "source": "tree", "run_id": batch.run_id, "round": batch.round})
    return rows


def tree_candidates(searched: Iterable[SearchedTrees]) -> list[Candidate]:
    """Every executed root-to-code path of the trees; R is the code node's reward."""
    found = []
    for batch in searched:
        for tree in batch.trees:
            for leaf in tree.terminals():
                if leaf.reward is None:
                    continue
                path = tree.path(leaf.id)[1:]
                found.append(Candidate(tree.problem_id, "".join(n.text + STEP_SEPARATOR for n in path), "tree",
                                       float(leaf.reward), [n.text for n in path], run_id=batch.run_id,
                                       round=batch.round))
    return found


def sample_candidates(problems: Sequence[Problem], generator, sandbox, tests_for: TestsFor, *, n: int,
                      max_tokens: int, temperature: float, outcome_alpha: float, seed: int = 0,
                      round: int | None = None, chat: bool = False) -> list[Candidate]:
    """``n`` fresh whole traces per problem from ``generator`` (prompted as it is trained: raw or ``chat``), with R
    from the sandbox."""
    if not problems:
        return []
    params = SamplingParams(temperature=temperature, max_new_tokens=max_tokens, stop=TRACE_STOP_STRINGS, seed=seed)
    samples = generator.generate([prompt_of(p, chat) for p in problems], params, n=n)
    found = [Candidate(p.id, c.text, "sample", steps=response_steps(c.text), round=round)
             for p, completions in zip(problems, samples) for c in completions]
    score_outcomes(found, index(problems), sandbox, tests_for, outcome_alpha)
    return found


def reference_candidates(problems: Iterable[Problem], sandbox, tests_for: TestsFor, outcome_alpha: float,
                         round: int | None = None) -> list[Candidate]:
    """The stored reasoning trace of each problem that has one, with R from the sandbox (verified, not assumed)."""
    found = [Candidate(row["problem_id"], row["completion"], "reference", round=round)
             for row in trace_rows(problems)]
    for c in found:
        c.steps = response_steps(c.completion)
    score_outcomes(found, index(problems), sandbox, tests_for, outcome_alpha)
    return found


def score_outcomes(candidates: list[Candidate], problems: dict[str, Problem], sandbox, tests_for: TestsFor,
                   alpha: float) -> None:
    items = [(problems[c.problem_id], final_program(c.steps, problems[c.problem_id])) for c in candidates]
    for c, value in zip(candidates, outcome_rewards(items, sandbox, tests_for, alpha)):
        c.outcome = value


def score_candidates(candidates: list[Candidate], problems, scorer: Scorer | None, alpha: float,
                     gamma: float) -> list[Candidate]:
    """Fill each candidate's process rewards (the PRM; [] without one) and its phi, in place."""
    by_id = index(problems)
    process = process_rewards(scorer, [(by_id[c.problem_id], c.steps) for c in candidates])
    for c, r in zip(candidates, process):
        c.process = r
        c.phi = phi(c.outcome, r, alpha, gamma)
    return candidates


def preference_pairs(candidates: Iterable[Candidate], problems, pairs_per_problem: int = 2,
                     min_margin: float = 0.0) -> list[dict]:
    """DPO rows (``prompt``, ``chosen``, ``rejected`` + phi values and lineage), best vs worst by phi per problem.

    Identical responses count once (the first seen); a pair needs phi(chosen) - phi(rejected) > ``min_margin``.
    """
    by_id, grouped = index(problems), {}
    for c in candidates:
        if c.phi is None:
            raise ValueError("score the candidates (score_candidates) before pairing them")
        grouped.setdefault(c.problem_id, {}).setdefault(c.completion, c)
    rows = []
    for problem_id, unique in grouped.items():
        ranked = sorted(unique.values(), key=lambda c: -c.phi)  # stable: ties keep their order
        for i in range(min(pairs_per_problem, len(ranked) // 2)):
            chosen, rejected = ranked[i], ranked[-1 - i]
            margin = chosen.phi - rejected.phi
            if margin <= max(min_margin, 1e-9):
                break
            rows.append({"problem_id": problem_id, "prompt": prompt_of(by_id[problem_id]),
                         "chosen": chosen.completion, "rejected": rejected.completion, "chosen_phi": chosen.phi,
                         "rejected_phi": rejected.phi, "margin": margin, "chosen_source": chosen.source,
                         "rejected_source": rejected.source, "chosen_run": chosen.run_id,
                         "rejected_run": rejected.run_id, "chosen_round": chosen.round,
                         "rejected_round": rejected.round})
    return rows


def dpo_pairs(problems: Sequence[Problem], config: TrainingConfig, sandbox, tests_for: TestsFor, *, alpha: float,
              outcome_alpha: float, searched: Iterable[SearchedTrees] = (), generator=None,
              scorer: Scorer | None = None, round: int | None = None, chat: bool = False) -> list[dict]:
    """One DPO round's pairs: candidates from ``config.pair_sources`` (tree paths of ``searched``, fresh samples
    from ``generator``, stored traces) for ``problems``, scored with phi(R, r; alpha, gamma), paired best vs worst."""
    sources, known = config.pair_sources, {p.id for p in problems}
    found = [c for c in tree_candidates(searched) if c.problem_id in known] if "trees" in sources else []
    if "samples" in sources:
        if generator is None:
            raise ValueError("training.pair_sources has 'samples': pass the current policy as generator")
        found += sample_candidates(problems, generator, sandbox, tests_for, n=config.samples_per_problem,
                                   max_tokens=config.sample_max_tokens, temperature=config.sample_temperature,
                                   outcome_alpha=outcome_alpha, seed=config.seed + (round or 0), round=round,
                                   chat=chat)
    if "references" in sources:
        found += reference_candidates(problems, sandbox, tests_for, outcome_alpha, round=round)
    score_candidates(found, problems, scorer, alpha, config.gamma)
    pairs = preference_pairs(found, problems, config.pairs_per_problem, config.min_margin)
    return in_chat_form(pairs, problems) if chat else pairs
