"""CPU cost of the engine per request, without the network: microseconds per request.

The real ``build_shard`` + ``Shard`` + ``Recorder`` (windows closed every second) run a
schedule faster than they can (overloaded on purpose, so the loop is never idle; the
in-flight cap is lifted so that nothing is dropped and every arrival is a request),
against a transport that answers at once:

- ``mock``: ``MockTransport`` (the task-per-request path; what the brief's "~20 us per
  request with MockTransport" measured);
- ``raw``: ``RawHttpTransport`` with its sockets replaced by an in-memory fake that feeds
  a canned nginx answer (197-byte body) back into the protocol: serialisation, parsing,
  pooling and the callback path, with no syscalls.

CPU time (``os.times``, user + system) divided by completed requests, on the plain
asyncio loop (uvloop's loop cannot be given fake sockets). Lower is better; syscalls and
the server are what the socket benchmark adds on top.

    python bench/engine_overhead.py [--transport raw|mock] [--rate 40000] [--seconds 3]

``--transport mock`` needs nothing newer than the engine's first version: run it with
``PYTHONPATH=<an older checkout>/src`` to compare the hot path across commits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from perfgate_peer import _series_key, apply_gc_mode, make_plan

from perfgate.engine.build import build_shard
from perfgate.engine.client import MockTransport, PreparedRequest, Response, Transport
from perfgate.metrics.recorder import Recorder

NGINX_ANSWER = (
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Fri, 27 Nov 2026 23:18:23 GMT\r\n"
    b"Content-Type: text/html\r\nContent-Length: 197\r\n"
    b"Last-Modified: Fri, 27 Nov 2026 22:55:00 GMT\r\nConnection: keep-alive\r\n"
    b'ETag: "6568b8d4-c5"\r\nAccept-Ranges: bytes\r\n\r\n' + b"x" * 197
)


class _FakeSocket(asyncio.Transport):
    """Answers every write with NGINX_ANSWER on the next loop iteration."""

    def __init__(self, protocol: asyncio.BufferedProtocol, loop: asyncio.AbstractEventLoop
                 ) -> None:
        super().__init__()
        self._protocol = protocol
        self._loop = loop
        self._closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._loop.call_soon(self._answer)

    def _answer(self) -> None:
        if self._closing:
            return
        view = memoryview(self._protocol.get_buffer(-1))
        view[:len(NGINX_ANSWER)] = NGINX_ANSWER
        self._protocol.buffer_updated(len(NGINX_ANSWER))

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        self.abort()

    def abort(self) -> None:
        if not self._closing:
            self._closing = True
            self._loop.call_soon(self._protocol.connection_lost, None)


def _fake_connections(loop: asyncio.AbstractEventLoop) -> None:
    async def create_connection(factory: Callable[[], asyncio.BufferedProtocol],
                                *args: Any, **kwargs: Any) -> tuple[_FakeSocket, Any]:
        protocol = factory()
        sock = _FakeSocket(protocol, loop)
        protocol.connection_made(sock)
        return sock, protocol

    loop.create_connection = create_connection  # type: ignore[assignment,method-assign]


async def _ok(req: PreparedRequest) -> Response:
    return Response(200, {}, b"x" * 197)


async def run(transport_name: str, seconds: float, rate: float, gc_mode: str
              ) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    transport: Transport
    if transport_name == "raw":
        from perfgate.engine.rawhttp import RawHttpTransport

        _fake_connections(loop)
        transport = RawHttpTransport(50)
    else:
        transport = MockTransport(_ok)
    plan = make_plan("http://127.0.0.1:8080/", rate, seconds, 0, "uniform", 50, 10_000_000,
                     60.0, "asyncio")
    recorder = Recorder()
    shard = build_shard(plan, transport=transport, sink=recorder, key_for=_series_key,
                        request_id_prefix="bench-0")
    apply_gc_mode(shard, gc_mode)
    stop = asyncio.Event()
    task = loop.create_task(shard.run(stop))
    before = os.times()
    second = 1
    while not task.done():
        await asyncio.wait({task}, timeout=1.0)
        recorder.close_before(second)
        second += 1
    after = os.times()
    result = task.result()
    await transport.close()
    recorder.close_all()
    cpu = (after.user - before.user) + (after.system - before.system)
    return {"transport": transport_name, "completed": result.completed,
            "dropped": result.dropped, "cpu_s": round(cpu, 3),
            "us_per_request": round(cpu / result.completed * 1e6, 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--transport", choices=["raw", "mock"], default="raw")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rate", type=float, default=100_000.0,
                    help="scheduled rate; above what one core completes")
    ap.add_argument("--gc", choices=["engine", "nofreeze"], default="engine")
    args = ap.parse_args()
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        out = runner.run(run(args.transport, args.seconds, args.rate, args.gc))
    out["gc"] = args.gc
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
