"""Quantiles from Prometheus histogram buckets, with ``histogram_quantile`` semantics.

A Prometheus histogram exports *cumulative* buckets: ``X_bucket{le="0.1"} 7`` counts
the observations <= 0.1 since the process started, and the ``le="+Inf"`` bucket counts
them all. A windowed histogram is the bucket-by-bucket difference of two scrapes
(``bucket_deltas``), which is what ``rate()``/``increase()`` feed ``histogram_quantile``.

The quantile (``histogram_quantile``), as PromQL computes it (promql/quantile.go):

* buckets sorted by upper bound; the last must be ``+Inf`` (else NaN); fewer than two
  buckets, or zero observations, give NaN; counts are forced monotonic (a bucket below
  its predecessor is raised to it: scrapes are not atomic);
* ``rank = q x N`` with ``N`` the ``+Inf`` count; ``b`` = the first bucket (the
  ``+Inf`` one excluded) whose cumulative count is >= rank;
* if no finite bucket reaches the rank, the answer is the largest finite upper bound
  (PromQL never extrapolates into ``+Inf``);
* otherwise the observations in bucket ``b`` are assumed spread uniformly between its
  lower bound (the previous bucket's ``le``, or 0 for the first bucket) and its upper
  bound, and the answer interpolates linearly::

      lower + (upper - lower) x (rank - count_below) / (count_in_bucket)

  e.g. buckets ``{0.1: 10, 0.2: 20, 0.4: 40, +Inf: 40}`` and q = 0.75: rank 30 falls
  in ``(0.2, 0.4]`` which holds 20 observations, 10 of them below the rank, so the
  answer is 0.2 + 0.2 x 10/20 = 0.3.

  (A first bucket whose upper bound is <= 0 answers its upper bound.) ``q < 0`` gives
  -Inf, ``q > 1`` +Inf.

``count_over(buckets, threshold)`` is the number of observations above ``threshold``,
exact when ``threshold`` is a bucket bound, else counted from the next bound up (a
lower bound on the true count).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping

__all__ = ["Buckets", "bucket_deltas", "count_over", "histogram_quantile", "total"]

#: Cumulative buckets: (upper bound, cumulative count), sorted by bound, ending at +Inf.
Buckets = list[tuple[float, float]]


def normalise(buckets: Iterable[tuple[float, float]] | Mapping[float, float]) -> Buckets:
    """Sorted by bound, duplicate bounds summed, counts forced monotonic."""
    items = buckets.items() if isinstance(buckets, Mapping) else buckets
    merged: dict[float, float] = {}
    for le, count in items:
        merged[le] = merged.get(le, 0.0) + count
    out: Buckets = []
    highest = 0.0
    for le in sorted(merged):
        highest = max(highest, merged[le])
        out.append((le, highest))
    return out


def histogram_quantile(q: float, buckets: Iterable[tuple[float, float]] | Mapping[float, float]
                       ) -> float:
    """PromQL's ``histogram_quantile(q, buckets)``; NaN when it has no answer."""
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    bs = normalise(buckets)
    if len(bs) < 2 or not math.isinf(bs[-1][0]):
        return math.nan
    observations = bs[-1][1]
    if observations == 0:
        return math.nan
    rank = q * observations
    counts = [c for _, c in bs[:-1]]
    b = bisect_left(counts, rank)
    if b == len(bs) - 1:
        return bs[-2][0]
    if b == 0 and bs[0][0] <= 0:
        return bs[0][0]
    lower, below = (bs[b - 1][0], bs[b - 1][1]) if b > 0 else (0.0, 0.0)
    upper, count = bs[b]
    in_bucket = count - below
    if in_bucket <= 0:  # only reachable with rank == below (e.g. q = 0): the bucket's start
        return lower
    return lower + (upper - lower) * ((rank - below) / in_bucket)


def bucket_deltas(newer: Buckets, older: Buckets | None) -> Buckets:
    """``newer - older`` bucket by bucket (what ``increase()`` gives over a window).

    A counter reset (any bucket lower than before, or a changed layout) means the
    process restarted: the newer counts are the whole increase, as in PromQL.
    """
    if older is None:
        return list(newer)
    old = dict(older)
    if set(old) != {le for le, _ in newer} or any(c < old[le] for le, c in newer):
        return list(newer)
    return [(le, c - old[le]) for le, c in newer]


def total(buckets: Buckets) -> float:
    return buckets[-1][1] if buckets else 0.0


def count_over(buckets: Buckets, threshold: float) -> float:
    """Observations above ``threshold`` (see the module docstring for inexact bounds)."""
    for le, count in buckets:
        if le >= threshold:
            return total(buckets) - count
    return 0.0
