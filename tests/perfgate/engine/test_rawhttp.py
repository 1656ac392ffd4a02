"""RawHttpTransport over real sockets (an aiohttp server and hand-written raw servers), and
the Shard's callback path that it enables (fake clock and fake transport, then sockets)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
import pytest_asyncio
import uvloop
from aiohttp import web

from perfgate.engine.build import build_shard
from perfgate.engine.client import (
    AiohttpTransport,
    CallbackTransport,
    PreparedRequest,
    Response,
    TransportConnectError,
    TransportError,
    TransportTimeout,
)
from perfgate.engine.mix import MixSampler, build_endpoints
from perfgate.engine.params import RequestFactory
from perfgate.engine.rawhttp import RawHeaders, RawHttpTransport, transport_for
from perfgate.engine.shard import Shard
from perfgate.engine.tags import Tagger
from perfgate.engine.timeline import Phase
from perfgate.metrics.outcome import Outcome
from perfgate.plan.loader import parse_plan
from perfgate.plan.models import Plan

pytestmark = pytest.mark.integration

Reader = Literal["buffered", "stream"]
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


@pytest.fixture(params=["buffered", "stream"])
def reader(request: pytest.FixtureRequest) -> Reader:
    """Both protocol flavours, whatever the loop."""
    return request.param  # type: ignore[no-any-return]


@pytest_asyncio.fixture
async def raw(reader: Reader) -> AsyncIterator[RawHttpTransport]:
    t = RawHttpTransport(4, reader=reader)
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
async def test_keep_alive_reuses_sockets_within_the_limit(site: Site, reader: Reader) -> None:
    t = RawHttpTransport(2, reader=reader)
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
async def test_timeouts_response_and_pool_wait(site: Site, reader: Reader) -> None:
    t = RawHttpTransport(1, reader=reader)
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
async def test_connection_refused(reader: Reader) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = RawHttpTransport(2, reader=reader)
    try:
        results = await asyncio.gather(
            *(t.request(get(f"http://127.0.0.1:{port}/"), 2.0) for _ in range(5)),
            return_exceptions=True)
        assert all(isinstance(r, TransportConnectError) for r in results), results
        assert t.pending == 0 and t.open_connections() == 0
    finally:
        await t.close()


@pytest.mark.asyncio
async def test_idle_socket_closed_by_the_server_is_retried_for_get(reader: Reader) -> None:
    count = 0

    async def once_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal count
        count += 1
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")  # no Connection: close
        await writer.drain()

    server, base = await raw_server(once_then_close)
    t = RawHttpTransport(1, reader=reader)
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
async def test_framing_corner_cases(reader: Reader) -> None:
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
    t = RawHttpTransport(1, reader=reader)
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
async def test_https_goes_through_aiohttp(caplog: pytest.LogCaptureFixture, reader: Reader
                                          ) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = RawHttpTransport(1, reader=reader)
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
async def test_cancel_and_close_leave_nothing_behind(site: Site, reader: Reader) -> None:
    t = RawHttpTransport(2, reader=reader)
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


@pytest.mark.parametrize("flavour", ["auto", "buffered"])
def test_under_uvloop(flavour: Literal["auto", "buffered"]) -> None:
    async def main() -> None:
        s = Site("")
        runner = await _start_site(s)
        t = RawHttpTransport(3, reader=flavour)
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
    h = RawHeaders(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A: 1\r\nx-a: 2\r\n"
                   b"X-Fold: a\r\n  b\r\nbad")
    assert h["content-type"] == "text/plain" and h["X-A"] == "1, 2" and h["x-fold"] == "a b"
    assert len(h) == 3 and list(h) == ["Content-Type", "X-A", "X-Fold"]
    assert h.get("missing") is None and "X-FOLD" in h
    assert "text/plain" in repr(h)


def test_rejects_bad_settings() -> None:
    with pytest.raises(ValueError):
        RawHttpTransport(0)
    with pytest.raises(ValueError):
        RawHttpTransport(1, timer_resolution_s=0)
    with pytest.raises(ValueError):
        RawHttpTransport(1, reader="fast")  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_waiters_time_out_each_at_its_own_deadline(site: Site, reader: Reader) -> None:
    t = RawHttpTransport(1, reader=reader)
    loop = asyncio.get_running_loop()
    started = loop.time()
    ended: dict[str, float] = {}

    async def timed(name: str, url: str, timeout: float) -> None:
        with pytest.raises(TransportTimeout):
            await t.request(get(url), timeout)
        ended[name] = loop.time() - started

    try:
        await asyncio.gather(timed("busy", site.base + "/slow?s=2", 0.3),
                             timed("long", site.base + "/echo", 0.2),
                             timed("short", site.base + "/echo", 0.08))
        assert 0.08 <= ended["short"] < 0.15 and 0.2 <= ended["long"] < 0.27
        assert 0.3 <= ended["busy"] < 0.37 and t.pending == 0
    finally:
        await t.close()


@pytest.mark.asyncio
async def test_transport_for_picks_by_plan_and_scheme(caplog: pytest.LogCaptureFixture) -> None:
    assert isinstance(transport_for("raw", 4, "http://127.0.0.1:8000"), RawHttpTransport)
    assert isinstance(transport_for("aiohttp", 4, "http://127.0.0.1:8000"), AiohttpTransport)
    with caplog.at_level(logging.WARNING, logger="perfgate.engine.rawhttp"):
        assert isinstance(transport_for("raw", 4, "https://127.0.0.1"), AiohttpTransport)
    assert "https" in caplog.text
    with pytest.raises(ValueError):
        transport_for("curl", 4)


# -- the Shard's callback path (no task per request) -------------------------------------


class CallbackFake:
    """A CallbackTransport answering with ``await handler(req)`` (a test double)."""

    def __init__(self, handler: Callable[[PreparedRequest], Awaitable[Response]]) -> None:
        self._handler = handler
        self._tasks: set[asyncio.Task[None]] = set()
        self.dones: list[Callable[[Response | None, BaseException | None], None]] = []

    async def request(self, req: PreparedRequest, timeout_s: float) -> Response:
        return await self._handler(req)

    def send(self, req: PreparedRequest, timeout_s: float,
             done: Callable[[Response | None, BaseException | None], None]) -> None:
        self.dones.append(done)

        async def run() -> None:
            try:
                response = await self._handler(req)
            except Exception as exc:
                done(None, exc)
            else:
                done(response, None)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks))


P1 = Phase("p1", 1, "plateau 1", 1.0, 0.0, 10.0, False)


def callback_shard(plan: Plan, transport: CallbackFake, sink: Any, times: list[float], *,
                   clock: Any = None, max_inflight: int = 100,
                   stop_grace_s: float = 1.0) -> Shard:
    refs = build_endpoints(plan)
    kwargs = {"clock": clock, "sleep_until": clock.sleep_until, "t0": 0.0} if clock else {}
    shard = Shard([(t, P1) for t in times], MixSampler(refs, random.Random(0)),
                  RequestFactory(plan, rng=random.Random(0)), Tagger(plan.run_tag, "t"),
                  transport, sink, max_inflight=max_inflight, stop_grace_s=stop_grace_s,
                  **kwargs)
    assert isinstance(transport, CallbackTransport)
    return shard


def index_of(req: PreparedRequest) -> int:
    return int(req.headers["X-Request-ID"].rsplit("-", 1)[1], 16) - 1


@pytest.mark.asyncio
async def test_callback_path_latency_is_from_the_intended_time(
        small_plan: Plan, sink: Any, fake_clock: Any) -> None:
    async def handler(req: PreparedRequest) -> Response:
        if index_of(req) == 1:
            await fake_clock.sleep(0.8)
        return Response(200, {})

    fake_clock.block(1.99, 2.2)  # the wake-up for t=2.0 comes at 2.2
    transport = CallbackFake(handler)
    shard = callback_shard(small_plan, transport, sink, [0.0, 1.0, 2.0, 3.0], clock=fake_clock)
    result = await fake_clock.run(shard.run(asyncio.Event()))
    assert (result.sent, result.completed, result.dropped) == (4, 4, 0)
    done = {round(t - lat / 1e6, 6): (lat, svc) for _, t, _, lat, svc in sink.done}
    assert done[1.0] == (800_000, 800_000)
    assert done[2.0] == (200_000, 0)  # sent late: latency, not service
    assert len(transport.dones) == 4


@pytest.mark.asyncio
async def test_callback_path_drops_at_the_cap_and_counts_outcomes(
        small_plan: Plan, sink: Any) -> None:
    release = asyncio.Event()

    async def handler(req: PreparedRequest) -> Response:
        i = index_of(req)
        await release.wait()
        if i == 0:
            raise TransportTimeout("slow")
        if i == 1:
            raise ValueError("transport bug")
        return Response([200, 401, 503][i % 3], {})

    loop = asyncio.get_running_loop()
    loop.call_later(0.1, release.set)
    transport = CallbackFake(handler)
    shard = callback_shard(small_plan, transport, sink, [0.0] * 8, max_inflight=5)
    result = await shard.run(asyncio.Event())
    assert (result.sent, result.dropped, result.completed) == (5, 3, 5)
    assert result.unexpected_errors == 1 and shard.live().inflight == 0
    assert sorted(d[2] for d in sink.done) == sorted([
        Outcome.TIMEOUT, Outcome.OTHER, Outcome.EXCLUDED, Outcome.HTTP_5XX, Outcome.OK])


@pytest.mark.asyncio
async def test_callback_path_stop_abandons_and_ignores_late_answers(
        small_plan: Plan, sink: Any) -> None:
    async def never(req: PreparedRequest) -> Response:
        await asyncio.Event().wait()
        raise AssertionError

    transport = CallbackFake(never)
    shard = callback_shard(small_plan, transport, sink, [i / 100 for i in range(1000)],
                           stop_grace_s=0.1)
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.2, stop.set)
    result = await shard.run(stop)
    assert result.stopped and 10 <= result.sent < 60
    assert result.abandoned == result.sent and result.completed == 0
    assert shard.live().inflight == 0
    transport.dones[0](Response(200, {}), None)  # an answer after the end: not counted
    assert sink.done == [] and shard.live().completed == 0 and shard.live().inflight == 0
    await transport.close()


@pytest.mark.asyncio
async def test_callback_path_sink_failure_stops_the_run(small_plan: Plan) -> None:
    class Broken:
        def sent(self, *args: object) -> None:
            pass

        def dropped(self, *args: object) -> None:
            pass

        def completed(self, *args: object) -> None:
            raise RuntimeError("sink broke")

    async def ok(req: PreparedRequest) -> Response:
        return Response(200, {})

    transport = CallbackFake(ok)
    shard = callback_shard(small_plan, transport, Broken(), [0.0, 0.01, 0.3])
    with pytest.raises(RuntimeError, match="sink broke"):
        await shard.run(asyncio.Event())
    await transport.close()


SOCKET_PLAN = """
name: it
run_tag: itest
target: {base_url: "http://placeholder"}
schedule:
  arrival: poisson
  seed: 3
  plateaus: [{rps: 800, duration: 500ms}]
families:
  core: {timeout: 2s}
mix:
  reads:
    family: core
    weight: 8
    endpoints: [{name: ok, path: "/echo", query: {n: "{n}"}}]
  odd:
    family: core
    weight: 2
    endpoints:
      - {name: unauth, path: /echo, query: {status: "401"}}
      - {name: boom, method: POST, path: /echo, query: {status: "500"}, body: {n: "{n}"}}
params:
  n: {int: [1, 100]}
"""


@pytest.mark.asyncio
async def test_shard_over_raw_sockets(site: Site, sink: Any) -> None:
    transport = RawHttpTransport(8)
    shard = build_shard(parse_plan(SOCKET_PLAN), transport=transport, sink=sink,
                        base_url=site.base, static_headers={"Authorization": "Bearer t"},
                        request_id_prefix="it-0")
    try:
        result = await shard.run(asyncio.Event())
    finally:
        await transport.close()
    assert result.dropped == 0 and result.completed == result.sent == len(site.seen) > 300
    assert len({r.headers["X-Request-ID"] for r in site.seen}) == result.sent
    assert all(r.headers["Authorization"] == "Bearer t" and r.headers["X-Perf-Run"] == "itest"
               and r.headers["traceparent"].startswith("00-") for r in site.seen)
    outcomes = Counter(d[2] for d in sink.done)
    statuses = Counter(r.query.get("status", "200") for r in site.seen)
    assert outcomes[Outcome.OK] == statuses["200"] and outcomes[Outcome.EXCLUDED] == statuses["401"]
    assert outcomes[Outcome.HTTP_5XX] == statuses["500"] > 0
    assert all(d[3] >= d[4] >= 0 for d in sink.done)  # latency >= service time
    assert len(set(site.peers)) <= 8


@pytest.fixture
def unanswered_port() -> Iterator[int]:
    """A port whose listen backlog is full: a connect to it hangs (SYN not answered)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        fillers = []
        try:
            for _ in range(4):
                c = socket.socket()
                c.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    c.connect(("127.0.0.1", port))
                fillers.append(c)
            yield port
        finally:
            for c in fillers:
                c.close()


@pytest.mark.asyncio
async def test_connect_timeout_and_close_while_connecting(unanswered_port: int) -> None:
    t = RawHttpTransport(2)
    url = f"http://127.0.0.1:{unanswered_port}/"
    try:
        with pytest.raises(TransportTimeout, match="connect"):
            await t.request(get(url), 0.1)
        errors: list[BaseException | None] = []
        t.send(get(url), 5.0, lambda r, e: errors.append(e))
        await asyncio.sleep(0.05)
        assert t.pending == 1 and errors == []
    finally:
        await t.close()
    assert len(errors) == 1 and isinstance(errors[0], TransportError)
    assert t.pending == 0
