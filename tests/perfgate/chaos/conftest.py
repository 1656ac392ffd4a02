"""Chaos fixtures: a tiny HTTP upstream and a fake Toxiproxy API, each on 127.0.0.1:0 in
a thread with its own loop; a toy plan with a chaos fault."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web


@dataclass
class Server:
    url: str
    port: int
    state: dict[str, Any] = field(default_factory=dict)


def _serve(build: Callable[[dict[str, Any]], web.Application]) -> Iterator[Server]:
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}
    state: dict[str, Any] = {}

    async def start() -> None:
        runner = web.AppRunner(build(state), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        holder.update(runner=runner, port=runner.addresses[0][1])
        ready.set()

    def main() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield Server(f"http://127.0.0.1:{holder['port']}", holder["port"], state)
    finally:
        asyncio.run_coroutine_threadsafe(holder["runner"].cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def _upstream(state: dict[str, Any]) -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        state["hits"] = state.get("hits", 0) + 1
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/{tail:.*}", hello)
    return app


def _toxiproxy(state: dict[str, Any]) -> web.Application:
    """The parts of Toxiproxy's API the fault uses, in memory."""
    state["toxics"] = {}  # name -> toxic
    state["proxy"] = "llm"

    async def proxy(request: web.Request) -> web.Response:
        if request.match_info["proxy"] != state["proxy"]:
            return web.json_response({"error": "proxy not found"}, status=404)
        return web.json_response({"name": state["proxy"], "listen": "127.0.0.1:18100",
                                  "upstream": "127.0.0.1:8100", "enabled": True})

    async def list_toxics(request: web.Request) -> web.Response:
        return web.json_response(list(state["toxics"].values()))

    async def add_toxic(request: web.Request) -> web.Response:
        toxic = await request.json()
        if toxic["name"] in state["toxics"]:
            return web.json_response({"error": "toxic already exists"}, status=409)
        state["toxics"][toxic["name"]] = toxic
        return web.json_response(toxic)

    async def delete_toxic(request: web.Request) -> web.Response:
        if state["toxics"].pop(request.match_info["toxic"], None) is None:
            return web.json_response({"error": "toxic not found"}, status=404)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_get("/proxies/{proxy}", proxy)
    app.router.add_get("/proxies/{proxy}/toxics", list_toxics)
    app.router.add_post("/proxies/{proxy}/toxics", add_toxic)
    app.router.add_delete("/proxies/{proxy}/toxics/{toxic}", delete_toxic)
    return app


@pytest.fixture
def upstream() -> Iterator[Server]:
    yield from _serve(_upstream)


@pytest.fixture
def fake_toxiproxy() -> Iterator[Server]:
    yield from _serve(_toxiproxy)
