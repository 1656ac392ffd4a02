"""Shared helpers for the guards tests (imported by name: conftest puts this directory on
sys.path, since test modules cannot import each other under --import-mode=importlib)."""

from __future__ import annotations

from decimal import Decimal

GUARDED_PLAN = """
name: guarded
run_tag: gtest
target: {base_url: "http://127.0.0.1:9"}
schedule:
  arrival: uniform
  seed: 2
  warmup: {rps: 10, duration: 2s}
  plateaus: [{rps: 20, duration: 4s}, {rps: 30, duration: 4s}]
families:
  core: {timeout: 2s}
  ai: {timeout: 2s}
mix:
  reads:
    family: core
    weight: 75
    endpoints: [{name: item, path: "/items/{n}"}]
  gen:
    family: ai
    weight: 25
    endpoints:
      - {name: analyze, method: POST, path: /api/ai/analyze, body: {n: "{n}"},
         ai: {prompt_tokens: 400, max_tokens: 300}}
params:
  n: {int: [1, 100]}
criteria:
  - {name: core_p95, family: core, metric: p95, op: "<=", threshold: 120ms, min_samples: 20}
  - {name: core_errors, family: core, metric: error_rate, op: "<=", threshold: 1%,
     min_samples: 20}
  - {name: markup, family: ai, metric: markup_mismatches, op: "<=", threshold: 0}
triggers:
  window: 1m
  rules:
    - {name: error_rate, signal: error_rate, op: ">", threshold: 0.5%, for: 2m}
budget:
  hard_cap_usd: 500
  soft_alert_usd: 350
  markup: 4
  model: gpt-4o-mini
  prices: {gpt-4o-mini: {input_per_1m: "0.15", output_per_1m: "0.60"}}
"""

PRICE_IN, PRICE_OUT = Decimal("0.15"), Decimal("0.60")


def provider_cost(prompt: int, completion: int) -> Decimal:
    return (prompt * PRICE_IN + completion * PRICE_OUT) / 1_000_000


def ai_headers(prompt: int = 100, completion: int = 50, *, path: str = "provider",
               billed: Decimal | None = None, cost: Decimal | None = None,
               model: str = "gpt-4o-mini") -> dict[str, str]:
    """Response headers as studyhall writes them (exact markup unless told otherwise)."""
    if path != "provider":
        return {"X-AI-Path": path, "X-AI-Model": "extractive", "X-AI-Prompt-Tokens": "0",
                "X-AI-Completion-Tokens": "0", "X-AI-Provider-Cost-USD": "0",
                "X-AI-Billed-USD": str(billed or 0), "X-AI-Provider-Key": "none"}
    c = provider_cost(prompt, completion) if cost is None else cost
    b = 4 * provider_cost(prompt, completion) if billed is None else billed
    return {"X-AI-Path": "provider", "X-AI-Model": model, "X-AI-Prompt-Tokens": str(prompt),
            "X-AI-Completion-Tokens": str(completion),
            "X-AI-Provider-Cost-USD": format(c.normalize(), "f"),
            "X-AI-Billed-USD": format(b.normalize(), "f"), "X-AI-Provider-Key": "primary"}


class FakeTarget:
    """An in-process target for ``MockTransport``: core reads, an AI endpoint with the
    contract's headers, and switches a test flips (errors, slow plateaus, fallbacks)."""

    def __init__(self) -> None:
        import random

        self.rng = random.Random(5)
        self.errors_from: float | None = None  # core answers 500 once the clock passes it
        self.slow_plateaus: set[str] = set()  # core answers take 150 ms there
        self.fallback_billed: Decimal | None = None  # AI answers are billed fallbacks
        self.clock = None  # set by the test: a callable returning run seconds
        self.ai_calls = 0

    async def __call__(self, req: object) -> object:
        import asyncio

        from perfgate.engine.client import PreparedRequest, Response

        assert isinstance(req, PreparedRequest)
        plateau = req.headers.get("X-Perf-Plateau", "")
        if "/api/ai/" in req.url:
            self.ai_calls += 1
            await asyncio.sleep(0.005)
            if self.fallback_billed is not None:
                return Response(200, ai_headers(path="extractive", billed=self.fallback_billed))
            return Response(200, ai_headers(self.rng.randint(50, 400), self.rng.randint(1, 300)))
        if self.errors_from is not None and self.clock is not None and \
                self.clock() >= self.errors_from:
            return Response(500, {})
        await asyncio.sleep(0.15 if plateau in self.slow_plateaus else 0.002)
        return Response(200, {})
