"""Generation through any server that speaks the OpenAI API (vllm serve, SGLang, llama.cpp server, hosted APIs).

Plain prompts go to ``/completions``, chats to ``/chat/completions`` (a chat ending with an assistant message is
continued: ``continue_final_message``, as vLLM's server reads it); one request per prompt asks for all ``n``
samples. A chat-only server (no ``/completions``) is searched with chat prompts (``search.chat: true``). Requests
run concurrently in a thread pool and are retried with exponential backoff on connection errors, timeouts, 429 and
5xx. Only the standard library is used, so the core install stays light. The API key is read
from an environment variable and never logged.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from o1coder.models.base import (
    BaseGenerator,
    Completion,
    GenerationCall,
    Prompt,
    SamplingParams,
    chat_template_options,
    flatten_calls,
    is_chat,
    unflatten,
)

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})


class OpenAIRequestError(RuntimeError):
    """A request the server refused, or that still failed after all retries."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class OpenAIGenerator(BaseGenerator):
    """A ``Generator`` backed by an OpenAI-compatible HTTP server.

    ``base_url`` includes the version prefix, as for the official client: ``http://127.0.0.1:8000/v1``.
    """

    def __init__(
        self,
        model: str,
        base_url: str,
        *,
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 120.0,
        max_retries: int = 4,
        concurrency: int = 8,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        extra_body: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://; got {base_url!r}")
        self.model = model
        self.name = model
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.concurrency = concurrency
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.extra_body = dict(extra_body or {})
        self.api_key_env = api_key_env
        self._api_key = os.environ.get(api_key_env) or None  # kept out of repr and logs
        if self._api_key is None:
            logger.debug("no API key in $%s; sending requests without Authorization", api_key_env)

    def __repr__(self) -> str:
        return f"OpenAIGenerator(model={self.model!r}, base_url={self.base_url!r}, api_key_env={self.api_key_env!r})"

    def _generate(self, prompts: list[Prompt], params: SamplingParams, n: int) -> list[list[Completion]]:
        [result] = self._generate_calls([GenerationCall(prompts, params, n)])
        return result

    def _generate_calls(self, calls: list[GenerationCall]) -> list[list[list[Completion]]]:
        """One request per prompt of every call (each with its call's seed), at most ``concurrency`` in flight."""

        def one(request: tuple[int, Prompt]) -> list[Completion]:
            call = calls[request[0]]
            path, body = build_request(request[1], call.params, call.n, self.model)
            body.update(self.extra_body)
            try:
                payload = self._post(path, body)
            except OpenAIRequestError as error:
                if path == "/completions" and error.status == 404:
                    raise OpenAIRequestError(
                        f"{self.base_url} has no /completions endpoint (a chat-only server): send chat prompts "
                        "instead (search.chat: true)", 404) from None
                raise
            return parse_response(payload, chat=is_chat(request[1]), n=call.n)

        requests = flatten_calls(calls)
        if len(requests) == 1 or self.concurrency == 1:
            return unflatten(calls, [one(request) for request in requests])
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests))) as pool:
            return unflatten(calls, list(pool.map(one, requests)))

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        url = self.base_url + path
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        for attempt in range(self.max_retries + 1):
            request = urllib.request.Request(url, data=data, headers=headers, method="POST")
            retry_after = None
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    raw = response.read()
                try:
                    return json.loads(raw)
                except ValueError:
                    raise OpenAIRequestError(f"{url} answered with invalid JSON: {raw[:200]!r}") from None
            except urllib.error.HTTPError as error:
                detail = _error_detail(error)
                if error.code not in RETRY_STATUSES:
                    raise OpenAIRequestError(f"{url} answered HTTP {error.code}: {detail}", error.code) from None
                problem, status = f"HTTP {error.code}: {detail}", error.code
                retry_after = _retry_after(error.headers.get("Retry-After"), self.backoff_max)
            except (urllib.error.URLError, ConnectionError, TimeoutError, socket.timeout) as error:
                reason = getattr(error, "reason", error)
                problem, status = f"{type(reason).__name__}: {reason}", None
            if attempt == self.max_retries:
                raise OpenAIRequestError(
                    f"{url} failed after {attempt + 1} attempt(s); last error: {problem}", status
                ) from None
            delay = retry_after if retry_after is not None else self._backoff(attempt)
            logger.warning("%s: %s; retry %d/%d in %.2fs", url, problem, attempt + 1, self.max_retries, delay)
            time.sleep(delay)
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter, so that concurrent clients do not retry in lock step."""
        return min(self.backoff_max, self.backoff_base * 2**attempt) * random.uniform(0.5, 1.0)


def build_request(prompt: Prompt, params: SamplingParams, n: int, model: str) -> tuple[str, dict[str, Any]]:
    """(endpoint path, JSON body) for one prompt. Non-standard fields (top_k) are sent only when used."""
    body: dict[str, Any] = {
        "model": model,
        "n": n,
        "max_tokens": params.max_new_tokens,
        "temperature": params.temperature,
        "top_p": params.top_p,
    }
    if params.top_k > 0:
        body["top_k"] = params.top_k  # vLLM, SGLang and llama.cpp accept it; OpenAI itself has no top-k
    if params.stop:
        body["stop"] = list(params.stop)
    if params.seed is not None:
        body["seed"] = params.seed
    if is_chat(prompt):
        body["messages"] = [{"role": m["role"], "content": m["content"]} for m in prompt]
        if params.logprobs:
            body["logprobs"] = True
        if chat_template_options(prompt)["continue_final_message"]:
            # a partial assistant answer (the steps so far) to continue: vLLM's and SGLang's chat endpoints read
            # these fields; the OpenAI API itself has no way to continue a message
            body.update(add_generation_prompt=False, continue_final_message=True)
        return "/chat/completions", body
    body["prompt"] = prompt
    if params.logprobs:
        body["logprobs"] = 1  # the legacy API's count of alternatives; the chosen token's logprob always comes
    return "/completions", body


def parse_response(payload: Mapping[str, Any], chat: bool, n: int) -> list[Completion]:
    """The ``n`` choices of one response as Completions, in choice order.

    The API reports completion tokens per response, not per choice: each choice's count is the length of its
    logprobs when present, else (n > 1 without logprobs) the total split across choices by text length.
    """
    choices = sorted(payload.get("choices") or [], key=lambda c: c.get("index", 0))
    if len(choices) != n:
        raise OpenAIRequestError(f"server returned {len(choices)} choices for n={n}")
    usage = payload.get("usage") or {}
    prompt_tokens = int(usage.get("prompt_tokens") or 0)
    texts = [_choice_text(c, chat) for c in choices]
    logprobs = [_choice_logprobs(c, chat) for c in choices]
    counts = [len(lp) if lp is not None else None for lp in logprobs]
    if any(count is None for count in counts):
        counts = _split_total(int(usage.get("completion_tokens") or 0), texts)
    return [
        Completion(
            text=text,
            finish_reason="length" if choice.get("finish_reason") == "length" else "stop",
            prompt_tokens=prompt_tokens,
            completion_tokens=count,
            token_logprobs=lp,
        )
        for choice, text, count, lp in zip(choices, texts, counts, logprobs)
    ]


def _choice_text(choice: Mapping[str, Any], chat: bool) -> str:
    if chat:
        return (choice.get("message") or {}).get("content") or ""
    return choice.get("text") or ""


def _choice_logprobs(choice: Mapping[str, Any], chat: bool) -> tuple[float, ...] | None:
    logprobs = choice.get("logprobs")
    if not logprobs:
        return None
    if chat:
        return tuple(float(item["logprob"]) for item in logprobs.get("content") or [])
    return tuple(float(value) for value in logprobs.get("token_logprobs") or [] if value is not None)


def _split_total(total: int, texts: list[str]) -> list[int]:
    """Split ``total`` tokens across texts in proportion to their length; the parts sum to ``total`` exactly."""
    if len(texts) == 1:
        return [total]
    weights = [len(text) + 1 for text in texts]
    parts = [total * w // sum(weights) for w in weights]
    for i in sorted(range(len(texts)), key=lambda i: -weights[i])[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _error_detail(error: urllib.error.HTTPError) -> str:
    try:
        body = error.read().decode(errors="replace")
    except OSError:
        return error.reason or ""
    try:
        message = json.loads(body).get("error", body)
        if isinstance(message, Mapping):
            message = message.get("message", message)
        body = str(message)
    except (ValueError, AttributeError):
        pass
    return body[:500]


def _retry_after(value: str | None, cap: float) -> float | None:
    """The server's Retry-After in seconds (capped), or None when absent or not a number."""
    try:
        return min(cap, max(0.0, float(value))) if value is not None else None
    except ValueError:
        return None
