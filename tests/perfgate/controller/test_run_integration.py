"""A real run over real sockets against an in-process target (port 0), through the CLI."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from perfgate.cli.main import app

pytestmark = pytest.mark.integration
runner = CliRunner()


def _run(plan: Path, out: Path, *extra: str) -> tuple[int, dict[str, object]]:
    result = runner.invoke(app, ["run", str(plan), "--out", str(out), "--json", *extra])
    data = json.loads(result.stdout[result.stdout.index("{"):])
    return result.exit_code, data


def test_staged_run_holds_rates_tags_and_classifies(toy_plan: Path, tmp_path: Path,
                                                    toy_target) -> None:  # type: ignore[no-untyped-def]
    code, summary = _run(toy_plan, tmp_path)
    assert code == 0, summary
    assert summary["verdict"] == "PASS" and summary["complete"] is True
    plateaus = {p["id"]: p for p in summary["plateaus"]}  # type: ignore[union-attr]
    assert list(plateaus) == ["p0", "p1", "p2"]
    assert plateaus["p0"]["warmup"] and plateaus["p0"]["excluded_from_analysis"]
    # uniform arrivals: exactly rate x duration intended, all sent, within the span
    for pid, rate, duration in (("p0", 20, 1.0), ("p1", 40, 2.0), ("p2", 60, 2.0)):
        p = plateaus[pid]
        assert p["intended"] == pytest.approx(rate * duration, abs=1)
        assert p["sent"] == p["intended"] and p["dropped"] == 0
        assert p["achieved_rps"] == pytest.approx(rate, rel=0.05)
        assert p["valid"], p["invalid_reasons"]
    # per family per plateau SLIs with the four percentiles
    for pid in ("p1", "p2"):
        fams = plateaus[pid]["families"]
        assert set(fams) == {"core", "ai"}
        for st in fams.values():
            assert all(st[k] is not None for k in ("p50_ms", "p90_ms", "p95_ms", "p99_ms"))
            assert st["p50_ms"] <= st["p90_ms"] <= st["p95_ms"] <= st["p99_ms"]
        core = fams["core"]
        # 401s are excluded from SLOs, 503s are errors counted by kind
        assert core["excluded_401"] > 0 and core["errors_by_kind"]["http_5xx"] > 0
        assert core["errors"] == core["errors_by_kind"]["http_5xx"]
        assert core["error_rate"] == pytest.approx(core["errors"] / core["slo_requests"])
        assert core["slo_requests"] == core["requests"] - core["excluded_401"]
        assert fams["ai"]["p50_ms"] >= 50  # the slow endpoint's 50 ms is in the latency
    # the warm-up is not in the run-level numbers
    run_core = summary["run"]["families"]["core"]  # type: ignore[index]
    assert run_core["requests"] == sum(plateaus[p]["families"]["core"]["requests"]
                                       for p in ("p1", "p2"))
    # tags on every request the target saw (the preflight's smoke requests say so)
    smoke = [h for h in toy_target.seen if h.get("X-Perf-Plateau") == "preflight"]
    assert len(smoke) == 4 and all(h["X-Perf-Run"] == "toyrun" for h in smoke)
    seen = [h for h in toy_target.seen if h.get("X-Perf-Plateau") != "preflight"]
    assert len(seen) == sum(p["sent"] for p in plateaus.values())
    ids = set()
    for headers in seen:
        assert headers["X-Perf-Run"] == "toyrun"
        plateau = headers["X-Perf-Plateau"]
        assert plateau in {"p0", "p1", "p2"}
        assert headers["baggage"] == f"perf.run=toyrun,perf.plateau={plateau}"
        assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", headers["traceparent"])
        ids.add(headers["X-Request-ID"])
    assert len(ids) == len(seen)
    # the store holds the same facts; the secret is nowhere in it
    run_dir = tmp_path / str(summary["run_id"])
    for name in ("run.sqlite", "plan.resolved.json", "latency.hlog", "summary.json"):
        assert (run_dir / name).exists(), name
    with sqlite3.connect(run_dir / "run.sqlite") as db:
        assert db.execute("select sum(sent) from windows").fetchone()[0] == len(seen)
        dump = "\n".join(db.iterdump())
    assert "sh-test-fixture-token" not in dump
    assert "sh-test-fixture-token" not in (run_dir / "plan.resolved.json").read_text()
    # `perfgate report` rebuilds the same summary from the store alone
    rebuilt = runner.invoke(app, ["report", str(run_dir), "--json"])
    assert rebuilt.exit_code == 0
    again = json.loads(rebuilt.stdout)
    assert again["plateaus"] == summary["plateaus"]


def test_under_driven_plateau_is_invalid_exit_3(tmp_path: Path, make_toy_plan) -> None:  # type: ignore[no-untyped-def]
    # an in-flight cap of 1 against a 50 ms endpoint cannot hold 60 RPS: arrivals drop
    plan = make_toy_plan("tight", edit=lambda t: t.replace(
        "connections: 32", "connections: 2\n  max_inflight: 1"))
    code, summary = _run(plan, tmp_path)
    assert code == 3
    assert summary["verdict"] == "INVALID"
    bad = [p for p in summary["plateaus"] if not p["valid"]]  # type: ignore[union-attr]
    assert bad and any("dropped" in r for p in bad for r in p["invalid_reasons"])


def test_plateau_loop_lag_is_exact_over_all_samples(tmp_path: Path) -> None:
    """One 50 ms stall among a plateau's thousands of lag samples is not its p99."""
    from perfgate.metrics import histogram as hist
    from perfgate.report.summary import plateau_loop_lag_p99_ms
    from perfgate.store.reader import RunReader
    from perfgate.store.writer import RunWriter

    writer = RunWriter.create(tmp_path / "r", "r", "{}", {"run_id": "r"})
    writer.upsert_plateau("p1", 1, "p1", 10.0, 0.0, 10.0, "done")
    for second in range(10):
        h = hist.new_histogram()
        for _ in range(199):
            hist.record(h, 300)  # 0.3 ms: a healthy loop
        hist.record(h, 50_000 if second == 4 else 400)  # one stall in the plateau
        writer.add_generator_sample(second, loop_lag_p99_us=50_000 if second == 4 else 400,
                                    loop_lag_max_us=None, cpu_percent=None, rss_bytes=None,
                                    inflight=0, target_rps=10.0, loop_lag_hist=hist.encode(h))
    writer.close("completed")
    with RunReader(tmp_path / "r") as reader:
        lag = plateau_loop_lag_p99_ms(reader, reader.plateaus())
    assert lag["p1"] == pytest.approx(0.3, rel=0.01)
