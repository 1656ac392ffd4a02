"""Golden numbers for the latency-vs-load fit (worked by hand in the comments)."""

import math

import pytest

from perfgate.report.fit import fit_latency


def test_points_on_the_curve_are_recovered_exactly() -> None:
    # P95 = 25 x 2^(rps/20): ln P95 = ln 25 + (ln 2 / 20) rps; 400 ms at 80 RPS
    fit = fit_latency([(20, 50.0), (40, 100.0), (60, 200.0)], slo_ms=400.0)
    assert fit is not None
    assert fit.b == pytest.approx(math.log(2) / 20)
    assert fit.rps_at_slo == pytest.approx(80.0)
    assert fit.se == pytest.approx(0.0, abs=1e-6)
    assert fit.extrapolated
    assert fit.p95_at(40) == pytest.approx(100.0)


def test_residuals_give_the_delta_method_interval() -> None:
    # ln y = 1, 2.2, 2.9 at x = 10, 20, 30: b = 19/200 = 0.095, a = 2.0333 - 1.9 = 0.1333,
    # SSR = 0.041667 (1 df); Var(b) = 2.0833e-4, Var(a) = 0.097222, Cov = -0.0041667.
    # SLO e^4: lambda* = (4 - 0.13333) / 0.095 = 40.702; se = sqrt(0.097222 +
    # 40.702^2 x 2.0833e-4 - 2 x 40.702 x 0.0041667) / 0.095 = 3.3812; t(0.975, 1) = 12.706
    fit = fit_latency([(10, math.e), (20, math.exp(2.2)), (30, math.exp(2.9))],
                      slo_ms=math.exp(4))
    assert fit is not None
    assert fit.b == pytest.approx(0.095)
    assert fit.a == pytest.approx(0.133333, rel=1e-5)
    assert fit.rps_at_slo == pytest.approx(40.7018, rel=1e-4)
    assert fit.se == pytest.approx(3.3812, rel=1e-3)
    assert fit.low == pytest.approx(40.7018 - 12.706 * 3.3812, rel=1e-3)
    assert fit.high == pytest.approx(40.7018 + 12.706 * 3.3812, rel=1e-3)


def test_flat_latency_has_no_knee_and_too_few_points_no_fit() -> None:
    flat = fit_latency([(20, 100.0), (40, 99.0), (60, 98.0)], slo_ms=120.0)
    assert flat is not None and flat.rps_at_slo is None and "no knee" in flat.note
    assert fit_latency([(20, 50.0), (40, 100.0)], slo_ms=400.0) is None
    assert fit_latency([(20, 50.0), (20, 60.0), (20, 70.0)], slo_ms=400.0) is None
