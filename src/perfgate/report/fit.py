"""Where does P95 meet the SLO? An exponential fit of latency against load, with its error.

Model: ``ln P95(λ) = a + b·λ`` (latency grows geometrically as load approaches a
bottleneck; a straight line in log space), fitted by ordinary least squares on the
analysed plateaus' points (achieved RPS, P95 in ms). The load where P95 reaches the SLO
``S`` is ``λ* = (ln S - a) / b`` (defined when ``b > 0``).

Uncertainty (delta method): with the residual variance ``s² = SSR / (n - 2)``,
``Var(a)``, ``Var(b)`` and ``Cov(a, b)`` from ``s²·(XᵀX)⁻¹``,
``se(λ*) = sqrt(Var(a) + λ*²·Var(b) + 2·λ*·Cov(a, b)) / b``, and the 95% interval is
``λ* ± t(0.975, n - 2)·se``. Three points is the minimum (one degree of freedom: a wide
interval, honestly). Worked example: points (20, 50), (40, 100), (60, 200) lie exactly on
``P95 = 25·2^(λ/20)``, so ``b = ln 2 / 20``, residuals are 0 and for ``S = 400 ms``
``λ* = 80`` RPS with ``se = 0``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["T975", "LoadFit", "fit_latency"]

#: Student's t, 0.975 quantile, by degrees of freedom (1..30); beyond: the normal's 1.96.
T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201,
        2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074,
        2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t975(df: int) -> float:
    return T975[df - 1] if 1 <= df <= len(T975) else 1.96


@dataclass(frozen=True)
class LoadFit:
    n: int
    a: float
    b: float
    slo_ms: float
    rps_at_slo: float | None  # None: P95 does not grow with load in the tested range
    se: float | None
    low: float | None
    high: float | None
    r2: float | None
    max_tested_rps: float
    note: str

    def p95_at(self, rps: float) -> float:
        return math.exp(self.a + self.b * rps)

    @property
    def extrapolated(self) -> bool:
        return self.rps_at_slo is not None and self.rps_at_slo > self.max_tested_rps


def fit_latency(points: Sequence[tuple[float, float]], slo_ms: float) -> LoadFit | None:
    """``points``: (achieved RPS, P95 ms) per plateau; None with fewer than 3 usable."""
    pts = [(x, math.log(y)) for x, y in points if x > 0 and y > 0]
    n = len(pts)
    if n < 3 or len({x for x, _ in pts}) < 2:
        return None
    mx = sum(x for x, _ in pts) / n
    my = sum(y for _, y in pts) / n
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    sxy = sum((x - mx) * (y - my) for x, y in pts)
    b = sxy / sxx
    a = my - b * mx
    ssr = sum((y - a - b * x) ** 2 for x, y in pts)
    sst = sum((y - my) ** 2 for _, y in pts)
    s2 = ssr / (n - 2)
    var_b = s2 / sxx
    var_a = s2 * (1 / n + mx * mx / sxx)
    cov = -mx * s2 / sxx
    top = max(x for x, _ in pts)
    r2 = 1 - ssr / sst if sst > 0 else None
    if b <= 0:
        return LoadFit(n, a, b, slo_ms, None, None, None, None, r2, top,
                       "P95 does not grow with load over the tested range: no knee in sight")
    lam = (math.log(slo_ms) - a) / b
    se = math.sqrt(max(0.0, var_a + lam * lam * var_b + 2 * lam * cov)) / b
    half = t975(n - 2) * se
    note = f"exponential fit on {n} plateaus"
    if lam > top:
        note += f"; extrapolated beyond the highest tested load ({top:.1f} RPS)"
    return LoadFit(n, a, b, slo_ms, lam, se, lam - half, lam + half, r2, top, note)
