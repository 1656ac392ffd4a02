"""A fake run context on a real store, and an in-loop HTTP server whose answers a test
sets (a scrape target or a Prometheus API)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from perfgate.controller.hooks import RunContext
from perfgate.plan.loader import parse_plan
from perfgate.store.reader import RunReader
from perfgate.store.writer import RunWriter

PLAN = """
name: tele
run_tag: tele
target: {base_url: "http://127.0.0.1:9"}
schedule: {plateaus: [{rps: 1, duration: 10s}]}
families: {core: {}}
mix: {m: {family: core, weight: 1, endpoints: [{name: ping, path: /ping}]}}
"""


@dataclass
class Clocked:
    ctx: RunContext
    writer: RunWriter
    now: float = 0.0

    def read(self) -> RunReader:
        self.writer.commit()
        return RunReader(self.ctx.run_dir)


@pytest.fixture
def clocked(tmp_path: Path) -> Any:
    plan = parse_plan(PLAN)
    writer = RunWriter.create(tmp_path / "run", "run", "{}", {})
    holder: dict[str, Clocked] = {}
    ctx = RunContext(plan=plan, run_id="run", run_dir=tmp_path / "run", timeline=[],
                     time_scale=1.0, writer=writer, now=lambda: holder["c"].now,
                     abort=lambda r: None, fail=lambda p, w: None)
    c = holder["c"] = Clocked(ctx, writer)
    yield c
    writer.close("completed")


@dataclass
class FakeServer:
    url: str = ""
    answer: Callable[[web.Request], web.Response] = lambda r: web.Response(status=404)
    requests: list[web.Request] = field(default_factory=list)


@pytest_asyncio.fixture
async def fake_server() -> AsyncIterator[FakeServer]:
    server = FakeServer()

    async def handle(request: web.Request) -> web.Response:
        server.requests.append(request)
        return server.answer(request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    server.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield server
    await runner.cleanup()
