"""Admin routes. ``GET /admin/flags`` is public (read-only; perfgate's flag check);
everything else needs the admin token (``X-Admin-Token`` or bearer).

- ``GET /admin/flags`` / ``POST /admin/flags`` {"outbound_email"?, "notifications"?,
  "provider_webhooks"?, "ai_kill_switch"?}
- ``POST /admin/kill-switch`` {"on": bool}
- ``GET /admin/billing?since=`` (JSON lines; Unix seconds or ISO-8601)
- ``GET /admin/heap?top=N``, ``DELETE /admin/heap``
- ``GET|POST|DELETE /admin/faults`` (see ``studyhall.faults``)
- ``GET /admin/status`` (breaker, sidelined keys, pool, queue, ledger totals)
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from studyhall.ai.pricing import usd
from studyhall.auth import require_admin
from studyhall.billing import parse_since
from studyhall.routes import services

public = APIRouter()
router = APIRouter(dependencies=[Depends(require_admin)])  # no prefix: full paths label metrics


class Switch(BaseModel):
    on: bool


def _flags(request: Request) -> dict[str, Any]:
    return services(request).outbound.flags.model_dump()


@public.get("/admin/flags")
async def get_flags(request: Request) -> dict[str, Any]:
    return _flags(request)


def _update(target: Any, changes: dict[str, Any]) -> Any:
    try:
        return target.update(changes)
    except ValidationError as exc:
        raise HTTPException(422, exc.errors(include_url=False, include_context=False)) from None


@router.post("/admin/flags")
async def set_flags(changes: dict[str, Any], request: Request) -> dict[str, Any]:
    _update(services(request).outbound, changes)
    return _flags(request)


@router.post("/admin/kill-switch")
async def kill_switch(body: Switch, request: Request) -> dict[str, Any]:
    sv = services(request)
    sv.outbound.update({"ai_kill_switch": body.on})
    return {"ai_kill_switch": body.on, "mode": sv.settings.kill_switch_mode}


@router.get("/admin/billing")
async def billing(request: Request, since: str | None = None) -> Response:
    try:
        since_ts = parse_since(since)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    lines = services(request).ledger.export(since_ts)
    body = "".join(line + "\n" for line in lines)
    return Response(body, media_type="application/x-ndjson")


@router.get("/admin/heap")
async def heap(request: Request, top: int = Query(20, ge=1, le=500)) -> dict[str, Any]:
    return services(request).heap.top(top)


@router.delete("/admin/heap")
async def heap_stop(request: Request) -> dict[str, Any]:
    return {"stopped": services(request).heap.stop()}


@router.get("/admin/faults")
async def get_faults(request: Request) -> dict[str, Any]:
    return services(request).faults.snapshot()


@router.post("/admin/faults")
async def set_faults(changes: dict[str, Any], request: Request) -> dict[str, Any]:
    sv = services(request)
    _update(sv.faults, changes)
    return sv.faults.snapshot()


@router.delete("/admin/faults")
async def reset_faults(request: Request) -> dict[str, Any]:
    sv = services(request)
    sv.faults.reset()
    return sv.faults.snapshot()


@router.get("/admin/status")
async def status(request: Request) -> dict[str, Any]:
    sv = services(request)
    return {
        "breaker": sv.breaker.state.label,
        "sidelined_keys": sv.failover.sidelined(),
        "db": {"dialect": sv.db.dialect, "pool_size": sv.db.pool_size, "in_use": sv.db.in_use},
        "queue": {"backend": type(sv.queue).__name__, "depth": sv.queue.depth(),
                  "oldest_age_s": round(sv.queue.oldest_age(), 3),
                  "processed": dict(sv.queue.analytics.counts)},
        "cache_entries": len(sv.ai.cache),
        "ledger": {"provider_cost_usd": usd(sv.ledger.provider_cost_total),
                   "billed_usd": usd(sv.ledger.billed_total)},
        "outbound_sent": sv.outbound.sent,
        "flags": _flags(request),
        "faults": sv.faults.snapshot(),
    }
