"""A scripted policy for search tests: the next steps depend only on the steps taken so far.

    respond = step_policy({(): [structure_a, structure_b, "junk"], ("A",): [code_good, code_bad, refine]})
    generator = ScriptedGenerator(respond)

The state is read back from the prompt (the steps after the last solution heading), and keyed by the titles of
those steps, so a test writes its search tree as a table and can compute every visit count and value by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from o1coder.models.base import Prompt, SamplingParams
from o1coder.reasoning import parse_steps
from o1coder.reasoning.prompts import ANSWER_HEADING, SOLUTION_HEADING

State = tuple[str, ...]


def steps_in_prompt(prompt: Prompt) -> State:
    """Titles of the steps already taken, read from the end of a raw pseudocode prompt (or a chat's last message)."""
    text = prompt if isinstance(prompt, str) else prompt[-1]["content"]
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
