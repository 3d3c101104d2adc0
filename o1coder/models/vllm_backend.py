"""Generation with vLLM in this process: the fast path for search and self-play on a GPU.

vLLM is an optional dependency (``pip install 'o1coder[vllm]'``) imported only when a ``VLLMGenerator`` is built.
The translations between our types and vLLM's (``vllm_sampling_kwargs``, ``completions_from_output``,
``llm_kwargs``) are pure functions, tested without vLLM. One engine serves many rounds: ``set_lora`` swaps the
policy's LoRA adapter without reloading the base model.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
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

INSTALL_HINT = "pip install 'o1coder[vllm]'"


def vllm_sampling_kwargs(params: SamplingParams, n: int) -> dict[str, Any]:
    """Keyword arguments for ``vllm.SamplingParams``.

    top_k: "disabled" is -1, which every vLLM release accepts (0 is accepted only by newer ones). logprobs=0 asks
    for the chosen token's log-probability only. The stop strings are left out of the returned text (vLLM's
    default), as in the other backends.
    """
    return {
        "n": n,
        "temperature": params.temperature,
        "top_p": params.top_p,
        "top_k": params.top_k if params.top_k > 0 else -1,
        "max_tokens": params.max_new_tokens,
        "stop": list(params.stop) or None,
        "seed": params.seed,
        "logprobs": 0 if params.logprobs else None,
    }


def completions_from_output(request_output: Any) -> list[Completion]:
    """A ``vllm.RequestOutput`` (prompt_token_ids, outputs: list of CompletionOutput) as our Completions.

    vLLM has already cut the text at a stop string and its ``token_ids`` end where generation stopped.
    ``finish_reason`` is "length" or "stop" (anything else, e.g. "abort", is reported as "stop").
    """
    prompt_tokens = len(request_output.prompt_token_ids or ())
    completions = []
    for output in sorted(request_output.outputs, key=lambda o: o.index):
        token_ids = tuple(output.token_ids)
        completions.append(
            Completion(
                text=output.text,
                finish_reason="length" if output.finish_reason == "length" else "stop",
                prompt_tokens=prompt_tokens,
                completion_tokens=len(token_ids),
                token_ids=token_ids,
                token_logprobs=_token_logprobs(output, token_ids),
            )
        )
    return completions


def _token_logprobs(output: Any, token_ids: tuple[int, ...]) -> tuple[float, ...] | None:
    """The chosen token's log-probability at each position, from vLLM's per-position {token_id: Logprob}."""
    positions = getattr(output, "logprobs", None)
    if not positions:
        return None
    return tuple(float(position[token].logprob) for position, token in zip(positions, token_ids))


def llm_kwargs(
    model: str,
    *,
    dtype: str = "auto",
    tensor_parallel_size: int = 1,
    gpu_memory_utilization: float = 0.9,
    max_model_len: int | None = None,
    enable_lora: bool = False,
    max_lora_rank: int = 16,
    trust_remote_code: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """Keyword arguments for ``vllm.LLM``: prefix caching on (search re-sends long shared prefixes)."""
    kwargs: dict[str, Any] = {
        "model": model,
        "dtype": dtype,
        "tensor_parallel_size": tensor_parallel_size,
        "gpu_memory_utilization": gpu_memory_utilization,
        "enable_prefix_caching": True,
        "trust_remote_code": trust_remote_code,
        "enable_lora": enable_lora,
    }
    if max_model_len is not None:
        kwargs["max_model_len"] = max_model_len
    if enable_lora:
        kwargs["max_lora_rank"] = max_lora_rank
    kwargs.update(extra)
    return kwargs


def chat_groups(prompts: Sequence[Prompt]) -> list[tuple[list[int], dict[str, bool]]]:
    """The chats among ``prompts`` grouped by their chat-template options (new answers vs. continued partial
    answers, :func:`o1coder.models.base.chat_template_options`), with their indices, for one ``LLM.chat`` call
    each."""
    groups: dict[tuple[bool, bool], list[int]] = {}
    for i, prompt in enumerate(prompts):
        if is_chat(prompt):
            options = chat_template_options(prompt)
            groups.setdefault((options["add_generation_prompt"], options["continue_final_message"]), []).append(i)
    return [(indices, {"add_generation_prompt": add, "continue_final_message": cont})
            for (add, cont), indices in groups.items()]


class VLLMGenerator(BaseGenerator):
    """A ``Generator`` over an in-process ``vllm.LLM``."""

    def __init__(self, model: str, *, lora_path: str | None = None, **engine_options: Any) -> None:
        super().__init__()
        try:
            import vllm
        except ImportError as error:
            raise ImportError(f"the vllm backend needs vLLM (a CUDA machine): {INSTALL_HINT}") from error
        self._vllm = vllm
        self.name = model
        enable_lora = bool(engine_options.pop("enable_lora", False) or lora_path)
        self.llm = vllm.LLM(**llm_kwargs(model, enable_lora=enable_lora, **engine_options))
        self._lora_request = None
        self._lora_ids: dict[str, int] = {}
        if lora_path:
            self.set_lora(lora_path)

    def set_lora(self, lora_path: str | None) -> None:
        """Generate with this LoRA adapter from now on (None: the base model). The engine is not reloaded."""
        if lora_path is None:
            self._lora_request = None
            return
        from vllm.lora.request import LoRARequest

        lora_id = self._lora_ids.setdefault(lora_path, len(self._lora_ids) + 1)  # ids start at 1
        self._lora_request = LoRARequest(f"adapter-{lora_id}", lora_id, lora_path)

    def _generate(self, prompts: list[Prompt], params: SamplingParams, n: int) -> list[list[Completion]]:
        [result] = self._generate_calls([GenerationCall(prompts, params, n)])
        return result

    def _generate_calls(self, calls: list[GenerationCall]) -> list[list[list[Completion]]]:
        """Every prompt of every call in one ``LLM.generate`` (plain prompts) and one ``LLM.chat`` per group of chat
        template options (new answers, continued partial answers), each prompt with its call's own
        ``vllm.SamplingParams``: vLLM seeds per request, so a call's samples do not depend on the other calls in the
        batch (up to floating-point effects of the batch's composition)."""
        requests = flatten_calls(calls)
        sampling = [self._vllm.SamplingParams(**vllm_sampling_kwargs(calls[c].params, calls[c].n))
                    for c in range(len(calls))]
        results: list[list[Completion] | None] = [None] * len(requests)
        texts = [i for i, (_, prompt) in enumerate(requests) if not is_chat(prompt)]
        if texts:
            outputs = self.llm.generate(
                [requests[i][1] for i in texts], [sampling[requests[i][0]] for i in texts], use_tqdm=False,
                lora_request=self._lora_request,
            )
            self._place(results, texts, outputs)
        for indices, options in chat_groups([prompt for _, prompt in requests]):  # options per LLM.chat call
            outputs = self.llm.chat(
                [list(requests[i][1]) for i in indices],
                [sampling[requests[i][0]] for i in indices],
                use_tqdm=False,
                lora_request=self._lora_request,
                **options,
            )
            self._place(results, indices, outputs)
        return unflatten(calls, results)  # type: ignore[arg-type]

    @staticmethod
    def _place(results: list, indices: Sequence[int], outputs: Sequence[Any]) -> None:
        for i, output in zip(indices, outputs, strict=True):
            results[i] = completions_from_output(output)

    def close(self) -> None:
        """Shut the engine down and give its GPU memory back before the next stage loads a model.

        Dropping the ``LLM`` is not enough: the V1 engine runs its model in an engine-core process (or a thread
        holding references) that keeps the weights and the KV cache until it is shut down. Idempotent."""
        llm, self.llm = self.llm, None
        if llm is None:
            return
        shutdown_engine(llm)
        del llm
        from o1coder.trainkit import release_memory

        release_memory()


def shutdown_engine(llm: Any) -> None:
    """Stop a ``vllm.LLM``'s engine core (V1: ``llm.llm_engine.engine_core.shutdown()``) and, outside a
    multi-process training launch, vLLM's own distributed state (``cleanup_dist_env_and_memory``, which also
    collects and empties the CUDA cache); both looked up defensively, their names moved between vLLM versions."""
    import os

    engine = getattr(llm, "llm_engine", None)
    shutdown = getattr(getattr(engine, "engine_core", None), "shutdown", None)
    if callable(shutdown):
        shutdown()
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # the process group belongs to the training launch: keep it
        return
    try:
        from vllm.distributed import cleanup_dist_env_and_memory
    except ImportError:
        return
    cleanup_dist_env_and_memory()
