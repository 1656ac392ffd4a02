"""Who may talk to the dashboard.

Loopback binds need no token, but a web page the war room has open elsewhere could
reach 127.0.0.1 through DNS rebinding (its own host name pointed at 127.0.0.1): so a
loopback dashboard answers only requests addressed to a loopback host.

Token auth for non-loopback binds: ``Authorization: Bearer``, ``?token=`` or a cookie.

A page loaded with ``?token=`` gets the token as an HttpOnly, SameSite=Strict cookie so
that its own requests (SSE, JSON, abort) carry it; everything else gets 401. The token
is compared in constant time and never logged (the server runs without an access log).
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from perfgate.dashboard.bind import is_loopback

__all__ = ["COOKIE", "loopback_host_middleware", "token_middleware"]

COOKIE = "perfgate_dashboard"
PUBLIC = frozenset({"/favicon.ico"})  # browsers ask for it even on a 401 page: no content


def _presented(request: web.Request) -> tuple[str | None, bool]:
    """(the token the request presents, whether it came in the query string)."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip(), False
    if "token" in request.query:
        return request.query["token"], True
    return request.cookies.get(COOKIE), False


def token_middleware(token: str) -> Middleware:
    expected = token.encode()

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in PUBLIC:
            return await handler(request)
        given, from_query = _presented(request)
        if given is None or not hmac.compare_digest(given.encode(), expected):
            return web.json_response(
                {"error": "this dashboard needs the token perfgate printed at the start"},
                status=401, headers={"WWW-Authenticate": 'Bearer realm="perfgate"'})
        response = await handler(request)
        if from_query and not response.prepared:
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")
        return response

    return check


def loopback_host_middleware() -> Middleware:
    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        host = urlsplit(f"//{request.host}").hostname or ""
        if not is_loopback(host):
            return web.json_response({"error": f"this dashboard answers on loopback only, "
                                               f"not as {host!r}"}, status=421)
        return await handler(request)

    return check
