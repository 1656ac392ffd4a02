"""perfgate's own lossy TCP proxy: the chaos probe for users without root.

The target's provider base URL points at the proxy for the whole run; outside a fault
it forwards bytes both ways untouched. During a fault every chunk read from either
side is *lost* with probability ``loss``; a lost chunk black-holes its connection: no
further byte is forwarded either way (both sides are still read, so neither blocks)
until the client gives up (its timeout) or the fault ends, when the proxy resets
the connection.

**How this approximates packet loss.** Real loss is per packet and TCP retransmits it:
a 20% loss mostly adds retransmission delays (200 ms and more, doubling), and
a connection fails only when retransmits keep being lost past the client's timeout.
The proxy cannot drop a packet inside a TCP stream without corrupting it, so it turns
a loss into a stall of the whole connection: each request (and each chunk of a
streamed answer) meets the loss probability once, and a loss always costs the
client's full timeout. Per request the failure share is therefore at least ``loss``
(more for long streams), and latency is bimodal rather than smeared: a harsher, but
deterministic and root-free, test of the breaker. Use ``iptables`` for real loss.

The proxy runs its own event loop in a daemon thread, so forwarding never adds lag to
the load generator's loop; ``loss`` is a float the controller's thread sets.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import threading
from typing import Any

from perfgate.chaos.fault import ChaosError, FaultEnv, Outcome
from perfgate.chaos.spec import FaultSpec, host_port

__all__ = ["LossyProxy", "ProxyFault"]

CHUNK = 64 * 1024


class _Conn:
    __slots__ = ("client", "stalled", "upstream")

    def __init__(self, client: asyncio.StreamWriter, upstream: asyncio.StreamWriter) -> None:
        self.client, self.upstream = client, upstream
        self.stalled = False


class LossyProxy:
    def __init__(self, listen: tuple[str, int], upstream: tuple[str, int], seed: int = 0
                 ) -> None:
        self.listen, self.upstream = listen, upstream
        self.loss = 0.0
        self._rng = random.Random(seed)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._conns: set[_Conn] = set()
        self.stats = {"connections": 0, "chunks": 0, "lost_chunks": 0, "stalled": 0,
                      "reset": 0, "upstream_errors": 0}

    # -- lifecycle (any thread) ---------------------------------------------------------

    def start(self, timeout_s: float = 5.0) -> None:
        ready = threading.Event()
        failure: list[BaseException] = []

        def main() -> None:
            loop = self._loop = asyncio.new_event_loop()
            try:
                self._server = loop.run_until_complete(asyncio.start_server(
                    self._handle, self.listen[0], self.listen[1], reuse_address=True))
            except OSError as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._shutdown())
            loop.close()

        self._thread = threading.Thread(target=main, name="perfgate-chaos-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(timeout_s) or failure:
            raise ChaosError(f"proxy cannot listen on {self.listen[0]}:{self.listen[1]}: "
                             f"{failure[0] if failure else 'timeout'}")

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    def heal(self) -> None:
        """End the fault: loss 0, and reset every black-holed connection."""
        self.loss = 0.0
        if self._loop is not None and self._loop.is_running():
            done = threading.Event()

            def reset() -> None:
                for conn in [c for c in self._conns if c.stalled]:
                    self._abort(conn)
                    self._conns.discard(conn)  # gone now, whenever its pumps notice
                    self.stats["reset"] += 1
                done.set()

            self._loop.call_soon_threadsafe(reset)
            done.wait(5.0)

    def stalled(self) -> int:
        return sum(1 for c in list(self._conns) if c.stalled)

    def stop(self) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5.0)

    # -- the proxy's own loop -----------------------------------------------------------

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self._conns):
            self._abort(conn)
        # connection handlers still pending: cancel and wait, so none outlives the loop
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @staticmethod
    def _abort(conn: _Conn) -> None:
        for w in (conn.client, conn.upstream):
            with contextlib.suppress(Exception):
                w.transport.abort()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                      ) -> None:
        self.stats["connections"] += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            self.stats["upstream_errors"] += 1
            writer.transport.abort()
            return
        conn = _Conn(writer, up_writer)
        self._conns.add(conn)
        try:
            await asyncio.gather(self._pump(reader, up_writer, conn),
                                 self._pump(up_reader, writer, conn))
        finally:
            self._conns.discard(conn)
            self._abort(conn)

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, conn: _Conn
                    ) -> None:
        while True:
            try:
                data = await src.read(CHUNK)
            except (ConnectionError, OSError):
                data = b""
            if not data:
                if conn.stalled:  # one side gave up on a black hole: drop the other too
                    self._abort(conn)
                else:
                    with contextlib.suppress(Exception):
                        dst.write_eof()
                return
            self.stats["chunks"] += 1
            loss = self.loss
            if not conn.stalled and loss > 0 and self._rng.random() < loss:
                conn.stalled = True
                self.stats["lost_chunks"] += 1
                self.stats["stalled"] += 1
            if conn.stalled:
                continue  # read and discard: the connection is a black hole now
            dst.write(data)
            try:
                await dst.drain()
            except (ConnectionError, OSError):
                return


class ProxyFault:
    kind = "proxy"

    def __init__(self, name: str, listen: tuple[str, int], upstream: tuple[str, int],
                 loss: float, seed: int = 0) -> None:
        self.name, self.loss = name, loss
        self.lock = threading.Lock()
        self.proxy = LossyProxy(listen, upstream, seed)

    @classmethod
    def from_spec(cls, spec: FaultSpec, fenv: FaultEnv) -> ProxyFault:
        assert spec.proxy is not None and spec.egress is not None
        return cls(spec.name, host_port(spec.proxy.listen), host_port(spec.egress), spec.loss,
                   spec.proxy.seed)

    def prepare(self) -> None:
        self.proxy.start()

    def apply(self) -> dict[str, Any]:
        with self.lock:
            self.proxy.loss = self.loss
            return {"proxy": f"{self.proxy.listen[0]}:{self.proxy.port}",
                    "upstream": f"{self.proxy.upstream[0]}:{self.proxy.upstream[1]}",
                    "loss": self.loss}

    def revert(self) -> dict[str, Any]:
        with self.lock:
            self.proxy.heal()
            return {"stats": dict(self.proxy.stats)}

    def verify(self) -> Outcome:
        left = self.proxy.stalled()
        return Outcome(self.proxy.loss == 0 and left == 0,
                       {"loss": self.proxy.loss, "stalled_connections": left})

    def record(self) -> dict[str, Any]:
        # In-process: a killed perfgate takes the proxy (and its fault) with it.
        return {"kind": self.kind, "name": self.name,
                "listen": f"{self.proxy.listen[0]}:{self.proxy.listen[1]}"}

    def close(self) -> None:
        self.proxy.stop()


def listen_free(host: str, port: int) -> bool:
    """Can a proxy listen on host:port (nothing else bound there)?"""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True
