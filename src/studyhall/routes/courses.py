"""``GET /api/courses/search?q=&page=`` (full-text) and ``GET /api/courses?topic=&page=``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from studyhall import queries
from studyhall.routes import services

router = APIRouter()


@router.get("/api/courses/search")
async def search(
    request: Request,
    q: str = Query(max_length=200),
    page: int = Query(1, ge=1, le=500),
) -> dict[str, Any]:
    sv = services(request)
    fault = sv.faults.config
    async with sv.db.connection() as conn:
        return await queries.search(
            sv.db, conn, q, page, slow=fault.slow_search, slow_sleep_ms=fault.slow_search_sleep_ms
        )


@router.get("/api/courses")
async def browse(
    request: Request,
    topic: str | None = Query(None, max_length=40),
    page: int = Query(1, ge=1, le=500),
) -> dict[str, Any]:
    sv = services(request)
    async with sv.db.connection() as conn:
        return await queries.browse(sv.db, conn, topic, page)
