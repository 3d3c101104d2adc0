"""Recipes (YAML presets) and the typed configs read from them.

A recipe is a flat YAML file with one section per stage (``model:``, ``sampling:``, ``search:``, ...). The CLI and
the notebooks load the same recipes and may override any value with ``section.key=value`` (the value is parsed as
YAML). Each section is read into a dataclass whose fields carry help text and whose ``__post_init__`` names a bad
value and the expected form. No torch here: importing the config is cheap.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from o1coder.models.base import SamplingParams

RECIPES_DIR = Path(__file__).resolve().parent / "recipes"

# Top-level keys a recipe may have. A stage that adds a section adds its name here.
RECIPE_SECTIONS = (
    "name", "description", "seed", "model", "sampling", "problems", "execution", "reasoning", "search", "tcg",
    "prm", "sft", "dpo", "grpo", "rl", "training", "loop", "evaluation", "runs",
)  # fmt: skip

BACKENDS = ("transformers", "vllm", "openai")
DTYPES = ("auto", "float32", "bfloat16", "float16")

SamplingConfig = SamplingParams
"""The ``sampling:`` section: the runtime ``SamplingParams`` itself (fields with help text, validated)."""

C = TypeVar("C")


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass
class ModelConfig:
    """The ``model:`` section: which backend generates and from which weights."""

    backend: str = field(default="transformers", metadata=_help("'transformers', 'vllm' or 'openai'."))
    name_or_path: str = field(
        default="tiny",
        metadata=_help("Local folder or Hugging Face hub id ('tiny': the project's offline tiny model; 'tiny-world': "
                       "it warm-started on the synthetic world, see o1coder.training.world_policy); for the "
                       "openai backend, the model name the server serves."),
    )  # fmt: skip
    dtype: str = field(default="auto", metadata=_help("'auto', 'float32', 'bfloat16' or 'float16'."))
    device: str = field(default="auto", metadata=_help("transformers: 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'."))
    max_batch_size: int = field(default=16, metadata=_help("transformers: most sequences per generate call."))
    trust_remote_code: bool = field(default=False, metadata=_help("Allow model code from the hub (transformers/vllm)."))
    lora_path: str | None = field(default=None, metadata=_help("A PEFT LoRA adapter folder applied on top."))
    enable_lora: bool = field(
        default=False, metadata=_help("vllm: reserve LoRA slots so adapters can be swapped without a reload.")
    )
    max_lora_rank: int = field(default=16, metadata=_help("vllm: largest LoRA rank that will be loaded."))
    tensor_parallel_size: int = field(default=1, metadata=_help("vllm: number of GPUs the model is split over."))
    gpu_memory_utilization: float = field(default=0.9, metadata=_help("vllm: share of GPU memory, in (0, 1]."))
    max_model_len: int | None = field(default=None, metadata=_help("vllm: context length (None: the model's)."))
    base_url: str | None = field(
        default=None, metadata=_help("openai: server URL with the version prefix, e.g. http://127.0.0.1:8000/v1.")
    )
    api_key_env: str = field(
        default="OPENAI_API_KEY", metadata=_help("openai: environment variable holding the API key (never logged).")
    )
    request_timeout: float = field(default=120.0, metadata=_help("openai: seconds before a request times out."))
    max_retries: int = field(default=4, metadata=_help("openai: retries on connection errors, 429 and 5xx."))
    concurrency: int = field(default=8, metadata=_help("openai: requests in flight at once."))
    engine_kwargs: dict[str, Any] = field(
        default_factory=dict,
        metadata=_help("Extra keyword arguments for the backend (vllm.LLM, from_pretrained or the request body)."),
    )

    def __post_init__(self) -> None:
        _choice(self, "backend", BACKENDS)
        _choice(self, "dtype", DTYPES)
        if not isinstance(self.name_or_path, str) or not self.name_or_path.strip():
            _fail(self, "name_or_path", "a model folder, a hub id or 'tiny'")
        if not isinstance(self.device, str) or not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", self.device):
            _fail(self, "device", "'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'")
        for name in ("trust_remote_code", "enable_lora"):
            if not isinstance(getattr(self, name), bool):
                _fail(self, name, "true or false")
        for name in ("max_batch_size", "tensor_parallel_size", "max_lora_rank", "concurrency"):
            _int(self, name, minimum=1)
        _int(self, "max_retries", minimum=0)
        if self.max_model_len is not None:
            _int(self, "max_model_len", minimum=1)
        self.gpu_memory_utilization = _float(self, "gpu_memory_utilization")
        if not 0 < self.gpu_memory_utilization <= 1:
            _fail(self, "gpu_memory_utilization", "a number in (0, 1]")
        self.request_timeout = _float(self, "request_timeout")
        if self.request_timeout <= 0:
            _fail(self, "request_timeout", "a number of seconds > 0")
        if self.lora_path is not None and not isinstance(self.lora_path, str):
            _fail(self, "lora_path", "a folder path or null")
        if not isinstance(self.api_key_env, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.api_key_env):
            _fail(self, "api_key_env", "an environment variable name such as OPENAI_API_KEY")
        if not isinstance(self.engine_kwargs, dict):
            _fail(self, "engine_kwargs", "a mapping of keyword arguments")
        if self.base_url is not None and not (
            isinstance(self.base_url, str) and self.base_url.startswith(("http://", "https://"))
        ):
            _fail(self, "base_url", "a URL starting with http:// or https://")
        if self.backend == "openai" and self.base_url is None:
            raise ValueError(
                "ModelConfig.base_url is required when backend is 'openai' (e.g. http://127.0.0.1:8000/v1); got None"
            )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ModelConfig:
        return from_dict(cls, data, section="model")


def from_dict(cls: type[C], data: Mapping[str, Any] | None, section: str) -> C:
    """Build a config dataclass from a recipe section, naming unknown keys and the known ones."""
    data = dict(data or {})
    known = {f.name for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known)
    if unknown:
        hints = []
        for key in unknown:
            guess = _closest(key, known)
            hints.append(f"{key!r} (did you mean {guess!r}?)" if guess else repr(key))
        raise ValueError(
            f"unknown key(s) in section {section!r}: {', '.join(hints)}; known: {', '.join(sorted(known))}"
        )
    return cls(**data)


def model_config(recipe: Mapping[str, Any]) -> ModelConfig:
    """The recipe's ``model:`` section, validated."""
    return from_dict(ModelConfig, recipe.get("model"), section="model")


def sampling_config(recipe: Mapping[str, Any]) -> SamplingConfig:
    """The recipe's ``sampling:`` section, validated."""
    return from_dict(SamplingConfig, recipe.get("sampling"), section="sampling")


def field_help(cls: type) -> dict[str, str]:
    """Field name -> help text of a config dataclass (for the CLI's --help and the docs)."""
    return {f.name: f.metadata.get("help", "") for f in dataclasses.fields(cls)}


def list_recipes() -> list[str]:
    """Names of the bundled presets."""
    return sorted(path.stem for path in RECIPES_DIR.glob("*.yaml"))


def load_recipe(name_or_path: str | os.PathLike) -> dict[str, Any]:
    """A recipe as a dict: a preset name from o1coder/recipes (e.g. "tiny-cpu") or a path to a YAML file."""
    text = str(name_or_path)
    path = Path(text)
    if not path.is_file():
        if path.suffix in (".yaml", ".yml") or os.sep in text or "/" in text:
            raise FileNotFoundError(f"recipe file {text} not found")
        path = RECIPES_DIR / f"{text}.yaml"
        if not path.is_file():
            raise ValueError(f"unknown recipe {text!r}; presets: {', '.join(list_recipes())} (or pass a YAML path)")
    recipe = _parse_yaml(path.read_text()) or {}
    if not isinstance(recipe, dict):
        raise ValueError(f"recipe {path} must be a mapping of sections; got {type(recipe).__name__}")
    _check_sections(recipe, f"recipe {path}")
    recipe.setdefault("name", path.stem)
    return recipe


def apply_overrides(recipe: Mapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """A copy of ``recipe`` with ``"section.key=value"`` overrides applied (values parsed as YAML).

    ``["model.name_or_path=Qwen/Qwen2.5-Coder-1.5B-Instruct", "sampling.temperature=0.7", "sampling.stop=['\\n']"]``
    """
    result = copy.deepcopy(dict(recipe))
    for override in overrides:
        key, sep, raw = override.partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            raise ValueError(f"override {override!r} must look like section.key=value")
        parts = key.split(".")
        _check_sections({parts[0]: None}, f"override {override!r}")
        try:
            value = _parse_yaml(raw) if raw.strip() else None
        except yaml.YAMLError as error:
            raise ValueError(f"override {override!r}: the value is not valid YAML ({error})") from None
        node = result
        for depth, part in enumerate(parts[:-1]):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"override {override!r}: {'.'.join(parts[: depth + 1])} is a value, not a section")
        node[parts[-1]] = value
    return result


def _check_sections(recipe: Mapping[str, Any], where: str) -> None:
    unknown = [key for key in recipe if key not in RECIPE_SECTIONS]
    if unknown:
        raise ValueError(
            f"{where}: unknown top-level key(s) {', '.join(map(repr, unknown))}; known sections: "
            f"{', '.join(RECIPE_SECTIONS)} (a new stage adds its section to RECIPE_SECTIONS in o1coder/config.py)"
        )


def _closest(key: str, known: Iterable[str]) -> str | None:
    import difflib

    known = sorted(known)
    prefixed = [name for name in known if name.startswith(key) or key.startswith(name)]
    matches = prefixed or difflib.get_close_matches(key, known, n=1)
    return matches[0] if matches else None


def _fail(config: object, name: str, expected: str) -> None:
    section = type(config).__name__
    raise ValueError(f"{section}.{name} must be {expected}; got {getattr(config, name)!r}")


def _choice(config: object, name: str, allowed: tuple[str, ...]) -> None:
    if getattr(config, name) not in allowed:
        _fail(config, name, "one of " + ", ".join(map(repr, allowed)))


def _int(config: object, name: str, minimum: int) -> None:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        _fail(config, name, f"an integer >= {minimum}")


def _float(config: object, name: str) -> float:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(config, name, "a number")
    return float(value)


class _YamlLoader(yaml.SafeLoader):
    """Safe YAML that also reads 1e-3 as a number (plain YAML 1.1 reads exponents without a dot as text)."""


_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _parse_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_YamlLoader)  # noqa: S506 (a SafeLoader subclass)
