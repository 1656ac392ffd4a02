"""Golden capacity numbers: safe RPS, DAU headroom, cost curve and margin arithmetic."""

from decimal import Decimal

import pytest

from perfgate.report.capacity import PlateauPoint, capacity_call
from perfgate.report.spec import CapacitySpec

SPEC = CapacitySpec(current_dau=10_000, requests_per_dau_per_day=25, peak_hour_share=0.10,
                    growth_dau={6: 16_000, 12: 30_000}, revenue_per_1k_requests_usd=Decimal(35),
                    revenue_per_ai_call_usd=Decimal("0.0008"))


def point(pid: str, rps: float, verdict: str | None = "PASS", *, valid: bool = True,
          p95: float = 50.0) -> PlateauPoint:
    # 1,000 requests, 250 AI calls at $0.0002 each, billed 4x
    return PlateauPoint(pid, rps, rps, valid, verdict, {"core": p95}, 1000, 250,
                        Decimal("0.05"), Decimal("0.2"))


def test_safe_rps_is_the_last_green_plateau() -> None:
    pts = [point("p1", 21), point("p2", 31), point("p3", 41, "FAIL"), point("p4", 52)]
    cap = capacity_call(pts, {}, None, None)
    assert (cap.safe_rps, cap.safe_plateau) == (31, "p2")
    assert "p3 is red" in cap.safe_note
    invalid = capacity_call([point("p1", 21), point("p2", 31, valid=False)], {}, None, None)
    assert invalid.safe_rps == 21 and "not driven validly" in invalid.safe_note
    unjudged = capacity_call([point("p1", 21, None)], {}, None, None)
    assert unjudged.safe_rps is None and "not judged" in unjudged.safe_note


def test_dau_headroom() -> None:
    cap = capacity_call([point("p1", 31), point("p2", 62)], {}, SPEC, Decimal("0.5"))
    # one DAU: 25 x 0.10 / 3600 RPS at peak; 62 RPS carries 62 x 3600 / 2.5 = 89,280 DAU
    assert cap.dau_at_safe == pytest.approx(89_280)
    by = {h.label: h for h in cap.headroom}
    assert by["12 months"].peak_rps == pytest.approx(30_000 * 2.5 / 3600)  # 20.833
    assert by["12 months"].headroom_x == pytest.approx(62 / (30_000 * 2.5 / 3600))  # 2.976
    assert by["today"].headroom_x == pytest.approx(62 / (10_000 * 2.5 / 3600))


def test_cost_curve_point() -> None:
    cap = capacity_call([point("p1", 50)], {}, SPEC, Decimal("0.5"))
    c = cap.cost_curve[0]
    assert c.ai_per_1k == Decimal("0.05")  # $0.05 over 1,000 requests
    assert c.infra_per_1k == pytest.approx(Decimal("0.5") / Decimal(180))  # 3.6 x 50
    assert c.revenue_per_1k == Decimal("35.2")  # 35 + 0.25 x 1000 x 0.0008
    assert float(c.margin) == pytest.approx((35.2 - 0.05 - 0.5 / 180) / 35.2)
    # AI business alone: (0.2 billed - 0.05 cost - 0.5/180 infra per 1k x 1) / 0.2
    assert float(c.ai_margin) == pytest.approx((0.2 - 0.05 - 0.5 / 180) / 0.2)


def test_margin_projection_arithmetic() -> None:
    cap = capacity_call([point("p1", 31), point("p2", 62)], {}, SPEC, Decimal("0.5"))
    assert cap.ai_share == 0.25 and cap.usd_per_ai_call == Decimal("0.0002")
    m12 = next(p for p in cap.projections if p.months == 12)
    assert m12.requests == Decimal(30_000) * 25 * Decimal(365) / 12  # 22,812,500
    assert m12.ai_calls == m12.requests * Decimal("0.25")  # 5,703,125
    assert m12.ai_cogs == pytest.approx(Decimal("1140.625"))
    assert m12.instances == 1 and m12.infra_cogs == Decimal("365.0")  # 0.5 x 730
    assert m12.revenue == pytest.approx(Decimal("803000"))  # 22,812.5 x 35 + 4,562.5
    assert float(m12.margin) == pytest.approx((803_000 - 1_140.625 - 365) / 803_000)
    assert m12.arr == pytest.approx(Decimal("9636000"))
    # plan: a line from today's ARR (10k DAU: $3,212,000) to $10M at month 12
    assert m12.plan_arr == pytest.approx(Decimal("10000000"))
    m6 = next(p for p in cap.projections if p.months == 6)
    assert m6.plan_arr == pytest.approx(Decimal("3212000") + Decimal("6788000") / 2)


def test_instances_scale_with_peak_over_safe() -> None:
    spec = SPEC.model_copy(update={"growth_dau": {12: 300_000}})  # 208 RPS at peak
    cap = capacity_call([point("p1", 62)], {}, spec, Decimal("0.5"))
    assert cap.projections[0].instances == 4  # ceil(208.3 / 62)
    assert cap.projections[0].infra_cogs == Decimal("0.5") * 4 * 730


def test_fit_per_family_and_binding_estimate() -> None:
    pts = [point(f"p{i}", rps, p95=25 * 2 ** (rps / 20)) for i, rps in
           enumerate((20, 40, 60), 1)]
    cap = capacity_call(pts, {"core": 400.0}, None, None)
    assert cap.estimate_family == "core"
    assert cap.estimate is not None and cap.estimate.rps_at_slo == pytest.approx(80)
    assert "no `capacity` section" in cap.notes[0]
