"""Bearer-token auth for ``/api`` (synthetic tokens) and the admin token for ``/admin``
(async dependencies, so no threadpool hop per request).

A bearer token is valid when it is one of ``Settings.tokens`` (env ``STUDYHALL_TOKEN``)
or fully matches ``Settings.token_pattern`` (default ``sh-test-...``). Anything else is a
401 with ``WWW-Authenticate: Bearer``. Admin routes take the admin token in
``X-Admin-Token`` or as the bearer token; without a configured admin token they are 403.
"""

from __future__ import annotations

import hmac
import re

from fastapi import HTTPException, Request

from studyhall.settings import Settings


class TokenChecker:
    def __init__(self, settings: Settings) -> None:
        self._tokens = frozenset(t.get_secret_value() for t in settings.tokens)
        self._pattern = re.compile(settings.token_pattern) if settings.token_pattern else None
        self._admin = settings.admin_token.get_secret_value() if settings.admin_token else None

    def valid(self, token: str) -> bool:
        if token in self._tokens:
            return True
        return bool(self._pattern and self._pattern.fullmatch(token))

    def admin_valid(self, token: str) -> bool:
        return self._admin is not None and hmac.compare_digest(token, self._admin)

    @property
    def admin_configured(self) -> bool:
        return self._admin is not None


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def require_token(request: Request) -> None:
    checker: TokenChecker = request.app.state.studyhall.tokens
    token = bearer(request)
    if token is None or not checker.valid(token):
        raise HTTPException(
            status_code=401,
            detail="missing or invalid bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )


async def require_admin(request: Request) -> None:
    checker: TokenChecker = request.app.state.studyhall.tokens
    if not checker.admin_configured:
        raise HTTPException(403, "admin routes disabled: set STUDYHALL_ADMIN_TOKEN")
    token = request.headers.get("x-admin-token") or bearer(request) or ""
    if not checker.admin_valid(token):
        raise HTTPException(401, "missing or invalid admin token",
                            headers={"WWW-Authenticate": "Bearer"})
