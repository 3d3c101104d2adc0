"""Where the project keeps its files: bundled data, built models, caches and runs.

Everything resolves from the project root (the folder holding ``data/``) and can be moved with environment
variables, so tests and users can point a run elsewhere without touching code.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"


def runs_dir(override: str | os.PathLike | None = None) -> Path:
    """The runs directory: ``override``, else $O1CODER_RUNS_DIR, else data/runs."""
    return Path(override or os.environ.get("O1CODER_RUNS_DIR") or DATA_DIR / "runs")


def models_dir() -> Path:
    """Where locally built models (the tiny model) are cached: $O1CODER_MODELS_DIR or data/models."""
    return Path(os.environ.get("O1CODER_MODELS_DIR") or DATA_DIR / "models")


def cache_dir() -> Path:
    """Derived-data cache (e.g. evalplus expected outputs): $O1CODER_CACHE_DIR or data/cache."""
    return Path(os.environ.get("O1CODER_CACHE_DIR") or DATA_DIR / "cache")
