"""Criteria judged on a plateau's merged data: PASS, FAIL, INSUFFICIENT, with intervals."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from perfgate.guards.budget import PlateauCost
from perfgate.guards.criteria import PlateauFacts, judge, plateau_verdict
from perfgate.guards.spec import CriterionSpec
from perfgate.metrics.outcome import Outcome
from perfgate.metrics.window import Cell
from perfgate.telemetry.series import SignalStore


def cell(latencies_ms: list[float], errors: int = 0, timeouts: int = 0) -> Cell:
    c = Cell()
    for ms in latencies_ms:
        c.record(Outcome.OK, int(ms * 1000), int(ms * 1000))
    for _ in range(errors):
        c.record(Outcome.HTTP_5XX, 1000, 1000)
    for _ in range(timeouts):
        c.record(Outcome.TIMEOUT, 2_000_000, 2_000_000)
    return c


def facts(cells: dict[str | None, Cell], **kw: object) -> PlateauFacts:
    return PlateauFacts("p1", 0.0, 60.0, cells, **kw)  # type: ignore[arg-type]


def crit(**kw: object) -> CriterionSpec:
    return CriterionSpec.model_validate({"name": "c", "op": "<=", **kw})


def test_p95_pass_fail_and_insufficient() -> None:
    fast = cell([10.0 + i % 50 for i in range(1000)])  # 10..59 ms
    slow = cell([100.0 + i % 200 for i in range(1000)])  # 100..299 ms
    spec = crit(family="core", metric="p95", threshold="120ms")
    ok = judge(spec, facts({"core": fast}))
    assert ok.verdict == "PASS" and ok.value == pytest.approx(0.0575, abs=1e-3)
    assert ok.ci is not None and ok.ci[0] <= ok.value <= ok.ci[1]
    red = judge(spec, facts({"core": slow}))
    assert red.verdict == "FAIL" and red.confident
    few = judge(spec, facts({"core": cell([500.0] * 199)}))  # P95 needs 200
    assert few.verdict == "INSUFFICIENT" and few.min_samples == 200
    assert "needs 200 samples, has 199" in few.sentence()
    assert judge(crit(family="core", metric="p99", threshold="250ms"),
                 facts({"core": fast})).verdict == "PASS"


def test_error_rate_with_wilson_interval_and_401_excluded() -> None:
    c = cell([5.0] * 1990, errors=10)
    for _ in range(500):
        c.record(Outcome.EXCLUDED, 1000, 1000)  # 401s: neither errors nor requests
    r = judge(crit(family="core", metric="error_rate", threshold="1%"), facts({"core": c}))
    assert r.verdict == "PASS" and r.value == pytest.approx(0.005) and r.n == 2000
    assert r.ci == (pytest.approx(0.00272, abs=1e-4), pytest.approx(0.00918, abs=1e-4))
    strict = judge(crit(family="core", metric="error_rate", threshold="0.1%"), facts({"core": c}))
    assert strict.verdict == "FAIL"
    assert judge(crit(metric="timeout_rate", threshold="0.2%"),
                 facts({None: cell([1.0] * 99, timeouts=1)})).verdict == "INSUFFICIENT"


def test_telemetry_stats_and_merged_histogram_buckets() -> None:
    store = SignalStore()
    for t, v in enumerate([50.0, 60.0, 90.0, 55.0]):
        store.add(float(t * 10 + 1), "cpu_percent", v)
    store.add(100.0, "cpu_percent", 99.0)  # after the plateau: not counted
    inf = math.inf
    store.add_buckets(0.5, "db_query_seconds", [(0.01, 0.0), (0.05, 0.0), (inf, 0.0)])
    store.add_buckets(59.0, "db_query_seconds", [(0.01, 900.0), (0.05, 990.0), (inf, 1000.0)])
    f = facts({}, signals=store, histogram_signals=frozenset({"db_query_seconds"}))
    mean = judge(crit(signal="cpu_percent", stat="mean", threshold="70%"), f)
    assert mean.verdict == "PASS" and mean.value == pytest.approx(63.75) and mean.n == 4
    assert judge(crit(signal="cpu_percent", stat="max", threshold="70%"), f).verdict == "FAIL"
    db = judge(crit(signal="db_query_seconds", stat="p95", threshold="50ms"), f)
    # rank 950 of 1000 in (0.01, 0.05] holding 90: 0.01 + 0.04 x 50/90
    assert db.verdict == "PASS" and db.value == pytest.approx(0.01 + 0.04 * 50 / 90)
    assert "merged histogram" in db.note
    gap = judge(crit(signal="queue_oldest_age_seconds", stat="max", op="<", threshold="60s"), f)
    assert gap.verdict == "INSUFFICIENT"


def test_cost_criteria() -> None:
    c = PlateauCost(ai_calls=20, provider_calls=18, fallback_calls=2,
                    provider_cost=Decimal("0.0018"), billed=Decimal("0.0072"),
                    fallback_billed=Decimal(0), cost_sq=18 * 0.0001**2)
    f = facts({None: cell([1.0] * 200)}, cost=c, infra_usd_per_hour=Decimal("0.36"))
    per_call = judge(crit(family="ai", metric="usd_per_ai_call", threshold="$0.0004"), f)
    assert per_call.verdict == "PASS" and per_call.value == Decimal("0.00009")
    per_1k = judge(crit(metric="usd_per_1k_requests", threshold="$0.01"), f)
    assert per_1k.value == Decimal("0.009") and per_1k.verdict == "PASS"
    # COGS = 0.0018 + 0.36 $/h x 60 s = 0.0078 > billed 0.0072: margin -8.3%
    margin = judge(crit(metric="gross_margin", op=">=", threshold="50%"), f)
    assert margin.verdict == "FAIL" and margin.value == pytest.approx(-0.0833, abs=1e-3)
    assert judge(crit(family="ai", metric="fallback_billed_usd", threshold="$0"),
                 f).verdict == "PASS"
    assert judge(crit(metric="markup_mismatches", threshold=0), f).verdict == "PASS"
    none = judge(crit(metric="fallback_billed_usd", threshold="$0"),
                 facts({}, cost=PlateauCost()))
    assert none.verdict == "INSUFFICIENT" and "no fallback" in none.note


def test_plateau_verdict_per_family() -> None:
    fast, slow = cell([10.0] * 300), cell([300.0] * 300)
    results = [judge(crit(name="a", family="core", metric="p95", threshold="120ms"),
                     facts({"core": fast, "ai": slow})),
               judge(crit(name="b", family="ai", metric="p95", threshold="120ms"),
                     facts({"core": fast, "ai": slow})),
               judge(crit(name="c", family="ai", metric="p99", threshold="1s"),
                     facts({"core": fast, "ai": slow}))]
    v = plateau_verdict(results)
    assert v["verdict"] == "FAIL" and v["families"] == {"ai": "FAIL", "core": "PASS"}
    assert v["failed"] == ["b"] and v["insufficient"] == ["c"]
    assert plateau_verdict([])["verdict"] is None
    row = results[1].to_row("p1", 61.0)
    assert row["verdict"] == "FAIL" and row["unit"] == "seconds" and row["threshold"] == 0.12
