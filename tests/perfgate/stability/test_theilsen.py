"""Theil-Sen slope and Sen's interval against series with known answers."""

from __future__ import annotations

import random

import pytest

from perfgate.stability.theilsen import theil_sen


def test_exact_line_gives_exact_slope_and_a_zero_width_interval() -> None:
    est = theil_sen(list(range(10)), [2.0 * x + 5 for x in range(10)])
    assert est is not None
    assert (est.slope, est.low, est.high, est.intercept) == (2.0, 2.0, 2.0, 5.0)


def test_outliers_do_not_move_the_estimate() -> None:
    xs = list(range(50))
    ys = [3.0 * x for x in xs]
    for i in (5, 17, 33, 41):
        ys[i] += 10_000  # wild points: least squares would be pulled far off
    est = theil_sen(xs, ys)
    assert est is not None and est.slope == pytest.approx(3.0)


def test_interval_covers_the_true_slope_about_95_percent_of_the_time() -> None:
    rng = random.Random(7)
    covered, trials = 0, 200
    for _ in range(trials):
        xs = [float(i) for i in range(30)]
        ys = [0.5 * x + rng.gauss(0, 3) for x in xs]
        est = theil_sen(xs, ys)
        assert est is not None and est.low <= est.slope <= est.high
        covered += est.low <= 0.5 <= est.high
    assert 0.90 <= covered / trials <= 0.995


def test_sen_ranks_for_n_10() -> None:
    # n = 10: N = 45, C = 1.96 * sqrt(10*9*25/18) = 21.9 -> ranks 11 and 35
    xs = list(range(10))
    ys = [x * x for x in xs]  # distinct slopes (i + j for x_i < x_j)
    slopes = sorted(float(i + j) for i in range(10) for j in range(i + 1, 10))
    est = theil_sen(xs, ys)
    assert est is not None
    assert (est.low, est.high) == (slopes[10], slopes[34])


def test_too_few_points_or_no_spread_in_x() -> None:
    assert theil_sen([1, 2], [1, 2]) is None
    assert theil_sen([1, 1, 1], [1, 2, 3]) is None
    with pytest.raises(ValueError):
        theil_sen([1, 2, 3], [1, 2])


def test_long_series_are_thinned_but_keep_the_slope() -> None:
    xs = [i * 0.5 for i in range(3000)]
    est = theil_sen(xs, [1.5 * x + (i % 7) for i, x in enumerate(xs)], max_points=200)
    assert est is not None and est.n <= 200 and est.slope == pytest.approx(1.5, rel=0.01)
