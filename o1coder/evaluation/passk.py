"""pass@k with the unbiased estimator of Chen et al. 2021 ("Evaluating Large Language Models Trained on Code").

Sampling exactly k programs per problem and checking whether one passes gives a high-variance estimate; sampling
n >= k and counting the c correct ones gives the unbiased estimate

    pass@k = 1 - C(n - c, k) / C(n, k)

(the chance that a random k-subset of the n samples holds at least one correct program). The binomials overflow
floats for realistic n, so it is computed as the product ``1 - prod_{i = n-c+1}^{n} (1 - k / i)``, which is the same
ratio written term by term. Pass@1 is then simply c / n.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one problem with ``c`` correct programs among ``n`` samples (1 <= k <= n)."""
    for name, value in (("n", n), ("c", c), ("k", k)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"pass_at_k: {name} must be an integer; got {value!r}")
    if n < 1:
        raise ValueError(f"pass_at_k: n (samples) must be >= 1; got {n}")
    if not 0 <= c <= n:
        raise ValueError(f"pass_at_k: c (correct samples) must be in [0, n={n}]; got {c}")
    if not 1 <= k <= n:
        raise ValueError(f"pass@{k} needs at least k={k} samples per problem and k >= 1; got n={n} (raise --samples)")
    if n - c < k:  # every k-subset holds a correct sample
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def mean_pass_at_k(counts: Iterable[tuple[int, int]], k: int) -> float | None:
    """Mean pass@k over problems given ``(n, c)`` per problem; None for an empty list."""
    values = [pass_at_k(n, c, k) for n, c in counts]
    return sum(values) / len(values) if values else None


def check_ks(ks: Sequence[int], samples: int) -> tuple[int, ...]:
    """The k values as a sorted tuple, each checked against the number of samples per problem."""
    out = sorted(set(ks))
    bad = [k for k in out if isinstance(k, bool) or not isinstance(k, int) or k < 1]
    if bad or not out:
        raise ValueError(f"k values must be integers >= 1; got {list(ks)!r}")
    if out[-1] > samples:
        raise ValueError(f"pass@{out[-1]} needs at least {out[-1]} samples per problem; got samples={samples} "
                         f"(raise the number of samples or drop k={out[-1]})")
    return tuple(out)
