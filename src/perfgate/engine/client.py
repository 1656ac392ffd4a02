"""The HTTP seam: a ``Transport`` sends one ``PreparedRequest`` and returns its ``Response``.

``AiohttpTransport`` is the real one (one keep-alive pool); ``MockTransport(handler)``
answers in-process, so the dispatcher is tested without sockets. A transport may also be
a ``CallbackTransport``: ``send(req, timeout_s, done)`` starts the request and returns at
once, and ``done(response, None)`` or ``done(None, error)`` is called later from the
event loop. The dispatcher then needs no task per request (``RawHttpTransport`` in
``perfgate.engine.rawhttp`` is one).

A request that gets no HTTP response raises a ``TransportError``, whose ``outcome``
says how it is counted::

    TransportError          Outcome.OTHER     (anything else: bad payload, protocol error)
    +-- TransportTimeout    Outcome.TIMEOUT   (the family's timeout, pool wait included)
    +-- TransportConnectError  Outcome.CONNECT  (refused, reset, DNS, server disconnected)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

import aiohttp
from yarl import URL

from perfgate import __version__
from perfgate.metrics.outcome import Outcome


@dataclass(slots=True)
class PreparedRequest:
    """A request ready to send: absolute, already-encoded URL; headers owned by the request."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None = None


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: Mapping[str, str]  # case-insensitive for AiohttpTransport
    body: bytes = b""


class TransportError(Exception):
    outcome: ClassVar[Outcome] = Outcome.OTHER


class TransportTimeout(TransportError):
    outcome: ClassVar[Outcome] = Outcome.TIMEOUT


class TransportConnectError(TransportError):
    outcome: ClassVar[Outcome] = Outcome.CONNECT


class Transport(Protocol):
    async def request(self, req: PreparedRequest, timeout_s: float) -> Response: ...

    async def close(self) -> None: ...


Done = Callable[[Response | None, BaseException | None], None]


@runtime_checkable
class CallbackTransport(Transport, Protocol):
    def send(self, req: PreparedRequest, timeout_s: float, done: Done) -> None:
        """Start ``req``; ``done`` is called exactly once, later, from the event loop."""
        ...


Handler = Callable[[PreparedRequest], Awaitable[Response]]


class MockTransport:
    """Answers with ``await handler(req)``; the timeout is applied as a real one would be."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self.closed = False

    async def request(self, req: PreparedRequest, timeout_s: float) -> Response:
        try:
            async with asyncio.timeout(timeout_s):
                return await self._handler(req)
        except TimeoutError as exc:
            raise TransportTimeout(f"no response within {timeout_s:g}s") from exc

    async def close(self) -> None:
        self.closed = True


class AiohttpTransport:
    """One ``aiohttp.ClientSession`` over a keep-alive pool of ``connections`` sockets.

    Sends exactly the request's headers plus ``User-Agent: perfgate/<version>`` (no
    automatic ``Accept-Encoding``, so bodies come back as the server sends them and are
    never decompressed), keeps no cookies, follows no redirects (a 3xx is an answer).
    The timeout is total: waiting for a pooled connection counts.
    """

    def __init__(self, connections: int, *, keepalive_s: float = 30.0) -> None:
        if connections < 1:
            raise ValueError("connections must be >= 1")
        self._connections = connections
        self._keepalive_s = keepalive_s
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._connections, limit_per_host=self._connections,
            keepalive_timeout=self._keepalive_s, ttl_dns_cache=300,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept"),
            headers={"User-Agent": f"perfgate/{__version__}"},
            timeout=aiohttp.ClientTimeout(total=None),
            raise_for_status=False,
            trust_env=False,
        )
        return self._session

    async def request(self, req: PreparedRequest, timeout_s: float) -> Response:
        session = self._session or self._open()
        timeout = self._timeouts.get(timeout_s)
        if timeout is None:
            timeout = self._timeouts[timeout_s] = aiohttp.ClientTimeout(total=timeout_s)
        try:
            async with session.request(
                req.method, URL(req.url, encoded=True), headers=req.headers, data=req.body,
                timeout=timeout, allow_redirects=False,
            ) as resp:
                body = await resp.read()
                return Response(resp.status, resp.headers, body)
        except TimeoutError as exc:  # also aiohttp's ServerTimeoutError
            raise TransportTimeout(f"no response within {timeout_s:g}s") from exc
        except (aiohttp.ClientConnectionError, OSError) as exc:
            raise TransportConnectError(str(exc) or type(exc).__name__) from exc
        except aiohttp.ClientError as exc:
            raise TransportError(str(exc) or type(exc).__name__) from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
