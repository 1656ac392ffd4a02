"""PromQL over the HTTP API, against a fake Prometheus server."""

from __future__ import annotations

import json

import aiohttp
import pytest
from aiohttp import web

from perfgate.telemetry.collector import TelemetryHook
from perfgate.telemetry.promql import PromQLClient, derived_queries
from perfgate.telemetry.promtext import TelemetryError
from perfgate.telemetry.series import SignalStore
from perfgate.telemetry.spec import SignalSpec, TelemetrySpec


def vector(*series: tuple[dict[str, str], str]) -> web.Response:
    return web.json_response({"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": labels, "value": [1700000000.0, value]} for labels, value in series]}})


def test_derived_queries() -> None:
    assert derived_queries(SignalSpec(metric="pool_in_use"), 60, 1) == {None: "sum (pool_in_use)"}
    counter = SignalSpec(metric="provider_total", type="counter", by=["key", "outcome"],
                         labels={"job": "sh"})
    assert derived_queries(counter, 30, 1) == {
        None: 'sum by (key, outcome) (rate(provider_total{job="sh"}[30s]))'}
    assert derived_queries(SignalSpec(metric="process_cpu_seconds_total", type="cpu"), 60, 2) \
        == {None: "100 * sum(rate(process_cpu_seconds_total[60s])) / 2"}
    hist = SignalSpec(metric="db_query_seconds", type="histogram", quantiles=[0.95])
    assert derived_queries(hist, 60, 1) == {
        0.95: "histogram_quantile(0.95, sum by (le) (rate(db_query_seconds_bucket[60s])))"}
    assert derived_queries(SignalSpec(query="up"), 60, 1) == {None: "up"}


@pytest.mark.asyncio
async def test_instant_and_range_queries(fake_server) -> None:  # type: ignore[no-untyped-def]
    def answer(request: web.Request) -> web.Response:
        if request.path == "/api/v1/query":
            return vector(({"outcome": "ok"}, "4.5"), ({"outcome": "quota"}, "NaN"))
        assert request.path == "/api/v1/query_range"
        assert request.query["step"] == "5"
        return web.json_response({"status": "success", "data": {"resultType": "matrix",
                                  "result": [{"metric": {}, "values": [[1.0, "2"], [6.0, "3"]]}]}})

    fake_server.answer = answer
    async with aiohttp.ClientSession() as session:
        client = PromQLClient(fake_server.url, session, {"Authorization": "Bearer t"})
        assert await client.query("rate(x[1m])", at=100.0) == [({"outcome": "ok"}, 4.5)]
        assert await client.query_range("x", 1.0, 6.0, 5.0) == [({}, [(1.0, 2.0), (6.0, 3.0)])]
    first = fake_server.requests[0]
    assert first.query["query"] == "rate(x[1m])" and first.query["time"] == "100.000"
    assert first.headers["Authorization"] == "Bearer t"


@pytest.mark.asyncio
@pytest.mark.parametrize("response", [
    web.json_response({"status": "error", "errorType": "bad_data", "error": "parse error"}),
    web.Response(text="not json"),
    web.json_response({"status": "success", "data": {"resultType": "string", "result": []}}),
])
async def test_errors_raise_telemetry_error(fake_server, response) -> None:  # type: ignore[no-untyped-def]
    fake_server.answer = lambda request: response
    async with aiohttp.ClientSession() as session:
        with pytest.raises(TelemetryError):
            await PromQLClient(fake_server.url, session).query("up")


@pytest.mark.asyncio
async def test_the_promql_source_feeds_samples_and_gaps(clocked, fake_server) -> None:  # type: ignore[no-untyped-def]
    spec = TelemetrySpec.model_validate({
        "sources": [{"name": "prom", "kind": "promql", "url": fake_server.url}],
        "signals": {"cpu_percent": {"metric": "process_cpu_seconds_total", "type": "cpu"},
                    "db_query_seconds": {"metric": "db_q", "type": "histogram",
                                         "quantiles": [0.95]},
                    "queue_depth": {"metric": "queue_depth"}}})

    def answer(request: web.Request) -> web.Response:
        q = request.query["query"]
        if "process_cpu" in q:
            return vector(({}, "42"))
        if "histogram_quantile" in q:
            return vector(({}, "0.031"))
        return vector()  # queue_depth: no data

    fake_server.answer = answer
    store = SignalStore()
    hook = TelemetryHook(spec, store, time_scale=1.0, base_url="http://127.0.0.1:1",
                         allowed_hosts=[], env={})
    hook._ctx, hook._sources = clocked.ctx, hook._build_sources()
    async with aiohttp.ClientSession() as session:
        hook._session = session
        clocked.now = 3.0
        await hook.scrape_once()
    assert store.latest("cpu_percent") == 42.0
    assert store.latest("db_query_p95_seconds") == 0.031
    assert store.in_gap("queue_depth")
    with clocked.read() as reader:
        gap = reader.events("telemetry_gap")[0]
    assert gap.data["signal"] == "queue_depth" and "no data" in gap.message
    assert json.loads(json.dumps(gap.data))  # JSON-ready
