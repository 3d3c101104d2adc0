"""Memory arithmetic for the real presets: parameters, LoRA, optimizer states, KV cache, from the models' shapes.

Estimates, not measurements: they say which preset fits which GPU before anything is downloaded. The shapes are
the published ``config.json`` values (checked in the tests against transformers' own models built on the meta
device); the byte counts per parameter are the usual ones:

- inference weights: 2 bytes (bf16); QLoRA's NF4 base: 0.5 byte per linear weight + its double-quantised scales
  (~0.127 bit) while embeddings and the head stay bf16;
- full fine-tuning with AdamW in mixed precision (DeepSpeed, FSDP with fp32 masters): 16 bytes per parameter =
  2 (bf16 weights) + 2 (bf16 gradients) + 4 (fp32 master) + 8 (fp32 Adam moments); ZeRO/FSDP divide all or part
  of it by the number of GPUs;
- LoRA: the frozen base in bf16 + 16 bytes per LoRA parameter;
- KV cache: 2 (K and V) x layers x kv_heads x head_dim x 2 bytes per token.

Activations are left out of the totals (they depend on the batch, the sequence length and checkpointing); the
README gives their order of magnitude next to the tables.
"""

from __future__ import annotations

from dataclasses import dataclass

GB = 1e9
ADAMW_MIXED_BYTES = 16  # bf16 weight + bf16 grad + fp32 master + fp32 m and v
NF4_BYTES = 0.5 + 0.127 / 8  # 4-bit weights + double-quantised scales


@dataclass(frozen=True)
class Shape:
    """A decoder-only transformer (Qwen2 / Llama layout) as its config.json describes it."""

    name: str
    hidden: int
    intermediate: int
    layers: int
    heads: int
    kv_heads: int
    vocab: int
    tied_embeddings: bool
    qkv_bias: bool  # Qwen2 has biases on q, k, v; Llama has none

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    def linears(self) -> dict[str, tuple[int, int]]:
        """(in, out) of each linear layer of one decoder layer: what ``all-linear`` LoRA targets."""
        kv = self.kv_heads * self.head_dim
        return {"q": (self.hidden, self.hidden), "k": (self.hidden, kv), "v": (self.hidden, kv),
                "o": (self.hidden, self.hidden), "gate": (self.hidden, self.intermediate),
                "up": (self.hidden, self.intermediate), "down": (self.intermediate, self.hidden)}

    def linear_params(self) -> int:
        """Weights of the decoder layers' linear layers (what NF4 quantises), biases excluded."""
        return self.layers * sum(i * o for i, o in self.linears().values())

    def params(self) -> int:
        """Every parameter: embeddings, (untied) head, linear weights, q/k/v biases, RMSNorm weights."""
        embeddings = self.vocab * self.hidden * (1 if self.tied_embeddings else 2)
        bias = self.layers * (self.hidden + 2 * self.kv_heads * self.head_dim) if self.qkv_bias else 0
        norms = (2 * self.layers + 1) * self.hidden
        return embeddings + self.linear_params() + bias + norms

    def lora_params(self, r: int) -> int:
        """LoRA parameters with rank ``r`` on every linear layer: r x (in + out) each."""
        return self.layers * sum(r * (i + o) for i, o in self.linears().values())

    def kv_bytes_per_token(self, dtype_bytes: int = 2) -> int:
        return 2 * self.layers * self.kv_heads * self.head_dim * dtype_bytes


QWEN25_CODER_1_5B = Shape("Qwen/Qwen2.5-Coder-1.5B-Instruct", hidden=1536, intermediate=8960, layers=28, heads=12,
                          kv_heads=2, vocab=151936, tied_embeddings=True, qkv_bias=True)
QWEN25_CODER_7B = Shape("Qwen/Qwen2.5-Coder-7B-Instruct", hidden=3584, intermediate=18944, layers=28, heads=28,
                        kv_heads=4, vocab=152064, tied_embeddings=False, qkv_bias=True)
DEEPSEEK_CODER_1_3B = Shape("deepseek-ai/deepseek-coder-1.3b-instruct", hidden=2048, intermediate=5504, layers=24,
                            heads=16, kv_heads=16, vocab=32256, tied_embeddings=False, qkv_bias=False)
SHAPES = {s.name: s for s in (QWEN25_CODER_1_5B, QWEN25_CODER_7B, DEEPSEEK_CODER_1_3B)}


def full_finetune_bytes(shape: Shape, gpus: int = 1, sharding: str = "ddp") -> float:
    """Bytes per GPU of weights, gradients and AdamW states. ``sharding``: "ddp" (all replicated), "zero2"
    (gradients and optimizer sharded, bf16 weights replicated), "zero3" / "fsdp" (everything sharded)."""
    n = shape.params()
    if sharding == "ddp":
        return n * ADAMW_MIXED_BYTES
    if sharding == "zero2":
        return n * 2 + n * (ADAMW_MIXED_BYTES - 2) / gpus
    if sharding in ("zero3", "fsdp"):
        return n * ADAMW_MIXED_BYTES / gpus
    raise ValueError(f"sharding must be 'ddp', 'zero2', 'zero3' or 'fsdp'; got {sharding!r}")


def lora_bytes(shape: Shape, r: int, quantized: bool = False) -> dict[str, float]:
    """Frozen base (bf16, or NF4 linears + bf16 embeddings for QLoRA) and the LoRA weights' training states."""
    if quantized:
        base = shape.linear_params() * NF4_BYTES + (shape.params() - shape.linear_params()) * 2
    else:
        base = shape.params() * 2
    return {"base": base, "lora": shape.lora_params(r) * ADAMW_MIXED_BYTES}


def kv_cache_bytes(shape: Shape, sequences: int, tokens: int) -> int:
    """KV cache of ``sequences`` sequences of ``tokens`` tokens each, in bf16."""
    return sequences * tokens * shape.kv_bytes_per_token()


def logits_bytes(shape: Shape, sequences: int, tokens: int) -> int:
    """fp32 logits of a training batch (the loss reads all of them): often the largest single activation."""
    return sequences * tokens * shape.vocab * 4


def vllm_kv_tokens(shape: Shape, gpu_bytes: float, utilization: float, overhead_bytes: float = 2 * GB) -> int:
    """Tokens of KV cache vLLM can hold: its share of the GPU minus the weights and ~2 GB of activations/graphs."""
    free = gpu_bytes * utilization - shape.params() * 2 - overhead_bytes
    return max(0, int(free // shape.kv_bytes_per_token()))
