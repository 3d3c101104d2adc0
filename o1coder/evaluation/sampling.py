"""Sampling answers the way Table 1 compares them: vanilla answers, pseudocode trajectories, codes from a state.

- **vanilla**: one answer to the vanilla prompt (prose, then one ```python block), sampled in one call; the program
  is what :func:`~o1coder.reasoning.extract_program` finds in it.
- **pseudocode**: one trajectory of typed steps, generated one step per call exactly as the search generates a step
  (same prompt, stop strings, step parser), until a code step, a step that does not parse (no answer), or
  ``max_depth`` steps without code (no answer). No search: each step is the first sample. The program is the code
  step's code.
- **from a state** (ASPR): K next steps sampled at once from a given list of pseudocode steps (pseudocode) or K
  answers to the vanilla prompt (vanilla); a pseudocode sample counts as code only when it is a code step.

Every call's seed is derived from (seed, problem id, purpose, depth), so results do not depend on problem order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from o1coder.models.base import Completion, Generator, SamplingParams
from o1coder.problems import Problem
from o1coder.reasoning import (
    STEP_STOP_STRINGS,
    VANILLA_STOP_STRINGS,
    Action,
    Step,
    extract_program,
    pseudocode_input,
    render,
    vanilla_input,
)
from o1coder.search.expansion import read_step
from o1coder.search.seeding import derive_seed
from o1coder.search.tree import Tree


@dataclass(frozen=True)
class Decoding:
    """Resolved decoding settings (see :func:`decoding`): what the evaluation samples with."""

    sampling: SamplingParams  # the evaluation samples
    aspr_sampling: SamplingParams  # ASPR's K samples
    max_depth: int
    step_tokens: int
    answer_tokens: int
    few_shot: bool = True
    seed: int = 0
    chat: bool = False  # search.chat: raw text or chat messages (o1coder.reasoning.pseudocode_input)

    @property
    def examples(self):
        return None if self.few_shot else ()  # None: the default few-shot examples


def decoding(recipe: Mapping[str, Any], config) -> Decoding:
    """Decoding settings from a recipe and its :class:`~o1coder.evaluation.config.EvalConfig`: lengths and depth
    from ``evaluation:``, else ``search:``, else ``sampling:``; sampling from ``sampling:`` with the evaluation's
    overrides."""
    from o1coder.config import from_dict
    from o1coder.search.config import search_config

    search = search_config(recipe)
    base = dict(recipe.get("sampling") or {})
    sampling = from_dict(SamplingParams, {**base, **config.sampling}, section="evaluation.sampling")
    aspr = from_dict(SamplingParams, {**base, **config.aspr_sampling}, section="evaluation.aspr_sampling")
    depth = config.max_depth or search.max_depth
    step = config.max_step_tokens or search.max_step_tokens or sampling.max_new_tokens
    answer = config.max_answer_tokens or search.max_answer_tokens or step * depth
    seed = config.seed if config.seed is not None else int(recipe.get("seed") or 0)
    return Decoding(sampling, aspr, depth, step, answer, config.few_shot, seed, search.chat)


@dataclass
class Answer:
    """One sampled answer. ``texts`` are the trajectory's steps as stored in a tree (rendered when they parse; the
    raw text for the last one otherwise; one text for a vanilla answer); ``end`` says how it ended: "code",
    "no_code" (vanilla without code; a pseudocode sample that is not a code step), "dead" (a step that does not
    parse) or "depth" (max_depth steps without code)."""

    mode: str
    texts: tuple[str, ...]
    actions: tuple[int | None, ...]
    program: str | None
    end: str
    tokens: int

    def to_dict(self) -> dict:
        return {"mode": self.mode, "program": self.program, "end": self.end, "tokens": self.tokens,
                "steps": len(self.texts)}


class Sampler:
    """Samples answers from one generator with one :class:`Decoding`."""

    def __init__(self, generator: Generator, decoding: Decoding) -> None:
        self.generator, self.decoding = generator, decoding

    def answers(self, problem: Problem, mode: str, n: int, purpose: str = "eval") -> list[Answer]:
        """``n`` answers in ``mode`` ("vanilla" or "pseudocode")."""
        if mode == "vanilla":
            return self._vanilla(problem, n, self.decoding.sampling, purpose)
        if mode == "pseudocode":
            return self._trajectories(problem, n, purpose)
        raise ValueError(f"unknown mode {mode!r}; expected 'vanilla' or 'pseudocode'")

    def from_state(self, problem: Problem, mode: str, steps: Sequence[Step], k: int,
                   purpose: str = "aspr") -> list[Answer]:
        """``k`` code samples from the state ``steps`` (ASPR's sampling, with the ASPR sampling settings)."""
        if mode == "vanilla":
            if steps:
                raise ValueError("a vanilla state has no pseudocode steps; got "
                                 f"{len(steps)} steps (is this tree from a pseudocode search?)")
            return self._vanilla(problem, k, self.decoding.aspr_sampling, purpose)
        params = self._step_params(self.decoding.aspr_sampling, problem, purpose, len(steps))
        [completions] = self.generator.generate([self._prompt(problem, steps)], params, n=k)
        return [self._code_sample(problem, steps, c) for c in completions]

    # -- internals -------------------------------------------------------------------------------------------------
    def _prompt(self, problem: Problem, steps: Sequence[Step]):
        return pseudocode_input(problem, list(steps), examples=self.decoding.examples, chat=self.decoding.chat)

    def _step_params(self, base: SamplingParams, problem: Problem, purpose: str, depth: int) -> SamplingParams:
        return dataclasses.replace(base, stop=tuple(dict.fromkeys(STEP_STOP_STRINGS + base.stop)),
                                   max_new_tokens=self.decoding.step_tokens,
                                   seed=derive_seed(self.decoding.seed, problem.id, purpose, "pseudocode", depth))

    def _vanilla(self, problem: Problem, n: int, base: SamplingParams, purpose: str) -> list[Answer]:
        params = dataclasses.replace(base, stop=tuple(dict.fromkeys(VANILLA_STOP_STRINGS + base.stop)),
                                     max_new_tokens=self.decoding.answer_tokens,
                                     seed=derive_seed(self.decoding.seed, problem.id, purpose, "vanilla"))
        prompt = vanilla_input(problem, examples=self.decoding.examples, chat=self.decoding.chat)
        [completions] = self.generator.generate([prompt], params, n=n)
        answers = []
        for c in completions:
            text = c.text.strip()
            program = extract_program(text, problem.entry_point).code
            answers.append(Answer("vanilla", (text,), (int(Action.CODE) if program else None,), program,
                                  "code" if program else "no_code", c.completion_tokens))
        return answers

    def _code_sample(self, problem: Problem, steps: Sequence[Step], c: Completion) -> Answer:
        candidate = read_step(c, truncated_dead=False)
        texts = tuple(_render_all(steps)) + (candidate.text,)
        actions = tuple(int(s.action) for s in steps) + (candidate.action,)
        if candidate.dead or candidate.action != Action.CODE:
            return Answer("pseudocode", texts, actions, None, "dead" if candidate.dead else "no_code",
                          c.completion_tokens)
        program = extract_program(candidate.text, problem.entry_point).code
        return Answer("pseudocode", texts, actions, program, "code", c.completion_tokens)

    def _trajectories(self, problem: Problem, n: int, purpose: str) -> list[Answer]:
        """``n`` step-by-step trajectories; all live ones advance together, one batched call per depth."""
        done: dict[int, Answer] = {}
        live: dict[int, tuple[list[Step], int]] = {}  # index -> (steps so far, tokens so far)
        base = self.decoding.sampling
        params = self._step_params(base, problem, purpose, 0)
        [first] = self.generator.generate([self._prompt(problem, [])], params, n=n)
        pending = [(i, [], 0, c) for i, c in enumerate(first)]
        depth = 0
        while True:
            for index, steps, tokens, completion in pending:
                tokens += completion.completion_tokens
                candidate = read_step(completion, truncated_dead=False)
                texts = tuple(_render_all(steps)) + (candidate.text,)
                actions = tuple(int(s.action) for s in steps) + (candidate.action,)
                if candidate.dead:
                    done[index] = Answer("pseudocode", texts, actions, None, "dead", tokens)
                elif candidate.action == Action.CODE:
                    program = extract_program(candidate.text, problem.entry_point).code
                    done[index] = Answer("pseudocode", texts, actions, program, "code", tokens)
                elif len(steps) + 1 >= self.decoding.max_depth:
                    done[index] = Answer("pseudocode", texts, actions, None, "depth", tokens)
                else:
                    live[index] = ([*steps, candidate.step], tokens)
            if not live:
                return [done[i] for i in range(n)]
            depth += 1
            order = sorted(live)
            params = self._step_params(base, problem, purpose, depth)
            results = self.generator.generate([self._prompt(problem, live[i][0]) for i in order], params, n=1)
            pending = [(i, live[i][0], live[i][1], samples[0]) for i, samples in zip(order, results)]
            live = {}


def _render_all(steps: Sequence[Step]) -> list[str]:
    return [render(s) for s in steps]


def answers_tree(problem: Problem, answers: Sequence[Answer]) -> Tree:
    """The answers as one tree (shared prefixes merged), so ASPR reads sampled answers like a search tree: code
    steps become code nodes, the rest are dead or out-of-depth leaves."""
    tree = Tree(problem.id, config={"source": "evaluation samples"})
    tree.add(None, None, "")
    for answer in answers:
        parent = tree.root
        for position, (text, action) in enumerate(zip(answer.texts, answer.actions)):
            last = position == len(answer.texts) - 1
            dead = last and answer.end in ("dead", "no_code")
            child = next((tree.nodes[i] for i in parent.children
                          if tree.nodes[i].text == text and tree.nodes[i].dead == dead), None)
            if child is None:
                child = tree.add(parent.id, action, text, dead=dead)
            else:
                child.duplicates += 1
            child.visits += 1
            parent = child
        tree.root.visits += 1
    return tree
