"""pass@k (Chen et al. 2021) against values computed by hand, and the product form against the binomial form."""

from __future__ import annotations

import math

import pytest

from o1coder.evaluation.passk import check_ks, mean_pass_at_k, pass_at_k


@pytest.mark.parametrize(("n", "c", "k", "expected"), [
    (1, 1, 1, 1.0),
    (1, 0, 1, 0.0),
    (10, 3, 1, 0.3),             # pass@1 = c / n
    (10, 3, 5, 11 / 12),         # 1 - C(7,5)/C(10,5) = 1 - 21/252
    (5, 2, 2, 0.7),              # 1 - C(3,2)/C(5,2) = 1 - 3/10
    (4, 2, 3, 1.0),              # n - c < k: every 3-subset holds a correct sample
    (200, 1, 100, 0.5),          # 1 - C(199,100)/C(200,100) = 1 - 100/200
    (6, 0, 6, 0.0),
    (6, 6, 6, 1.0),
])  # fmt: skip
def test_hand_computed_values(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_matches_the_binomial_form_and_stays_finite_for_large_n():
    for n, c, k in [(20, 7, 3), (50, 1, 10), (37, 30, 5), (100, 50, 50)]:
        exact = 1 - math.comb(n - c, k) / math.comb(n, k)
        assert pass_at_k(n, c, k) == pytest.approx(exact, rel=1e-12)
    value = pass_at_k(5000, 17, 1000)  # the binomials have ~1000 digits; the product form does not overflow
    assert 0.0 < value <= 1.0 and math.isfinite(value)


def test_mean_over_problems():
    assert mean_pass_at_k([(10, 3), (10, 0), (10, 10)], 1) == pytest.approx((0.3 + 0 + 1) / 3)
    assert mean_pass_at_k([(5, 2), (4, 2)], 2) == pytest.approx((0.7 + 1 - 1 / 6) / 2)  # 1 - C(2,2)/C(4,2)
    assert mean_pass_at_k([], 1) is None


@pytest.mark.parametrize(("n", "c", "k", "message"), [
    (3, 1, 5, "needs at least k=5 samples"),
    (3, 4, 1, "must be in \\[0, n=3\\]"),
    (0, 0, 1, "must be >= 1"),
    (3, 1, 0, "k >= 1"),
])  # fmt: skip
def test_bad_arguments_say_what_is_wrong(n, c, k, message):
    with pytest.raises(ValueError, match=message):
        pass_at_k(n, c, k)
    with pytest.raises(TypeError):
        pass_at_k(3, True, 1)


def test_check_ks():
    assert check_ks([5, 1, 1], 5) == (1, 5)
    with pytest.raises(ValueError, match="pass@5 needs at least 5 samples"):
        check_ks([1, 5], 2)
    with pytest.raises(ValueError, match="integers >= 1"):
        check_ks([0], 2)
