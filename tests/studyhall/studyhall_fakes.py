"""A tiny OpenAI-compatible fake provider for studyhall's unit tests (in-process, via
``httpx2.ASGITransport``), plus a fake clock and an outbound sink."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

TOKEN = "sh-test-alice"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ADMIN_TOKEN = "admin-secret-for-tests"
ADMIN = {"X-Admin-Token": ADMIN_TOKEN}
N_STUDENTS, N_COURSES = 300, 120
KEY_NAMES = {"sk-sim-primary": "primary", "sk-sim-secondary": "secondary"}
COMPLETION_TOKENS = 42


def unavailable(what: str, reason: str) -> None:
    """Skip locally, fail under CI=true: CI must provide the service."""
    message = f"{what} not available ({reason})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}; CI=true requires it")
    pytest.skip(message)


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None,
           kind: str | None = None) -> JSONResponse:
    body = {"error": {"message": message, "type": kind or code, "param": None, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


@dataclass
class FakeProvider:
    """``modes[key]``: ok | rate_limited | quota | error | slow (sleeps ``slow_s``);
    ``script[key]``: outcomes consumed first, one per call, before ``modes`` applies."""

    modes: dict[str, str] = field(default_factory=lambda: {"primary": "ok", "secondary": "ok"})
    script: dict[str, list[str]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (key, outcome)
    slow_s: float = 0.5
    retry_after: str = "0"

    def count(self, key: str | None = None, outcome: str | None = None) -> int:
        return sum(1 for k, o in self.calls
                   if (key is None or k == key) and (outcome is None or o == outcome))

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> Any:
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            key = KEY_NAMES.get(token)
            if key is None:
                return _error(401, "invalid_api_key", "bad key", kind="invalid_request_error")
            scripted = self.script.get(key)
            mode = scripted.pop(0) if scripted else self.modes.get(key, "ok")
            self.calls.append((key, mode))
            if mode == "rate_limited":
                return _error(429, "rate_limit_exceeded", "Rate limit reached",
                              {"retry-after": self.retry_after}, kind="requests")
            if mode == "quota":
                return _error(429, "insufficient_quota", "You exceeded your current quota",
                              kind="insufficient_quota")
            if mode == "error":
                return _error(500, "server_error", "boom", kind="server_error")
            if mode == "slow":
                await asyncio.sleep(self.slow_s)
            body = await request.json()
            prompt_tokens = sum(len(m["content"]) // 4 for m in body["messages"])
            completion = min(COMPLETION_TOKENS, body.get("max_tokens") or COMPLETION_TOKENS)
            text = "\n".join(f"Question {i} about the course?" for i in range(1, 9))
            return {
                "id": f"chatcmpl-{len(self.calls)}", "object": "chat.completion",
                "created": int(time.time()), "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion,
                          "total_tokens": prompt_tokens + completion},
            }

        return app


@dataclass
class Sink:
    """Catch-all outbound sink (an ASGI app) recording every hit."""

    hits: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/{path:path}")
        async def catch(path: str, request: Request) -> dict[str, bool]:
            self.hits.append({"path": path, "body": await request.json()})
            return {"ok": True}

        return app
