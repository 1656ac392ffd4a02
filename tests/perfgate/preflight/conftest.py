"""Preflight fixtures: a fake provider (``GET /v1/models`` with limits and the project in
headers, keys mapped to projects as llmsim does) and a webhook sink, both on 127.0.0.1:0."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

KEYS = {"sk-a": "proj-a", "sk-b": "proj-b", "sk-also-a": "proj-a"}


@dataclass
class Server:
    url: str
    seen: list[Any] = field(default_factory=list)


def _provider(server: Server) -> web.Application:
    async def models(request: web.Request) -> web.Response:
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        server.seen.append(key)
        if key not in KEYS:
            return web.json_response({"error": {"code": "invalid_api_key"}}, status=401)
        return web.json_response({"object": "list", "data": []}, headers={
            "openai-project": KEYS[key], "x-ratelimit-limit-requests": "1000",
            "x-ratelimit-limit-tokens": "200000"})

    app = web.Application()
    app.router.add_get("/v1/models", models)
    return app


def _webhook(server: Server) -> web.Application:
    async def hook(request: web.Request) -> web.Response:
        server.seen.append(await request.json())
        return web.Response(text="ok")

    async def page(request: web.Request) -> web.Response:
        return web.Response(text="dashboard")

    app = web.Application()
    app.router.add_post("/{tail:.*}", hook)
    app.router.add_get("/{tail:.*}", page)
    return app


def _serve(app_server: Callable[[web.Application], int],
           build: Callable[[Server], web.Application]) -> Server:
    server = Server("")
    server.url = f"http://127.0.0.1:{app_server(build(server))}"
    return server


@pytest.fixture
def fake_provider(app_server: Callable[[web.Application], int]) -> Server:
    return _serve(app_server, _provider)


@pytest.fixture
def webhook_sink(app_server: Callable[[web.Application], int]) -> Server:
    return _serve(app_server, _webhook)
