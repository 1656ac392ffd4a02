"""The whole engine over real sockets against an in-process aiohttp server at port 0."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web

from perfgate.engine.build import build_shard
from perfgate.engine.client import AiohttpTransport
from perfgate.engine.looplag import LoopLagMonitor
from perfgate.metrics.outcome import Outcome
from perfgate.plan.loader import parse_plan

if TYPE_CHECKING:
    FakeSink = Any

PLAN = """
name: it
run_tag: itest
target: {base_url: "http://placeholder"}
schedule:
  arrival: uniform
  seed: 11
  warmup: {rps: 200, duration: 500ms}
  plateaus: [{rps: 200, duration: 1s}]
families:
  core: {timeout: 2s}
mix:
  reads:
    family: core
    weight: 8
    endpoints: [{name: ok, path: "/ok/{n}"}]
  odd:
    family: core
    weight: 2
    endpoints:
      - {name: unauth, path: /unauth}
      - {name: boom, method: POST, path: /boom, body: {n: "{n}"}}
params:
  n: {int: [1, 100]}
"""

TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-01$")


@pytest.mark.integration
@pytest.mark.asyncio
async def test_uniform_200_rps_over_sockets(sink: FakeSink) -> None:
    seen: list[dict[str, str]] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append({**request.headers, "path": request.path})
        if request.path == "/unauth":
            return web.Response(status=401)
        if request.path == "/boom":
            assert isinstance((await request.json())["n"], int)
            return web.Response(status=500)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"

    transport = AiohttpTransport(16)
    shard = build_shard(parse_plan(PLAN), transport=transport, sink=sink, base_url=base,
                        static_headers={"Authorization": "Bearer test"},
                        request_id_prefix="it-0")
    lag = LoopLagMonitor()
    lag.start()
    started = time.monotonic()
    try:
        result = await shard.run(asyncio.Event())
    finally:
        await lag.stop()
        await transport.close()
        await runner.cleanup()
    took = time.monotonic() - started

    assert took < 2.5
    assert abs(result.sent - 300) <= 2 and result.dropped == 0
    assert result.completed == result.sent == len(seen) and result.abandoned == 0
    # the rate was held: ~100 sends per half second
    per_half = Counter(int(t / 0.5) for _, t in sink.sent_at)
    assert all(abs(per_half[i] - 100) <= 3 for i in range(3)), per_half
    assert lag.snapshot_and_reset().p99_us < 50_000

    # tags on the server side
    assert Counter(h["X-Perf-Plateau"] for h in seen) == {"p0": 100, "p1": 200}
    assert all(h["X-Perf-Run"] == "itest" for h in seen)
    assert all(h["baggage"] == f"perf.run=itest,perf.plateau={h['X-Perf-Plateau']}"
               for h in seen)
    assert all(TRACEPARENT.match(h["traceparent"]) for h in seen)
    assert len({h["X-Request-ID"] for h in seen}) == len(seen)
    assert all(h["Authorization"] == "Bearer test" for h in seen)

    # outcomes: 401 excluded, 500 counted as 5xx, per key
    by_path = Counter(h["path"].split("/")[1] for h in seen)
    outcomes = Counter(d[2] for d in sink.done)
    assert outcomes[Outcome.EXCLUDED] == by_path["unauth"] > 0
    assert outcomes[Outcome.HTTP_5XX] == by_path["boom"] > 0
    assert outcomes[Outcome.OK] == by_path["ok"] > 0
    keys = {d[0] for d in sink.done}
    assert ("p1", "core", "odd", "boom") in keys and ("p0", "core", "reads", "ok") in keys
    assert all(d[3] >= d[4] >= 0 for d in sink.done)  # latency >= service time
