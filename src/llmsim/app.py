"""The FastAPI app factory.

``create_app(config)`` builds a fresh app whose whole state is one
:class:`llmsim.state.Simulator` on ``app.state.sim``; nothing is shared between
apps and nothing happens at import time.

Besides the routers (:mod:`llmsim.completions`, :mod:`llmsim.catalog`,
:mod:`llmsim.admin`) it serves ``GET /metrics`` (Prometheus text) and
``GET /healthz``, renders every error in OpenAI's shape (unknown routes and
validation errors included), and stamps each response with ``x-request-id``
(``req_<hex>``) and ``openai-processing-ms`` (time until the response started;
for a stream, its time to first byte).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from llmsim import __version__, admin, catalog, completions, errors
from llmsim.config import SimConfig
from llmsim.state import Simulator


class RequestContext:
    """Pure ASGI middleware (no buffering, so streams are untouched)."""

    def __init__(self, app: ASGIApp, clock: Callable[[], float]) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"req_{uuid.uuid4().hex}"
        scope.setdefault("state", {})["request_id"] = request_id
        start = self.clock()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["x-request-id"] = request_id
                headers["openai-processing-ms"] = str(int((self.clock() - start) * 1000))
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        message = f"Invalid URL ({request.method} {request.url.path})"
    else:
        message = str(exc.detail)
    return errors.render(
        errors.SimError(exc.status_code, message, type="invalid_request_error")
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    param = ".".join(loc) or None
    where = f"Invalid value for '{param}'" if param else "Invalid request body"
    return errors.render(errors.bad_request(f"{where}: {first.get('msg')}.", param=param))


def create_app(
    config: SimConfig | None = None,
    *,
    clock: Callable[[], float] | None = None,
    wall_clock: Callable[[], float] | None = None,
) -> FastAPI:
    """A new simulator app. ``clock`` (monotonic seconds, drives rate-limit windows and
    latency deadlines) and ``wall_clock`` (unix seconds, ledger timestamps) are for tests."""
    cfg = config if config is not None else SimConfig()
    sim = Simulator(
        cfg,
        clock=clock if clock is not None else time.monotonic,
        wall_clock=wall_clock if wall_clock is not None else time.time,
    )

    app = FastAPI(
        title="llmsim",
        version=__version__,
        description="OpenAI-compatible provider simulator",
        docs_url=None,
        redoc_url=None,
    )
    app.state.sim = sim
    app.add_middleware(RequestContext, clock=sim.clock)
    app.add_exception_handler(errors.SimError, errors.sim_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.include_router(completions.router)
    app.include_router(catalog.router)
    app.include_router(admin.router)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(sim.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
