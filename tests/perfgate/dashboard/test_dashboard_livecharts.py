"""Live chart points are the report's own figures, a second at a time."""

from __future__ import annotations

from typing import Any

import pytest

from perfgate.dashboard.livecharts import LivePoints, full_figures
from perfgate.dashboard.tail import Cursor, read_tail
from perfgate.report.charts import series_keys


def _by_key(figs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(t["meta"]): t for f in figs for t in f["data"]}


def test_points_grow_the_reports_traces_exactly(fake_run) -> None:  # type: ignore[no-untyped-def]
    live = LivePoints(total_s=20, time_scale=0.05)  # trailing rate window: round(60 x 0.05) = 3 s
    cursor = Cursor()
    grown: dict[str, dict[str, list[Any]]] = {}
    shapes: list[dict[str, Any]] = []
    for s in range(6):
        fake_run.tick(sample=10.0 * s, event="trigger_warning" if s == 3 else None)
        tail, cursor = read_tail(fake_run.run_dir, cursor)
        out = live.points(tail)
        for key, p in out["points"].items():
            g = grown.setdefault(key, {"x": [], "y": []})
            g["x"] += p["x"]
            g["y"] += p["y"]
        shapes += out["shapes"]
    fake_run.writer.set_meta("time_scale", 0.05)
    fake_run.close()
    final = full_figures(fake_run.run_dir)
    assert final["through_s"] is None  # a closed store is drawn whole
    report = _by_key(final["figures"])
    assert set(grown) <= {k for f in final["figures"] for k in series_keys(f)}
    for key in ("rps.achieved", "latency.core.p95", "latency.ai.p99", "errors.core",
                "timeouts.ai", "telemetry.cpu_percent", "spend", "generator.loop_lag_p99"):
        want = report[key]
        n = len(grown[key]["x"])
        assert grown[key]["x"] == want["x"][:n], key
        assert grown[key]["y"] == pytest.approx(want["y"][:n]), key
    assert grown["rps.achieved"]["y"] == [20.0] * 6
    assert grown["errors.core"]["y"][0] == pytest.approx(0.1 * 100)
    # the plateaus that started are bands, the warning a marker line
    names = [s.get("name") for s in shapes]
    assert "p0" in names and "p1" in names and "marker-warning" in names
    assert names.count("p1") == 1  # a band is sent once


def test_live_figures_stop_at_the_last_stored_second(fake_run) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        fake_run.tick()
    body = full_figures(fake_run.run_dir)
    traces = _by_key(body["figures"])
    assert body["through_s"] == 2
    for key in ("rps.achieved", "latency.core.p50", "errors.ai", "timeouts.core"):
        assert traces[key]["x"] == [0, 1, 2], key
    assert len(traces["rps.target"]["x"]) == 20  # the planned staircase, ahead of time


def test_no_store_no_figures(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert full_figures(tmp_path / "nothing")["figures"] == []
