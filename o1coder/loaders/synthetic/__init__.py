"""``synthetic``: a procedurally generated problem world, loadable like any benchmark.

``load_problems("synthetic", split="train"|"eval", n=..., seed=..., level=...)`` (or the spec
``synthetic:train,n=400,seed=1,level=2``) returns ``n`` problems composed from parts (:mod:`.parts`): a filter, a
transform and an aggregate over a list of integers; a chain of string rewrites; a nested list-of-lists reduction;
asked as functions or as stdin/stdout programs (:mod:`.families`). Each has hidden and public tests, a reference
program and a reasoning trace (one structure step, one or two refine steps, one code step) whose code passes.

**Levels** (:data:`LEVELS`) set the difficulty by the depth of composition and the number of parts:

1. a list pipeline (filter, 0 or 1 transform, aggregate) as a function ``f(nums)``: short, regular, learnable by a
   tiny model on a CPU in minutes;
2. the same pipelines as stdin/stdout programs, and chains of 2 string rewrites;
3. two chained transforms, programs answering several lists, chains of 3 rewrites;
4. nested reductions over a list of lists (4-5 parts), programs with two chained transforms over several lists,
   chains of 4 rewrites;
5. nested reductions read from stdin with up to two row transforms (5-6 parts), three chained transforms, chains
   of 5 rewrites: long exact compositions meant to challenge a 1.5B-7B model.

**Splits: held out by composition.** A problem's split depends only on its *composition*: its family group and the
sorted, slot-qualified names of its parts, without constants and without order (``list|aggregate:sum,filter:even,
transform:square``). The composition is in the eval split when the first 8 hex digits of its sha256, as an
integer, modulo 100, are below :data:`EVAL_PERCENT`; otherwise in train. The load seed plays no part, so any train
seed and any eval seed give disjoint compositions; a composition in eval is never seen in train under any constants,
order or form (function or program). Every part of every eval composition appears in train compositions (checked
for every level in tests/test_synthetic.py): only the combinations are held out.

**Determinism.** A problem (statement paraphrase, function name, tests) is a pure function of its identity (family
and parts with constants), and its id is ``synthetic/<level>/<12 hex digits of the identity's sha256>``. The seed
only picks which problems, in which order: the same seed gives the same list, and ``n=100`` is the first 100 of
``n=200``; ``skip=K`` leaves out the first K (``n=100,skip=400`` is problems 400-499 of ``n=500``: problems a
policy warm-started on ``n=400`` of the same seed never saw) and ``part=P`` takes the P-th block of ``n`` after them
(``n=100,skip=400,part=1`` is problems 500-599: a self-play loop's ``part={round}`` searches new problems every
round). A split never holds the same identity twice. Families take turns (problem i comes from family
``i mod F``), each drawing compositions uniformly and then constants uniformly, until it is exhausted.

**Capacity.** :func:`capacity` is the exact number of distinct problems a split of a level holds (the sum over its
compositions of the product of their parts' constant choices); ``n`` above it is an error naming it.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

from o1coder.loaders.synthetic.family import Family, digest
from o1coder.loaders.synthetic.grids import GridProblems
from o1coder.loaders.synthetic.lists import ListProblems
from o1coder.loaders.synthetic.parts import Part, Use
from o1coder.loaders.synthetic.strings import StringProblems
from o1coder.problems import Problem

SPLITS = ("train", "eval")
EVAL_PERCENT = 25
DEFAULT_LEVEL = 1
DEFAULT_SEED = 0
DEFAULT_N = {"train": 1000, "eval": 200}

LEVELS: dict[int, tuple[Family, ...]] = {
    1: (ListProblems((0, 1), "function"),),
    2: (ListProblems((0, 1), "stdio"), StringProblems(2)),
    3: (ListProblems((2,), "function"), ListProblems((0, 1), "cases"), StringProblems(3)),
    4: (GridProblems(), ListProblems((2,), "cases"), StringProblems(4)),
    5: (GridProblems((1, 2), "stdio"), ListProblems((3,), "function"), StringProblems(5)),
}

SPEC_OPTIONS = ("n", "seed", "level", "skip", "part")

__all__ = ["DEFAULT_LEVEL", "DEFAULT_N", "DEFAULT_SEED", "EVAL_PERCENT", "LEVELS", "SPLITS", "capacity",
           "compositions", "load_synthetic", "parse_spec", "split_of"]


def split_of(composition_key: str) -> str:
    """"eval" or "train" for a composition key (see the module docstring for the rule)."""
    return "eval" if int(digest(composition_key)[:8], 16) % 100 < EVAL_PERCENT else "train"


@dataclass(frozen=True)
class _Pool:
    """One family's compositions in one split, and how many distinct problems they make."""

    family: Family
    compositions: tuple[tuple[Part, ...], ...]

    @functools.cached_property
    def size(self) -> int:
        total = 0
        for composition in self.compositions:
            product = 1
            for part in composition:
                product *= len(part.options())
            total += product
        return total


@functools.cache
def _pools(level: int, split: str) -> tuple[_Pool, ...]:
    return tuple(_Pool(family, tuple(c for c in family.compositions() if split_of(family.composition_key(c)) == split))
                 for family in LEVELS[level])


def compositions(level: int, split: str) -> dict[str, list[str]]:
    """Family name -> the composition keys of that family in ``split`` at ``level`` (sorted, without repeats)."""
    _check(split=split, level=level)
    return {pool.family.name: sorted({pool.family.composition_key(c) for c in pool.compositions})
            for pool in _pools(level, split)}


def capacity(level: int, split: str) -> int:
    """The exact number of distinct problems ``split`` holds at ``level``."""
    _check(split=split, level=level)
    return sum(pool.size for pool in _pools(level, split))


def load_synthetic(path=None, *, split: str = "train", n: int | None = None, seed: int = DEFAULT_SEED,
                   level: int = DEFAULT_LEVEL, skip: int = 0, part: int = 0, limit: int | None = None
                   ) -> list[Problem]:
    """``n`` problems of ``split`` at ``level`` (defaults: :data:`DEFAULT_N`, seed 0, level 1): the ``part``-th
    block of ``n`` after the first ``skip`` of the seed's list; ``limit`` keeps the first ``limit`` of them (what
    ``--limit`` passes)."""
    if path is not None:
        raise ValueError(f"the synthetic world is generated, not read from a file: drop path={path!r} (choose the "
                         "problems with split=, n=, seed=, level=)")
    n = DEFAULT_N.get(split, 0) if n is None else n
    for name, value in (("skip", skip), ("part", part)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"synthetic option {name} must be an integer >= 0, got {value!r}")
    _check(split=split, level=level, n=n, seed=seed)
    skip += part * n
    _check(split=split, level=level, n=n, seed=seed, skip=skip)
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
            raise ValueError(f"synthetic option limit must be a positive integer, got {limit!r}")
        n = min(n, limit)
    return _draw(level, split, skip + n, seed)[skip:]


def _draw(level: int, split: str, n: int, seed: int) -> list[Problem]:
    rng = random.Random(f"synthetic|{level}|{split}|{seed}")
    pools = [p for p in _pools(level, split) if p.size]
    taken: list[set[str]] = [set() for _ in pools]
    problems: list[Problem] = []
    turn = 0
    while len(problems) < n:
        index = turn % len(pools)
        turn += 1
        pool = pools[index]
        if len(taken[index]) == pool.size:
            continue  # exhausted: the other families take its turns
        while True:
            composition = rng.choice(pool.compositions)
            uses = tuple(Use(part, rng.choice(part.options())) for part in composition)
            identity = pool.family.identity(uses)
            if identity not in taken[index]:
                break
        taken[index].add(identity)
        problems.append(pool.family.build(uses, level, split))
    return problems


def _check(*, split, level, n=None, seed=0, skip=0) -> None:
    """Raise a ValueError naming the bad option and what is allowed."""
    if split not in SPLITS:
        raise ValueError(f"unknown synthetic split {split!r}; expected one of {', '.join(SPLITS)}")
    if isinstance(level, bool) or not isinstance(level, int) or level not in LEVELS:
        raise ValueError(f"unknown synthetic level {level!r}; expected one of {', '.join(map(str, LEVELS))}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"synthetic option seed must be an integer, got {seed!r}")
    if n is None:
        return
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ValueError(f"synthetic option n must be a positive integer, got {n!r}")
    most = sum(pool.size for pool in _pools(level, split))
    if n + skip > most:
        asked = f"n={n}" + (f" after the first {skip}" if skip else "")
        raise ValueError(f"synthetic option {asked} is more than the {split} split of level {level} holds ({most} "
                         "distinct problems); ask for at most that many, or another level")


def parse_spec(spec: str) -> dict:
    """The load options of a ``synthetic:SPLIT[,n=N][,seed=S][,level=L][,skip=K][,part=P]`` problem spec."""
    name, _, rest = spec.strip().partition(":")
    split, *settings = [s.strip() for s in rest.split(",")] if rest else [""]
    if name != "synthetic" or split not in SPLITS:
        raise ValueError(f"problem spec {spec!r}: expected 'synthetic:train' or 'synthetic:eval', optionally "
                         "followed by ',n=N', ',seed=S', ',level=L', ',skip=K', ',part=P' "
                         "(e.g. 'synthetic:eval,n=200,level=2')")
    options: dict = {"split": split}
    for setting in settings:
        key, equals, value = setting.partition("=")
        key = key.strip()
        if key not in SPEC_OPTIONS or not equals:
            allowed = ", ".join(f"{o}=..." for o in SPEC_OPTIONS)
            raise ValueError(f"problem spec {spec!r}: {setting!r} is not one of {allowed}")
        try:
            options[key] = int(value)
        except ValueError:
            raise ValueError(f"problem spec {spec!r}: {key} must be an integer, got {value.strip()!r}") from None
    return options
