"""Golden hotspot ranking: pressures computed by hand, one scale for every kind."""

from datetime import date

import pytest

from perfgate.capture.flamegraph import parse_collapsed
from perfgate.report.evidence import Evidence, StatementStats
from perfgate.report.facts import SignalStats
from perfgate.report.hotspots import HotspotInputs, Limits, candidates, rank
from perfgate.report.owners import assign, owner_for
from perfgate.report.spec import SeverityPolicySpec


def stat(mean: float, mx: float | None = None, p95: float | None = None) -> SignalStats:
    mx = mean if mx is None else mx
    return SignalStats(10, mean, mean, mx, mean if p95 is None else p95, mean, mean, 0, 1)


def inputs() -> HotspotInputs:
    ev = Evidence()
    ev.profiles["p5"] = [("captures/p5/cpu_profile.mid.svg", parse_collapsed(
        "main;handle;rank_results 400\nmain;handle;to_json 300\nmain;poll 300\n"))]
    ev.statements = {"p1": {"search_like": StatementStats(100, 500.0)},   # 5 ms mean
                     "p5": {"search_like": StatementStats(300, 9000.0),   # 30 ms mean
                            "profile_get": StatementStats(1000, 3000.0)}}
    ev.statement_files = {"p5": "captures/p5/db_queue_trace.end.txt"}
    return HotspotInputs(
        top_plateau="p5", top_rps=62.0, evidence=ev,
        endpoint_p95={"search": [("p1", 21, 55.0), ("p3", 41, 80.0), ("p5", 62, 110.0)],
                      "profile": [("p1", 21, 20.0), ("p5", 62, 21.0)]},
        endpoint_family={"search": "core", "profile": "core"}, slo_p95_ms={"core": 120.0},
        telemetry={"cpu_percent": stat(60, 65, 63), "db_pool_size": stat(20),
                   "db_pool_in_use": stat(15, 18), "queue_oldest_age_seconds": stat(20, 30),
                   "gc_pause_p99_seconds": stat(0.03, 0.05)},
        limits=Limits())


def test_pressures_and_ranking() -> None:
    got = {(c.kind, c.subject): c.pressure for c in candidates(inputs())}
    assert got[("db_pool", "DB connection pool")] == pytest.approx(0.9 / 0.8)  # 18/20 in use
    assert got[("endpoint", "search")] == pytest.approx(110 / 120)
    assert got[("cpu", "target CPU")] == pytest.approx(63 / 70)
    assert got[("db_statement", "search_like")] == pytest.approx(30 / 50)
    assert got[("db_statement", "profile_get")] == pytest.approx(3 / 50)
    assert got[("queue", "background queue")] == pytest.approx(30 / 60)
    assert got[("gc", "GC pauses")] == pytest.approx(50 / 100)
    assert got[("profile", "rank_results")] == pytest.approx(0.4 * 63 / 70)
    assert ("endpoint", "profile") not in got  # P95 did not grow with load
    ranked = rank(candidates(inputs()))
    assert [(c.kind, c.subject) for c in ranked] == [
        ("db_pool", "DB connection pool"), ("endpoint", "search"), ("cpu", "target CPU"),
        ("db_statement", "search_like"), ("queue", "background queue")]  # queue before gc


def test_statement_evidence_names_share_and_growth() -> None:
    c = next(c for c in candidates(inputs()) if c.subject == "search_like")
    assert "75% of DB time at p5" in c.evidence  # 9 s of 12 s
    assert "5.0 ms at p1 -> 30.0 ms at p5 (x6.0)" in c.evidence
    assert ("statement trace", "captures/p5/db_queue_trace.end.txt") in c.links
    assert c.area == "data"


def test_plan_limits_replace_the_memo_defaults() -> None:
    inp = inputs()
    inp.limits = Limits(cpu_percent=(60.0, "criterion cpu"))
    cpu = next(c for c in candidates(inp) if c.kind == "cpu")
    assert cpu.pressure == pytest.approx(63 / 60) and "criterion cpu" in cpu.evidence


def test_severity_owner_and_eta() -> None:
    ranked = rank(candidates(inputs()))
    war_room = {"owner": "Dana", "roles": {"sre": "Sam", "backend": "Priya",
                                           "data_analytics": "Lee"}}
    hot = assign(ranked, SeverityPolicySpec(), war_room, date(2025, 1, 10))
    assert [h.severity for h in hot] == ["critical", "high", "high", "medium", "low"]
    assert hot[0].owner == "Sam (sre)" and hot[0].due == "2025-01-12"  # critical: 2 days
    assert hot[1].owner == "Priya (backend)" and hot[1].eta_days == 5
    assert hot[3].owner == "Lee (data)" and hot[3].due == "2025-01-20"
    assert owner_for("finance", war_room) == "Dana (perf lead; no finance owner)"
    assert owner_for("sre", None).startswith("unassigned")


def test_memory_growth_and_heap_sites() -> None:
    inp = inputs()
    # 10 MB per real hour on 400 MB: +40 MB over 4 h = 10% of RSS -> pressure 0.4
    inp.rss_points = [(t, 400e6 + 10e6 * t / 3600) for t in range(0, 3600 * 2, 600)]
    inp.evidence.heaps = {"p4": ("h4.json", {"a.py:1": 1e6, "b.py:2": 5e6}),
                          "p5": ("h5.json", {"a.py:1": 9e6, "b.py:2": 5e6})}
    mem = next(c for c in candidates(inp) if c.kind == "memory")
    mean = 400e6 + 10e6 * 3300 / 3600  # the mean RSS of the 12 points (t = 0..6600 s)
    assert mem.pressure == pytest.approx(40e6 / (0.25 * mean))
    assert "a.py:1 (+8.0 MB from p4 to p5)" in mem.evidence
    assert ("heap p5", "h5.json") in mem.links
