"""``GET /healthz`` (DB round trip) and ``GET /metrics`` (Prometheus text)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from studyhall.routes import services

router = APIRouter()
_PING = text("SELECT 1")


@router.get("/healthz", response_model=None)
async def healthz(request: Request) -> dict[str, Any] | JSONResponse:
    sv = services(request)
    try:
        async with sv.db.connection() as conn:
            await sv.db.fetch_all(conn, "healthz", _PING, {})
    except Exception as exc:
        return JSONResponse({"status": "unhealthy", "db": str(exc)[:200]}, status_code=503)
    return {"status": "ok", "db": sv.db.dialect, "queue": type(sv.queue).__name__,
            "breaker": sv.breaker.state.label}


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    return Response(services(request).metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
