"""Memory between stages: release_memory() collects what reference cycles keep alive and empties the CUDA cache;
closing a vLLM generator shuts its engine down (stand-in objects with vLLM's attribute names; the real engine in the
GPU test)."""

from __future__ import annotations

import gc
import weakref
from types import SimpleNamespace

import pytest

from o1coder.models.vllm_backend import VLLMGenerator
from o1coder.trainkit import release_memory


class _Held:
    """Something big a stage held, kept alive by a reference cycle (as TRL trainers and their callbacks are)."""

    def __init__(self):
        self.me = self


def test_release_memory_collects_objects_kept_by_reference_cycles():
    gc.disable()  # the automatic collector must not do the work for us
    try:
        held = _Held()
        ref = weakref.ref(held)
        del held
        assert ref() is not None  # dropping the last name does not free a cycle
        report = release_memory()
        assert ref() is None and report["collected"] >= 1
    finally:
        gc.enable()


class _Engine:
    """vLLM's LLMEngine as far as close() sees it: an engine core that can be shut down."""

    def __init__(self, calls: list):
        self.engine_core = SimpleNamespace(shutdown=lambda: calls.append("shutdown"))


def test_closing_a_vllm_generator_shuts_its_engine_down_once_and_frees_it():
    calls: list[str] = []
    llm = SimpleNamespace(llm_engine=_Engine(calls))
    ref = weakref.ref(llm.llm_engine)
    generator = VLLMGenerator.__new__(VLLMGenerator)  # without vLLM: only close() is under test
    generator.llm = llm
    del llm
    generator.close()
    generator.close()  # idempotent: the loop closes before every training stage
    assert calls == ["shutdown"] and generator.llm is None and ref() is None


@pytest.mark.gpu
def test_a_released_model_gives_its_gpu_memory_back():
    import torch

    from o1coder.models import build_tiny_model
    from o1coder.prm.modeling import load_base, load_tokenizer

    torch.cuda.synchronize()
    release_memory()
    baseline = torch.cuda.memory_allocated()
    model = load_base(str(build_tiny_model()), "pointwise", 1, load_tokenizer("tiny")).to("cuda")
    model(torch.ones(1, 8, dtype=torch.long, device="cuda")).logits.sum().backward()
    assert torch.cuda.memory_allocated() > baseline
    del model
    report = release_memory()
    assert torch.cuda.memory_allocated() == baseline
    assert report["cuda_reserved_freed"] > 0  # the cache went back to the driver, for the next stage's engine
