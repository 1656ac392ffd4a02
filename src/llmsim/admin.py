"""Admin routes: drills, state and the provider's cost report.

All of them need the admin token (``Authorization: Bearer <token>`` or
``X-Admin-Token: <token>``); errors use OpenAI's error shape.

=========================================  ===============================================
route                                      body / query -> effect
=========================================  ===============================================
POST /admin/projects/{project}/quota-      ``{"on": bool}``: every completion of the project
exhausted                                  gets 429 ``insufficient_quota``
POST /admin/projects/{project}/rate-       ``{"on": bool}``: every completion of the project
limited                                    gets 429 ``rate_limit_exceeded`` (type requests)
POST /admin/projects/{project}/limits      ``{"rpm"?, "tpm"?, "spend_limit_usd"?}``: change
                                           limits live (``spend_limit_usd: null`` = none)
POST /admin/faults                         ``{"extra_latency_ms", "error_rate",
                                           "error_status", "seed"}``: replaces the faults
POST /admin/reset                          empty ledger and windows, toggles off, no faults,
                                           limits back to the config
GET  /admin/state                          limits, toggles, spend, faults
GET  /admin/cost-report                    ``?since=&until=&project=`` (unix seconds):
                                           per-project calls, tokens, ``cost_usd`` + total
GET  /admin/ledger                         ``?since=``: the ledger rows as JSON lines
=========================================  ===============================================
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from llmsim import errors
from llmsim.auth import require_admin
from llmsim.state import Faults, ProjectState, Simulator


def _sim(request: Request) -> Simulator:
    sim: Simulator = request.app.state.sim
    return sim


def _admin(request: Request) -> None:
    require_admin(request, _sim(request))


router = APIRouter(prefix="/admin", dependencies=[Depends(_admin)])


class Toggle(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on: bool


class LimitsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rpm: int | None = Field(default=None, ge=1)
    tpm: int | None = Field(default=None, ge=1)
    spend_limit_usd: Decimal | None = Field(default=None, ge=0)


def _project(sim: Simulator, name: str) -> ProjectState:
    try:
        return sim.project(name)
    except KeyError:
        raise errors.SimError(
            404,
            f"Unknown project {name!r}; known: {', '.join(sorted(sim.projects))}.",
            type="invalid_request_error",
            code="project_not_found",
            param="project",
        ) from None


def _project_json(sim: Simulator, state: ProjectState) -> dict[str, Any]:
    return {"project": state.name, **state.to_json(sim.clock(), sim.ledger.spent(state.name))}


@router.post("/projects/{project}/quota-exhausted")
async def quota_exhausted(project: str, body: Toggle, request: Request) -> JSONResponse:
    sim = _sim(request)
    state = _project(sim, project)
    state.quota_exhausted = body.on
    return JSONResponse(_project_json(sim, state))


@router.post("/projects/{project}/rate-limited")
async def rate_limited(project: str, body: Toggle, request: Request) -> JSONResponse:
    sim = _sim(request)
    state = _project(sim, project)
    state.rate_limited = body.on
    return JSONResponse(_project_json(sim, state))


@router.post("/projects/{project}/limits")
async def set_limits(project: str, body: LimitsUpdate, request: Request) -> JSONResponse:
    sim = _sim(request)
    state = _project(sim, project)
    if body.rpm is not None:
        state.limiter.rpm = body.rpm
    if body.tpm is not None:
        state.limiter.tpm = body.tpm
    if "spend_limit_usd" in body.model_fields_set:
        state.spend_limit_usd = body.spend_limit_usd
    return JSONResponse(_project_json(sim, state))


@router.post("/faults")
async def set_faults(body: Faults, request: Request) -> JSONResponse:
    sim = _sim(request)
    sim.set_faults(body)
    return JSONResponse(sim.faults.model_dump())


@router.post("/reset")
async def reset(request: Request) -> JSONResponse:
    sim = _sim(request)
    sim.reset()
    return JSONResponse(sim.state_json())


@router.get("/state")
async def state(request: Request) -> JSONResponse:
    return JSONResponse(_sim(request).state_json())


@router.get("/cost-report")
async def cost_report(
    request: Request,
    since: float | None = None,
    until: float | None = None,
    project: str | None = None,
) -> JSONResponse:
    sim = _sim(request)
    report = sim.ledger.report(
        since=since, until=until, projects=sim.config.project_names(), only=project
    )
    return JSONResponse(report)


@router.get("/ledger")
async def ledger_rows(request: Request, since: float | None = None) -> Response:
    rows = [
        json.dumps(entry.to_json(), separators=(",", ":")) + "\n"
        for entry in _sim(request).ledger.entries
        if since is None or entry.ts >= since
    ]
    return Response("".join(rows), media_type="application/x-ndjson")
