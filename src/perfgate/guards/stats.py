"""Confidence intervals shown beside every verdict, and the minimum sample per statistic.

All intervals are two-sided at ``CONFIDENCE`` (95%); ``z`` = the standard normal
quantile at 1 - (1 - confidence)/2 = 1.95996.

**Rates: the Wilson score interval.** For ``k`` events in ``n`` trials, p = k/n::

    centre = (p + z²/2n) / (1 + z²/n)
    half   = z / (1 + z²/n) x sqrt(p(1-p)/n + z²/4n²)

Unlike the normal interval it never leaves [0, 1] and is not degenerate at k = 0:
0 errors in 1,000 requests gives [0, 0.38%], not [0, 0].

**Percentiles: order-statistic bounds.** The number of samples below the true
q-quantile is Binomial(n, q), so the interval between the order statistics of ranks
``l`` and ``u`` (1-based) covers it with the binomial probability of l <= B < u. We use
the normal approximation of that binomial (mean nq, sd sqrt(nq(1-q)))::

    l = floor(nq - z sqrt(nq(1-q)))      u = ceil(nq + z sqrt(nq(1-q))) + 1

clipped to [1, n]; it is within a rank or so of the exact binomial ranks once nq(1-q)
is above ~10, which the minimum samples below guarantee. Example: n = 1,000, q = 0.99:
sd = 3.15, l = 983, u = 998: the P99 lies between the 983rd and the 998th value.

**Minimum samples** (below it the verdict is INSUFFICIENT, shown, never a failure):

* a q-percentile needs n >= 10/(1-q) (at least 10 samples expected above it):
  P50 20, P90 100, P95 200, P99 1,000 (the memo's rule for P99);
* a rate needs n >= max(100, 1/threshold): one event alone must not exceed the
  threshold (0.1% -> 1,000 requests);
* a mean, min, max or last of telemetry samples needs 3 samples; cost figures need one
  call (10 for an average per call).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

__all__ = [
    "CONFIDENCE",
    "mean_interval",
    "min_samples_for_percentile",
    "min_samples_for_rate",
    "order_statistic_ranks",
    "wilson_interval",
    "z_value",
]

CONFIDENCE = 0.95
MIN_TELEMETRY_SAMPLES = 3
MIN_RATE_SAMPLES = 100


def z_value(confidence: float = CONFIDENCE) -> float:
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def wilson_interval(k: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    if n <= 0:
        raise ValueError("a rate needs n > 0")
    if not 0 <= k <= n:
        raise ValueError(f"k={k} must be within 0..n={n}")
    z = z_value(confidence)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def order_statistic_ranks(n: int, q: float, confidence: float = CONFIDENCE) -> tuple[int, int]:
    """1-based ranks (l, u) whose values bracket the q-quantile (normal approximation)."""
    if n <= 0:
        raise ValueError("a percentile needs n > 0")
    if not 0 < q < 1:
        raise ValueError("q must be within (0, 1)")
    z = z_value(confidence)
    sd = math.sqrt(n * q * (1 - q))
    lower = math.floor(n * q - z * sd)
    upper = math.ceil(n * q + z * sd) + 1
    return max(1, min(n, lower)), max(1, min(n, upper))


def mean_interval(values: Sequence[float], confidence: float = CONFIDENCE
                  ) -> tuple[float, float] | None:
    """mean ± z·s/√n (normal approximation); None below two values."""
    n = len(values)
    if n < 2:
        return None
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    half = z_value(confidence) * math.sqrt(var / n)
    return mean - half, mean + half


def min_samples_for_percentile(q: float) -> int:
    return math.ceil(round(10 / (1 - q), 9))


def min_samples_for_rate(threshold: float) -> int:
    if threshold <= 0:
        return MIN_RATE_SAMPLES
    return max(MIN_RATE_SAMPLES, math.ceil(round(1 / threshold, 9)))
