"""Generation throughput and training step time of a real-size model, with random weights (nothing to download).

The model is Qwen2.5-Coder-1.5B-Instruct's architecture (its config.json values are written below) with random
weights: speed does not depend on the weights' values, and random weights almost never emit an end token, so every
row generates exactly ``--new-tokens`` tokens (a fixed workload). The tokenizer is the project's tiny one (built
locally): prompts are real text, generated ids beyond its vocabulary decode to nothing, and throughput is counted
in generated token ids.

1. **Generation** through the transformers backend (``TransformersGenerator``), as the search expands a node: k
   children as one call ``generate([prompt], n=k)`` against the baseline of k calls ``generate([prompt], n=1)``;
   then P prompts x k children in one call, what batching across problems would add.
2. **Training step**: forward, backward and AdamW step on ``--batch`` x ``--seq`` tokens with activation
   checkpointing: full fine-tuning (fp32 master weights, bf16 autocast: the 16 bytes per parameter of the README's
   memory table) and LoRA r=64 on all linear layers (bf16 base).

3. **Search concurrency on vLLM** (``--vllm``): the random-weight model is saved to a temporary folder with the
   tiny tokenizer (its vocabulary: the embedding rows shrink from 151,936 to the tokenizer's, the 28 layers keep the
   1.5B shape) and served by ``VLLMGenerator``; MCTS searches bundled problems (copied under new ids to have enough)
   through :class:`~o1coder.search.inflight.InFlight` at concurrency 1, 8 and 64, and rollouts/s and generated
   tokens/s are printed against concurrency 1 (target: 64 >= 10x).

    python bench/gpu_generation.py            # on a CUDA GPU (bf16); ~2 minutes on an H100
    python bench/gpu_generation.py --vllm     # also the vLLM search-concurrency figures (needs the vllm extra)
    python bench/gpu_generation.py --tiny     # anywhere: a 2-layer scaled-down config on the CPU (float32)

``--tiny`` exercises the script; its figures are CPU figures of a toy model and say nothing about GPUs. Prints the
machine and each figure next to its baseline.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import transformers  # noqa: E402

from o1coder.bundled import load_bundled  # noqa: E402
from o1coder.models import SamplingParams, build_tiny_model  # noqa: E402
from o1coder.models.transformers_backend import TransformersGenerator  # noqa: E402

# Qwen/Qwen2.5-Coder-1.5B-Instruct, config.json (1,543,714,304 parameters with the tied embeddings).
QWEN25_CODER_1_5B = dict(
    hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12, num_key_value_heads=2,
    vocab_size=151936, max_position_embeddings=32768, rope_theta=1000000.0, rms_norm_eps=1e-6,
    tie_word_embeddings=True, hidden_act="silu", bos_token_id=151643, eos_token_id=151645,
)  # fmt: skip
# --tiny: the same layout scaled down so a CPU runs it in seconds (vocabulary: the tiny tokenizer's).
TINY = dict(
    hidden_size=64, intermediate_size=256, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
    vocab_size=3072, max_position_embeddings=4096, rope_theta=10000.0, rms_norm_eps=1e-6, tie_word_embeddings=True,
    hidden_act="silu", bos_token_id=1, eos_token_id=2,
)  # fmt: skip


def build(tiny: bool, device: str, dtype: torch.dtype):
    config = transformers.Qwen2Config(**(TINY if tiny else QWEN25_CODER_1_5B))
    torch.manual_seed(0)
    with torch.device(device):
        model = transformers.AutoModelForCausalLM.from_config(config, dtype=dtype)
    return model.eval()


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def timed(fn, device: str, repeat: int) -> float:
    """Median wall seconds of ``fn()`` over ``repeat`` runs, after one warm-up run."""
    fn()
    times = []
    for _ in range(repeat):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def prompt_of(tokenizer, tokens: int) -> str:
    """Real problem text, repeated and cut to ``tokens`` tokens."""
    text = "\n\n".join(p.prompt for p in load_bundled("train"))
    ids = tokenizer(text)["input_ids"]
    while len(ids) < tokens:
        ids = ids + ids
    return tokenizer.decode(ids[:tokens])


def bench_generation(args, model, tokenizer, device: str) -> None:
    generator = TransformersGenerator(model, tokenizer, max_batch_size=args.prompts * args.k)
    prompts = [prompt_of(tokenizer, args.prompt_tokens + i) for i in range(args.prompts)]  # distinct prompts
    params = SamplingParams(temperature=1.0, top_p=1.0, max_new_tokens=args.new_tokens, seed=0)

    def tokens(results) -> int:
        return sum(c.completion_tokens for samples in results for c in samples)

    counted: dict[str, int] = {}

    def batched():
        counted["batched"] = tokens(generator.generate(prompts[:1], params, n=args.k))

    def per_child():
        counted["per_child"] = sum(tokens(generator.generate(prompts[:1], params, n=1)) for _ in range(args.k))

    def across():
        counted["across"] = tokens(generator.generate(prompts, params, n=args.k))

    one = timed(batched, device, args.repeat)
    base = timed(per_child, device, args.repeat)
    many = timed(across, device, args.repeat)
    print(f"generation: prompt {args.prompt_tokens} tokens, {args.new_tokens} new tokens per child, k={args.k}")
    print(f"  baseline, {args.k} calls of n=1:  {base:8.3f} s  {counted['per_child'] / base:9.1f} tokens/s")
    print(f"  one call of n={args.k}:           {one:8.3f} s  {counted['batched'] / one:9.1f} tokens/s   "
          f"{base / one:.2f}x the baseline")
    print(f"  {args.prompts} prompts x {args.k} in one call: {many:8.3f} s  {counted['across'] / many:9.1f} tokens/s   "
          f"{(counted['across'] / many) / (counted['per_child'] / base):.2f}x the baseline's tokens/s")


def step_seconds(model, batch, device: str, steps: int) -> float:
    """Median seconds of one training step (forward, backward, AdamW) on ``batch``."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-5, fused=device == "cuda")
    autocast = torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda")

    def step():
        with autocast:
            loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return timed(step, device, steps)


def bench_training(args, tiny: bool, device: str) -> None:
    batch = torch.randint(0, (TINY if tiny else QWEN25_CODER_1_5B)["vocab_size"], (args.batch, args.seq),
                          generator=torch.Generator().manual_seed(0)).to(device)
    print(f"training step: {args.batch} x {args.seq} tokens, activation checkpointing, AdamW")
    full = "full fine-tuning, fp32 master + bf16 autocast" if device == "cuda" else "full fine-tuning, float32"
    for name, lora in ((full, False), ("LoRA r=64 on all linear layers", True)):
        dtype = torch.bfloat16 if (lora and device == "cuda") else torch.float32
        model = build(tiny, device, dtype).train()
        # transformers 5 renamed gradient checkpointing to activation checkpointing
        (getattr(model, "activation_checkpointing_enable", None) or model.gradient_checkpointing_enable)()
        model.config.use_cache = False
        if lora:
            from peft import LoraConfig, get_peft_model

            model = get_peft_model(model, LoraConfig(r=64, lora_alpha=128, target_modules="all-linear",
                                                     task_type="CAUSAL_LM"))
            model.enable_input_require_grads()
        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        seconds = step_seconds(model, batch, device, args.steps)
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        peak = f", peak GPU memory {torch.cuda.max_memory_allocated() / 1e9:.1f} GB" if device == "cuda" else ""
        print(f"  {name:48s} {seconds:8.3f} s/step  {args.batch * args.seq / seconds:9.1f} tokens/s  "
              f"({trainable / 1e6:.1f}M trainable{peak})")
        del model
        if device == "cuda":
            torch.cuda.empty_cache()


def bench_vllm_concurrency(args, tokenizer) -> None:
    """MCTS through VLLMGenerator at several concurrencies, on the random 1.5B-shaped model saved locally."""
    import dataclasses
    import tempfile

    from o1coder.execution import Sandbox
    from o1coder.models.vllm_backend import VLLMGenerator
    from o1coder.search import SearchConfig, search
    from o1coder.search.inflight import InFlight

    levels = [int(c) for c in args.vllm_concurrency.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        config = transformers.Qwen2Config(**{**QWEN25_CODER_1_5B, "vocab_size": len(tokenizer),
                                             "bos_token_id": tokenizer.bos_token_id or 1,
                                             "eos_token_id": tokenizer.eos_token_id or 2})
        torch.manual_seed(0)
        transformers.AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16).save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        generator = VLLMGenerator(folder, dtype="bfloat16", gpu_memory_utilization=0.85, max_model_len=4096)
        search_config = SearchConfig(rollouts=args.vllm_rollouts, k=3, max_depth=4, max_step_tokens=args.new_tokens)
        sampling = SamplingParams(temperature=1.0, max_new_tokens=args.new_tokens)
        bundled = load_bundled()
        rates = {}
        with Sandbox(workers=8) as sandbox:
            for c in levels:
                count = max(2 * c, 8)  # enough problems that c trees stay in flight for most of the pass
                problems = [dataclasses.replace(bundled[i % len(bundled)], id=f"{bundled[i % len(bundled)].id}#{i}")
                            for i in range(count)]
                before = generator.usage.snapshot()
                start = time.perf_counter()
                results = InFlight(generator, sandbox, c).map(
                    problems, lambda p, g, s: search(p, g, s, search_config, sampling=sampling))
                wall = time.perf_counter() - start
                rollouts = sum(r.stats["rollouts"] for r in results)
                tokens = (generator.usage - before).completion_tokens
                rates[c] = (rollouts / wall, tokens / wall)
        generator.close()
    base = rates[levels[0]]
    print(f"vLLM search concurrency: MCTS, {args.vllm_rollouts} rollouts, k=3, {args.new_tokens} tokens per step; "
          f"baseline concurrency {levels[0]}")
    for c in levels:
        rollouts, tokens = rates[c]
        print(f"  concurrency {c:3d}: {rollouts:8.2f} rollouts/s ({rollouts / base[0]:5.2f}x)  {tokens:9.1f} tokens/s "
              f"({tokens / base[1]:5.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="scaled-down model on the CPU (runs anywhere)")
    parser.add_argument("--k", type=int, default=3, help="children per expansion (default 3)")
    parser.add_argument("--prompts", type=int, default=None, help="prompts batched together (default 8; tiny 4)")
    parser.add_argument("--prompt-tokens", type=int, default=None, help="prompt length (default 1024; tiny 128)")
    parser.add_argument("--new-tokens", type=int, default=None, help="tokens per child (default 256; tiny 32)")
    parser.add_argument("--batch", type=int, default=None, help="training sequences per step (default 4; tiny 2)")
    parser.add_argument("--seq", type=int, default=None, help="training sequence length (default 2048; tiny 128)")
    parser.add_argument("--repeat", type=int, default=5, help="timed generation runs, median (default 5)")
    parser.add_argument("--steps", type=int, default=5, help="timed training steps, median (default 5)")
    parser.add_argument("--vllm", action="store_true", help="also measure search concurrency on vLLM (GPU)")
    parser.add_argument("--vllm-concurrency", default="1,8,64", help="concurrencies for --vllm (default 1,8,64)")
    parser.add_argument("--vllm-rollouts", type=int, default=4, help="MCTS rollouts per problem for --vllm")
    args = parser.parse_args()
    defaults = dict(prompts=(4, 8), prompt_tokens=(128, 1024), new_tokens=(32, 256), batch=(2, 4), seq=(128, 2048))
    for key, (tiny_value, real_value) in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, tiny_value if args.tiny else real_value)
    device = "cpu" if args.tiny else "cuda"
    if args.tiny:
        torch.set_num_threads(1)  # one thread: steadier on a shared CPU (several threads spin-wait when others run)
    if device == "cuda" and not torch.cuda.is_available():
        sys.exit("no CUDA GPU here: run with --tiny for the CPU variant (its figures are not GPU figures)")

    if device == "cuda":
        machine = f"{torch.cuda.get_device_name()} (CUDA {torch.version.cuda})"
    else:
        machine = f"CPU {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads"
    print(f"machine: {machine}; torch {torch.__version__}, transformers {transformers.__version__}")
    tokenizer = transformers.AutoTokenizer.from_pretrained(build_tiny_model())
    model = build(args.tiny, device, torch.float32 if args.tiny else torch.bfloat16)
    size = sum(p.numel() for p in model.parameters())
    print(f"model: {'tiny scaled-down' if args.tiny else 'Qwen2.5-Coder-1.5B'} architecture, random weights, "
          f"{size / 1e6:,.1f}M parameters, {next(model.parameters()).dtype}"
          + ("   [--tiny: CPU figures of a toy model, not GPU figures]" if args.tiny else ""))
    with torch.inference_mode():
        bench_generation(args, model, tokenizer, device)
    del model
    bench_training(args, args.tiny, device)
    if args.vllm:
        if args.tiny:
            sys.exit("--vllm needs a CUDA GPU: drop --tiny")
        torch.cuda.empty_cache()
        bench_vllm_concurrency(args, tokenizer)


if __name__ == "__main__":
    main()
