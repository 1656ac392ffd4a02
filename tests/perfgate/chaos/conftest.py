"""Chaos fixtures: a tiny HTTP upstream and a fake Toxiproxy API, each on 127.0.0.1:0 in
a thread with its own loop; a toy plan with a chaos fault."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web


@dataclass
class Server:
    url: str
    port: int
    state: dict[str, Any] = field(default_factory=dict)


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


def _serve(app_server: Callable[[web.Application], int],
           build: Callable[[dict[str, Any]], web.Application]) -> Server:
    state: dict[str, Any] = {}
    port = app_server(build(state))
    return Server(f"http://127.0.0.1:{port}", port, state)


@pytest.fixture
def upstream(app_server: Callable[[web.Application], int]) -> Server:
    return _serve(app_server, _upstream)


@pytest.fixture
def fake_toxiproxy(app_server: Callable[[web.Application], int]) -> Server:
    return _serve(app_server, _toxiproxy)
