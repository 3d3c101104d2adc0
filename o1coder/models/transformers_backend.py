"""Generation with a Hugging Face ``transformers`` model in this process, on CPU or GPU.

All prompts x n samples go through ``model.generate`` together (and, through ``generate_calls``, the rows of many
calls that sample alike: many searches in flight), split into batches of at most ``max_batch_size`` rows (halved automatically on a CUDA out-of-memory error). Prompts are left-padded; stop strings end a row early
(transformers' ``stop_strings``) and the text is cut before the first one; a seed makes a call reproducible.
Prompt caches are computed before ``generate``, once per distinct prompt, and the beginning that a batch's prompts
share (search's few-shot examples) once per batch, held once while decoding (:mod:`o1coder.models.shared_prefix`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

import torch

from o1coder.models import shared_prefix
from o1coder.models.base import (
    BaseGenerator,
    Completion,
    GenerationCall,
    Prompt,
    SamplingParams,
    chat_template_options,
    combined_seed,
    is_chat,
    truncate_at_stop,
)

logger = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


class TransformersGenerator(BaseGenerator):
    """A ``Generator`` over an already loaded model and tokenizer (e.g. the policy being trained).

    Use ``TransformersGenerator.from_pretrained(path_or_hub_id, ...)`` to load one from disk or the hub.
    A seed reproduces a call exactly (same prompts, n and max_batch_size): samples depend on their batch, unlike
    vLLM's per-request seeds. Not thread-safe: call ``generate`` from one thread at a time.
    """

    def __init__(self, model: Any, tokenizer: Any, *, max_batch_size: int = 16, name: str | None = None) -> None:
        super().__init__()
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be >= 1; got {max_batch_size!r}")
        self.model = model
        self.tokenizer = tokenizer
        self.max_batch_size = max_batch_size
        self.name = name or getattr(model, "name_or_path", "") or type(model).__name__
        self.pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        if self.pad_token_id is None:
            raise ValueError(f"tokenizer of {self.name!r} has neither a pad nor an eos token")
        self.eos_token_ids = _eos_ids(model, tokenizer)

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str,
        *,
        dtype: str = "auto",
        device: str = "auto",
        max_batch_size: int = 16,
        lora_path: str | None = None,
        trust_remote_code: bool = False,
        **model_kwargs: Any,
    ) -> TransformersGenerator:
        """Load a causal LM and its tokenizer; ``lora_path`` merges a PEFT adapter into the weights."""
        try:
            import transformers
        except ImportError as error:
            raise ImportError("the transformers backend needs transformers: pip install 'o1coder[train]'") from error

        device = resolve_device(device)
        torch_dtype = resolve_dtype(dtype, device)
        dtype_arg = "dtype" if _version_at_least(transformers.__version__, (4, 56)) else "torch_dtype"
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(name_or_path, trust_remote_code=trust_remote_code)
            model = transformers.AutoModelForCausalLM.from_pretrained(
                name_or_path, trust_remote_code=trust_remote_code, **{dtype_arg: torch_dtype}, **model_kwargs
            )
        except OSError as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise OSError(
                f"could not load model {name_or_path!r} ({reason}). A hub id needs a connection or the local hub "
                f"cache: download it once with `huggingface-cli download {name_or_path}` (then the same name works "
                "offline), pass a local checkpoint folder, or use the offline tiny model (name_or_path: tiny, "
                "recipe tiny-cpu)."
            ) from error
        if lora_path:
            model = _merge_lora(model, lora_path)
        return cls(model.to(device), tokenizer, max_batch_size=max_batch_size, name=name_or_path)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def encode(self, prompt: Prompt) -> list[int]:
        """The prompt's token ids, exactly as generation sees them (chat template applied for messages)."""
        if is_chat(prompt):
            if not getattr(self.tokenizer, "chat_template", None):
                raise ValueError(
                    f"model {self.name!r} has no chat template: pass plain-text prompts instead of messages"
                )
            text = self.tokenizer.apply_chat_template(list(prompt), tokenize=False, **chat_template_options(prompt))
            ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        else:
            ids = self.tokenizer(prompt)["input_ids"]
        if not ids:
            raise ValueError("cannot generate from an empty prompt (it has no tokens)")
        return list(ids)

    def _generate(self, prompts: list[Prompt], params: SamplingParams, n: int) -> list[list[Completion]]:
        [result] = self._generate_group([GenerationCall(prompts, params, n)])
        return result

    def _generate_calls(self, calls: list[GenerationCall]) -> list[list[list[Completion]]]:
        """Calls that sample alike (same parameters but the seed) share one batched ``model.generate``.

        The merged rows are sampled under one seed, :func:`~o1coder.models.base.combined_seed` of the calls' seeds
        in order: a batch of one call is exactly that call, and the same calls in the same order give the same
        samples; other company in the batch gives other samples (one random stream for all rows).
        """
        groups: dict[SamplingParams, list[int]] = {}
        for i, call in enumerate(calls):
            groups.setdefault(dataclasses.replace(call.params, seed=None), []).append(i)
        results: list[list[list[Completion]]] = [[] for _ in calls]
        for indices in groups.values():
            for i, result in zip(indices, self._generate_group([calls[i] for i in indices])):
                results[i] = result
        return results

    def _generate_group(self, calls: list[GenerationCall]) -> list[list[list[Completion]]]:
        """One seeded pass over the rows of ``calls`` (all sampled with the first call's parameters)."""
        params = dataclasses.replace(calls[0].params, seed=combined_seed([c.params.seed for c in calls]))
        rows = [ids for call in calls for ids in (self.encode(p) for p in call.prompts) for _ in range(call.n)]
        was_training = self.model.training  # a policy under training goes back to train mode afterwards
        self.model.eval()
        try:
            with torch.random.fork_rng(devices=_cuda_devices(self.device), enabled=params.seed is not None):
                if params.seed is not None:
                    torch.manual_seed(params.seed)
                flat = self._generate_rows(rows, params)
        finally:
            self.model.train(was_training)
        results, start = [], 0  # prompt i of a call has rows start + i*n .. start + i*n + n - 1
        for call in calls:
            results.append([flat[start + i * call.n : start + (i + 1) * call.n] for i in range(len(call.prompts))])
            start += call.sequences
        return results

    def _generate_rows(self, rows: list[list[int]], params: SamplingParams) -> list[Completion]:
        out: list[Completion] = []
        start = 0
        while start < len(rows):
            size = min(self.max_batch_size, len(rows) - start)
            try:
                out.extend(self._generate_batch(rows[start : start + size], params))
            except torch.cuda.OutOfMemoryError:
                if size == 1:
                    raise
                torch.cuda.empty_cache()
                self.max_batch_size = max(1, size // 2)
                logger.warning("CUDA out of memory at batch size %d; retrying with %d", size, self.max_batch_size)
                continue
            start += size
        return out

    def _generate_batch(self, rows: list[list[int]], params: SamplingParams) -> list[Completion]:
        prefill = self._prefill(rows)
        start = prefill.shared_length if prefill is not None and prefill.shared is not None else 0
        own = [ids[start:] for ids in rows]  # the tokens each row holds itself; the first `start` are held once
        width = max(len(ids) for ids in own)
        input_ids = torch.full((len(rows), width), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, ids in enumerate(own):  # left padding: the last prompt token sits at the same column in every row
            input_ids[i, width - len(ids) :] = torch.tensor(ids)
            attention_mask[i, width - len(ids) :] = 1
        kwargs = generation_kwargs(params)
        if params.stop:
            kwargs.update(stop_strings=list(params.stop), tokenizer=self.tokenizer)
        sharing: Any = contextlib.nullcontext()
        if prefill is not None:
            kwargs[prefill.argument] = self._cache_of(prefill.row_layers(rows, width), width + params.max_new_tokens)
        if start:
            # positions count from the start of the whole prompt, as when the shared tokens sat in every row
            kwargs["position_ids"] = ((attention_mask.cumsum(-1) - 1).clamp(min=0) + start).to(self.device)
            sharing = shared_prefix.sharing(self.model, prefill.shared)
        with sharing:
            output = self.model.generate(
                input_ids=input_ids.to(self.device),
                attention_mask=attention_mask.to(self.device),
                pad_token_id=self.pad_token_id,
                eos_token_id=sorted(self.eos_token_ids),
                return_dict_in_generate=True,
                output_logits=params.logprobs,
                **kwargs,
            )
        generated = output.sequences[:, width:].tolist()
        token_logprobs = None
        if params.logprobs:
            # raw model logits, before temperature/top-k/top-p: log p(token | prefix) under the model itself
            logits = torch.stack(output.logits, dim=1).float()  # (rows, steps, vocab)
            chosen = output.sequences[:, width:].unsqueeze(-1)
            token_logprobs = torch.log_softmax(logits, dim=-1).gather(-1, chosen).squeeze(-1).tolist()
        completions = []
        for i, (ids, tokens) in enumerate(zip(rows, generated)):
            count, finish, text = self._finish(tokens, params)
            logprobs = tuple(token_logprobs[i][:count]) if token_logprobs is not None else None
            completions.append(Completion(text, finish, len(ids), count, tuple(tokens[:count]), logprobs))
        return completions

    def _prefill(self, rows: list[list[int]]) -> _Prefill | None:
        """The KV cache of every row's prompt but its last token, computed once per distinct prompt, unpadded.

        Why: in a batch, left padding makes attention take its masked path, and the prompt (a ~1.5k-token few-shot
        prompt in search) dominates the cost; rows that are samples of one prompt would also encode it once each.
        Encoding each distinct prompt alone (causal, no mask: the fused path) and left-padding the caches lets one
        batched decode run over all rows. Positions match: ``generate`` numbers a row's tokens from its first
        unpadded one, as the unpadded prefill did.

        Distinct prompts that begin alike (many trees in flight: the instruction and few-shot examples, ~1,300 of
        ~1,500 tokens in search) have that beginning encoded once and their own tokens encoded on top of it
        (causal attention: a position's keys and values depend only on the tokens before it, so this is the same
        cache up to floating-point rounding); where the model allows it the beginning is also held once during
        decoding (:mod:`o1coder.models.shared_prefix`) instead of copied into every row. A batch of one distinct
        prompt (concurrency 1: the k samples of one node) is encoded in one piece and decoded as before, so its
        samples are unchanged bit for bit. None (plain ``generate``) when a prompt has a single token or the model's
        forward takes no cache.
        """
        argument = _cache_argument(self.model)
        if argument is None or min(len(ids) for ids in rows) < 2 or not _CAN_BUILD_CACHE:
            return None
        prefixes = list(dict.fromkeys(tuple(ids[:-1]) for ids in rows))
        shared = _common_prefix(prefixes) if len(prefixes) > 1 and _SHARE_PREFIXES else ()
        if len(shared) < MIN_SHARED_PREFIX:
            shared = ()
        with torch.no_grad():
            base = self._encode(shared, None, argument) if shared else None
            layers = {key: self._encode(key[len(shared) :], base, argument) if len(key) > len(shared) else base
                      for key in prefixes}
        if base is None or not shared_prefix.supported(self.model):
            return _Prefill(argument, layers)
        own = {key: [(k[:, :, len(shared) :], v[:, :, len(shared) :]) for k, v in key_layers]
               for key, key_layers in layers.items()}
        return _Prefill(argument, own, base, len(shared))

    def _encode(self, ids: Sequence[int], past: list[tuple[Any, Any]] | None, cache_argument: str
                ) -> list[tuple[Any, Any]]:
        """(keys, values) per layer of ``ids`` encoded after ``past`` (a prefix's layers, left untouched): the
        returned layers hold the past's positions and then those of ``ids``."""
        from transformers import DynamicCache

        kwargs = {cache_argument: DynamicCache(past)} if past is not None else {}
        if _takes(self.model, "logits_to_keep"):  # only the cache is wanted: skip the vocabulary projection
            kwargs["logits_to_keep"] = 1
        out = self.model(input_ids=torch.tensor([list(ids)], device=self.device), use_cache=True, **kwargs)
        return _layers(getattr(out, "cache", None) or out.past_key_values)

    def _cache_of(self, layers: list[tuple[Any, Any]], length: int) -> Any:
        """A cache holding ``layers`` with room for ``length`` positions: a static one where this transformers
        version fills it in place (a growing cache copies all rows' keys and values at every step, which dominated
        batched decoding on a CPU), else a growing one."""
        from transformers import DynamicCache, StaticCache

        try:
            cache = StaticCache(config=self.model.config, max_cache_len=length)
        except TypeError:
            return DynamicCache(layers)
        if not hasattr(cache, "layers") or not hasattr(cache.layers[0], "cumulative_length"):
            return DynamicCache(layers)  # transformers 4.x: static caches are filled by cache position
        for layer, (keys, values) in zip(cache.layers, layers):
            layer.update(keys, values)
        return cache

    def _finish(self, tokens: list[int], params: SamplingParams) -> tuple[int, str, str]:
        """Where a row really ended: (tokens produced, finish reason, text before any stop string)."""
        end = next((i + 1 for i, t in enumerate(tokens) if t in self.eos_token_ids), None)
        limit = end if end is not None else len(tokens)
        text = self._decode(tokens[:limit])
        if params.stop:
            cut, stopped = truncate_at_stop(text, params.stop)
            if stopped:
                return self._tokens_until_stop(tokens[:limit], params.stop), "stop", cut
        if end is not None:
            return end, "stop", text
        if len(tokens) < params.max_new_tokens:
            # the batch ended early but this row saw neither eos nor a stop string: only padding follows
            while limit > 0 and tokens[limit - 1] == self.pad_token_id:
                limit -= 1
            return limit, "stop", self._decode(tokens[:limit])
        return len(tokens), "length", text

    def _tokens_until_stop(self, tokens: list[int], stop: Sequence[str]) -> int:
        """The shortest prefix whose text contains a stop string (binary search: containment only grows)."""
        low, high = 1, len(tokens)
        while low < high:
            mid = (low + high) // 2
            if truncate_at_stop(self._decode(tokens[:mid]), stop)[1]:
                high = mid
            else:
                low = mid + 1
        return low

    def _decode(self, tokens: list[int]) -> str:
        return self.tokenizer.decode(tokens, skip_special_tokens=True, clean_up_tokenization_spaces=False)

    def close(self) -> None:
        self.model = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def generation_kwargs(params: SamplingParams) -> dict[str, Any]:
    """Our sampling parameters as ``model.generate`` keyword arguments (greedy when temperature is 0)."""
    kwargs: dict[str, Any] = {"max_new_tokens": params.max_new_tokens}
    if params.greedy:
        kwargs.update(do_sample=False)
    else:
        # top_k=0 is passed explicitly: transformers' default would otherwise be 50
        kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p, top_k=params.top_k)
    return kwargs


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def resolve_dtype(dtype: str, device: str) -> Any:
    """``auto``: float32 on CPU (half precision is slow there), the checkpoint's own dtype on GPU."""
    if dtype == "auto":
        return torch.float32 if device == "cpu" else "auto"
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of 'auto', {', '.join(map(repr, DTYPES))}; got {dtype!r}")
    return DTYPES[dtype]


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    ids: set[int] = set()
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for value in (configured, tokenizer.eos_token_id):
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, (list, tuple)):
            ids.update(value)
    return ids


@dataclasses.dataclass
class _Prefill:
    """Prompt caches computed before ``generate``: ``layers`` per distinct prompt but its last token ((keys, values)
    per layer, batch 1), of its tokens after the first ``shared_length`` when ``shared`` holds those tokens' layers
    once for all rows (decoding with :mod:`o1coder.models.shared_prefix`), else of all its tokens."""

    argument: str  # the keyword under which this transformers passes a cache
    layers: dict[tuple[int, ...], list[tuple[Any, Any]]]
    shared: list[tuple[Any, Any]] | None = None
    shared_length: int = 0

    def row_layers(self, rows: list[list[int]], width: int) -> list[tuple[Any, Any]]:
        """Every row's cache left-padded to ``width - 1`` positions (its input's width but the last token), stacked
        along the batch."""
        stacked = []
        for layer in range(len(next(iter(self.layers.values())))):
            keys, values = [], []
            for ids in rows:
                k, v = self.layers[tuple(ids[:-1])][layer]
                pad = width - 1 - k.shape[2]
                keys.append(torch.nn.functional.pad(k, (0, 0, pad, 0)))
                values.append(torch.nn.functional.pad(v, (0, 0, pad, 0)))
            stacked.append((torch.cat(keys), torch.cat(values)))
        return stacked


_CAN_BUILD_CACHE = True  # set False by tests to compare with plain generate
_SHARE_PREFIXES = True  # set False by tests to compare with each prompt encoded in one piece
MIN_SHARED_PREFIX = 16  # tokens: a shorter common beginning is not worth a forward pass of its own


def _common_prefix(sequences: Sequence[Sequence[int]]) -> tuple[int, ...]:
    """The longest run of tokens every sequence begins with."""
    first, length = sequences[0], min(len(s) for s in sequences)
    for other in sequences[1:]:
        length = next((i for i in range(length) if other[i] != first[i]), length)
    return tuple(first[:length])


def _cache_argument(model: Any) -> str | None:
    """The name under which this transformers version passes a KV cache to ``forward`` / ``generate``."""
    return next((name for name in ("cache", "past_key_values") if _takes(model, name)), None)


def _takes(model: Any, argument: str) -> bool:
    """Whether the model's ``forward`` has a parameter named ``argument``."""
    import inspect

    return argument in inspect.signature(model.forward).parameters


def _layers(cache: Any) -> list[tuple[Any, Any]]:
    """(keys, values) per layer of a DynamicCache, each (batch, kv heads, positions, head dim)."""
    if hasattr(cache, "layers"):
        return [(layer.keys, layer.values) for layer in cache.layers]
    return list(zip(cache.key_cache, cache.value_cache))  # transformers 4.x


def _cuda_devices(device: torch.device) -> list[int]:
    if device.type != "cuda":
        return []
    return [device.index if device.index is not None else torch.cuda.current_device()]


def _merge_lora(model: Any, lora_path: str) -> Any:
    try:
        from peft import PeftModel
    except ImportError as error:
        raise ImportError("loading a LoRA adapter needs peft: pip install 'o1coder[train]'") from error
    return PeftModel.from_pretrained(model, lora_path).merge_and_unload()


def _version_at_least(version: str, minimum: tuple[int, int]) -> bool:
    parts = []
    for piece in version.split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts) >= minimum
