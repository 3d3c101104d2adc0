"""Benchmark loaders: one name per benchmark, each reading the benchmark's own published file or the hub.

``load(name, path=None, **options)`` is what :func:`o1coder.problems.load_problems` calls. Every loader takes
``limit=N`` (the first N problems); the others are listed per name in :data:`LOADERS`' docstrings:

==================  ========================================  ==================================================
name                local file (``path=``)                    options besides ``limit``
==================  ========================================  ==================================================
"mbpp"              mbpp.jsonl                                split, prompt_tests
"mbpp-sanitized"    sanitized-mbpp.json                       split, prompt_tests
"mbppplus"          MbppPlus-v0.2.0.jsonl.gz                  plus, sandbox
"humaneval"         HumanEval.jsonl.gz
"humanevalplus"     HumanEvalPlus-v0.1.10.jsonl.gz            plus, sandbox
"taco"              a JSON list of TACO records               split (hub only)
"codecontests"      code_contests JSON lines                  split (hub only)
"jsonl"             our own format (see loaders/jsonl.py)
"synthetic"         none: generated (see loaders/synthetic)   split, n, seed, level
==================  ========================================  ==================================================

Files may be gzip-compressed. A missing file raises FileNotFoundError, a bad record :class:`MalformedRecord`
(naming file, line or record, and field), a hub failure :class:`DatasetUnavailable` (naming the ``path=`` way).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from o1coder.loaders.codecontests import load_codecontests
from o1coder.loaders.errors import DatasetUnavailable, MalformedRecord
from o1coder.loaders.evalplus import load_humanevalplus, load_mbppplus
from o1coder.loaders.humaneval import load_humaneval
from o1coder.loaders.jsonl import load_jsonl, save_jsonl
from o1coder.loaders.mbpp import load_mbpp, load_mbpp_sanitized
from o1coder.loaders.synthetic import load_synthetic
from o1coder.loaders.taco import load_taco
from o1coder.problems import Problem

LOADERS: dict[str, Callable[..., list[Problem]]] = {
    "mbpp": load_mbpp,
    "mbpp-sanitized": load_mbpp_sanitized,
    "mbppplus": load_mbppplus,
    "humaneval": load_humaneval,
    "humanevalplus": load_humanevalplus,
    "taco": load_taco,
    "codecontests": load_codecontests,
    "jsonl": load_jsonl,
    "synthetic": load_synthetic,
}

__all__ = ["LOADERS", "DatasetUnavailable", "MalformedRecord", "load", "names", "options_of", "save_jsonl"]


def names() -> list[str]:
    """The benchmark names ``load`` accepts."""
    return list(LOADERS)


def options_of(name: str) -> list[str]:
    """The keyword options the loader ``name`` accepts (``limit`` and the loader's own)."""
    loader = _loader(name)
    return [p.name for p in inspect.signature(loader).parameters.values() if p.kind is p.KEYWORD_ONLY]


def load(name: str, path=None, **options) -> list[Problem]:
    """Load the benchmark ``name`` from ``path`` (its published file format) or, without path, the hub."""
    loader = _loader(name)
    unknown = sorted(set(options) - set(options_of(name)))
    if unknown:
        raise TypeError(f"the {name!r} loader has no option {', '.join(map(repr, unknown))}; "
                        f"its options are: {', '.join(options_of(name))}")
    return loader(path, **options)


def _loader(name: str) -> Callable[..., list[Problem]]:
    if not isinstance(name, str) or name not in LOADERS:
        raise ValueError(f"unknown benchmark {name!r}; valid names: {', '.join(LOADERS)}")
    return LOADERS[name]
