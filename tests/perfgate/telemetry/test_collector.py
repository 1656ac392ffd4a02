"""The telemetry hook against a real HTTP source: samples in the store, gaps as events."""

from __future__ import annotations

import pytest
from aiohttp import web

from perfgate.telemetry.collector import MIN_INTERVAL_S, TelemetryHook
from perfgate.telemetry.series import SignalStore
from perfgate.telemetry.spec import TelemetrySpec

SPEC = {
    "interval": "5s",
    "cores": 1,
    "sources": [{"name": "target", "url": "/metrics"}],
    "signals": {
        "cpu_percent": {"metric": "process_cpu_seconds_total", "type": "cpu"},
        "queue_depth": {"metric": "studyhall_queue_depth"},
    },
}


def text(cpu: float, depth: float) -> str:
    return (f"# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {cpu}\n"
            f"# TYPE studyhall_queue_depth gauge\nstudyhall_queue_depth {depth}\n")


def test_the_interval_follows_the_time_scale_with_a_floor() -> None:
    spec = TelemetrySpec.model_validate(SPEC)
    kw = {"base_url": "http://127.0.0.1:1", "allowed_hosts": [], "env": {}}
    assert TelemetryHook(spec, SignalStore(), time_scale=0.5, **kw).interval_s == 2.5
    assert TelemetryHook(spec, SignalStore(), time_scale=0.01, **kw).interval_s == MIN_INTERVAL_S


@pytest.mark.asyncio
async def test_scrapes_gaps_and_recovery(clocked, fake_server) -> None:  # type: ignore[no-untyped-def]
    store = SignalStore()
    hook = TelemetryHook(TelemetrySpec.model_validate(SPEC), store, time_scale=1.0,
                         base_url=fake_server.url, allowed_hosts=[], env={})
    answers = iter([
        web.Response(text=text(10.0, 3)),
        web.Response(text=text(10.5, 4)),
        web.Response(status=500, text="boom"),
        web.Response(text="<html>not metrics</html>"),
        web.Response(text="# TYPE studyhall_queue_depth gauge\nstudyhall_queue_depth 1\n"),
        web.Response(text=text(12.0, 0)),
    ])
    fake_server.answer = lambda request: next(answers)
    hook._ctx = clocked.ctx  # drive the scrapes by hand, no background loop
    hook._sources = hook._build_sources()
    import aiohttp

    hook._session = aiohttp.ClientSession()
    try:
        for t in (1.0, 2.0, 3.0, 4.0, 5.0, 6.0):
            clocked.now = t
            await hook.scrape_once()
    finally:
        await hook._session.close()
    # the rate after a gap spans it: (12 - 10.5) cpu-seconds over 4 s
    assert store.between("cpu_percent", 0, 10) == [pytest.approx(50.0), pytest.approx(37.5)]
    assert store.between("queue_depth", 0, 10) == [3.0, 4.0, 1.0, 0.0]
    with clocked.read() as reader:
        samples = reader.samples("telemetry")
        gaps = reader.events("telemetry_gap")
    # never a zero for the missing seconds: 2 cpu samples, 4 depth samples, nothing else
    assert [(s.t, s.name) for s in samples if s.name == "cpu_percent"] == [(2.0, "cpu_percent"),
                                                                           (6.0, "cpu_percent")]
    opened = [(e.t, e.data["signal"]) for e in gaps if e.severity == "warning"]
    assert opened == [(3.0, "cpu_percent"), (3.0, "queue_depth")]  # once per gap, not per scrape
    assert "HTTP 500" in gaps[0].message
    recovered = [(e.t, e.data["signal"]) for e in gaps if e.severity == "info"]
    assert recovered == [(5.0, "queue_depth"), (6.0, "cpu_percent")]


@pytest.mark.asyncio
async def test_an_unreachable_or_disallowed_source_is_a_gap(clocked) -> None:  # type: ignore[no-untyped-def]
    spec = TelemetrySpec.model_validate({**SPEC, "sources": [
        {"name": "far", "url": "http://example.com/metrics"}]})
    hook = TelemetryHook(spec, SignalStore(), time_scale=1.0, base_url="http://127.0.0.1:1",
                         allowed_hosts=[], env={})
    await hook.on_start(clocked.ctx)
    await hook.on_end(clocked.ctx, "completed")
    with clocked.read() as reader:
        events = reader.events("telemetry_gap")
    assert {e.data["signal"] for e in events} == {"cpu_percent", "queue_depth"}
    assert "allowed_hosts" in events[0].message
