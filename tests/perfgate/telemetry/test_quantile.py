"""histogram_quantile against hand-computed answers (PromQL's bucketQuantile rules)."""

from __future__ import annotations

import math

import pytest

from perfgate.telemetry.quantile import bucket_deltas, count_over, histogram_quantile

INF = math.inf
# 10 observations <= 0.1, 10 in (0.1, 0.2], 20 in (0.2, 0.4], none above
BUCKETS = [(0.1, 10.0), (0.2, 20.0), (0.4, 40.0), (INF, 40.0)]


@pytest.mark.parametrize(("q", "expected"), [
    (0.25, 0.1),    # rank 10: the top of the first bucket
    (0.5, 0.2),     # rank 20: the top of the second
    (0.75, 0.3),    # rank 30: halfway through (0.2, 0.4]
    (0.125, 0.05),  # rank 5: halfway through (0, 0.1]
    (0.95, 0.38),   # rank 38: 0.2 + 0.2 x 18/20
    (1.0, 0.4),
])
def test_interpolates_within_the_bucket(q: float, expected: float) -> None:
    assert histogram_quantile(q, BUCKETS) == pytest.approx(expected)


def test_rank_in_the_inf_bucket_answers_the_largest_finite_bound() -> None:
    buckets = [(0.1, 1.0), (0.5, 2.0), (INF, 100.0)]
    assert histogram_quantile(0.99, buckets) == 0.5
    assert histogram_quantile(0.01, buckets) == pytest.approx(0.1)


def test_edge_cases() -> None:
    assert math.isnan(histogram_quantile(0.5, [(0.1, 0.0), (INF, 0.0)]))  # no observations
    assert math.isnan(histogram_quantile(0.5, [(0.1, 3.0), (0.2, 4.0)]))  # no +Inf bucket
    assert math.isnan(histogram_quantile(0.5, [(INF, 3.0)]))  # fewer than two buckets
    assert histogram_quantile(-0.1, BUCKETS) == -INF
    assert histogram_quantile(1.5, BUCKETS) == INF
    assert histogram_quantile(0.5, [(-1.0, 5.0), (0.0, 5.0), (INF, 10.0)]) == -1.0
    assert histogram_quantile(0.0, BUCKETS) == 0.0


def test_unsorted_and_non_monotonic_buckets_are_fixed_first() -> None:
    scrambled = [(0.4, 40.0), (INF, 40.0), (0.1, 10.0), (0.2, 9.0)]  # 0.2 below 0.1: raised
    assert histogram_quantile(0.25, scrambled) == pytest.approx(0.1)
    assert histogram_quantile(0.75, dict(BUCKETS)) == pytest.approx(0.3)


def test_windowed_quantile_from_bucket_deltas() -> None:
    before = [(0.1, 100.0), (0.2, 100.0), (0.4, 100.0), (INF, 100.0)]
    after = [(0.1, 100.0), (0.2, 110.0), (0.4, 120.0), (INF, 120.0)]
    window = bucket_deltas(after, before)
    assert window == [(0.1, 0.0), (0.2, 10.0), (0.4, 20.0), (INF, 20.0)]
    # all 20 new observations are slow: the cumulative P50 would hide them
    assert histogram_quantile(0.5, window) == pytest.approx(0.2)
    assert histogram_quantile(0.5, after) == pytest.approx(0.06)


def test_a_counter_reset_takes_the_new_counts_whole() -> None:
    before = [(0.1, 100.0), (INF, 150.0)]
    after = [(0.1, 3.0), (INF, 4.0)]
    assert bucket_deltas(after, before) == after
    assert bucket_deltas(after, None) == after


def test_count_over_a_bound() -> None:
    assert count_over(BUCKETS, 0.2) == 20.0  # exact at a bucket bound
    assert count_over(BUCKETS, 0.15) == 20.0  # from the next bound up: a lower bound
    assert count_over(BUCKETS, 0.4) == 0.0
    assert count_over([], 0.1) == 0.0
