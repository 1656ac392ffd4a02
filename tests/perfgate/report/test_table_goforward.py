"""Cells coloured by their criterion; the go-forward plan from reds, margins and drift;
JUnit cases per criterion per plateau."""

import xml.etree.ElementTree as ET
from datetime import date
from typing import Any

from perfgate.report.criteria import PlanCriterion, Result
from perfgate.report.goforward import go_forward, mix_drift
from perfgate.report.junit import junit_xml
from perfgate.report.table import plateau_rows


def result(name: str, stat: str, verdict: str, value: float | None, family: str | None = "core",
           plateau: str = "p1", n: int = 5000, need: int = 1000) -> Result:
    return Result(plateau, name, family, stat, "<=", 0.12, "120ms", "seconds", value, None,
                  None, n, need, verdict, f"{name}: {verdict}")


CRITERIA = [PlanCriterion("core_p95", "core", "p95", None, None, "<=", 0.120, "120ms",
                          "seconds"),
            PlanCriterion("core_p99", "core", "p99", None, None, "<=", 0.250, "250ms",
                          "seconds"),
            PlanCriterion("cpu", "core", None, "cpu_percent", "mean", "<=", 70.0, "70%",
                          "percent")]


def summary(p95_ms: float = 50.0) -> dict[str, Any]:
    sli = {"p50_ms": 10.0, "p90_ms": 30.0, "p95_ms": p95_ms, "p99_ms": 90.0,
           "error_rate": 0.0, "timeout_rate": None, "requests": 1234}
    return {"plateaus": [{"id": "p1", "name": "plateau 1", "target_rps": 21.0,
                          "achieved_rps": 21.0, "valid": True, "warmup": False,
                          "families": {"core": sli}}]}


def test_cells_follow_their_criterion() -> None:
    res = {"p1": [result("core_p95", "p95", "PASS", 0.115),  # 96% of its limit: marginal
                  result("core_p99", "p99", "INSUFFICIENT", None, n=400),
                  Result("p1", "cpu", "core", "cpu_percent:mean", "<=", 70.0, "70%",
                         "percent", 81.0, None, None, 30, 5, "FAIL", "cpu: FAIL")]}
    row = plateau_rows(summary(), {}, {}, res, CRITERIA, 0.9)[0]
    assert row.verdict == "FAIL"
    _, cells = row.families[0]
    by = dict(zip(("p50", "p90", "p95", "p99", "err", "tmo", "n"), cells, strict=True))
    assert (by["p50"].text, by["p50"].state) == ("10.0", "unjudged")
    assert (by["p95"].text, by["p95"].state) == ("115.0", "marginal")
    assert by["p99"].state == "insufficient" and by["p99"].text == "INSUFFICIENT (n=400/1000)"
    assert (by["tmo"].text, by["tmo"].state, by["tmo"].title) == ("—", "missing",
                                                                    "not measured")
    assert by["n"].text == "1,234"
    cpu = row.shared[0]
    assert (cpu.text, cpu.state, cpu.title) == ("81%", "fail", "cpu: FAIL")
    assert row.shared[-1].text == "—"  # $/AI call: no ledger, not measured


def test_go_forward_items_and_drift() -> None:
    res = [result("core_p95", "p95", "FAIL", 0.2, plateau="p3"),
           result("core_p99", "p99", "PASS", 0.240),  # 96%: watch
           result("core_p99", "p99", "INSUFFICIENT", None, plateau="p2")]
    drift = mix_drift({"reads": 35, "search": 40, "ai": 25}, {"reads": 30, "search": 40,
                                                              "ai": 30}, 5.0)
    assert [(d.what, round(d.delta, 1), d.drifted) for d in drift] == [
        ("mix ai", 5.0, False), ("mix reads", -5.0, False), ("mix search", 0.0, False)]
    drift = mix_drift({"reads": 35, "ai": 65}, {"reads": 29, "ai": 71}, 5.0)
    gf = go_forward(res, CRITERIA, 0.9, [("p4", ["achieved 90% of target"])],
                    [("critical", "pool: dry", "sre"), ("low", "gc", "backend")], drift,
                    passed=False, safe_rps=31.0, soak_days=14, soak_hours=4.0,
                    ended=date(2025, 3, 1))
    kinds = [(i.priority, i.text.split(":")[0]) for i in gf.items]
    assert ("required", "Fix core_p95 (red at p3)") in kinds
    assert ("watch", "core_p99 is marginal at p1") in kinds
    assert any(p == "measure" for p, _ in kinds)
    assert any("p4 was under-driven" in i.text for i in gf.items)
    assert any(i.text.startswith("Before the scale push (critical)") for i in gf.items)
    assert not any("gc" in i.text for i in gf.items if i.priority == "required"
                   and "low" in i.text)
    assert gf.rebaseline and gf.soak is None and "No soak" in gf.soak_note
    ok = go_forward([], CRITERIA, 0.9, [], [], [], passed=True, safe_rps=62.0, soak_days=14,
                    soak_hours=4.0, ended=date(2025, 3, 1))
    assert ok.soak == {"name": "perf-7a", "rps": 62.0, "hours": 4.0, "by": "2025-03-15"}


def test_junit_cases_per_criterion_per_plateau() -> None:
    s = {"run_id": "r1", "plan": "perf-6b", "verdict": "FAIL", "status": "failed",
         "plateaus": [{"id": "p0", "warmup": True, "target_rps": 10.0},
                      {"id": "p1", "warmup": False, "valid": True, "target_rps": 21.0},
                      {"id": "p2", "warmup": False, "valid": False, "target_rps": 31.0,
                       "invalid_reasons": ["dropped 1%"]}]}
    res = {"p1": [result("core_p95", "p95", "PASS", 0.05),
                  result("core_p99", "p99", "INSUFFICIENT", None)],
           "p2": [result("core_p95", "p95", "FAIL", 0.2, plateau="p2")]}
    root = ET.fromstring(junit_xml(s, res))
    suites = {x.get("name"): x for x in root.iter("testsuite")}
    assert set(suites) == {"r1.run", "r1.p1", "r1.p2"}  # the warm-up is not judged
    p1 = suites["r1.p1"]
    assert (p1.get("tests"), p1.get("failures"), p1.get("skipped")) == ("3", "0", "1")
    p2 = suites["r1.p2"]
    assert (p2.get("tests"), p2.get("failures")) == ("2", "2")  # drive + core_p95
    assert suites["r1.run"].get("failures") == "0"  # FAIL is judged per criterion
