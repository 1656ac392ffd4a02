"""Run an ASGI app with uvicorn inside the current event loop (CLI and tests).

``running(app, port=0)`` serves until the ``async with`` block ends and yields the base
URL with the port actually bound, so tests and ``perfgate demo`` can use ephemeral ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn


class Server(uvicorn.Server):
    """uvicorn's server without its signal capture (uvicorn re-raises a captured SIGTERM
    after shutting down, so the process would die of it instead of exiting 0); the
    CLI installs its own handlers with ``install_signal_handlers``."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def install_signal_handlers(self, loop: asyncio.AbstractEventLoop) -> None:
        def stop() -> None:
            if self.should_exit:
                self.force_exit = True
            self.should_exit = True

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)


def bound_url(server: uvicorn.Server, host: str) -> str:
    sock = server.servers[0].sockets[0]
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


@asynccontextmanager
async def running(
    app: Any, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning",
    startup_timeout_s: float = 30.0,
) -> AsyncIterator[str]:
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False,
                            lifespan="on")
    server = Server(config)
    task = asyncio.create_task(server.serve())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + startup_timeout_s
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn exited during startup")
            if loop.time() > deadline:
                raise TimeoutError(f"server did not start within {startup_timeout_s}s")
            await asyncio.sleep(0.01)
        yield bound_url(server, host)
    finally:
        server.should_exit = True
        await task
