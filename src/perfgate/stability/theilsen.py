"""Theil-Sen slope with Sen's confidence interval (no scipy needed).

Given points ``(x_i, y_i)``, ``i = 1..n``, every pair with ``x_i != x_j`` gives a slope
``S_ij = (y_j - y_i) / (x_j - x_i)``; with ``N`` such slopes sorted ascending:

* the **estimate** is their median (robust: up to ~29% of the points can be wild
  without moving it), the intercept the median of ``y_i - slope * x_i``;
* the **confidence interval** (Sen 1968; Gilbert 1987, sec. 16.5) comes from the
  distribution of Kendall's S under no trend, approximated by a normal with
  ``Var(S) = n(n-1)(2n+5)/18``. With ``C = z_{1-a/2} * sqrt(Var(S))`` the bounds are the
  order statistics of the sorted slopes at 1-based ranks::

      M1 = (N - C) / 2          lower bound = M1-th smallest slope
      M2 = (N + C) / 2          upper bound = (M2 + 1)-th smallest slope

  rounded outwards (``floor(M1)``, ``ceil(M2) + 1``) and clamped to ``1..N``, so the
  interval is never narrower than the formula's.

Worked example: ``y = 2x`` for ``x = 0..9`` (n = 10, N = 45 slopes all equal to 2):
the estimate and both bounds are 2. With noise the bounds spread around the estimate;
for n = 10 at 95%, ``C = 1.96 * sqrt(10*9*25/18) = 21.9``, so the bounds are the 11th
and 35th smallest of the 45 slopes.

Cost is O(n^2) pairs; ``theil_sen`` thins longer series to ``max_points`` evenly spaced
points first (a 17-minute plateau scraped every second has ~1,000 points: ~500k pairs,
thinned to 400 points: ~80k pairs), which keeps the estimate unbiased and only widens
the interval a little.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

__all__ = ["SlopeEstimate", "theil_sen"]


@dataclass(frozen=True)
class SlopeEstimate:
    slope: float
    low: float
    high: float
    intercept: float
    n: int  # points used (after thinning)
    confidence: float


def _median(sorted_values: Sequence[float]) -> float:
    n = len(sorted_values)
    mid = n // 2
    if n % 2:
        return sorted_values[mid]
    return (sorted_values[mid - 1] + sorted_values[mid]) / 2


def _thin(xs: Sequence[float], ys: Sequence[float], max_points: int
          ) -> tuple[list[float], list[float]]:
    n = len(xs)
    if n <= max_points:
        return list(xs), list(ys)
    idx = sorted({round(i * (n - 1) / (max_points - 1)) for i in range(max_points)})
    return [xs[i] for i in idx], [ys[i] for i in idx]


def theil_sen(xs: Sequence[float], ys: Sequence[float], *, confidence: float = 0.95,
              max_points: int = 400) -> SlopeEstimate | None:
    """The Theil-Sen slope of ``ys`` over ``xs`` with a two-sided ``confidence`` interval;
    None with fewer than 3 points or no two distinct ``x``."""
    if len(xs) != len(ys):
        raise ValueError("xs and ys differ in length")
    if not 0 < confidence < 1:
        raise ValueError("confidence is a fraction, e.g. 0.95")
    px, py = _thin(xs, ys, max(3, max_points))
    n = len(px)
    if n < 3:
        return None
    slopes = sorted((py[j] - py[i]) / (px[j] - px[i])
                    for i in range(n) for j in range(i + 1, n) if px[j] != px[i])
    total = len(slopes)
    if total == 0:
        return None
    slope = _median(slopes)
    intercept = _median(sorted(y - slope * x for x, y in zip(px, py, strict=True)))
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    c = z * math.sqrt(n * (n - 1) * (2 * n + 5) / 18)
    lower_rank = max(1, math.floor((total - c) / 2))
    upper_rank = min(total, math.ceil((total + c) / 2) + 1)
    return SlopeEstimate(slope, slopes[lower_rank - 1], slopes[upper_rank - 1], intercept, n,
                         confidence)
