"""Every deliverable rebuilt from synthetic stores: passed, failed, aborted, crashed, and a
store with no guards at all (sections say "not measured", never a made-up number)."""

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from perfgate.metrics.aggregate import group_windows
from perfgate.report.build import write_deliverables
from perfgate.report.model import build_model
from perfgate.report.scan import scan_store
from perfgate.report.summary import _group, _group_scan, build_summary
from perfgate.report.synthetic import perf6b_plan
from perfgate.store.reader import RunReader

MakeStore = Callable[..., Path]


def test_the_one_pass_scan_merges_exactly_what_the_window_stream_merges(small_run: Path
                                                                         ) -> None:
    with RunReader(small_run) as reader:
        ends = {p.id: p.end_s for p in reader.plateaus() if p.end_s is not None}
        fast, fast_span = _group_scan(scan_store(small_run), ends)
        slow, slow_span = _group(reader.windows(), ends)
        assert fast_span == slow_span
        for pid, dims in slow.items():
            for dim, cells in dims.items():
                for name, cell in cells.items():
                    assert fast[pid][dim][name] == cell, (pid, dim, name)
        by_second = group_windows(reader.windows(), lambda w: (w.second // 7 * 7,
                                                               w.key.family))
    from perfgate.metrics import histogram as hist

    for row in scan_store(small_run, step=7).seconds:
        expect = hist.percentiles_ms(by_second[(row.second, row.family)].latency, (50, 95, 99))
        assert (row.p50_ms, row.p95_ms, row.p99_ms) == (expect["p50"], expect["p95"],
                                                       expect["p99"])


def test_a_passing_run(small_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    import shutil

    shutil.copytree(small_run, run)
    built = write_deliverables(run)
    s = json.loads(built.summary_path.read_text())
    assert s["schema"] == "perfgate.summary/1" and s["verdict"] == "PASS"
    assert s["report"]["safe_rps"] == 62.0 and len(s["report"]["hotspots"]) == 5
    assert s["report"]["capacity"]["projections"][-1]["months"] == 12
    m = built.model
    assert m.banner.verdict == "PASS" and m.banner.css == "pass"
    assert m.capacity.safe_rps == 62.0
    assert [r.plateau for r in m.rows] == ["p0", "p1", "p2", "p3", "p4", "p5"]
    assert m.go.soak is not None and m.go.soak["rps"] == 62.0
    assert len(m.hotspots) == 5 and m.hotspots[0].owner.endswith(")")
    html = built.html_path.read_text()
    assert "PASS" in html and "Bottleneck analysis" in html and "perf-7a" in html
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"?https?:", html)
    root = ET.parse(built.junit_path).getroot()
    cases = list(root.iter("testcase"))
    with RunReader(run) as reader:
        judged = len(reader.criteria_results())
    assert len(cases) == judged + 5 + 1  # one per criterion per plateau, drive x5, run
    assert "criterion INSUFFICIENT" not in html and "INSUFFICIENT (n=" in html


def test_a_red_plateau_stops_the_ramp(make_store: MakeStore) -> None:
    run = make_store(overrides={"p3": {"core_p95": "FAIL"}})
    with RunReader(run) as reader:
        model, summary = build_model(reader)
    assert summary["verdict"] == "FAIL" and summary["status"] == "failed"
    assert (model.banner.verdict, model.banner.plateau) == ("FAIL", "p3")
    assert "core_p95" in model.banner.reason
    assert [r.plateau for r in model.rows] == ["p0", "p1", "p2", "p3"]
    assert model.capacity.safe_rps == 31.0 and model.capacity.safe_plateau == "p2"
    assert model.go.items[0].priority == "required" and "core_p95" in model.go.items[0].text
    assert model.go.soak is None


def test_an_aborted_run(make_store: MakeStore) -> None:
    abort = {"kind": "trigger", "message": "error_rate > 0.5% for 2m", "who": "",
             "t": 150.0, "plateau": "p3", "evidence": {}}
    run = make_store(status="aborted", stop_at_s=150.0, abort=abort,
                     reason="error_rate > 0.5% for 2m")
    built = write_deliverables(run)
    b = built.model.banner
    assert (b.verdict, b.plateau) == ("ABORTED", "p3") and "error_rate" in b.reason
    load = next(f for f in built.model.figures if f["id"] == "load")
    assert any(s.get("name") == "marker-abort" for s in load["layout"]["shapes"])
    cut = next(r for r in built.model.rows if r.plateau == "p3")
    assert cut.verdict is None  # cut before its end: not judged
    assert built.model.capacity.safe_rps == 31.0  # p1, p2 green; p3 cut
    root = ET.parse(built.junit_path).getroot()
    run_case = next(c for c in root.iter("testcase") if c.get("name") == "run")
    assert run_case.find("failure") is not None


def test_a_crashed_run_is_reported_up_to_its_last_second(make_store: MakeStore) -> None:
    run = make_store(status="running", stop_at_s=95.0)
    built = write_deliverables(run)
    assert built.summary["verdict"] == "INCOMPLETE" and not built.summary["complete"]
    assert built.model.banner.plateau == "p2"
    assert "never closed" in built.html_path.read_text()


def test_a_run_without_guards_says_not_measured(make_store: MakeStore) -> None:
    bare = perf6b_plan().model_copy(update={
        "criteria": [], "budget": None, "telemetry": None, "captures": [], "capacity": None,
        "war_room": None})
    run = make_store(plan=bare, telemetry={}, judge=False, captures=False, ledger=False)
    built = write_deliverables(run)
    m = built.model
    assert m.banner.verdict == "PASS" and "no pass criteria" in m.banner.reason
    assert m.capacity.safe_rps is None and "not judged" in m.capacity.safe_note
    assert m.capacity.projections == [] and m.capacity.fits == {}
    cpu = next(f for f in m.figures if f["id"] == "cpu")
    assert cpu["data"] == []
    assert any("not measured" in a["text"] for a in cpu["layout"]["annotations"])
    row = m.rows[1]
    assert all(c.text == "—" and c.title == "not measured" for c in row.shared)
    assert m.hotspots == []  # no SLO, telemetry or capture to measure pressure against
    html = built.html_path.read_text()
    assert "No safe RPS can be called" in html and "not measured: no telemetry" in html


def test_mix_and_token_drift_recommend_a_rebaseline(make_store: MakeStore) -> None:
    from dataclasses import replace

    from perfgate.report.synthetic import PERF6B_ENDPOINTS

    eps = tuple(replace(e, share=e.share * (1.6 if e.family == "ai" else 0.8))
                for e in PERF6B_ENDPOINTS)  # AI 40% of arrivals instead of 25%
    run = make_store(endpoints=eps, judge=False)
    with RunReader(run) as reader:
        model, _ = build_model(reader)
    ai = next(d for d in model.go.drift if d.what == "mix ai_analysis")
    assert ai.drifted and ai.observed == pytest.approx(40.0, abs=1.0)
    assert model.go.rebaseline
    assert any(i.text.startswith("Re-baseline: mix ai_analysis") for i in model.go.items)
    tokens = next(d for d in model.go.drift if d.what == "tokens per AI call")
    assert not tokens.drifted  # 620 planned, ~540 observed: -13%


def test_summary_without_a_scan_is_the_same(small_run: Path) -> None:
    with RunReader(small_run) as reader:
        a = build_summary(reader)
        b = build_summary(reader, scan=scan_store(small_run))
    assert a == b
