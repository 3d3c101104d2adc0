"""Attention over a shared prompt beginning held once (cascade attention) equals attention over full per-row copies."""

from __future__ import annotations

import types

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from o1coder.models import shared_prefix  # noqa: E402

BATCH, HEADS, KV_HEADS, DIM, SHARED, OWN = 5, 4, 2, 8, 11, 6


def full_attention(query, keys, values, allowed):
    """Plain attention over every row's own copy of everything (the reference)."""
    group = HEADS // KV_HEADS
    keys, values = keys.repeat_interleave(group, dim=1), values.repeat_interleave(group, dim=1)
    out = torch.nn.functional.scaled_dot_product_attention(query, keys, values, attn_mask=allowed)
    return out.transpose(1, 2)


@pytest.mark.parametrize("queries", [1, 3])
def test_split_attention_equals_attention_over_full_copies(queries):
    generator = torch.Generator().manual_seed(0)
    rand = lambda *shape: torch.randn(*shape, generator=generator)  # noqa: E731
    shared_keys, shared_values = rand(1, KV_HEADS, SHARED, DIM), rand(1, KV_HEADS, SHARED, DIM)
    own_keys, own_values = rand(BATCH, KV_HEADS, OWN, DIM), rand(BATCH, KV_HEADS, OWN, DIM)
    query = rand(BATCH, HEADS, queries, DIM)
    padding = torch.tensor([0, 2, 1, 0, 2])  # left padding of each row's own part
    own_allowed = torch.ones(BATCH, 1, queries, OWN, dtype=torch.bool)
    for row, pad in enumerate(padding.tolist()):
        own_allowed[row, :, :, :pad] = False
    causal = torch.arange(OWN)[None, :] <= torch.arange(queries)[:, None] + OWN - queries
    own_allowed &= causal

    module = types.SimpleNamespace(layer_idx=0)
    shared_prefix._active.layers = [(shared_keys, shared_values)]
    try:
        split, _ = shared_prefix.attention(module, query, own_keys, own_values, own_allowed, scaling=DIM ** -0.5)
        no_mask, _ = shared_prefix.attention(module, query, own_keys, own_values, None, scaling=DIM ** -0.5)
    finally:
        shared_prefix._active.layers = None

    keys = torch.cat([shared_keys.expand(BATCH, -1, -1, -1), own_keys], dim=2)
    values = torch.cat([shared_values.expand(BATCH, -1, -1, -1), own_values], dim=2)
    everywhere = torch.ones(BATCH, 1, queries, SHARED, dtype=torch.bool)
    expected = full_attention(query, keys, values, torch.cat([everywhere, own_allowed], dim=-1))
    assert split.shape == (BATCH, queries, HEADS, DIM)
    assert torch.allclose(split, expected, atol=1e-5)
    unpadded = full_attention(query, keys, values, torch.cat([everywhere, causal.expand(BATCH, 1, -1, -1)], dim=-1))
    assert torch.allclose(no_mask, unpadded, atol=1e-5)  # no mask built: causal over the own part
    assert not torch.allclose(split, unpadded, atol=1e-3)  # the padding mask mattered


def test_models_with_sliding_windows_or_other_attention_are_not_shared():
    def model(**config):
        base = {"_attn_implementation": "sdpa", "layer_types": ["full_attention"] * 2}
        return types.SimpleNamespace(config=types.SimpleNamespace(**{**base, **config}))

    assert shared_prefix.supported(model())
    assert not shared_prefix.supported(model(use_sliding_window=True))
    assert not shared_prefix.supported(model(layer_types=["full_attention", "sliding_attention"]))
    assert not shared_prefix.supported(model(_attn_implementation="flash_attention_2"))
