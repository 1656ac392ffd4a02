"""A raw HTTP/1.1 keep-alive client on ``asyncio.BufferedProtocol``: the fast ``Transport``.

Why: on one core aiohttp tops out near 15-20k requests per second; a protocol that
``recv_into``s a reused buffer and parses only what it must reaches the server's limit
(see ``bench/RESULTS.md``). What it does, and does not:

- One pool per ``host:port`` of at most ``connections`` sockets, reused last-in first-out
  (the warm ones stay warm); a request waits for a free socket when all are busy, and
  that wait counts toward its timeout. One request per socket at a time (no pipelining).
- Request: ``METHOD target HTTP/1.1``, ``Host``, ``User-Agent: perfgate/<version>``
  (unless the request sets them), the request's headers, ``Content-Length`` for a body.
  Headers are checked for CR/LF (no header injection).
- Response framing: ``Content-Length``, ``Transfer-Encoding: chunked`` (trailers
  dropped), or read-until-close; none for ``HEAD``, 1xx, 204 and 304. Interim 1xx
  responses are skipped. ``Connection: close`` (or HTTP/1.0 without keep-alive) closes
  the socket after the response. Bodies are returned as sent (no decompression),
  redirects are not followed (a 3xx is an answer).
- Response headers are a case-insensitive mapping, parsed on first access (framing
  reads only the three headers it needs), so the cost gate can read ``X-AI-*``.
- Errors (see ``perfgate.engine.client``): no answer within ``timeout_s`` (pool wait,
  connect and response together) is ``TransportTimeout``; refused, reset, DNS failure
  or a socket closed before the response is complete is ``TransportConnectError``; a
  malformed response is ``TransportError``. A socket that was idle in the pool and is
  found closed before any byte of the answer arrived is retried once on a new socket
  for idempotent methods (the keep-alive race every client has).
- Timeouts are checked by one sweep every ``timer_resolution_s`` (10 ms) instead of a
  timer per request, so a timeout fires between ``timeout_s`` and ``timeout_s`` plus
  the resolution.
- ``https://`` URLs are not spoken here: they go through an ``AiohttpTransport``
  created on first use (logged once at WARNING).

Two ways in: ``await request(req, timeout_s)`` (the ``Transport`` protocol) and
``send(req, timeout_s, done)``, which calls ``done(response, None)`` or
``done(None, error)`` from the event loop: no task and no future per request (the
``Shard`` uses it when it is available; see ``CallbackTransport``).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from typing import Final, Literal, cast

from perfgate import __version__
from perfgate.engine.client import (
    AiohttpTransport,
    PreparedRequest,
    Response,
    Transport,
    TransportConnectError,
    TransportError,
    TransportTimeout,
)

__all__ = ["RawHeaders", "RawHttpTransport", "transport_for"]

log = logging.getLogger(__name__)

Done = Callable[[Response | None, BaseException | None], None]

#: Read buffer per socket; it grows for a response that does not fit, and shrinks back.
BUFFER_SIZE: Final = 16 * 1024
_MIN_FREE: Final = 4 * 1024
_MAX_HEAD: Final = 64 * 1024
_STREAM_BUFFER: Final = 64 * 1024
_IN_PLACE_MAX: Final = 1024 * 1024  # larger known-length bodies are copied out as they come
_IDEMPOTENT: Final = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})
_HAS_HOST, _HAS_USER_AGENT, _HAS_LENGTH = 1, 2, 4

# parser states
_IDLE, _HEAD, _BODY, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILERS, _UNTIL_EOF = range(8)


class RawHeaders(Mapping[str, str]):
    """Response headers, case-insensitive, parsed from the raw header block on first use.

    Repeated fields are joined with ``", "``; iteration yields each name once, in the
    spelling of its first occurrence.
    """

    __slots__ = ("_fields", "_raw")

    def __init__(self, raw: bytes | bytearray) -> None:
        self._raw = raw  # the response head: status line, then CRLF-separated fields
        self._fields: dict[str, tuple[str, str]] | None = None

    def _parsed(self) -> dict[str, tuple[str, str]]:
        fields = self._fields
        if fields is None:
            fields = self._fields = {}
            last = ""
            for line in self._raw.decode("latin-1").split("\r\n")[1:]:
                if line[:1] in (" ", "\t") and last:  # obsolete line folding
                    name, value = fields[last]
                    fields[last] = (name, f"{value} {line.strip()}")
                    continue
                name, sep, value = line.partition(":")
                if not sep:
                    continue
                name, value = name.strip(), value.strip()
                last = name.lower()
                seen = fields.get(last)
                fields[last] = (seen[0], f"{seen[1]}, {value}") if seen else (name, value)
        return fields

    def __getitem__(self, key: str) -> str:
        return self._parsed()[key.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return iter([name for name, _ in self._parsed().values()])

    def __len__(self) -> int:
        return len(self._parsed())

    def __repr__(self) -> str:
        return f"RawHeaders({dict(self.items())!r})"


class _Exchange:
    """One request on its way: waiting for a socket, connecting, or on a socket."""

    __slots__ = ("created", "data", "deadline", "done", "finished", "future", "head_only",
                 "idempotent", "retried")

    def __init__(self, data: bytes, created: float, timeout_s: float, method: str) -> None:
        self.data = data
        self.created = created
        self.deadline = created + timeout_s
        self.head_only = method == "HEAD"
        self.idempotent = method in _IDEMPOTENT
        self.retried = False
        self.finished = False
        self.done: Done | None = None
        self.future: asyncio.Future[Response] | None = None


def _split_url(url: str) -> tuple[str, str]:
    """``http://netloc/path?q`` -> ``(netloc, "/path?q")``; ValueError when not http."""
    if url.startswith("http://"):  # the usual shape, quickly
        slash = url.find("/", 7)
        if slash > 7:
            netloc = url[7:slash]
            if "?" not in netloc and "@" not in netloc and "#" not in url:
                return netloc, url[slash:]
    if url[:7].lower() != "http://":
        raise ValueError(f"not an http:// URL: {url!r}")
    slash = url.find("/", 7)
    query = url.find("?", 7)
    if slash < 0 or 0 <= query < slash:
        end = query if query >= 0 else len(url)
        netloc, target = url[7:end], "/" + url[end:]
    else:
        netloc, target = url[7:slash], url[slash:]
    hash_at = target.find("#")
    if hash_at >= 0:
        target = target[:hash_at]
    if not netloc or "@" in netloc:
        raise ValueError(f"unsupported URL authority in {url!r}")
    return netloc, target


def _host_port(netloc: str) -> tuple[str, int]:
    if netloc.startswith("["):  # [v6]:port
        close = netloc.index("]")
        host, rest = netloc[1:close], netloc[close + 1:]
        return host, int(rest[1:]) if rest.startswith(":") else 80
    host, sep, port = netloc.rpartition(":")
    if sep and port.isdigit():
        return host, int(port)
    return netloc, 80


class _Conn(asyncio.BaseProtocol):
    """One keep-alive socket and its response parser (the two protocol flavours below)."""

    __slots__ = ("_transport", "body", "buf", "closed", "end", "ex", "got_bytes", "head",
                 "idle_since", "keep", "pool", "remaining", "reused", "scan", "start",
                 "state", "status")

    def __init__(self, pool: _Pool) -> None:
        self.pool = pool
        self._transport: asyncio.Transport | None = None
        self.buf = bytearray(BUFFER_SIZE)
        self.start = self.end = self.scan = 0
        self.state = _IDLE
        self.ex: _Exchange | None = None
        self.closed = False
        self.reused = False
        self.got_bytes = False
        self.idle_since = 0.0
        self.status = 0
        self.head: bytes | bytearray = b""
        self.keep = True
        self.remaining = 0
        self.body: bytearray | None = None

    # -- asyncio callbacks ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def _fast(self, data: bytes | bytearray, end: int) -> bool:
        """The fast path: ``data[:end]`` is one whole HTTP/1.1 2xx answer with a
        Content-Length and nothing after it (the common case). Answer it and return True;
        return False (having changed nothing) for anything else."""
        i = data.find(b"\r\n\r\n", 0, end)
        if i < 0 or data[:10] != b"HTTP/1.1 2" or data[12] != 32:  # 32: " "
            return False
        head = data[:i]
        low = head.lower()
        j = low.find(b"\r\ncontent-length:")
        if j < 0 or b"\r\ntransfer-encoding:" in low:
            return False
        k = low.find(b"\r\n", j + 17)
        try:
            length = int(low[j + 17:k] if k > 0 else low[j + 17:])
        except ValueError:
            return False
        ex = self.ex
        status = int(data[9:12])
        if i + 4 + length != end or status == 204 or ex is None or ex.head_only:
            return False
        c = low.find(b"\r\nconnection:")
        if c > 0:
            k = low.find(b"\r\n", c + 13)
            keep = b"close" not in (low[c + 13:k] if k > 0 else low[c + 13:])
        else:
            keep = True
        self.start = self.end = self.scan = 0
        self.ex = None
        response = Response(status, RawHeaders(head), bytes(data[i + 4:end]))
        pool = self.pool
        if keep and not self.closed:
            self.reused = True
            pool.release(self)
        else:
            self.close()
        pool.owner.finish(ex, response, None)
        return True

    def _received(self) -> None:
        try:
            self._parse()
        except (ValueError, IndexError) as exc:
            self._fail(TransportError(f"malformed HTTP response: {exc}"))

    def eof_received(self) -> bool:
        return False  # close our side too; connection_lost finishes the exchange

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        ex = self.ex
        self.ex = None
        self.pool.lost(self)
        if ex is None:
            return
        if self.state == _UNTIL_EOF:
            self._respond(ex, bytes(self.body or b""))
        elif not self.got_bytes and self.reused and ex.idempotent and not ex.retried:
            ex.retried = True
            self.pool.submit(ex)
        else:
            why = f"{type(exc).__name__}: {exc}" if exc else "server closed the connection"
            self.pool.owner.finish(ex, None, TransportConnectError(why))

    # -- requests -------------------------------------------------------------------------

    def begin(self, ex: _Exchange) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():  # the server is closing it: another
            self.pool.submit(ex)
            return
        self.ex = ex
        self.state = _HEAD
        self.got_bytes = False
        pool = self.pool
        if ex.deadline < pool.next_expiry:
            pool.next_expiry = ex.deadline
        transport.write(ex.data)

    def abort(self) -> None:
        self.ex = None
        if self._transport is not None and not self.closed:
            self._transport.abort()

    def close(self) -> None:
        if self._transport is not None and not self.closed:
            self._transport.close()

    def _fail(self, error: TransportError) -> None:
        ex = self.ex
        self.abort()
        if ex is not None:
            self.pool.owner.finish(ex, None, error)

    def _make_room(self, need: int = _MIN_FREE) -> None:
        """Compact, grow or shrink the read buffer so that ``need`` bytes fit after the
        data. Never called while a view of the buffer is lent out to the event loop."""
        start, end, buf = self.start, self.end, self.buf
        used = end - start
        want = used + max(need, _MIN_FREE)
        if self.state == _BODY and self.body is None:  # a known-length body, in place
            want = max(want, self.remaining + _MIN_FREE)
        elif self.state > _HEAD:  # streaming a body: read in bigger steps
            want = max(want, _STREAM_BUFFER)
        size = BUFFER_SIZE
        while size < want:
            size *= 2
        if size == len(buf):
            buf[:used] = buf[start:end]  # same length: an in-place move
        else:
            new = bytearray(size)
            new[:used] = buf[start:end]
            self.buf = new
        self.scan = max(0, self.scan - start)
        self.start, self.end = 0, used

    def _parse(self) -> None:
        buf = self.buf
        while True:
            state = self.state
            if state == _HEAD:
                i = buf.find(b"\r\n\r\n", self.scan, self.end)
                if i < 0:
                    if self.end - self.start > _MAX_HEAD:
                        raise ValueError("header block over 64 KiB")
                    self.scan = max(self.start, self.end - 3)
                    return
                self._head(bytes(buf[self.start:i]))
                self.start = self.scan = i + 4
            elif state == _BODY:
                start, avail, remaining = self.start, self.end - self.start, self.remaining
                if self.body is None:
                    if avail >= remaining:  # the usual case: all of it is here
                        self.start = start + remaining
                        self._complete(bytes(buf[start:start + remaining]))
                        return
                    if remaining <= _IN_PLACE_MAX:  # wait; get_buffer makes room for it
                        return
                    self.body = bytearray()
                take = min(avail, remaining)
                with memoryview(buf) as view:
                    self.body += view[start:start + take]
                self.start = start + take
                self.remaining = remaining - take
                if self.remaining:
                    return
                self._complete(bytes(self.body))
                return
            elif state == _CHUNK_SIZE:
                i = buf.find(b"\r\n", self.start, self.end)
                if i < 0:
                    if self.end - self.start > 4096:
                        raise ValueError("chunk size line too long")
                    return
                size = int(bytes(buf[self.start:i]).split(b";", 1)[0].strip(), 16)
                if size < 0:
                    raise ValueError("negative chunk size")
                self.start = i + 2
                if size == 0:
                    self.state = _TRAILERS
                else:
                    self.remaining = size
                    self.state = _CHUNK_DATA
            elif state == _CHUNK_DATA:
                take = min(self.end - self.start, self.remaining)
                if take == 0:
                    return
                assert self.body is not None
                with memoryview(buf) as view:
                    self.body += view[self.start:self.start + take]
                self.start += take
                self.remaining -= take
                if self.remaining == 0:
                    self.state = _CHUNK_END
            elif state == _CHUNK_END:
                if self.end - self.start < 2:
                    return
                if buf[self.start:self.start + 2] != b"\r\n":
                    raise ValueError("chunk data not followed by CRLF")
                self.start += 2
                self.state = _CHUNK_SIZE
            elif state == _TRAILERS:
                i = buf.find(b"\r\n", self.start, self.end)
                if i < 0:
                    return
                empty = i == self.start
                self.start = i + 2
                if empty:
                    assert self.body is not None
                    self._complete(bytes(self.body))
                    return
            elif state == _UNTIL_EOF:
                assert self.body is not None
                with memoryview(buf) as view:
                    self.body += view[self.start:self.end]
                self.start = self.end
                return
            else:
                return

    def _head(self, head: bytes) -> None:
        """Status line and framing headers of one response head (without the blank line)."""
        eol = head.find(b"\r\n")
        line = head if eol < 0 else head[:eol]
        if not line.startswith(b"HTTP/1.") or line[8:9] != b" ":
            raise ValueError(f"bad status line {line[:40]!r}")
        status = int(line[9:12])
        self.status = status
        self.head = head
        ex = self.ex
        assert ex is not None
        if 100 <= status < 200 and status != 101:  # interim: the real answer follows
            return
        low = head.lower()
        connection = _field(low, b"\r\nconnection:")
        if line.startswith(b"HTTP/1.0"):
            self.keep = connection is not None and b"keep-alive" in connection
        else:
            self.keep = connection is None or b"close" not in connection
        self.body = None
        if status == 101:
            self.keep = False
        if ex.head_only or status in (204, 304) or status < 200:
            self.state = _BODY
            self.remaining = 0
            return
        encoding = _field(low, b"\r\ntransfer-encoding:")
        if encoding is not None and b"chunked" in encoding:
            self.state = _CHUNK_SIZE
            self.body = bytearray()
            return
        length = _field(low, b"\r\ncontent-length:")
        if length is not None:
            self.remaining = int(length)
            if self.remaining < 0:
                raise ValueError("negative Content-Length")
            self.state = _BODY
            return
        self.state = _UNTIL_EOF
        self.keep = False
        self.body = bytearray()

    def _complete(self, body: bytes) -> None:
        ex = self.ex
        assert ex is not None
        if self.start == self.end:
            self.start = self.end = self.scan = 0
        else:  # bytes nobody asked for: this socket cannot be trusted again
            self.keep = False
        self.ex = None
        self.state = _IDLE
        self.body = None
        self._respond(ex, body)

    def _respond(self, ex: _Exchange, body: bytes) -> None:
        response = Response(self.status, RawHeaders(self.head), body)
        if self.keep and not self.closed:
            self.reused = True
            self.pool.release(self)
        else:
            self.close()
        self.pool.owner.finish(ex, response, None)


class _BufferedConn(_Conn, asyncio.BufferedProtocol):
    """For the asyncio loop: it ``recv_into``s our buffer (a plain Protocol would get a
    fresh 256 KiB bytes per read)."""

    __slots__ = ()

    def get_buffer(self, sizehint: int) -> memoryview:
        buf, end = self.buf, self.end
        if len(buf) - end < _MIN_FREE or (
                self.start == end and self.state <= _HEAD and len(buf) > BUFFER_SIZE):
            self._make_room()
            buf, end = self.buf, self.end
        return memoryview(buf)[end:]

    def buffer_updated(self, nbytes: int) -> None:
        end = self.end = self.end + nbytes
        if self.ex is None:  # nothing asked: a stray byte (or a 408) on an idle socket
            self.abort()
            return
        self.got_bytes = True
        if self.state == _HEAD and self.start == 0 and self._fast(self.buf, end):
            return
        self._received()


class _StreamConn(_Conn, asyncio.Protocol):
    """For uvloop, which hands over each read as an exact-size bytes cheaply: the usual
    answer is parsed straight from it, without a copy into the buffer."""

    __slots__ = ()

    def data_received(self, data: bytes) -> None:
        if self.ex is None:
            self.abort()
            return
        self.got_bytes = True
        n = len(data)
        if self.state == _HEAD and self.start == self.end and self._fast(data, n):
            return
        if len(self.buf) - self.end < n or (
                self.start == self.end and self.state <= _HEAD and len(self.buf) > BUFFER_SIZE):
            self._make_room(n)
        self.buf[self.end:self.end + n] = data
        self.end += n
        self._received()


def _field(low_head: bytes, name: bytes) -> bytes | None:
    """The value of a header in a lower-cased head (first occurrence), or None."""
    i = low_head.find(name)
    if i < 0:
        return None
    i += len(name)
    j = low_head.find(b"\r\n", i)
    return low_head[i:j if j >= 0 else len(low_head)].strip()


class _Pool:
    """The sockets to one ``host:port``: idle (LIFO), busy, connecting, and the queue."""

    __slots__ = ("conns", "count", "host", "idle", "limit", "next_expiry", "owner", "port",
                 "tasks", "waiters")

    def __init__(self, owner: RawHttpTransport, netloc: str, limit: int) -> None:
        self.owner = owner
        self.host, self.port = _host_port(netloc)
        self.limit = limit
        self.count = 0  # open or connecting
        self.conns: set[_Conn] = set()
        self.idle: list[_Conn] = []
        self.waiters: deque[_Exchange] = deque()
        self.tasks: set[asyncio.Task[None]] = set()
        self.next_expiry = math.inf  # no pending deadline is earlier than this

    def submit(self, ex: _Exchange) -> None:
        idle = self.idle
        while idle:
            conn = idle.pop()
            if conn.closed:
                continue
            if ex.created - conn.idle_since > self.owner.keepalive_s:
                conn.close()  # idle too long: the server may be closing it right now
                continue
            conn.begin(ex)
            return
        if self.count < self.limit:
            self._connect(ex)
        else:
            if ex.deadline < self.next_expiry:
                self.next_expiry = ex.deadline
            self.waiters.append(ex)

    def release(self, conn: _Conn) -> None:
        waiters = self.waiters
        while waiters:
            ex = waiters.popleft()
            if not ex.finished:
                conn.begin(ex)
                return
        conn.idle_since = self.owner.now()
        self.idle.append(conn)

    def lost(self, conn: _Conn) -> None:
        if conn in self.conns:
            self.conns.discard(conn)
            self.count -= 1
            if conn in self.idle:
                self.idle.remove(conn)
        self._kick()

    def _kick(self) -> None:
        """A slot came free: connect for the oldest live waiter."""
        waiters = self.waiters
        while waiters and self.count < self.limit:
            ex = waiters.popleft()
            if not ex.finished:
                self._connect(ex)

    def _connect(self, ex: _Exchange) -> None:
        self.count += 1
        task = asyncio.get_running_loop().create_task(self._open(ex))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _open(self, ex: _Exchange) -> None:
        loop = asyncio.get_running_loop()
        owner = self.owner
        try:
            async with asyncio.timeout_at(ex.deadline):
                _, conn = await loop.create_connection(owner.protocol(self), self.host,
                                                       self.port)
        except TimeoutError:
            self.count -= 1
            owner.finish(ex, None, TransportTimeout("connect timed out"))
            self._kick()
            return
        except OSError as exc:
            self.count -= 1
            owner.finish(ex, None, TransportConnectError(
                f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__))
            self._kick()
            return
        except BaseException:  # cancelled: the transport is closing
            self.count -= 1
            owner.finish(ex, None, TransportError("transport closed while connecting"))
            raise
        if conn.closed:  # lost before we got here: its slot is still ours
            self.count -= 1
            owner.finish(ex, None, TransportConnectError("connection closed at once"))
            self._kick()
            return
        self.conns.add(conn)
        if ex.finished:
            self.release(conn)
        else:
            conn.begin(ex)

    def expire(self, now: float) -> None:
        """Time out what is due. Scans only when the earliest deadline may have passed."""
        if now < self.next_expiry:
            return
        owner = self.owner
        busy = [c for c in self.conns if c.ex is not None]
        for conn in busy:
            ex = conn.ex
            if ex is not None and ex.deadline <= now:
                conn.abort()  # its answer, if it ever comes, must not be read as the next one
                owner.finish(ex, None, TransportTimeout("no response in time"))
        waiters = self.waiters
        if waiters:
            self.waiters = deque(ex for ex in waiters if ex.deadline > now and not ex.finished)
            for ex in waiters:
                if ex.deadline <= now:
                    owner.finish(ex, None, TransportTimeout("no free connection in time"))
        deadlines = [c.ex.deadline for c in busy if c.ex is not None]
        deadlines += [ex.deadline for ex in self.waiters]
        self.next_expiry = min(deadlines, default=math.inf)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.wait(list(self.tasks))
        owner = self.owner
        for ex in list(self.waiters):
            owner.finish(ex, None, TransportError("transport closed"))
        self.waiters.clear()
        for conn in list(self.conns):
            busy = conn.ex
            conn.abort()
            if busy is not None:
                owner.finish(busy, None, TransportError("transport closed"))
        self.idle.clear()


class RawHttpTransport:
    """Keep-alive HTTP/1.1 over raw sockets: ``connections`` sockets per ``host:port``.

    ``keepalive_s``: a socket idle for longer is closed instead of reused. The default (4 s)
    is below the usual server keep-alive timeouts (uvicorn and node 5 s, nginx 75 s), so a
    socket the server is about to close is not picked.
    ``timer_resolution_s``: how often timeouts are checked (see the module docstring).
    ``reader``: ``buffered`` (an ``asyncio.BufferedProtocol``: best on the asyncio loop),
    ``stream`` (an ``asyncio.Protocol``: best on uvloop) or ``auto`` (by the loop).
    """

    def __init__(self, connections: int, *, keepalive_s: float = 4.0,
                 timer_resolution_s: float = 0.01,
                 reader: Literal["auto", "buffered", "stream"] = "auto") -> None:
        if connections < 1:
            raise ValueError("connections must be >= 1")
        if not timer_resolution_s > 0:
            raise ValueError("timer_resolution_s must be > 0")
        if reader not in ("auto", "buffered", "stream"):
            raise ValueError(f"unknown reader {reader!r}")
        self._reader = reader
        self._connections = connections
        self.keepalive_s = keepalive_s
        self._resolution = timer_resolution_s
        self._pools: dict[str, _Pool] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self._pending = 0
        self._fallback: AiohttpTransport | None = None
        self._fallback_tasks: set[asyncio.Task[None]] = set()
        self._user_agent_line = f"User-Agent: perfgate/{__version__}\r\n"
        self._present: dict[tuple[str, ...], int] = {}

    # -- the Transport protocol -----------------------------------------------------------

    async def request(self, req: PreparedRequest, timeout_s: float) -> Response:
        loop = self._loop or self._bind()
        if req.url[:7].lower() != "http://":
            return await self._fallback_transport().request(req, timeout_s)
        netloc, ex = self._exchange(req, timeout_s, loop)
        future: asyncio.Future[Response] = loop.create_future()
        ex.future = future
        self._submit(netloc, ex)
        try:
            return await future
        except asyncio.CancelledError:
            self._cancel(ex)
            raise

    def send(self, req: PreparedRequest, timeout_s: float, done: Done) -> None:
        """Start ``req``; ``done(response, None)`` or ``done(None, error)`` is called later
        from the loop, never from inside this call."""
        loop = self._loop or self._bind()
        if req.url[:7].lower() != "http://":
            task = loop.create_task(self._fallback_send(req, timeout_s, done))
            self._fallback_tasks.add(task)
            task.add_done_callback(self._fallback_tasks.discard)
            return
        try:
            netloc, ex = self._exchange(req, timeout_s, loop)
        except TransportError as exc:
            loop.call_soon(done, None, exc)
            return
        ex.done = done
        pool = self._pools.get(netloc)
        if pool is None:
            pool = self._pools[netloc] = _Pool(self, netloc, self._connections)
        self._pending += 1
        if self._sweeper is None:
            self._sweeper = loop.call_later(self._resolution, self._sweep)
        pool.submit(ex)

    async def close(self) -> None:
        """Fail what is pending (``TransportError``), close every socket; reusable after."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.close()
        if pools:
            await asyncio.sleep(0)  # let the aborted sockets' connection_lost run
        self._loop = None  # the next request binds to its own loop
        for task in list(self._fallback_tasks):
            task.cancel()
        if self._fallback_tasks:
            await asyncio.wait(list(self._fallback_tasks))
        if self._fallback is not None:
            await self._fallback.close()
            self._fallback = None

    @property
    def pending(self) -> int:
        """Requests started and not yet answered."""
        return self._pending

    def open_connections(self) -> int:
        return sum(len(p.conns) for p in self._pools.values())

    # -- internals ------------------------------------------------------------------------

    def _bind(self) -> asyncio.AbstractEventLoop:
        loop = self._loop = asyncio.get_running_loop()
        return loop

    def protocol(self, pool: _Pool) -> Callable[[], _Conn]:
        reader = self._reader
        if reader == "auto":
            reader = "stream" if type(self._loop).__module__.startswith("uvloop") else "buffered"
        cls = _StreamConn if reader == "stream" else _BufferedConn
        return lambda: cls(pool)

    def now(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    def _exchange(self, req: PreparedRequest, timeout_s: float,
                  loop: asyncio.AbstractEventLoop) -> tuple[str, _Exchange]:
        """The request's bytes, in an exchange; TransportError when they cannot be made."""
        try:
            netloc, target = _split_url(req.url)
        except ValueError as exc:
            raise TransportError(str(exc)) from exc
        method, headers, body = req.method, req.headers, req.body
        keys = tuple(headers)
        present = self._present.get(keys)
        if present is None:
            present = self._learn(keys)
        extra = "" if present & _HAS_HOST else f"Host: {netloc}\r\n"
        if not present & _HAS_USER_AGENT:
            extra += self._user_agent_line
        if not present & _HAS_LENGTH and (body is not None or method in _BODY_METHODS):
            extra += f"Content-Length: {len(body) if body is not None else 0}\r\n"
        try:
            if headers:
                block = "\r\n".join(map(": ".join, headers.items()))
                head = f"{method} {target} HTTP/1.1\r\n{block}\r\n{extra}\r\n"
            else:
                head = f"{method} {target} HTTP/1.1\r\n{extra}\r\n"
            data = head.encode()
        except (TypeError, UnicodeEncodeError) as exc:
            raise TransportError(f"request head cannot be sent: {exc}") from exc
        # one CRLF per line and no other CR or LF: nothing smuggled in a header
        lines = 2 + len(keys) + extra.count("\n")
        if head.count("\n") != lines or head.count("\r") != lines:
            raise TransportError("CR or LF inside the request line or a header")
        if body:
            data += body
        return netloc, _Exchange(data, loop.time(), timeout_s, method)

    def _learn(self, keys: tuple[str, ...]) -> int:
        """Which of Host, User-Agent, Content-Length a header set has (cached per key set)."""
        lower = {k.lower() for k in keys}
        present = ((_HAS_HOST if "host" in lower else 0)
                   | (_HAS_USER_AGENT if "user-agent" in lower else 0)
                   | (_HAS_LENGTH if "content-length" in lower else 0))
        if len(self._present) < 1024:
            self._present[keys] = present
        return present

    def _submit(self, netloc: str, ex: _Exchange) -> None:
        pool = self._pools.get(netloc)
        if pool is None:
            pool = self._pools[netloc] = _Pool(self, netloc, self._connections)
        self._pending += 1
        if self._sweeper is None:
            assert self._loop is not None
            self._sweeper = self._loop.call_later(self._resolution, self._sweep)
        pool.submit(ex)

    def finish(self, ex: _Exchange, response: Response | None,
               error: BaseException | None) -> None:
        if ex.finished:
            return
        ex.finished = True
        self._pending -= 1
        future = ex.future
        if future is not None:
            if not future.done():
                if error is None:
                    future.set_result(response)  # type: ignore[arg-type]
                else:
                    future.set_exception(error)
            return
        done = ex.done
        assert done is not None
        try:
            done(response, error)
        except Exception as exc:  # the caller's bug must not break the socket
            assert self._loop is not None
            self._loop.call_exception_handler({
                "message": "exception in a RawHttpTransport done callback",
                "exception": exc})

    def _cancel(self, ex: _Exchange) -> None:
        if ex.finished:
            return
        ex.future = None
        ex.done = _ignore
        for pool in self._pools.values():
            for conn in pool.conns:
                if conn.ex is ex:
                    conn.abort()
        self.finish(ex, None, TransportError("cancelled"))

    def _sweep(self) -> None:
        assert self._loop is not None
        now = self._loop.time()
        for pool in list(self._pools.values()):
            pool.expire(now)
        self._sweeper = (self._loop.call_at(now + self._resolution, self._sweep)
                         if self._pending else None)

    def _fallback_transport(self) -> AiohttpTransport:
        if self._fallback is None:
            log.warning("RawHttpTransport speaks plain http only: https requests go through "
                        "aiohttp")
            self._fallback = AiohttpTransport(self._connections)
        return self._fallback

    async def _fallback_send(self, req: PreparedRequest, timeout_s: float, done: Done) -> None:
        try:
            response = await self._fallback_transport().request(req, timeout_s)
        except Exception as exc:
            done(None, exc)
        else:
            done(response, None)


def _ignore(response: Response | None, error: BaseException | None) -> None:
    return None


def transport_for(client: str, connections: int, base_url: str = "") -> Transport:
    """The transport a plan's ``engine.client`` asks for. ``raw`` against an https base URL
    is an ``AiohttpTransport`` (logged at WARNING): RawHttpTransport speaks plain http."""
    if client == "aiohttp":
        return AiohttpTransport(connections)
    if client != "raw":
        raise ValueError(f"unknown engine.client {client!r}: use raw or aiohttp")
    if base_url[:8].lower() == "https://":
        log.warning("engine.client is raw but the target is https: using aiohttp")
        return AiohttpTransport(connections)
    return RawHttpTransport(connections)
