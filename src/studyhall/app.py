"""The app factory: ``create_app(settings) -> FastAPI``. Nothing happens on import;
resources are opened by the app's lifespan and closed when it ends."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx2
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import TimeoutError as PoolTimeout

from studyhall.auth import require_token
from studyhall.middleware import RequestMetricsMiddleware
from studyhall.routes import admin, ai, apply_request_faults, courses, ops, students
from studyhall.services import Services
from studyhall.settings import Settings


def create_app(
    settings: Settings | None = None,
    *,
    provider_http_client: httpx2.AsyncClient | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> FastAPI:
    """``provider_http_client`` and ``clock`` are test seams (a fake provider transport,
    a fake clock for the breaker and key sidelining)."""
    sv = Services(settings or Settings(), provider_http_client=provider_http_client, clock=clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:  # close() also cleans up after a failed start (e.g. Redis down)
            await sv.start()
            yield
        finally:
            await sv.close()

    app = FastAPI(title="studyhall", version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    app.state.studyhall = sv
    api = [Depends(require_token), Depends(apply_request_faults)]
    for module in (students, courses, ai):
        app.include_router(module.router, dependencies=api)
    app.include_router(admin.public)
    app.include_router(admin.router)
    app.include_router(ops.router)

    @app.exception_handler(PoolTimeout)
    async def pool_exhausted(_request: Request, _exc: PoolTimeout) -> JSONResponse:
        return JSONResponse({"detail": "database pool exhausted"}, status_code=503,
                            headers={"Retry-After": "1"})

    app.add_middleware(RequestMetricsMiddleware, metrics=sv.metrics)
    return app
