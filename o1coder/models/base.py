"""The one generation interface every stage talks to: `Generator`, `SamplingParams`, `Completion`, `Usage`.

Search, TCG, evaluation and training only ever call ``generator.generate(prompts, params, n)``; which backend
answers (transformers in-process, vLLM in-process, an OpenAI-compatible server) is a recipe setting. This module
is imported by the search loop on every run, so it stays free of torch and model libraries.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, Union, runtime_checkable

Message = Mapping[str, str]
"""One chat message: ``{"role": "system" | "user" | "assistant", "content": "..."}``."""

Prompt = Union[str, Sequence[Message]]
"""A plain-text prompt (completed as is) or a chat (rendered with the model's chat template)."""

FinishReason = Literal["stop", "length"]


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass(frozen=True)
class SamplingParams:
    """How to sample one completion. Frozen so one object can be shared by threads and cached calls.

    The same fields form the ``sampling:`` section of a recipe (``o1coder.config.SamplingConfig`` is this class).
    Change a field with ``dataclasses.replace(params, temperature=0.0)``.
    """

    temperature: float = field(default=1.0, metadata=_help("Softmax temperature; 0 means greedy decoding."))
    top_p: float = field(default=1.0, metadata=_help("Nucleus sampling mass in (0, 1]; 1 disables it."))
    top_k: int = field(default=0, metadata=_help("Sample among the k most likely tokens; 0 disables it."))
    max_new_tokens: int = field(default=256, metadata=_help("Most tokens generated per completion."))
    stop: tuple[str, ...] = field(
        default=(),
        metadata=_help("Strings that end a completion; the text is cut before the first one (finish 'stop')."),
    )
    seed: int | None = field(
        default=None, metadata=_help("Random seed for the call: same seed and inputs give the same samples.")
    )
    logprobs: bool = field(
        default=False, metadata=_help("Also return the log-probability of each generated token.")
    )

    def __post_init__(self) -> None:
        stop = self.stop
        if isinstance(stop, str):  # a single stop string is a common shorthand
            stop = (stop,)
        if stop is None:
            stop = ()
        if not isinstance(stop, Sequence) or not all(isinstance(s, str) and s for s in stop):
            raise ValueError(f"SamplingParams.stop must be a list of non-empty strings; got {self.stop!r}")
        object.__setattr__(self, "stop", tuple(stop))
        object.__setattr__(self, "temperature", _number("temperature", self.temperature))
        object.__setattr__(self, "top_p", _number("top_p", self.top_p))
        if not self.temperature >= 0 or math.isinf(self.temperature):
            raise ValueError(f"SamplingParams.temperature must be a finite number >= 0; got {self.temperature!r}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"SamplingParams.top_p must be in (0, 1]; got {self.top_p!r}")
        _integer("top_k", self.top_k, minimum=0)
        _integer("max_new_tokens", self.max_new_tokens, minimum=1)
        if self.seed is not None:
            _integer("seed", self.seed, minimum=0)
        if not isinstance(self.logprobs, bool):
            raise ValueError(f"SamplingParams.logprobs must be true or false; got {self.logprobs!r}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"SamplingParams.{name} must be a number; got {value!r}")
    if math.isnan(value):
        raise ValueError(f"SamplingParams.{name} must be a number; got NaN")
    return float(value)


def _integer(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"SamplingParams.{name} must be an integer >= {minimum}; got {value!r}")


@dataclass(frozen=True)
class Completion:
    """One sampled continuation of one prompt.

    ``completion_tokens`` counts the tokens the model produced up to where it stopped (the end-of-sequence token
    included, the text after a stop string not). ``token_ids`` and ``token_logprobs`` cover those same tokens when
    the backend reports them (an OpenAI-compatible server gives no ids; logprobs only when asked for).
    """

    text: str
    finish_reason: FinishReason
    prompt_tokens: int
    completion_tokens: int
    token_ids: tuple[int, ...] | None = None
    token_logprobs: tuple[float, ...] | None = None

    @property
    def logprob(self) -> float | None:
        """Sum of the token log-probabilities: log p(completion | prompt) under the model."""
        return None if self.token_logprobs is None else float(sum(self.token_logprobs))

    @property
    def mean_logprob(self) -> float | None:
        """Mean token log-probability (length-normalised, comparable across completion lengths)."""
        if not self.token_logprobs:
            return None
        return float(sum(self.token_logprobs)) / len(self.token_logprobs)


@dataclass
class Usage:
    """What a generator has spent so far, so that every run can report its cost.

    Prompt tokens are counted once per prompt per call (not once per sample): that is what OpenAI-style servers
    bill and what prefix caching makes true on vLLM. Safe to update from several threads.
    """

    calls: int = 0
    prompts: int = 0
    completions: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def record(self, results: Sequence[Sequence[Completion]], seconds: float = 0.0) -> None:
        """Add one ``generate`` call's results."""
        prompt_tokens = sum(samples[0].prompt_tokens for samples in results if samples)
        completion_tokens = sum(c.completion_tokens for samples in results for c in samples)
        with self._lock:
            self.calls += 1
            self.prompts += len(results)
            self.completions += sum(len(samples) for samples in results)
            self.prompt_tokens += prompt_tokens
            self.completion_tokens += completion_tokens
            self.seconds += seconds

    def snapshot(self) -> Usage:
        """A copy, e.g. to measure one stage: ``before = g.usage.snapshot(); ...; spent = g.usage - before``."""
        with self._lock:
            return Usage(**self.as_dict(include_total=False))

    def as_dict(self, include_total: bool = True) -> dict[str, float]:
        names = [f.name for f in dataclasses.fields(self) if not f.name.startswith("_")]
        out: dict[str, float] = {name: getattr(self, name) for name in names}
        if include_total:
            out["total_tokens"] = self.total_tokens
        return out

    def __sub__(self, other: Usage) -> Usage:
        mine, theirs = self.as_dict(include_total=False), other.as_dict(include_total=False)
        return Usage(**{name: mine[name] - theirs[name] for name in mine})


@dataclass(frozen=True)
class GenerationCall:
    """The arguments of one ``generate(prompts, params, n)`` call, so several calls can be answered together."""

    prompts: Sequence[Prompt]
    params: SamplingParams
    n: int = 1

    @property
    def sequences(self) -> int:
        """Rows this call adds to a batch: its prompts times its samples."""
        return len(self.prompts) * self.n


@runtime_checkable
class Generator(Protocol):
    """Anything that samples completions. Outer list: one entry per prompt, in order; inner list: ``n`` samples."""

    usage: Usage

    def generate(
        self, prompts: Sequence[Prompt], params: SamplingParams | None = None, n: int = 1
    ) -> list[list[Completion]]: ...


class BaseGenerator:
    """Shared front door of the backends: checks the inputs, times the call, records usage.

    Subclasses implement ``_generate`` on already-checked inputs and return ``len(prompts)`` lists of ``n``.
    """

    name: str = "generator"

    def __init__(self) -> None:
        self.usage = Usage()

    def generate(
        self, prompts: Sequence[Prompt], params: SamplingParams | None = None, n: int = 1
    ) -> list[list[Completion]]:
        prompts = check_prompts(prompts)
        params = params if params is not None else SamplingParams()
        if not isinstance(params, SamplingParams):
            raise TypeError(f"params must be a SamplingParams; got {type(params).__name__}")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n (samples per prompt) must be an integer >= 1; got {n!r}")
        if not prompts:
            return []
        start = time.perf_counter()
        results = self._generate(prompts, params, n)
        assert len(results) == len(prompts) and all(len(r) == n for r in results), "backend returned a wrong shape"
        self.usage.record(results, time.perf_counter() - start)
        return results

    def generate_calls(self, calls: Sequence[GenerationCall]) -> list[list[list[Completion]]]:
        """Answer several ``generate`` calls at once; one result per call, as ``generate`` would return it.

        This is how many searches in flight share the engine (:mod:`o1coder.search.inflight`): the backends answer
        all calls in one engine pass where they can (one batched ``model.generate`` per sampling setting, one
        ``vllm.LLM.generate``, concurrent HTTP requests). Each call keeps its own seed where the backend seeds per
        request (vLLM, OpenAI-compatible servers); transformers seeds a whole batch, see its ``_generate_calls``.
        Usage is recorded once for the batch.
        """
        checked = []
        for call in calls:
            params = call.params if call.params is not None else SamplingParams()
            if not isinstance(params, SamplingParams):
                raise TypeError(f"params must be a SamplingParams; got {type(params).__name__}")
            if isinstance(call.n, bool) or not isinstance(call.n, int) or call.n < 1:
                raise ValueError(f"n (samples per prompt) must be an integer >= 1; got {call.n!r}")
            checked.append(GenerationCall(check_prompts(call.prompts), params, call.n))
        todo = [i for i, call in enumerate(checked) if call.prompts]
        results: list[list[list[Completion]]] = [[] for _ in checked]
        if not todo:
            return results
        start = time.perf_counter()
        answered = self._generate_calls([checked[i] for i in todo])
        for i, result in zip(todo, answered, strict=True):
            call = checked[i]
            assert len(result) == len(call.prompts) and all(len(r) == call.n for r in result), "wrong shape"
            results[i] = result
        self.usage.record([samples for i in todo for samples in results[i]], time.perf_counter() - start)
        return results

    def _generate(self, prompts: list[Prompt], params: SamplingParams, n: int) -> list[list[Completion]]:
        raise NotImplementedError

    def _generate_calls(self, calls: list[GenerationCall]) -> list[list[list[Completion]]]:
        """Backends that can batch across calls override this; the default answers the calls one by one."""
        return [self._generate(list(call.prompts), call.params, call.n) for call in calls]

    def close(self) -> None:
        """Release what the backend holds (engine, GPU memory); the generator is unusable afterwards."""

    def __enter__(self) -> BaseGenerator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def generate_calls(generator: Generator, calls: Sequence[GenerationCall]) -> list[list[list[Completion]]]:
    """``generator.generate_calls(calls)`` where the generator has it, else one ``generate`` per call, in order."""
    batched = getattr(generator, "generate_calls", None)
    if batched is not None:
        return batched(calls)
    return [generator.generate(call.prompts, call.params, n=call.n) for call in calls]


def flatten_calls(calls: Sequence[GenerationCall]) -> list[tuple[int, Prompt]]:
    """(call index, prompt) for every prompt of every call, in order: the requests of one engine pass."""
    return [(c, prompt) for c, call in enumerate(calls) for prompt in call.prompts]


def unflatten(calls: Sequence[GenerationCall], flat: Sequence[list[Completion]]) -> list[list[list[Completion]]]:
    """The per-prompt results of :func:`flatten_calls`' requests, regrouped into one result per call."""
    out, start = [], 0
    for call in calls:
        out.append(list(flat[start : start + len(call.prompts)]))
        start += len(call.prompts)
    return out


def combined_seed(seeds: Sequence[int | None]) -> int | None:
    """One seed for a batch that merges calls seeded ``seeds``: the seed itself for one call (so a batch of one is
    exactly that call), a 31-bit hash of all of them in order otherwise, None when any call is unseeded."""
    if any(seed is None for seed in seeds):
        return None
    if len(seeds) == 1:
        return seeds[0]
    digest = hashlib.sha256(",".join(str(seed) for seed in seeds).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def is_chat(prompt: Prompt) -> bool:
    return not isinstance(prompt, str)


def chat_template_options(prompt: Prompt) -> dict[str, bool]:
    """How a chat is rendered: a chat ending with an *assistant* message is a partial answer the model continues
    (``continue_final_message``: no end-of-turn after it, no new assistant header); any other chat gets the
    assistant header (``add_generation_prompt``). The same keywords in transformers' ``apply_chat_template``,
    vLLM's ``LLM.chat`` and vLLM's OpenAI-compatible chat endpoint (which refuses both set at once)."""
    continuing = is_chat(prompt) and bool(prompt) and prompt[-1].get("role") == "assistant"
    return {"add_generation_prompt": not continuing, "continue_final_message": continuing}


def check_prompts(prompts: Sequence[Prompt]) -> list[Prompt]:
    """Reject the usual mistakes early, with the index of the bad prompt."""
    if isinstance(prompts, (str, Mapping)) or not isinstance(prompts, Sequence):
        raise TypeError(
            "prompts must be a list of prompts (strings or chats); wrap a single prompt in a list: generate([prompt])"
        )
    for i, prompt in enumerate(prompts):
        if isinstance(prompt, str):
            continue
        if isinstance(prompt, Mapping) or not isinstance(prompt, Sequence) or not prompt:
            raise ValueError(f"prompt {i} must be a string or a non-empty list of messages; got {prompt!r:.80}")
        for message in prompt:
            if not isinstance(message, Mapping) or not isinstance(message.get("role"), str) or not isinstance(
                message.get("content"), str
            ):
                raise ValueError(
                    f"prompt {i}: each message must be a dict with string 'role' and 'content'; got {message!r:.80}"
                )
    return list(prompts)


def truncate_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """Cut ``text`` before the earliest stop string. Returns (text, whether a stop string was found)."""
    cut = min((i for i in (text.find(s) for s in stop) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)
