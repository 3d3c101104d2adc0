"""Scripted policies for search tests and notebooks: the next steps depend only on the steps taken so far.

    respond = step_policy({(): [structure_a, structure_b, "junk"], ("A",): [code_good, code_bad, refine]})
    generator = ScriptedGenerator(respond)

The state is read back from the prompt (the steps after the last solution heading), and keyed by the titles of
those steps, so a test writes its search tree as a table and can compute every visit count and value by hand.
:func:`trace_policy` replays the bundled problems' reasoning traces with mistakes, for notebooks and tests that
need deep trees on a CPU without a model:

    generator = ScriptedGenerator(trace_policy(load_bundled("train")))
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import replace

from o1coder.models.base import Prompt, SamplingParams
from o1coder.problems import Problem
from o1coder.reasoning import END_OF_STEP, Step, parse_steps, render
from o1coder.reasoning.prompts import (
    ANSWER_HEADING,
    PROBLEM_HEADING,
    SOLUTION_HEADING,
    VANILLA_INSTRUCTION,
    format_question,
)

State = tuple[str, ...]


def steps_in_prompt(prompt: Prompt) -> State:
    """Titles of the steps already taken, read from the end of a raw pseudocode prompt, or from a chat's final
    assistant message (the partial answer the model continues; a chat ending with the question has none)."""
    if not isinstance(prompt, str):
        last = prompt[-1]
        return tuple(r.step.title for r in parse_steps(last["content"]) if r.ok) if last["role"] == "assistant" else ()
    text = prompt
    for heading in (SOLUTION_HEADING, ANSWER_HEADING):
        marker = f"{heading}\n"
        if marker in text:
            text = text.rsplit(marker, 1)[1]
            break
    else:
        return ()
    return tuple(r.step.title for r in parse_steps(text) if r.ok)


def step_policy(table: Mapping[State, Sequence[str]], default: Sequence[str] = ("(no scripted step)",)):
    """``respond(prompt, params, n)`` for ``ScriptedGenerator``: ``table[state]`` repeated to ``n`` texts.

    A state missing from the table answers ``default`` (unparseable text, so the step is dead).
    """
    def respond(prompt: Prompt, params: SamplingParams, n: int) -> list[str]:
        texts = list(table.get(steps_in_prompt(prompt), default))
        return [texts[i % len(texts)] for i in range(n)]

    return respond


# -- replaying the bundled reasoning traces ---------------------------------------------------------------------------

# The trace policy's odds: code is likelier, and right more often, once the trace's pseudocode steps are all taken.
_CODE_ODDS = {"early": 0.2, "planned": 0.7}
_RIGHT_ODDS = {"early": 0.3, "planned": 0.8, "vanilla": 0.5}
_MAX_TRACE_STEPS = 8


def trace_policy(problems: Sequence[Problem], *, junk: float = 0.1, seed: int = 0):
    """``respond(prompt, params, n)`` for ``ScriptedGenerator`` that replays the reasoning traces of ``problems``
    (bundled problems: ``metadata["trace"]``), with mistakes, so searches on a CPU grow deep, meaningful trees.

    The problem is the one whose question follows the prompt's last problem heading; the state is the number of
    steps taken. Every sample is drawn with a generator seeded by (``seed``, the call's seed, problem, state):
    unparseable text with probability ``junk`` (a dead step); else a code step, with probability 0.2 before the
    trace's pseudocode steps are all taken and 0.7 after (the trace's code, right 30% / 80% of the time, else a
    program that returns None); else the trace's next pseudocode step (the last one again past its end), titled
    "(variant 0)", "(variant 1)" or "(variant 2)" so that siblings differ. A prompt asking for a whole trace (no
    end-of-step stop string) gets steps until a code or dead one; a vanilla prompt gets a ```python block, right
    half of the time.
    """
    from o1coder.bundled import trace_of

    traces = {p.id: trace_of(p) for p in problems}
    questions = {format_question(p): p for p in problems}

    def respond(prompt: Prompt, params: SamplingParams, n: int) -> list[str]:
        if isinstance(prompt, str):
            asked = prompt.rsplit(f"{PROBLEM_HEADING}\n", 1)[-1]
            vanilla = f"{ANSWER_HEADING}\n" in asked
        else:  # a chat: the question is the last user message, the vanilla instruction opens the conversation
            asked = next(m["content"] for m in reversed(prompt) if m["role"] == "user")
            vanilla = VANILLA_INSTRUCTION in prompt[0]["content"]
        problem = next((p for q, p in questions.items() if asked.startswith(q)), None)
        if problem is None:
            raise ValueError(f"trace_policy: the prompt asks about none of its {len(problems)} problems")
        taken = steps_in_prompt(prompt)
        rng = random.Random(f"{seed}:{params.seed}:{problem.id}:{'|'.join(taken)}")
        wrong = f"def {problem.entry_point}(*args):\n    return None" if problem.entry_point else "print(0)"
        if vanilla:  # the vanilla prompt: one answer with a program
            return [f"```python\n{problem.reference if rng.random() < _RIGHT_ODDS['vanilla'] else wrong}\n```"
                    for _ in range(n)]
        whole = END_OF_STEP not in params.stop
        return [_replay(traces[problem.id], len(taken), wrong, rng, junk, whole) for _ in range(n)]

    return respond


def _replay(trace: Sequence[Step], depth: int, wrong: str, rng: random.Random, junk: float, whole: bool) -> str:
    """One sampled step from ``depth`` steps into ``trace`` (or, ``whole``, steps until a code or dead one)."""
    plan = trace[:-1]
    texts = []
    while True:
        stage = "planned" if depth >= len(plan) else "early"
        if rng.random() < junk:
            return "\n".join([*texts, "ted +\n__', assert par head (\nescri"])
        if not plan or rng.random() < _CODE_ODDS[stage]:
            right = rng.random() < _RIGHT_ODDS[stage]
            return "\n".join([*texts, render(trace[-1] if right else replace(trace[-1], code=wrong))])
        step = plan[min(depth, len(plan) - 1)]
        texts.append(render(replace(step, title=f"{step.title} (variant {rng.randrange(3)})")))
        depth += 1
        if not whole or depth >= _MAX_TRACE_STEPS:
            return "\n".join(texts)
