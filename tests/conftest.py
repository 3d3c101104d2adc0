"""Shared test set-up: offline, one torch thread, benchmark data from ../shared/data when present."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from o1coder.paths import PROJECT_ROOT  # noqa: E402

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


def pytest_configure(config):
    try:  # keep torch to one thread when it is installed: the test machines are shared
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass


def pytest_collection_modifyitems(config, items):
    try:
        import torch

        has_gpu = torch.cuda.is_available()
    except ImportError:
        has_gpu = False
    if not has_gpu:
        skip = pytest.mark.skip(reason="needs a CUDA GPU")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The benchmark files of ../shared/data (never copied into the repository); skip when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"benchmark data folder {SHARED_DATA} is absent (see README: Benchmark data)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch):
    """Runs, caches and built models go to temporary folders unless a test says otherwise."""
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("O1CODER_RUNS_DIR", str(base / "runs"))
    monkeypatch.setenv("O1CODER_CACHE_DIR", str(base / "cache"))
    # the tiny model is deterministic and costly to rebuild: share one build per test session
    monkeypatch.setenv("O1CODER_MODELS_DIR", str(base / "models"))
