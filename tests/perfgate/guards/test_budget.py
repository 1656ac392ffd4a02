"""The budget in Decimal: reservations against the cap, the markup and fallback checks."""

from __future__ import annotations

from decimal import Decimal

import pytest
from guards_fakes import ai_headers, provider_cost

from perfgate.guards.budget import Budget
from perfgate.guards.spec import BudgetSpec

PRICES = {"gpt-4o-mini": {"input_per_1m": "0.15", "output_per_1m": "0.60"}}


def budget(cap: str = "500", **kw: object) -> Budget:
    return Budget(BudgetSpec.model_validate({"hard_cap_usd": cap, "model": "gpt-4o-mini",
                                             "prices": PRICES, **kw}))


def test_worst_case_is_exact() -> None:
    # 450 x 0.15 + 300 x 0.60 = 247.5 per 1M tokens
    assert budget().worst_case(450, 300) == Decimal("0.0002475")


def test_a_correct_provider_call_checks_out() -> None:
    b = budget()
    res = b.try_reserve(b.worst_case(400, 300), "analyze", "r-1", "p1")
    assert res is not None and b.reserved == res.amount
    row = b.settle(res, 200, ai_headers(123, 45))
    assert "finding" not in row
    assert b.reserved == 0 and b.realized == provider_cost(123, 45)
    assert Decimal(row["expected_billed_usd"]) == 4 * provider_cost(123, 45)
    assert b.plateaus["p1"].provider_calls == 1 and b.findings == {}


def test_markup_and_reported_cost_mismatches_are_caught_exactly() -> None:
    b = budget()
    exact = provider_cost(123, 45)
    off_by_a_millionth_cent = 4 * exact + Decimal("0.00000001")
    for headers in (ai_headers(123, 45, billed=off_by_a_millionth_cent),
                    ai_headers(123, 45, cost=exact * 2)):
        res = b.try_reserve(Decimal("0.001"), "analyze", "r", "p1")
        assert res is not None
        b.settle(res, 200, headers)
    assert b.findings == {"markup_mismatch": 1, "cost_mismatch": 1}
    assert b.plateaus["p1"].markup_mismatches == 2
    assert "!= 4 x" in b.examples["markup_mismatch"][0]["note"]


def test_fallbacks_must_bill_zero() -> None:
    b = budget()
    for billed in (Decimal(0), Decimal("0.00012")):
        res = b.try_reserve(Decimal("0.001"), "analyze", "r", "p2")
        assert res is not None
        b.settle(res, 200, ai_headers(path="cache", billed=billed))
    pc = b.plateaus["p2"]
    assert (pc.fallback_calls, pc.fallback_billed) == (2, Decimal("0.00012"))
    assert b.findings == {"fallback_billed": 1} and b.realized == 0


@pytest.mark.parametrize(("headers", "finding"), [
    ({}, "missing_headers"),
    ({"X-AI-Path": "provider", "X-AI-Prompt-Tokens": "many"}, "malformed_headers"),
    ({"X-AI-Path": "telepathy"}, "unknown_path"),
    (ai_headers(10, 10, model="gpt-9"), "unknown_model"),
    (ai_headers(5000, 10), "over_reservation"),
])
def test_contract_findings(headers: dict[str, str], finding: str) -> None:
    b = budget()
    res = b.try_reserve(b.worst_case(400, 300), "analyze", "r", "p1")
    assert res is not None
    row = b.settle(res, 200, headers)
    assert finding in row["finding"] and b.findings[finding] == 1


def test_header_names_are_case_insensitive_and_configurable() -> None:
    b = budget(headers={"path": "X-Cost-Path"})
    res = b.try_reserve(Decimal("0.001"), "a", "r", "p1")
    assert res is not None
    row = b.settle(res, 200, {"x-cost-path": "extractive", "x-ai-billed-usd": "0"})
    assert row["path"] == "extractive" and "finding" not in row


def test_the_cap_refuses_and_unknown_outcomes_stay_spent() -> None:
    b = budget("0.001")
    amounts = [Decimal("0.0004")] * 3
    reservations = [b.try_reserve(a, "a", f"r{i}", "p1") for i, a in enumerate(amounts)]
    assert reservations[2] is None and b.refused == 1  # 0.0012 would pass 0.001
    first, second = reservations[0], reservations[1]
    assert first is not None and second is not None
    b.settle_unknown(first, "timeout")
    assert b.spent == Decimal("0.0004") and b.reserved == Decimal("0.0004")
    assert b.try_reserve(Decimal("0.0004"), "a", "r3", "p1") is None  # still full
    rows = b.close_open("end of run")
    assert len(rows) == 1 and b.reserved == 0 and b.spent == Decimal("0.0008")
    assert b.totals()["overshoot_usd"] == "0"


def test_the_kill_switch_refuses_everything() -> None:
    b = budget()
    b.killed = True
    assert b.try_reserve(Decimal("0.000001"), "a", "r", "p1") is None
