"""The capacity call: safe RPS, DAU headroom, cost curves and margin projections (pure).

**Safe RPS** is the target rate of the last green plateau: walking up from p1, every
plateau so far was driven validly and judged without a FAIL (ramp discipline). The fit
(:mod:`perfgate.report.fit`) adds an estimate of where each family's P95 meets its SLO;
the lowest family's estimate is the one that binds.

**DAU headroom.** A DAU makes ``R`` requests a day, ``h`` of them in the peak hour, so
``peak RPS = DAU x R x h / 3600`` and the safe RPS carries ``DAU = safe x 3600 / (R x h)``.
Headroom at a horizon is ``safe RPS / peak RPS`` there (3.0 = three times the load).

**Cost curve** (per plateau, at its achieved RPS ``λ``): AI $/1k requests = provider cost
/ requests x 1000; infra $/1k = infra $/h / (3.6 λ) (an hour at ``λ`` is 3,600 λ
requests); revenue $/1k = revenue per 1k requests + AI share x 1000 x revenue per AI call;
gross margin = (revenue - COGS) / revenue; AI margin = (billed - provider cost - infra)
/ billed, the AI business alone (the guards' ``gross_margin`` criterion).

**Projections** (month ``m``, DAU ``D``): requests = D x R x 365/12; AI calls = requests
x observed AI share; AI COGS = AI calls x observed provider $/AI call; instances =
ceil(peak RPS / safe RPS); infra = instances x infra $/h x 730; revenue = requests / 1000
x revenue per 1k + AI calls x revenue per AI call; margin = (revenue - COGS) / revenue;
ARR = 12 x monthly revenue, against the plan's ARR at its month (a straight line from
today's ARR). Money is ``Decimal`` throughout.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from perfgate.report.fit import LoadFit, fit_latency
from perfgate.report.spec import CapacitySpec

__all__ = ["Capacity", "CostPoint", "Headroom", "PlateauPoint", "Projection",
           "capacity_call"]

DAYS_PER_MONTH = Decimal(365) / Decimal(12)
HOURS_PER_MONTH = Decimal(730)


@dataclass(frozen=True)
class PlateauPoint:
    id: str
    target_rps: float
    achieved_rps: float | None
    valid: bool
    verdict: str | None  # PASS / FAIL / INSUFFICIENT / None (not judged)
    p95_ms: Mapping[str, float | None]
    requests: int
    ai_calls: int
    provider_cost: Decimal
    billed: Decimal


@dataclass(frozen=True)
class Headroom:
    label: str
    dau: float
    peak_rps: float
    headroom_x: float | None


@dataclass(frozen=True)
class CostPoint:
    plateau: str
    rps: float
    ai_per_1k: Decimal | None
    infra_per_1k: Decimal | None
    cogs_per_1k: Decimal | None
    revenue_per_1k: Decimal | None
    margin: Decimal | None
    ai_margin: Decimal | None  # (billed - AI COGS - infra) / billed: the AI business alone


@dataclass(frozen=True)
class Projection:
    months: int
    dau: float
    peak_rps: float
    requests: Decimal
    ai_calls: Decimal
    ai_cogs: Decimal
    instances: int | None
    infra_cogs: Decimal | None
    revenue: Decimal
    margin: Decimal | None
    arr: Decimal
    plan_arr: Decimal | None


@dataclass
class Capacity:
    safe_rps: float | None
    safe_plateau: str | None
    safe_note: str
    fits: dict[str, LoadFit] = field(default_factory=dict)
    estimate_family: str | None = None
    ai_share: float | None = None
    usd_per_ai_call: Decimal | None = None
    revenue_per_ai_call: Decimal | None = None
    dau_at_safe: float | None = None
    headroom: list[Headroom] = field(default_factory=list)
    cost_curve: list[CostPoint] = field(default_factory=list)
    projections: list[Projection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def estimate(self) -> LoadFit | None:
        return self.fits.get(self.estimate_family) if self.estimate_family else None


def _safe(points: Sequence[PlateauPoint]) -> tuple[float | None, str | None, str]:
    safe: PlateauPoint | None = None
    for p in points:
        if not p.valid:
            return (safe.target_rps if safe else None, safe.id if safe else None,
                    f"{p.id} was not driven validly (the generator fell short)")
        if p.verdict is None:
            return None, None, "criteria were not judged: no green plateau to call"
        if p.verdict == "FAIL":
            return (safe.target_rps if safe else None, safe.id if safe else None,
                    f"{p.id} is red")
        safe = p
    if safe is None:
        return None, None, "no analysed plateau"
    return safe.target_rps, safe.id, "every analysed plateau was green"


def _dec(x: float) -> Decimal:
    return Decimal(repr(float(x)))


def capacity_call(points: Sequence[PlateauPoint], slo_p95_ms: Mapping[str, float],
                  spec: CapacitySpec | None, infra_usd_per_hour: Decimal | None
                  ) -> Capacity:
    safe, safe_id, why = _safe(points)
    cap = Capacity(safe, safe_id, why)
    for fam, slo in sorted(slo_p95_ms.items()):
        pts = [(p.achieved_rps, p.p95_ms.get(fam)) for p in points if p.valid]
        fit = fit_latency([(x, y) for x, y in pts if x is not None and y is not None], slo)
        if fit is not None:
            cap.fits[fam] = fit
    bounded = {f: fit for f, fit in cap.fits.items() if fit.rps_at_slo is not None}
    if bounded:
        cap.estimate_family = min(bounded, key=lambda f: bounded[f].rps_at_slo or math.inf)
    requests = sum(p.requests for p in points)
    calls = sum(p.ai_calls for p in points)
    cap.ai_share = calls / requests if requests else None
    cost = sum((p.provider_cost for p in points), Decimal(0))
    billed = sum((p.billed for p in points), Decimal(0))
    cap.usd_per_ai_call = cost / calls if calls else None
    if spec is None:
        cap.notes.append("no `capacity` section in the plan: DAU headroom and projections "
                         "not computed")
        return cap
    infra = spec.infra_usd_per_hour if spec.infra_usd_per_hour is not None \
        else infra_usd_per_hour
    rev_ai = (billed / calls if calls else None) if spec.revenue_per_ai_call_usd == "billed" \
        else Decimal(spec.revenue_per_ai_call_usd)
    cap.revenue_per_ai_call = rev_ai
    per_dau_rps = spec.requests_per_dau_per_day * spec.peak_hour_share / 3600
    if safe is not None:
        cap.dau_at_safe = safe / per_dau_rps
    horizons = ([("today", spec.current_dau)] if spec.current_dau else []) + \
        [(f"{m} months", d) for m, d in sorted(spec.growth_dau.items())]
    for label, dau in horizons:
        peak = dau * per_dau_rps
        cap.headroom.append(Headroom(label, dau, peak, safe / peak if safe else None))
    for p in points:
        cap.cost_curve.append(_cost_point(p, spec, infra, rev_ai))
    cap.projections = _projections(spec, cap, infra, rev_ai, per_dau_rps)
    return cap


def _cost_point(p: PlateauPoint, spec: CapacitySpec, infra: Decimal | None,
                rev_ai: Decimal | None) -> CostPoint:
    rps = p.achieved_rps or p.target_rps
    ai = p.provider_cost / p.requests * 1000 if p.requests else None
    infra_1k = infra / (_dec(rps) * Decimal("3.6")) if infra is not None and rps else None
    cogs = ai + infra_1k if ai is not None and infra_1k is not None else ai
    share = Decimal(p.ai_calls) / Decimal(p.requests) if p.requests else None
    revenue = spec.revenue_per_1k_requests_usd + share * 1000 * rev_ai \
        if share is not None and rev_ai is not None else None
    margin = (revenue - cogs) / revenue if revenue and cogs is not None else None
    ai_margin = None
    if p.billed > 0 and ai is not None:
        infra_cost = (infra_1k or Decimal(0)) * p.requests / 1000
        ai_margin = (p.billed - p.provider_cost - infra_cost) / p.billed
    return CostPoint(p.id, rps, ai, infra_1k, cogs, revenue, margin, ai_margin)


def _projections(spec: CapacitySpec, cap: Capacity, infra: Decimal | None,
                 rev_ai: Decimal | None, per_dau_rps: float) -> list[Projection]:
    if cap.ai_share is None or cap.usd_per_ai_call is None:
        cap.notes.append("no AI calls in the ledger: projections not computed")
        return []
    share = _dec(cap.ai_share)
    base_arr: Decimal | None = None
    out = []
    months = sorted(spec.growth_dau.items())
    if spec.current_dau:
        months = [(0, spec.current_dau), *months]
    for m, dau in months:
        requests = _dec(dau) * _dec(spec.requests_per_dau_per_day) * DAYS_PER_MONTH
        calls = requests * share
        ai_cogs = calls * cap.usd_per_ai_call
        peak = dau * per_dau_rps
        instances = max(1, math.ceil(peak / cap.safe_rps)) if cap.safe_rps else None
        infra_cogs = infra * instances * HOURS_PER_MONTH \
            if infra is not None and instances is not None else None
        revenue = requests / 1000 * spec.revenue_per_1k_requests_usd + calls * (rev_ai or 0)
        cogs = ai_cogs + (infra_cogs or 0)
        margin = (revenue - cogs) / revenue if revenue else None
        arr = revenue * 12
        if m == 0:
            base_arr = arr
            continue
        plan = None
        if base_arr is not None:
            plan = base_arr + (spec.arr_plan_usd - base_arr) * Decimal(m) / spec.arr_plan_month
        elif m == spec.arr_plan_month:
            plan = spec.arr_plan_usd
        out.append(Projection(m, dau, peak, requests, calls, ai_cogs, instances, infra_cogs,
                              revenue, margin, arr, plan))
    return out
