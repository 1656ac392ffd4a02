"""The cost gate on the transport: concurrent sends never pass the cap (overshoot 0)."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal
from typing import Any

import pytest
from guards_fakes import ai_headers

from perfgate.engine.client import MockTransport, PreparedRequest, Response, TransportTimeout
from perfgate.guards.budget import Budget
from perfgate.guards.gate import (
    REFUSED_HEADER,
    AiMatcher,
    CallbackCostGate,
    CostGate,
    wrap_cost_gate,
)
from perfgate.guards.spec import BudgetSpec
from perfgate.plan.models import Plan

PRICES = {"gpt-4o-mini": {"input_per_1m": "0.15", "output_per_1m": "0.60"}}


def request(path: str = "/api/ai/analyze", method: str = "POST", n: int = 1) -> PreparedRequest:
    return PreparedRequest(method, f"http://127.0.0.1:9{path}",
                           {"X-Request-ID": f"run-{n:x}", "X-Perf-Plateau": "p1"}, b"{}")


def test_the_matcher_uses_method_and_path_template(guarded_plan: Plan) -> None:
    m = AiMatcher.from_plan(guarded_plan)
    assert [e.name for e in m.endpoints] == ["analyze"]
    assert m.match(request()) is not None
    assert m.match(request(method="GET")) is None
    assert m.match(request("/api/ai/analyze/x")) is None
    assert m.match(request("/items/3", "GET")) is None


@pytest.mark.asyncio
async def test_concurrent_sends_never_pass_the_cap(guarded_plan: Plan) -> None:
    """2,000 concurrent AI sends, each answering with random real token counts (at most
    the plan's worst case), against a cap worth ~40 worst cases: the gate must refuse the
    rest, and spend must end at or below the cap: overshoot exactly 0."""
    rng = random.Random(7)

    async def answer(req: PreparedRequest) -> Response:
        await asyncio.sleep(rng.random() * 0.01)
        return Response(200, ai_headers(rng.randint(50, 400), rng.randint(1, 300)))

    cap = Decimal("0.0105")
    b = Budget(BudgetSpec(hard_cap_usd=cap, model="gpt-4o-mini", prices=PRICES))  # type: ignore[arg-type]
    refused: list[str] = []
    rows: list[dict[str, Any]] = []
    gate = CostGate(MockTransport(answer), b, AiMatcher.from_plan(guarded_plan),
                    on_row=rows.append, on_refused=lambda req, ep, worst: refused.append(ep.name))
    answers = await asyncio.gather(*(gate.request(request(n=i), 5.0) for i in range(2000)))
    sent = [a for a in answers if REFUSED_HEADER not in a.headers]
    assert b.spent <= cap and b.totals()["overshoot_usd"] == "0"
    assert b.reserved == 0
    assert len(sent) >= 40 and len(refused) == 2000 - len(sent) > 0  # the gate did refuse
    assert all(a.status == 401 for a in answers if REFUSED_HEADER in a.headers)
    assert len(rows) == len(sent) and b.findings == {}


@pytest.mark.asyncio
async def test_no_answer_keeps_the_reservation_spent(guarded_plan: Plan) -> None:
    async def hang(req: PreparedRequest) -> Response:
        await asyncio.sleep(1)
        return Response(200, {})

    b = Budget(BudgetSpec(hard_cap_usd=Decimal(1), model="gpt-4o-mini", prices=PRICES))  # type: ignore[arg-type]
    rows: list[dict[str, Any]] = []
    gate = CostGate(MockTransport(hang), b, AiMatcher.from_plan(guarded_plan),
                    on_row=rows.append, on_refused=lambda *a: None)
    with pytest.raises(TransportTimeout):
        await gate.request(request(), 0.01)
    assert b.unresolved == b.worst_case(400, 300) and rows[0]["finding"] == "unresolved"
    with pytest.raises(TransportTimeout):  # a non-AI request passes untouched: no row
        await gate.request(request("/items/1", "GET"), 0.01)
    assert len(rows) == 1 and b.unresolved == b.worst_case(400, 300)


class FakeCallbackTransport:
    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers

    def send(self, req: PreparedRequest, timeout_s: float, done: Any) -> None:
        asyncio.get_running_loop().call_soon(done, Response(200, self.headers), None)

    async def request(self, req: PreparedRequest, timeout_s: float) -> Response:
        raise AssertionError("the callback path must be used")

    async def close(self) -> None:
        return None


@pytest.mark.asyncio
async def test_a_callback_transport_keeps_its_fast_path(guarded_plan: Plan) -> None:
    b = Budget(BudgetSpec(hard_cap_usd=Decimal("0.0003"), model="gpt-4o-mini", prices=PRICES))  # type: ignore[arg-type]
    rows: list[dict[str, Any]] = []
    gate = wrap_cost_gate(FakeCallbackTransport(ai_headers(100, 50)), b,
                          AiMatcher.from_plan(guarded_plan), on_row=rows.append,
                          on_refused=lambda *a: None)
    assert isinstance(gate, CallbackCostGate)
    got: list[Response | None] = []
    done = asyncio.get_running_loop().create_future()

    def on_done(response: Response | None, error: BaseException | None) -> None:
        got.append(response)
        if len(got) == 3:
            done.set_result(None)

    for i in range(3):  # worst case 0.00024 each: the 2nd does not fit while the 1st is out
        gate.send(request(n=i), 1.0, on_done)
    await done
    statuses = sorted(r.status for r in got if r is not None)
    assert statuses == [200, 401, 401] and len(rows) == 1 and b.spent <= Decimal("0.0003")
