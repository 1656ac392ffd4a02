"""perfgate's /metrics endpoint and the outbound sink, over real sockets (port 0)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from guards_fakes import ai_headers
from prometheus_client.parser import text_string_to_metric_families

from perfgate.engine.timeline import build_timeline
from perfgate.guards.budget import Budget
from perfgate.guards.costhook import CostHook
from perfgate.guards.exporter import MetricsExporter
from perfgate.guards.gate import AiMatcher
from perfgate.guards.hook import GuardsHook
from perfgate.guards.livedata import LoadData
from perfgate.guards.sink import OutboundSink
from perfgate.guards.triggers import TriggerEvaluator
from perfgate.metrics.outcome import Outcome
from perfgate.metrics.window import Cell, SeriesKey, Window
from perfgate.plan.models import Plan


@pytest.mark.asyncio
async def test_the_metrics_endpoint_serves_requests_latency_guards_and_spend(
        guarded_plan: Plan, make_run: Any) -> None:
    run = make_run(guarded_plan)
    load = LoadData()
    guards = GuardsHook(guarded_plan.criteria,
                        TriggerEvaluator(guarded_plan.triggers, 1.0, load=load), load,
                        mode="enforce")
    assert guarded_plan.budget is not None
    cost = CostHook(Budget(guarded_plan.budget), AiMatcher.from_plan(guarded_plan), env={})
    b = cost.budget
    res = b.try_reserve(b.worst_case(400, 300), "analyze", "r", "p1")
    assert res is not None
    b.settle(res, 200, ai_headers(100, 50))
    exporter = MetricsExporter(port=0, guards=guards, cost=cost)
    await exporter.on_start(run.ctx)
    assert exporter.url is not None and exporter.url.startswith("http://127.0.0.1:")
    c = Cell()
    for ms in (10, 20, 30):
        c.record(Outcome.OK, ms * 1000, ms * 1000)
    c.record(Outcome.HTTP_5XX, 1000, 1000)
    windows = [Window(3, SeriesKey("p1", "core", "reads", "item"), c)]
    phase = build_timeline(guarded_plan.schedule, 1.0)[1]
    await guards.on_tick(run.ctx, 4.0, phase, windows)
    await exporter.on_tick(run.ctx, 4.0, phase, windows)
    async with aiohttp.ClientSession() as s, s.get(exporter.url) as r:
        text = await r.text()
    await exporter.on_end(run.ctx, "completed")
    samples = {(x.name, tuple(sorted(x.labels.items()))): x.value
               for f in text_string_to_metric_families(text) for x in f.samples}
    assert samples[("perfgate_requests_total", (("family", "core"), ("outcome", "ok")))] == 3
    assert samples[("perfgate_requests_total", (("family", "core"), ("outcome", "http_5xx")))] == 1
    assert samples[("perfgate_latency_seconds", (("family", "core"), ("quantile", "p50")))] \
        == pytest.approx(0.01, rel=0.01)  # 1, 10, 20, 30 ms (errors count too)
    assert samples[("perfgate_plateau_index", ())] == 1
    pending = (("state", "pending"), ("trigger", "error_rate"))  # 1 error in 4: breaching
    assert samples[("perfgate_trigger_state", pending)] == 1
    assert samples[("perfgate_spend_usd", (("kind", "spent"),))] == pytest.approx(
        float(Decimal("0.000045")))
    assert samples[("perfgate_cost_cap_usd", ())] == 500


@pytest.mark.asyncio
async def test_a_busy_port_is_an_event_not_a_failure(guarded_plan: Plan, make_run: Any) -> None:
    run = make_run(guarded_plan)
    first = MetricsExporter(port=0)
    await first.on_start(run.ctx)
    assert first.url is not None
    port = int(first.url.rsplit(":", 1)[1].split("/")[0])
    second = MetricsExporter(port=port)
    await second.on_start(run.ctx)
    await first.on_end(run.ctx, "completed")
    assert second.url is None
    assert "metrics endpoint not started" in run.events("hook_error")[0].message


@pytest.mark.asyncio
async def test_the_outbound_sink_catches_everything() -> None:
    hits = []
    sink = OutboundSink(on_hit=hits.append)
    url = await sink.start()
    try:
        async with aiohttp.ClientSession() as s:
            async with s.post(url + "/email", json={"to": "student@example"}) as r:
                assert r.status == 202
            async with s.get(url + "/any/path?x=1") as r:
                assert r.status == 202
    finally:
        await sink.stop()
    assert [(h.method, h.path) for h in sink.hits] == [("POST", "/email"), ("GET", "/any/path")]
    assert "student@example" in sink.hits[0].excerpt and hits == sink.hits
