"""Shared fixtures for perfgate tests: a real HTTP target on 127.0.0.1, port 0.

The target runs its own event loop in a thread so that code under test can run its
own loop (``asyncio.Runner``) or a subprocess can hit it over a real socket.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

TOKEN = "sh-test-fixture-token"


@dataclass
class ToyTarget:
    url: str
    seen: list[dict[str, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


async def _handle(target: ToyTarget, request: web.Request) -> web.Response:
    target.seen.append(dict(request.headers))
    target.paths.append(request.path)
    if request.headers.get("Authorization") != f"Bearer {TOKEN}":
        return web.Response(status=401)
    if request.path.startswith("/fail"):
        return web.Response(status=503)
    if request.path.startswith("/slow"):
        await asyncio.sleep(0.05)
    if request.body_exists:
        await request.read()
    return web.json_response({"ok": True, "path": request.path})


@contextmanager
def threaded_app(app: web.Application) -> Iterator[int]:
    """Serve ``app`` on 127.0.0.1:0 from a thread with its own loop; yield the port."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, web.AppRunner | int] = {}

    async def start() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        holder.update(runner=runner, port=runner.addresses[0][1])
        ready.set()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10), "test server did not start"
    try:
        port = holder["port"]
        assert isinstance(port, int)
        yield port
    finally:
        runner = holder["runner"]
        assert isinstance(runner, web.AppRunner)
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture
def app_server() -> Iterator[Callable[[web.Application], int]]:
    """``app_server(app) -> port``: real sockets for the test, stopped at its end."""
    with ExitStack() as stack:
        yield lambda app: stack.enter_context(threaded_app(app))


@pytest.fixture
def toy_target() -> Iterator[ToyTarget]:
    target = ToyTarget(url="")

    async def handler(request: web.Request) -> web.Response:
        return await _handle(target, request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    with threaded_app(app) as port:
        target.url = f"http://127.0.0.1:{port}"
        yield target


def toy_plan_text(url: str, *, warmup_s: float = 1.0, plateaus: tuple[tuple[float, float], ...]
                  = ((40, 2.0), (60, 2.0)), arrival: str = "uniform") -> str:
    stages = "\n".join(f"    - {{rps: {rps}, duration: {d}s}}" for rps, d in plateaus)
    return f"""\
name: toy
run_tag: toyrun
target:
  base_url: "{url}"
  headers: {{Authorization: "Bearer ${{TOY_TOKEN}}"}}
schedule:
  arrival: {arrival}
  seed: 3
  warmup: {{rps: 20, duration: {warmup_s}s}}
  plateaus:
{stages}
families:
  core: {{timeout: 2s}}
  ai: {{timeout: 5s}}
mix:
  reads:
    family: core
    weight: 70
    endpoints:
      - {{name: item, path: "/items/{{item_id}}", weight: 8}}
      - {{name: unauthorised, path: /private, weight: 1, expect: [401],
          headers: {{Authorization: "Bearer wrong"}}}}
      - {{name: broken, path: /fail, weight: 1, expect: [503]}}
  gen:
    family: ai
    weight: 30
    endpoints:
      - name: generate
        method: POST
        path: /slow/generate
        body: {{item_id: "{{item_id}}", text: "{{words}}"}}
params:
  item_id: {{int: [1, 100]}}
  words: {{words: {{min: 3, max: 6}}}}
engine:
  connections: 32
# preflight: a short generator self-test whose lag limit tolerates a loaded test machine
# (the self-test's own rule is tested in tests/perfgate/preflight)
preflight: {{capacity_duration: 0.5s, max_loop_lag_ms: 1000}}
"""


PlanFactory = Callable[..., Path]


@pytest.fixture
def make_toy_plan(tmp_path: Path, toy_target: ToyTarget,
                  monkeypatch: pytest.MonkeyPatch) -> PlanFactory:
    """``make_toy_plan(name, edit=lambda text: text, **toy_plan_text kwargs) -> Path``."""
    monkeypatch.setenv("TOY_TOKEN", TOKEN)

    def make(name: str = "toy", edit: Callable[[str], str] = lambda t: t,
             **kwargs: Any) -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(edit(toy_plan_text(toy_target.url, **kwargs)), encoding="utf-8")
        return path

    return make


@pytest.fixture
def toy_plan(make_toy_plan: PlanFactory) -> Path:
    return make_toy_plan()
