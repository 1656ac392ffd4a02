"""The chart layer: ChartData from a store, figures on one time axis, the JS asset."""

import json
from pathlib import Path

import perfgate.report.charts as charts
from perfgate.report.charts import ChartData, figures, series_from_store, series_keys
from perfgate.store.reader import RunReader


def test_public_names_are_pinned() -> None:
    assert sorted(charts.__all__) == ["Band", "ChartData", "Marker", "Series", "charts_js",
                                      "figures", "plotly_js", "series_from_store",
                                      "series_keys"]


def data(run: Path, **kw: int) -> ChartData:
    with RunReader(run) as reader:
        return series_from_store(reader, **kw)  # type: ignore[arg-type]


def test_series_share_one_time_axis(small_run: Path) -> None:
    d = data(small_run)
    assert d.step_s == 1 and d.t[0] == 0.0 and d.t[-1] == 319.0 and len(d.t) == 320
    assert d.target_rps[0] == 10.0 and d.target_rps[-1] == 62.0
    with RunReader(small_run) as reader:
        sent = {}
        for w in reader.windows():
            sent[w.second] = sent.get(w.second, 0) + w.cell.sent
    assert d.achieved_rps == [float(sent.get(int(t), 0)) for t in d.t]
    assert set(d.latency_ms) == {"ai", "core"}
    assert all(len(v) == len(d.t) for fam in d.latency_ms.values() for v in fam.values())
    assert [b.id for b in d.bands] == ["p0", "p1", "p2", "p3", "p4", "p5"]
    assert d.bands[0].kind == "warmup" and d.bands[1].kind == "plateau"
    assert {"cpu_percent", "db_pool_in_use", "provider_requests_rate"} <= set(d.telemetry)
    assert "key=primary,outcome=ok" in d.telemetry["provider_requests_rate"]
    assert d.hard_cap_usd == 500.0 and d.soft_cap_usd == 350.0 and d.spend_usd.x
    assert json.loads(d.to_json())["run_id"] == "small"
    # SLO lines from the plan's criteria: core P95 120 ms, P99 250 ms
    assert sorted(t["value"] for t in d.thresholds["latency.core"]) == [120.0, 250.0]
    assert d.thresholds["telemetry.db_query_p95_seconds"][0]["value"] == 50.0


def test_long_runs_are_stepped(small_run: Path) -> None:
    d = data(small_run, max_points=100)
    assert d.step_s == 4 and d.t[:3] == [0.0, 4.0, 8.0]
    assert d.achieved_rps[-1] is not None and 55 < d.achieved_rps[-1] < 70


def test_figures_every_chart_with_bands_markers_and_keys(make_store) -> None:  # type: ignore[no-untyped-def]
    run = make_store(chaos=(200.0, 215.0), extra_events=(
        (150.0, "trigger_warning", "cpu above 80%", "warning", "p3"),))
    figs = figures(data(run))
    ids = [f["id"] for f in figs]
    assert ids == ["load", "latency-ai", "latency-core", "errors", "cpu", "rss", "gc", "db",
                   "queue", "provider", "spend", "generator"]
    for fig in figs:
        names = [s.get("name") for s in fig["layout"]["shapes"]]
        assert names.count("p1") == 1 and "chaos-1" in names and "marker-warning" in names
        assert fig["layout"]["xaxis"]["range"] == figs[0]["layout"]["xaxis"]["range"]
        keys = series_keys(fig)
        assert len(keys) == len(set(keys)) and all(keys)
    load = figs[0]
    assert series_keys(load) == ["rps.target", "rps.achieved"]
    assert "latency.core.p95" in series_keys(figs[2])
    json.dumps(figs, allow_nan=False)  # JSON-ready


def test_assets_are_inline_ready() -> None:
    js = charts.charts_js()
    for name in ("mount", "sync", "extend", "addShapes", "setRange", "status"):
        assert f"{name}: {name}" in js
    assert len(charts.plotly_js()) > 1_000_000 and "</script" not in charts.plotly_js()
