"""The outbound sink: a catch-all HTTP endpoint on 127.0.0.1 for the target's outbound URLs.

During a run the target's e-mail, notification and webhook URLs point here (give it a
port up front, e.g. ``OutboundSink(port=free_port())``, to know ``url`` before the
target starts). Nothing should ever arrive: every hit is a data-safety violation,
recorded (method, path, size, a short body excerpt; headers are not kept: they may
carry the target's secrets) and answered 202 so the target does not retry.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

__all__ = ["OutboundHit", "OutboundSink"]

EXCERPT = 200


@dataclass(frozen=True)
class OutboundHit:
    wall: float
    method: str
    path: str
    size: int
    excerpt: str


class OutboundSink:
    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 on_hit: Callable[[OutboundHit], None] | None = None) -> None:
        self.host = host
        self.port = port
        self.hits: list[OutboundHit] = []
        self.on_hit = on_hit
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """Base URL (port 0 is resolved once started)."""
        return f"http://{self.host}:{self.port}"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        hit = OutboundHit(time.time(), request.method, request.path, len(body),
                          body[:EXCERPT].decode("utf-8", "replace"))
        self.hits.append(hit)
        if self.on_hit is not None:
            self.on_hit(hit)
        return web.Response(status=202, text="captured by perfgate's outbound sink\n")

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        await web.TCPSite(runner, self.host, self.port).start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
