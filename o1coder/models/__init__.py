"""Generation backends behind one ``Generator`` protocol: transformers, vLLM, OpenAI-compatible servers.

Importing this package is cheap (no torch): the backends are imported by ``build_generator`` when chosen.

    from o1coder.models import SamplingParams, build_generator
    generator = build_generator({"backend": "transformers", "name_or_path": "tiny"})
    [[completion]] = generator.generate(["def add(a, b):"], SamplingParams(max_new_tokens=32, seed=0))
"""

from o1coder.models.base import (
    BaseGenerator,
    Completion,
    Generator,
    Message,
    Prompt,
    SamplingParams,
    Usage,
    truncate_at_stop,
)
from o1coder.models.factory import build_generator, resolve_model_path
from o1coder.models.scripted import ScriptedGenerator
from o1coder.models.tiny import TINY_NAME, build_tiny_model

__all__ = [
    "BaseGenerator",
    "Completion",
    "Generator",
    "Message",
    "Prompt",
    "SamplingParams",
    "ScriptedGenerator",
    "TINY_NAME",
    "Usage",
    "build_generator",
    "build_tiny_model",
    "resolve_model_path",
    "truncate_at_stop",
]
