from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web

from perfgate.engine.client import (
    AiohttpTransport,
    MockTransport,
    PreparedRequest,
    Response,
    TransportConnectError,
    TransportError,
    TransportTimeout,
)
from perfgate.metrics.outcome import Outcome


def test_error_tree_outcomes() -> None:
    assert TransportError.outcome is Outcome.OTHER
    assert TransportTimeout.outcome is Outcome.TIMEOUT
    assert TransportConnectError.outcome is Outcome.CONNECT
    assert issubclass(TransportTimeout, TransportError)
    assert issubclass(TransportConnectError, TransportError)


@pytest.mark.asyncio
async def test_mock_transport_answers_and_times_out() -> None:
    seen: list[PreparedRequest] = []

    async def handler(req: PreparedRequest) -> Response:
        seen.append(req)
        if req.url.endswith("/slow"):
            await asyncio.sleep(1)
        return Response(201, {"a": "b"}, b"hi")

    t = MockTransport(handler)
    resp = await t.request(PreparedRequest("GET", "http://x/fast", {}), 1.0)
    assert (resp.status, resp.body) == (201, b"hi")
    with pytest.raises(TransportTimeout):
        await t.request(PreparedRequest("GET", "http://x/slow", {}), 0.02)
    await t.close()
    assert t.closed and len(seen) == 2


@pytest_asyncio.fixture
async def server() -> AsyncIterator[tuple[str, list[web.Request]]]:
    seen: list[web.Request] = []

    async def echo(request: web.Request) -> web.Response:
        seen.append(request)
        body = await request.read()
        return web.Response(status=200, body=body or b"ok", headers={"X-Answer": "42"})

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.Response()

    async def redirect(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "/echo"})

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/slow", slow)
    app.router.add_get("/redirect", redirect)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}", seen
    await runner.cleanup()


@pytest.mark.integration
@pytest.mark.asyncio
async def test_aiohttp_transport_over_a_socket(server: tuple[str, list[web.Request]]) -> None:
    base, seen = server
    t = AiohttpTransport(4)
    try:
        resp = await t.request(PreparedRequest(
            "POST", base + "/echo?q=a%20b", {"X-Perf-Run": "r", "Content-Type": "text/plain"},
            b"payload"), 2.0)
        assert resp.status == 200 and resp.body == b"payload"
        assert resp.headers["x-answer"] == "42"  # case-insensitive
        got = seen[-1]
        assert got.headers["X-Perf-Run"] == "r" and got.query["q"] == "a b"
        assert got.headers["User-Agent"].startswith("perfgate/")
        assert "Accept-Encoding" not in got.headers
        redirect = await t.request(PreparedRequest("GET", base + "/redirect", {}), 2.0)
        assert redirect.status == 302  # not followed
        assert len(seen) == 1
        with pytest.raises(TransportTimeout):
            await t.request(PreparedRequest("GET", base + "/slow", {}), 0.1)
    finally:
        await t.close()


@pytest.mark.integration
@pytest.mark.asyncio
async def test_aiohttp_transport_connection_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = AiohttpTransport(1)
    try:
        with pytest.raises(TransportConnectError) as info:
            await t.request(PreparedRequest("GET", f"http://127.0.0.1:{port}/", {}), 2.0)
        assert info.value.outcome is Outcome.CONNECT
    finally:
        await t.close()


def test_aiohttp_transport_rejects_zero_connections() -> None:
    with pytest.raises(ValueError):
        AiohttpTransport(0)
