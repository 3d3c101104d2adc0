"""``ScriptedGenerator``: a generator that answers from a Python function, for tests of the stages above it.

Search, TCG and evaluation tests need exact control over what "the model" says (a step that parses, code that
passes, a malformed answer) without loading any model. Token counts are whitespace-separated words: enough for
usage accounting in tests, not a real tokenizer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from o1coder.models.base import BaseGenerator, Completion, Prompt, SamplingParams, truncate_at_stop

Respond = Callable[[Prompt, SamplingParams, int], Sequence[str]]


class ScriptedGenerator(BaseGenerator):
    """``respond(prompt, params, n) -> n texts``; stop strings and max_new_tokens (in words) are applied after."""

    def __init__(self, respond: Respond, name: str = "scripted") -> None:
        super().__init__()
        self.respond = respond
        self.name = name
        self.prompts_seen: list[Prompt] = []

    def _generate(self, prompts: list[Prompt], params: SamplingParams, n: int) -> list[list[Completion]]:
        results = []
        for prompt in prompts:
            self.prompts_seen.append(prompt)
            texts = list(self.respond(prompt, params, n))
            if len(texts) != n:
                raise ValueError(f"ScriptedGenerator: respond() returned {len(texts)} texts for n={n}")
            prompt_text = prompt if isinstance(prompt, str) else " ".join(m["content"] for m in prompt)
            results.append([_complete(text, len(prompt_text.split()), params) for text in texts])
        return results


def _complete(text: str, prompt_tokens: int, params: SamplingParams) -> Completion:
    text, stopped = truncate_at_stop(text, params.stop)
    words = text.split()
    if not stopped and len(words) > params.max_new_tokens:  # cut to the budget (whitespace is normalised)
        return Completion(" ".join(words[: params.max_new_tokens]), "length", prompt_tokens, params.max_new_tokens)
    return Completion(text, "stop", prompt_tokens, len(words))
