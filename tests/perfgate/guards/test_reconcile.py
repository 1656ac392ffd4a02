"""Three ledgers, one total: perfgate's, the target's, the provider's; > 1% is a finding."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from guards_fakes import ai_headers, provider_cost

from perfgate.guards.budget import Budget
from perfgate.guards.reconcile import reconcile, relative_difference, target_totals
from perfgate.guards.spec import BudgetSpec, ReconcileSpec

PRICES = {"gpt-4o-mini": {"input_per_1m": "0.15", "output_per_1m": "0.60"}}


def ledger_line(rid: str, cost: Decimal, path: str = "provider") -> str:
    billed = 4 * cost if path == "provider" else Decimal(0)
    return json.dumps({"request_id": rid, "path": path, "provider_cost_usd": str(cost),
                       "billed_usd": str(billed)})


def test_relative_difference_and_run_filter() -> None:
    assert relative_difference(Decimal(100), Decimal(99)) == pytest.approx(0.01)
    assert relative_difference(Decimal(0), Decimal(0)) == 0.0
    lines = [ledger_line("run-1-a", Decimal("0.001")), ledger_line("other-1", Decimal(5)), ""]
    t = target_totals(lines, "run-1-")
    assert t["rows"] == 1 and t["provider_cost_usd"] == Decimal("0.001")


@pytest.mark.asyncio
async def test_reconcile_against_a_target_and_a_provider(tmp_path: Path) -> None:
    b = Budget(BudgetSpec.model_validate({"hard_cap_usd": 10, "model": "gpt-4o-mini",
                                          "prices": PRICES}))
    costs = []
    for i in range(10):
        res = b.try_reserve(Decimal("0.001"), "analyze", f"run-1-{i:x}", "p1")
        assert res is not None
        b.settle(res, 200, ai_headers(100 + i, 50))
        costs.append(provider_cost(100 + i, 50))
    total = sum(costs, Decimal(0))
    ledger = tmp_path / "billing.jsonl"
    # the target missed one call (its total is ~10% short), the provider agrees with us
    ledger.write_text("\n".join(ledger_line(f"run-1-{i:x}", c) for i, c in enumerate(costs[1:])),
                      encoding="utf-8")
    seen: dict[str, Any] = {}

    async def report(request: web.Request) -> web.Response:
        seen.update(request.query, auth=request.headers.get("Authorization"))
        return web.json_response({"total": {"calls": 10, "cost_usd": str(total)}})

    app = web.Application()
    app.router.add_get("/admin/cost-report", report)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    spec = ReconcileSpec.model_validate({
        "target_billing_file": str(ledger),
        "provider_report": {"url": "${LLMSIM_URL}/admin/cost-report",
                            "headers": {"Authorization": "Bearer ${TOKEN}"}}})
    try:
        out = await reconcile(b, spec, base_url="http://127.0.0.1:1",
                              env={"LLMSIM_URL": f"http://127.0.0.1:{port}", "TOKEN": "t"},
                              since_epoch=1700000000.0, request_prefix="run-1-")
    finally:
        await runner.cleanup()
    assert seen["since"] == "1700000000.000" and seen["auth"] == "Bearer t"
    assert out["perfgate"]["provider_cost_usd"] == format(total.normalize(), "f")
    ok = {(c["what"], c["a"], c["b"]): c["ok"] for c in out["comparisons"]}
    assert ok == {("provider_cost_usd", "perfgate", "target"): False,
                  ("provider_cost_usd", "perfgate", "provider"): True,
                  ("provider_cost_usd", "target", "provider"): False,
                  ("billed_usd", "perfgate", "target"): False}
    assert len(out["findings"]) == 3 and "> 1%" in out["findings"][0]


@pytest.mark.asyncio
async def test_an_unreadable_ledger_is_a_finding() -> None:
    b = Budget(BudgetSpec.model_validate({"hard_cap_usd": 10, "model": "gpt-4o-mini",
                                          "prices": PRICES}))
    spec = ReconcileSpec.model_validate({"target_billing": {"url": "/admin/billing"},
                                         "provider_report": {"url": "${MISSING}/r"}})
    out = await reconcile(b, spec, base_url="http://127.0.0.1:9", env={}, since_epoch=0,
                          request_prefix="x-")
    assert "error" in out["target"] and "error" in out["provider"]
    assert len(out["findings"]) == 2 and out["comparisons"] == []
