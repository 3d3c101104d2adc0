"""The project's own problems (data/bundled/*.jsonl) and the problem specs the command line accepts.

The bundled problems were written for this project: function and stdin/stdout problems of MBPP difficulty, each
with tests, a reference solution and a reasoning trace (``metadata["trace"]``) in the step format of
:mod:`o1coder.reasoning`. They let every stage run offline; ``data/bundled/build.py`` writes the files.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from o1coder import paths
from o1coder.problems import Problem, load_problems
from o1coder.reasoning.steps import Step

SPLITS = ("train", "eval")


def bundled_dir() -> Path:
    return paths.DATA_DIR / "bundled"


def load_bundled(split: str | None = None) -> list[Problem]:
    """All bundled problems, or those of one split ("train" or "eval"), in file order."""
    if split is not None and split not in SPLITS:
        raise ValueError(f"unknown bundled split {split!r}; expected one of {', '.join(SPLITS)} (or None for all)")
    files = sorted(bundled_dir().glob("*.jsonl"))
    if not files:
        raise FileNotFoundError(f"no bundled problem files in {bundled_dir()}; run `python data/bundled/build.py`")
    problems, seen = [], set()
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                problem = Problem.from_dict(json.loads(line))
            except (ValueError, KeyError, TypeError) as e:
                raise ValueError(f"{path.name}:{number}: not a problem record ({e})") from e
            if problem.id in seen:
                raise ValueError(f"{path.name}:{number}: duplicate problem id {problem.id!r}")
            seen.add(problem.id)
            if split is None or problem.metadata.get("split") == split:
                problems.append(problem)
    return problems


def trace_of(problem: Problem) -> list[Step]:
    """The reasoning trace stored with a problem (``metadata["trace"]``) as steps."""
    trace = problem.metadata.get("trace")
    if not trace:
        raise ValueError(f"problem {problem.id!r} has no reasoning trace in metadata['trace']")
    return [Step.from_dict(d) for d in trace]


_NAME = re.compile(r"[A-Za-z][\w.-]*")


def resolve_problem_spec(spec: str, **options) -> list[Problem]:
    """Problems for a command-line spec.

    "bundled", "bundled:train", "bundled:eval": the project's own problems. "synthetic:train", "synthetic:eval",
    optionally with settings ("synthetic:eval,n=200,seed=1,level=2"): the generated world
    (:mod:`o1coder.loaders.synthetic`). "NAME:PATH": a benchmark loader reading a local file (e.g.
    "mbpp:../shared/data/mbpp.jsonl"). "NAME": the loader's default source (the Hugging Face hub).
    ``options`` are passed on to :func:`o1coder.problems.load_problems`.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"empty problem spec; expected {_SPEC_FORMS}")
    name, colon, rest = spec.strip().partition(":")
    if name == "bundled":
        if not rest:
            return load_bundled()
        if rest not in SPLITS:
            raise ValueError(f"unknown bundled split in {spec!r}; expected 'bundled', 'bundled:train' or "
                             "'bundled:eval'")
        return load_bundled(rest)
    if name == "synthetic":
        from o1coder.loaders.synthetic import parse_spec

        return load_problems("synthetic", **{**parse_spec(spec), **options})
    if not _NAME.fullmatch(name):
        raise ValueError(f"problem spec {spec!r} does not start with a dataset name; expected {_SPEC_FORMS}")
    if colon and not rest:
        raise ValueError(f"problem spec {spec!r} has a ':' but no path after it; expected {_SPEC_FORMS}")
    return load_problems(name, rest or None, **options)


_SPEC_FORMS = ("'bundled', 'bundled:train', 'bundled:eval', 'synthetic:train', 'synthetic:eval' (optionally with "
               "',n=N,seed=S,level=L'), 'NAME:PATH' (e.g. 'mbpp:data/mbpp.jsonl') or 'NAME'")
