"""Running the app on uvicorn: in the foreground (the CLI) or in a background thread
(tests, and anyone embedding the simulator in-process).

Both report the address uvicorn actually bound, so port ``0`` (any free port)
works.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import uvicorn
from fastapi import FastAPI

from llmsim.app import create_app
from llmsim.config import SimConfig
from llmsim.state import Simulator

ReadyCallback = Callable[[str, int], None]


class _Server(uvicorn.Server):
    """uvicorn's server, telling ``on_ready(host, port)`` once its socket listens."""

    def __init__(self, config: uvicorn.Config, on_ready: ReadyCallback | None = None) -> None:
        super().__init__(config)
        self._on_ready = on_ready
        self.bound: tuple[str, int] | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            sockname: Any = self.servers[0].sockets[0].getsockname()
            self.bound = (str(sockname[0]), int(sockname[1]))
            if self._on_ready is not None:
                self._on_ready(*self.bound)


def uvicorn_config(
    app: FastAPI, host: str, port: int, *, loop: str = "auto", log_level: str = "warning"
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop=loop,
        log_level=log_level,
        access_log=False,
        ws="none",  # no websockets: nothing to import, nothing to warn about
        lifespan="on",
        timeout_graceful_shutdown=5,
    )


def serve(
    app: FastAPI,
    host: str,
    port: int,
    *,
    on_ready: ReadyCallback | None = None,
    log_level: str = "warning",
) -> bool:
    """Serve in the foreground until SIGINT/SIGTERM; ``False`` if it never started
    (uvicorn logs why, e.g. the port is taken)."""
    server = _Server(uvicorn_config(app, host, port, log_level=log_level), on_ready)
    try:
        server.run()
    except SystemExit:  # uvicorn's way of saying it could not bind
        return False
    return server.started


class BackgroundServer:
    """The simulator on a real socket, in a daemon thread::

        with BackgroundServer(SimConfig(latency_scale=0.001)) as srv:
            client = openai.OpenAI(base_url=srv.base_url + "/v1", api_key="sk-sim-primary")
    """

    def __init__(
        self,
        config: SimConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        app: FastAPI | None = None,
        startup_timeout_s: float = 10.0,
    ) -> None:
        self.app = app if app is not None else create_app(config)
        self._server = _Server(uvicorn_config(self.app, host, port, loop="asyncio"))
        self._thread = threading.Thread(target=self._run, name="llmsim-server", daemon=True)
        self._startup_timeout_s = startup_timeout_s
        self._failure: BaseException | None = None

    @property
    def sim(self) -> Simulator:
        sim: Simulator = self.app.state.sim
        return sim

    @property
    def host(self) -> str:
        assert self._server.bound is not None, "server not started"
        return self._server.bound[0]

    @property
    def port(self) -> int:
        assert self._server.bound is not None, "server not started"
        return self._server.bound[1]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        try:
            self._server.run()
        except BaseException as exc:  # uvicorn exits with SystemExit when it cannot bind
            self._failure = exc

    def start(self) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout_s
        while self._server.bound is None:
            if not self._thread.is_alive():
                raise RuntimeError(f"llmsim failed to start: {self._failure!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("llmsim did not start in time")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
