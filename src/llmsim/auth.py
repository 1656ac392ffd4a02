"""Who is calling.

API calls carry ``Authorization: Bearer <key>``; the key names a project
(``SimConfig.keys``). Admin calls carry the admin token, either as
``Authorization: Bearer <token>`` or as ``X-Admin-Token: <token>`` (compared in
constant time). Neither is ever logged.
"""

from __future__ import annotations

import hmac

from fastapi import Request

from llmsim import errors
from llmsim.state import Simulator


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def api_project(request: Request, sim: Simulator, endpoint: str) -> str:
    """The project of the caller's API key, or a 401 in OpenAI's shape."""
    key = bearer_token(request)
    if key is None:
        sim.metrics.requests.labels("unknown", endpoint, "unauthorized").inc()
        raise errors.missing_api_key()
    project = sim.project_for_key(key)
    if project is None:
        sim.metrics.requests.labels("unknown", endpoint, "unauthorized").inc()
        raise errors.invalid_api_key(key)
    return project


def require_admin(request: Request, sim: Simulator) -> None:
    token = request.headers.get("x-admin-token") or bearer_token(request)
    expected = sim.config.admin_token
    if token is None or not hmac.compare_digest(token.encode(), expected.encode()):
        raise errors.SimError(
            401,
            "Admin endpoints need the admin token (Authorization: Bearer <token> or "
            "X-Admin-Token: <token>).",
            type="invalid_request_error",
            code="invalid_admin_token",
        )
