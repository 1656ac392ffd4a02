"""RawHttpTransport over real sockets: an aiohttp server and hand-written raw servers."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
import pytest_asyncio
import uvloop
from aiohttp import web

from perfgate.engine.client import (
    PreparedRequest,
    Response,
    TransportConnectError,
    TransportError,
    TransportTimeout,
)
from perfgate.engine.rawhttp import RawHeaders, RawHttpTransport

pytestmark = pytest.mark.integration

BIG = bytes(range(256)) * 20_000  # 5 MB, past the in-place limit
MEDIUM = b"m" * 300_000  # grows the read buffer, in place


@dataclass
class Site:
    base: str
    seen: list[web.Request] = field(default_factory=list)
    peers: list[object] = field(default_factory=list)


async def _start_site(site: Site) -> web.AppRunner:
    async def echo(request: web.Request) -> web.Response:
        site.seen.append(request)
        site.peers.append(request.transport.get_extra_info("peername")
                          if request.transport else None)
        body = await request.read()
        status = int(request.query.get("status", "200"))
        return web.Response(status=status, body=body or b"ok",
                            headers={"X-AI-Cost-USD": "0.0123", "X-Answer": "42"})

    async def chunked(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"X-Kind": "chunked"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        size = int(request.query.get("size", "0"))
        if size:
            for i in range(0, len(BIG[:size]), 65_536):
                await resp.write(BIG[i:min(i + 65_536, size)])
        else:
            for part in (b"alpha ", b"beta ", b"gamma"):
                await resp.write(part)
        await resp.write_eof()
        return resp

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=BIG if request.query.get("what") == "big" else MEDIUM)

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.query.get("s", "2")))
        return web.Response(text="late")

    async def close(request: web.Request) -> web.Response:
        site.peers.append(request.transport.get_extra_info("peername")
                          if request.transport else None)
        return web.Response(text="bye", headers={"Connection": "close"})

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/big", big)
    app.router.add_get("/slow", slow)
    app.router.add_get("/close", close)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    site.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    return runner


@pytest_asyncio.fixture
async def site() -> AsyncIterator[Site]:
    s = Site("")
    runner = await _start_site(s)
    yield s
    await runner.cleanup()


@pytest_asyncio.fixture
async def raw() -> AsyncIterator[RawHttpTransport]:
    t = RawHttpTransport(4)
    yield t
    await t.close()


def get(url: str, headers: dict[str, str] | None = None) -> PreparedRequest:
    return PreparedRequest("GET", url, dict(headers or {}))


RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def raw_server(handler: RawHandler) -> tuple[asyncio.Server, str]:
    """A hand-written HTTP server for the framing corner cases."""
    async def wrapped(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handler(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(wrapped, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


async def read_head(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


@pytest.mark.asyncio
async def test_get_and_post_send_what_they_should(site: Site, raw: RawHttpTransport) -> None:
    resp = await raw.request(PreparedRequest(
        "POST", site.base + "/echo?q=a%20b", {"X-Perf-Run": "r", "Content-Type": "text/plain"},
        b"payload"), 2.0)
    assert resp.status == 200 and resp.body == b"payload"
    assert resp.headers["x-answer"] == "42" and resp.headers["X-AI-COST-USD"] == "0.0123"
    assert "x-ai-cost-usd" in resp.headers and "nope" not in resp.headers
    got = site.seen[-1]
    assert got.headers["X-Perf-Run"] == "r" and got.query["q"] == "a b"
    assert got.headers["User-Agent"].startswith("perfgate/")
    assert got.headers["Host"] == site.base.removeprefix("http://")
    assert got.headers["Content-Length"] == "7"
    assert "Accept-Encoding" not in got.headers
    empty_post = await raw.request(PreparedRequest("POST", site.base + "/echo", {}), 2.0)
    assert empty_post.body == b"ok" and site.seen[-1].headers["Content-Length"] == "0"
    own = await raw.request(get(site.base + "/echo", {"user-agent": "me", "HOST": "x.test"}), 2)
    assert own.status == 200
    assert site.seen[-1].headers.getall("User-Agent") == ["me"]
    assert site.seen[-1].headers.getall("Host") == ["x.test"]


@pytest.mark.parametrize("status", [200, 201, 204, 302, 401, 404, 500, 503])
@pytest.mark.asyncio
async def test_statuses_are_answers(site: Site, raw: RawHttpTransport, status: int) -> None:
    resp = await raw.request(get(f"{site.base}/echo?status={status}"), 2.0)
    assert resp.status == status  # a 3xx is not followed
    assert resp.body == (b"" if status == 204 else b"ok")


@pytest.mark.asyncio
async def test_head_has_no_body(site: Site, raw: RawHttpTransport) -> None:
    resp = await raw.request(PreparedRequest("HEAD", site.base + "/big", {}), 2.0)
    assert resp.status == 200 and resp.body == b""
    assert resp.headers["Content-Length"] == str(len(MEDIUM))
    again = await raw.request(get(site.base + "/echo"), 2.0)  # the socket is still in sync
    assert again.body == b"ok" and raw.open_connections() == 1


@pytest.mark.asyncio
async def test_chunked_and_large_bodies(site: Site, raw: RawHttpTransport) -> None:
    small = await raw.request(get(site.base + "/chunked"), 2.0)
    assert small.body == b"alpha beta gamma" and small.headers["x-kind"] == "chunked"
    assert small.headers["Transfer-Encoding"] == "chunked"
    large = await raw.request(get(f"{site.base}/chunked?size={3_000_001}"), 5.0)
    assert large.body == BIG[:3_000_001]
    medium = await raw.request(get(site.base + "/big"), 5.0)
    assert medium.body == MEDIUM
    huge = await raw.request(get(site.base + "/big?what=big"), 5.0)
    assert huge.body == BIG
    after = await raw.request(get(site.base + "/echo"), 2.0)  # buffer shrinks back, in sync
    assert after.body == b"ok"
    assert raw.open_connections() == 1


@pytest.mark.asyncio
async def test_keep_alive_reuses_sockets_within_the_limit(site: Site) -> None:
    t = RawHttpTransport(2)
    try:
        for _ in range(10):
            assert (await t.request(get(site.base + "/echo"), 2.0)).status == 200
        assert len(set(site.peers)) == 1  # one socket, reused
        answers = await asyncio.gather(*(t.request(get(site.base + "/echo"), 2.0)
                                         for _ in range(20)))
        assert all(a.status == 200 for a in answers)
        assert len(set(site.peers)) == 2 and t.open_connections() == 2  # never more than 2
        assert t.pending == 0
    finally:
        await t.close()
    assert t.open_connections() == 0


@pytest.mark.asyncio
async def test_connection_close_from_the_server(site: Site, raw: RawHttpTransport) -> None:
    first = await raw.request(get(site.base + "/close"), 2.0)
    second = await raw.request(get(site.base + "/close"), 2.0)
    assert first.body == second.body == b"bye"
    assert len(set(site.peers)) == 2  # a new socket each time
    await asyncio.sleep(0.01)
    assert raw.open_connections() == 0


@pytest.mark.asyncio
async def test_timeouts_response_and_pool_wait(site: Site) -> None:
    t = RawHttpTransport(1)
    loop = asyncio.get_running_loop()
    try:
        started = loop.time()
        with pytest.raises(TransportTimeout) as info:
            await t.request(get(site.base + "/slow?s=2"), 0.1)
        assert 0.1 <= loop.time() - started < 0.3
        assert info.value.outcome.value == "timeout"
        # one socket busy with a slow answer: the next request waits for it, and times out
        busy = asyncio.ensure_future(t.request(get(site.base + "/slow?s=0.3"), 2.0))
        await asyncio.sleep(0.05)
        with pytest.raises(TransportTimeout):
            await t.request(get(site.base + "/echo"), 0.1)
        assert (await busy).body == b"late"
        assert (await t.request(get(site.base + "/echo"), 1.0)).body == b"ok"
        assert t.pending == 0
    finally:
        await t.close()


@pytest.mark.asyncio
async def test_connection_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = RawHttpTransport(2)
    try:
        results = await asyncio.gather(
            *(t.request(get(f"http://127.0.0.1:{port}/"), 2.0) for _ in range(5)),
            return_exceptions=True)
        assert all(isinstance(r, TransportConnectError) for r in results), results
        assert t.pending == 0 and t.open_connections() == 0
    finally:
        await t.close()


@pytest.mark.asyncio
async def test_idle_socket_closed_by_the_server_is_retried_for_get() -> None:
    count = 0

    async def once_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal count
        count += 1
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")  # no Connection: close
        await writer.drain()

    server, base = await raw_server(once_then_close)
    t = RawHttpTransport(1)
    loop = asyncio.get_running_loop()
    results: asyncio.Queue[tuple[Response | None, BaseException | None]] = asyncio.Queue()
    try:
        def second(response: Response | None, error: BaseException | None) -> None:
            results.put_nowait((response, error))
            for method in ("GET", "POST"):  # sent at once on the socket the server closes
                t.send(PreparedRequest(method, base + "/", {}), 2.0,
                       lambda r, e: results.put_nowait((r, e)))

        t.send(get(base + "/"), 2.0, second)
        got = [await asyncio.wait_for(results.get(), 2) for _ in range(3)]
        assert got[0][0] is not None and got[0][0].body == b"ok"
        outcomes = sorted(("ok" if r is not None else type(e).__name__) for r, e in got[1:])
        # the GET went again on a new socket; the POST may have reached the server: an error
        assert outcomes == ["TransportConnectError", "ok"]
        assert count == 2
    finally:
        await t.close()
        server.close()
        await server.wait_closed()
    assert loop.is_running()


@pytest.mark.asyncio
async def test_framing_corner_cases() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await read_head(reader)
            except asyncio.IncompleteReadError:
                return
            path = head.split(b" ")[1]
            if path == b"/continue":
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n"
                             b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone")
            elif path == b"/trickle":  # one byte at a time: every split point
                data = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a=1\r\n"
                        b"set-cookie: b=2\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n")
                for i in range(len(data)):
                    writer.write(data[i:i + 1])
                    await writer.drain()
                    await asyncio.sleep(0)
            elif path == b"/http10":  # no length: the body runs until the socket closes
                writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil eof")
                await writer.drain()
                return
            elif path == b"/garbage":
                writer.write(b"SMTP ready\r\n\r\n")
                await writer.drain()
                return

    server, base = await raw_server(handler)
    t = RawHttpTransport(1)
    try:
        cont = await t.request(get(base + "/continue"), 2.0)
        assert (cont.status, cont.body) == (200, b"done")
        trickle = await t.request(get(base + "/trickle"), 2.0)
        assert trickle.body == b"abc"
        assert trickle.headers["SET-COOKIE"] == "a=1, b=2"
        assert list(trickle.headers) == ["Transfer-Encoding", "Set-Cookie"]
        assert t.open_connections() == 1  # still the first socket
        http10 = await t.request(get(base + "/http10"), 2.0)
        assert (http10.status, http10.body) == (200, b"until eof")
        with pytest.raises(TransportError, match="malformed"):
            await t.request(get(base + "/garbage"), 2.0)
        assert t.pending == 0
    finally:
        await t.close()
        server.close()
        await server.wait_closed()


@pytest.mark.asyncio
async def test_header_injection_and_bad_urls_are_refused(raw: RawHttpTransport) -> None:
    with pytest.raises(TransportError, match="CR or LF"):
        await raw.request(get("http://127.0.0.1:9/", {"X-Evil": "a\r\nHost: b"}), 1.0)
    with pytest.raises(TransportError, match="authority"):
        await raw.request(get("http://user@127.0.0.1:9/"), 1.0)
    loop = asyncio.get_running_loop()
    got: asyncio.Future[BaseException | None] = loop.create_future()
    raw.send(get("http://127.0.0.1:9/", {"X-Evil": "a\nb"}), 1.0,
             lambda r, e: got.set_result(e))
    assert isinstance(await got, TransportError)


@pytest.mark.asyncio
async def test_https_goes_through_aiohttp(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = RawHttpTransport(1)
    try:
        with caplog.at_level(logging.WARNING, logger="perfgate.engine.rawhttp"):
            with pytest.raises(TransportConnectError):
                await t.request(get(f"https://127.0.0.1:{port}/"), 2.0)
            loop = asyncio.get_running_loop()
            got: asyncio.Future[BaseException | None] = loop.create_future()
            t.send(get(f"https://127.0.0.1:{port}/"), 2.0, lambda r, e: got.set_result(e))
            assert isinstance(await got, TransportConnectError)
        assert "https" in caplog.text
    finally:
        await t.close()


@pytest.mark.asyncio
async def test_cancel_and_close_leave_nothing_behind(site: Site) -> None:
    t = RawHttpTransport(2)
    task = asyncio.ensure_future(t.request(get(site.base + "/slow?s=5"), 10.0))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert t.pending == 0
    errors: list[BaseException | None] = []
    for _ in range(3):  # two on sockets, one waiting for a socket
        t.send(get(site.base + "/slow?s=5"), 10.0, lambda r, e: errors.append(e))
    await asyncio.sleep(0.05)
    await t.close()
    assert len(errors) == 3 and all(isinstance(e, TransportError) for e in errors)
    assert t.pending == 0 and t.open_connections() == 0
    again = await t.request(get(site.base + "/echo"), 2.0)  # usable after close
    assert again.body == b"ok"
    await t.close()


def test_under_uvloop() -> None:
    async def main() -> None:
        s = Site("")
        runner = await _start_site(s)
        t = RawHttpTransport(3)
        try:
            answers = await asyncio.gather(*(t.request(get(s.base + "/echo"), 2.0)
                                             for _ in range(30)))
            assert all(a.body == b"ok" for a in answers)
            assert (await t.request(get(s.base + "/chunked"), 2.0)).body == b"alpha beta gamma"
            assert (await t.request(get(s.base + "/big?what=big"), 5.0)).body == BIG
            with pytest.raises(TransportTimeout):
                await t.request(get(s.base + "/slow?s=1"), 0.05)
        finally:
            await t.close()
            await runner.cleanup()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())


def test_raw_headers_mapping() -> None:
    h = RawHeaders(b"Content-Type: text/plain\r\nX-A: 1\r\nx-a: 2\r\nX-Fold: a\r\n  b\r\nbad")
    assert h["content-type"] == "text/plain" and h["X-A"] == "1, 2" and h["x-fold"] == "a b"
    assert len(h) == 3 and list(h) == ["Content-Type", "X-A", "X-Fold"]
    assert h.get("missing") is None and "X-FOLD" in h
    assert "text/plain" in repr(h)


def test_rejects_bad_settings() -> None:
    with pytest.raises(ValueError):
        RawHttpTransport(0)
    with pytest.raises(ValueError):
        RawHttpTransport(1, timer_resolution_s=0)
