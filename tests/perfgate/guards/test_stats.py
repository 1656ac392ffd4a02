"""Wilson intervals and order-statistic bounds, against exact computations."""

from __future__ import annotations

import math

import pytest

from perfgate.guards.stats import (
    mean_interval,
    min_samples_for_percentile,
    min_samples_for_rate,
    order_statistic_ranks,
    wilson_interval,
)


@pytest.mark.parametrize(("k", "n", "lo", "hi"), [
    (0, 1000, 0.0, 0.003827),     # no errors is not "exactly 0%"
    (10, 100, 0.055229, 0.174366),
    (50, 100, 0.403832, 0.596168),
    (100, 100, 0.963005, 1.0),
])
def test_wilson_known_values(k: int, n: int, lo: float, hi: float) -> None:
    got = wilson_interval(k, n)
    assert got == (pytest.approx(lo, abs=1e-5), pytest.approx(hi, abs=1e-5))


def test_wilson_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        wilson_interval(1, 0)
    with pytest.raises(ValueError):
        wilson_interval(5, 3)


def _binom_cdf(k: int, n: int, p: float) -> float:
    """P(B <= k), exact in log space."""
    if k < 0:
        return 0.0
    total = 0.0
    for i in range(0, min(k, n) + 1):
        log = (math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)
               + i * math.log(p) + (n - i) * math.log1p(-p))
        total += math.exp(log)
    return min(1.0, total)


@pytest.mark.parametrize(("n", "q"), [(20, 0.5), (100, 0.9), (200, 0.95), (1000, 0.99),
                                      (5000, 0.99), (400, 0.5)])
def test_order_statistic_bounds_cover_the_quantile(n: int, q: float) -> None:
    lo, hi = order_statistic_ranks(n, q)
    assert 1 <= lo <= q * n <= hi <= n
    # [X(lo), X(hi)] covers the q-quantile when lo <= B < hi, B ~ Binomial(n, q)
    coverage = _binom_cdf(hi - 1, n, q) - _binom_cdf(lo - 1, n, q)
    assert coverage >= 0.94, coverage


def test_the_p99_example_of_the_docstring() -> None:
    assert order_statistic_ranks(1000, 0.99) == (983, 998)


def test_minimum_samples() -> None:
    assert [min_samples_for_percentile(q) for q in (0.5, 0.9, 0.95, 0.99)] == [20, 100, 200, 1000]
    assert min_samples_for_rate(0.001) == 1000
    assert min_samples_for_rate(0.05) == 100


def test_mean_interval() -> None:
    assert mean_interval([1.0]) is None
    lo, hi = mean_interval([1.0, 2.0, 3.0])  # type: ignore[misc]
    assert lo < 2.0 < hi and hi - 2.0 == pytest.approx(1.959964 / math.sqrt(3))
