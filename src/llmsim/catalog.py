"""``GET /v1/models`` and ``GET /v1/models/{model}``.

Never billed and never counted against the rate limits, but authenticated and
answered with the caller's project limits in the ``x-ratelimit-*`` headers (the
current window, read without spending), so a preflight learns its RPM/TPM for free.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from llmsim import errors
from llmsim.auth import api_project
from llmsim.state import Simulator

ENDPOINT = "models"

# A fixed timestamp keeps the listing byte-identical from run to run.
_MODEL_CREATED = 1_721_172_741

router = APIRouter()


def _model(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": _MODEL_CREATED, "owned_by": "llmsim"}


@router.get("/v1/models")
async def list_models(request: Request) -> JSONResponse:
    sim: Simulator = request.app.state.sim
    project = api_project(request, sim, ENDPOINT)
    sim.metrics.requests.labels(project, ENDPOINT, "ok").inc()
    return JSONResponse(
        {"object": "list", "data": [_model(m) for m in sim.prices.models]},
        headers={**sim.snapshot_headers(project), "openai-project": project},
    )


@router.get("/v1/models/{model}")
async def retrieve_model(model: str, request: Request) -> JSONResponse:
    sim: Simulator = request.app.state.sim
    project = api_project(request, sim, ENDPOINT)
    if model not in sim.prices:
        sim.metrics.requests.labels(project, ENDPOINT, "not_found").inc()
        raise errors.model_not_found(model)
    sim.metrics.requests.labels(project, ENDPOINT, "ok").inc()
    return JSONResponse(
        _model(model), headers={**sim.snapshot_headers(project), "openai-project": project}
    )
