"""``build_generator``: a ``ModelConfig`` (the recipe's ``model:`` section) in, a ready ``Generator`` out.

Backends are imported here only when chosen, so building an OpenAI client never imports torch and building a
transformers generator never imports vLLM.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from o1coder.models.base import Generator
from o1coder.models.tiny import TINY_NAME, build_tiny_model

if TYPE_CHECKING:
    from o1coder.config import ModelConfig


WORLD_POLICY_NAME = "tiny-world"  # o1coder.training.world_policy.WORLD_POLICY_NAME (not imported: it pulls torch)


def resolve_model_path(name_or_path: str) -> str:
    """"tiny" means the project's tiny model, "tiny-world" the tiny policy warm-started on the synthetic world
    (each built on first use, then cached); anything else is passed on unchanged."""
    if name_or_path == TINY_NAME:
        return str(build_tiny_model())
    if name_or_path == WORLD_POLICY_NAME:
        from o1coder.training.world_policy import build_world_policy

        return str(build_world_policy())
    return name_or_path


def build_generator(config: ModelConfig | Mapping[str, Any]) -> Generator:
    """The generator a recipe asks for. Accepts a ``ModelConfig`` or the raw ``model:`` mapping."""
    from o1coder.config import ModelConfig

    if not isinstance(config, ModelConfig):
        config = ModelConfig.from_dict(config)
    extra = dict(config.engine_kwargs)
    if config.backend == "transformers":
        from o1coder.models.transformers_backend import TransformersGenerator

        return TransformersGenerator.from_pretrained(
            resolve_model_path(config.name_or_path),
            dtype=config.dtype,
            device=config.device,
            max_batch_size=config.max_batch_size,
            lora_path=config.lora_path,
            trust_remote_code=config.trust_remote_code,
            **extra,
        )
    if config.backend == "vllm":
        from o1coder.models.vllm_backend import VLLMGenerator

        return VLLMGenerator(
            resolve_model_path(config.name_or_path),
            lora_path=config.lora_path,
            enable_lora=config.enable_lora,
            max_lora_rank=config.max_lora_rank,
            dtype=config.dtype,
            tensor_parallel_size=config.tensor_parallel_size,
            gpu_memory_utilization=config.gpu_memory_utilization,
            max_model_len=config.max_model_len,
            trust_remote_code=config.trust_remote_code,
            **extra,
        )
    from o1coder.models.openai_backend import OpenAIGenerator

    return OpenAIGenerator(
        config.name_or_path,
        config.base_url or "",
        api_key_env=config.api_key_env,
        timeout=config.request_timeout,
        max_retries=config.max_retries,
        concurrency=config.concurrency,
        extra_body=extra,
    )
