"""Attention over a prompt beginning that every row of a batch shares, held once instead of once per row.

Why: many searches in flight send prompts that differ only after a long common beginning (the instruction and the
few-shot examples: ~1,300 of ~1,500 tokens in search). Decoding 48 rows from a cache in which every row holds its
own copy of that beginning costs 48 reads of it per step and per layer, and on a CPU this per-row attention was most
of a batched step. Here the shared beginning's keys and values are kept once, (1, kv heads, P, head dim), and each
attention call splits in two: all rows' queries against the shared part in one matrix product, and each row against
its own part (its prompt's remaining tokens and what it generated, left-padded, in the usual cache). The two halves
are merged with their softmax normalisers (the log-sum-exp trick), which is the same attention up to floating-point
rounding. The same split is called cascade attention in inference engines.

The model runs under a registered attention implementation (``transformers.AttentionInterface``) for the duration
of one ``generate`` (:func:`sharing`); its masks are built as for ``sdpa`` (left padding of the own part). Only for
models whose attention is over all positions (no sliding window) and whose layers expose ``layer_idx``.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from typing import Any

import torch

ATTENTION = "o1coder_shared_prefix"
_active = threading.local()  # the shared layers of the generate call under way in this thread


def supported(model: Any) -> bool:
    """Whether ``model`` can decode with a shared prefix: this transformers has the attention registry and passes
    ``position_ids`` through ``generate``, and every layer attends over all positions."""
    try:
        import transformers
        from transformers import AttentionInterface  # noqa: F401
        from transformers.masking_utils import AttentionMaskInterface  # noqa: F401
    except ImportError:
        return False
    if int(transformers.__version__.split(".")[0]) < 5:
        return False
    config = model.config
    if getattr(config, "is_encoder_decoder", False) or getattr(config, "use_sliding_window", False):
        return False
    if any(kind != "full_attention" for kind in getattr(config, "layer_types", None) or ()):
        return False
    return getattr(config, "_attn_implementation", None) in ("sdpa", "eager")


@contextlib.contextmanager
def sharing(model: Any, layers: list[tuple[torch.Tensor, torch.Tensor]]) -> Iterator[None]:
    """Run ``model`` with :func:`attention` over the shared ``layers`` ((keys, values) per layer, batch 1)."""
    _register()
    config = model.config
    previous = config._attn_implementation
    _active.layers = layers
    config._attn_implementation = ATTENTION
    try:
        yield
    finally:
        config._attn_implementation = previous
        _active.layers = None


def attention(module: Any, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
              attention_mask: torch.Tensor | None, scaling: float | None = None, dropout: float = 0.0,
              **kwargs: Any) -> tuple[torch.Tensor, None]:
    """Attention of ``query`` (batch, heads, q, d) over the shared prefix, then the rows' own ``key``/``value``
    (batch, kv heads, s, d) under ``attention_mask`` (batch, 1, q, s; True = attend; None = causal)."""
    shared_keys, shared_values = _active.layers[module.layer_idx]
    batch, heads, length, dim = query.shape
    kv_heads = key.shape[1]
    group = heads // kv_heads
    scaling = dim ** -0.5 if scaling is None else scaling
    grouped = query.reshape(batch, kv_heads, group * length, dim).float()  # heads of one kv head side by side

    # the shared prefix: every row's queries of a kv head in one product against that head's keys
    flat = grouped.transpose(0, 1).reshape(kv_heads, batch * group * length, dim)
    scores = torch.matmul(flat, shared_keys[0].float().transpose(-1, -2)) * scaling
    shared_max, shared_sum, shared_out = _partial(scores, shared_values[0].float())
    shared_max, shared_sum, shared_out = (
        t.reshape(kv_heads, batch, group * length, -1).transpose(0, 1) for t in (shared_max, shared_sum, shared_out))

    # each row's own tokens, with the padding (and, for several queries, the causal) mask
    scores = torch.matmul(grouped, key.float().transpose(-1, -2)) * scaling  # (batch, kv heads, group*q, s)
    allowed = _allowed(attention_mask, batch, length, key.shape[2], query.device)
    if allowed is not None:
        scores = scores.view(batch, kv_heads, group, length, -1).masked_fill(~allowed[:, :, None], -math.inf)
        scores = scores.view(batch, kv_heads, group * length, -1)
    own_max, own_sum, own_out = _partial(scores, value.float())

    top = torch.maximum(shared_max, own_max)
    shared_weight, own_weight = torch.exp(shared_max - top), torch.exp(own_max - top)
    out = (shared_out * shared_weight + own_out * own_weight) / (shared_sum * shared_weight + own_sum * own_weight)
    out = out.reshape(batch, heads, length, dim).to(query.dtype)
    return out.transpose(1, 2).contiguous(), None


def _partial(scores: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Softmax pieces over one part of the keys: the row maximum, the sum of exponentials and their weighted
    values (unnormalised), to be merged with the other part's."""
    top = scores.amax(dim=-1, keepdim=True)
    weights = torch.exp(scores - top)
    return top, weights.sum(dim=-1, keepdim=True), torch.matmul(weights, values)


def _allowed(mask: torch.Tensor | None, batch: int, length: int, keys: int, device: Any) -> torch.Tensor | None:
    """A boolean (batch, 1, q, s) mask: the given one, or the causal one when none was built (no padding)."""
    if mask is not None:
        return mask if mask.dtype == torch.bool else mask == 0  # a float mask holds 0 where attention goes
    if length == 1:
        return None
    rows = torch.arange(length, device=device)[:, None] + (keys - length)
    return (torch.arange(keys, device=device)[None, :] <= rows).expand(batch, 1, length, keys)


def _register() -> None:
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(ATTENTION, attention)
    AttentionMaskInterface.register(ATTENTION, sdpa_mask)
