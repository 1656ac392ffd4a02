"""The cost gate: a ``Transport`` wrapper that reserves, refuses and ledgers AI calls.

An AI request is one to an endpoint whose plan entry has ``ai: {prompt_tokens,
max_tokens}`` (matched by method and path template). Every other request passes
through untouched. For an AI request:

1. reserve its worst case with the ``Budget`` (see ``perfgate.guards.budget``);
2. if the budget refuses (the cap would be passed, or the kill switch is on), the
   request is NOT sent: the gate answers a synthetic ``401`` with
   ``X-Perfgate-Refused: cost-cap``. The shard counts a 401 as ``excluded_401``, which
   is outside every SLO, so a send perfgate itself refused is never an error of the
   target, and no latency is recorded for it. (A ``TransportError`` would be counted
   as an error; a 2xx would record a fake latency.) Refusals are counted by the budget
   and ``on_refused`` fires (the kill switch);
3. otherwise send it, then settle the reservation from the response's ``X-AI-*``
   headers (or keep it spent when no response came: timeout, reset, cancellation) and
   hand the ledger row to ``on_row``.

When the wrapped transport has the callback fast path (``send(req, timeout_s, done)``,
see ``perfgate.engine.client``), ``wrap_cost_gate`` returns a gate with it too, so
wrapping never slows the non-AI traffic down.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import urlsplit

from perfgate.engine.client import PreparedRequest, Response, Transport, TransportError
from perfgate.engine.tags import PLATEAU_HEADER, REQUEST_ID_HEADER
from perfgate.guards.budget import Budget

__all__ = ["REFUSED_HEADER", "AiEndpoint", "AiMatcher", "CallbackCostGate", "CostGate",
           "wrap_cost_gate"]

REFUSED_HEADER = "X-Perfgate-Refused"
REFUSED_STATUS = 401


@dataclass(frozen=True)
class AiEndpoint:
    name: str
    method: str
    pattern: re.Pattern[str]
    prompt_tokens: int
    max_tokens: int


class AiMatcher:
    """Which plan endpoint (with an ``ai`` spec) a prepared request is."""

    def __init__(self, endpoints: list[AiEndpoint]) -> None:
        self.endpoints = endpoints

    @classmethod
    def from_plan(cls, plan: Any) -> AiMatcher:
        out = []
        for mix_class in plan.mix.values():
            for ep in mix_class.endpoints:
                if ep.ai is None:
                    continue
                regex = "".join(
                    "[^/]+" if part.startswith("{") else re.escape(part)
                    for part in re.split(r"(\{[^}]*\})", ep.path) if part)
                out.append(AiEndpoint(ep.name, ep.method, re.compile(f"^{regex}$"),
                                      ep.ai.prompt_tokens, ep.ai.max_tokens))
        return cls(out)

    def match(self, req: PreparedRequest) -> AiEndpoint | None:
        if not self.endpoints:
            return None
        path = urlsplit(req.url).path
        for ep in self.endpoints:
            if ep.method == req.method and ep.pattern.match(path):
                return ep
        return None


class CostGate:
    def __init__(self, inner: Transport, budget: Budget, matcher: AiMatcher, *,
                 on_row: Callable[[dict[str, Any]], None],
                 on_refused: Callable[[PreparedRequest, AiEndpoint, Decimal], None]) -> None:
        self.inner = inner
        self.budget = budget
        self.matcher = matcher
        self._on_row = on_row
        self._on_refused = on_refused
        self._worst: dict[str, Decimal] = {
            ep.name: budget.worst_case(ep.prompt_tokens, ep.max_tokens)
            for ep in matcher.endpoints}

    async def request(self, req: PreparedRequest, timeout_s: float) -> Response:
        ep = self.matcher.match(req)
        if ep is None:
            return await self.inner.request(req, timeout_s)
        worst = self._worst[ep.name]
        res = self.budget.try_reserve(worst, ep.name, req.headers.get(REQUEST_ID_HEADER, ""),
                                      req.headers.get(PLATEAU_HEADER, ""))
        if res is None:
            self._on_refused(req, ep, worst)
            return Response(REFUSED_STATUS, {REFUSED_HEADER: "cost-cap"})
        try:
            response = await self.inner.request(req, timeout_s)
        except TransportError as exc:
            self._on_row(self.budget.settle_unknown(res, f"{type(exc).__name__}: {exc}"))
            raise
        except asyncio.CancelledError:
            self._on_row(self.budget.settle_unknown(res, "cancelled at the stop"))
            raise
        except Exception as exc:
            self._on_row(self.budget.settle_unknown(res, f"{type(exc).__name__}: {exc}"))
            raise
        self._on_row(self.budget.settle(res, response.status, response.headers))
        return response

    async def close(self) -> None:
        await self.inner.close()


Done = Callable[[Response | None, BaseException | None], None]


class _Sender(Protocol):
    def send(self, req: PreparedRequest, timeout_s: float, done: Done) -> None: ...


class CallbackCostGate(CostGate):
    """The gate over a callback transport: the same rules, no task per request."""

    def send(self, req: PreparedRequest, timeout_s: float, done: Done) -> None:
        inner: _Sender = self.inner  # type: ignore[assignment]  # checked by wrap_cost_gate
        ep = self.matcher.match(req)
        if ep is None:
            inner.send(req, timeout_s, done)
            return
        worst = self._worst[ep.name]
        res = self.budget.try_reserve(worst, ep.name, req.headers.get(REQUEST_ID_HEADER, ""),
                                      req.headers.get(PLATEAU_HEADER, ""))
        if res is None:
            self._on_refused(req, ep, worst)
            refused = Response(REFUSED_STATUS, {REFUSED_HEADER: "cost-cap"})
            asyncio.get_running_loop().call_soon(done, refused, None)
            return

        def settle(response: Response | None, error: BaseException | None) -> None:
            if response is not None and error is None:
                self._on_row(self.budget.settle(res, response.status, response.headers))
            else:
                self._on_row(self.budget.settle_unknown(res, f"{type(error).__name__}: {error}"))
            done(response, error)

        inner.send(req, timeout_s, settle)


def wrap_cost_gate(inner: Transport, budget: Budget, matcher: AiMatcher, *,
                   on_row: Callable[[dict[str, Any]], None],
                   on_refused: Callable[[PreparedRequest, AiEndpoint, Decimal], None]
                   ) -> CostGate:
    cls = CallbackCostGate if callable(getattr(inner, "send", None)) else CostGate
    return cls(inner, budget, matcher, on_row=on_row, on_refused=on_refused)
