"""HTTP routes, one module per area."""

from __future__ import annotations

from fastapi import Request

from studyhall.services import Services


def services(request: Request) -> Services:
    sv: Services = request.app.state.studyhall
    return sv


def request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "") or "")


async def apply_request_faults(request: Request) -> None:
    services(request).faults.on_request()
