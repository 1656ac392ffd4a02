"""Guards inside a real Controller run, against an in-process target (no sockets for the
load): a run that passes, ramp discipline, an error storm, the cost cap's kill switch."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from guards_fakes import FakeTarget

from perfgate.controller.runner import Controller, RunConfig
from perfgate.engine.client import MockTransport
from perfgate.guards import build_hooks
from perfgate.plan.loader import parse_plan
from perfgate.report.summary import build_summary
from perfgate.store.reader import RunReader

PLAN = """
name: guarded-run
run_tag: grun
target: {base_url: "http://127.0.0.1:9"}
schedule:
  arrival: uniform
  seed: 4
  warmup: {rps: 20, duration: 20s}
  plateaus: [{rps: 40, duration: 40s}, {rps: 40, duration: 40s}]
families:
  core: {timeout: 2s}
  ai: {timeout: 2s}
mix:
  reads: {family: core, weight: 75, endpoints: [{name: item, path: "/items/{n}"}]}
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
  - {name: fallbacks_bill_zero, family: ai, metric: fallback_billed_usd, threshold: $0}
triggers:
  window: 1m
  rules:
    - {name: error_rate, signal: error_rate, op: ">", threshold: 0.5%, for: 2m}
budget:
  hard_cap_usd: CAP
  soft_alert_usd: SOFT
  model: gpt-4o-mini
  prices: {gpt-4o-mini: {input_per_1m: "0.15", output_per_1m: "0.60"}}
  kill_switch: {url: "KILL_URL", method: POST, headers: {X-Admin-Token: "${ADMIN}"},
                body: {"on": true}}
"""
SCALE = 0.05  # plateaus of 2 s; the 2m trigger holds for 6 s over a 3 s window


def plan_text(cap: str = "500", soft: str = "350", kill_url: str = "http://127.0.0.1:9/k"
              ) -> str:
    return PLAN.replace("CAP", cap).replace("SOFT", soft).replace("KILL_URL", kill_url)


async def run(text: str, tmp_path: Path, target: FakeTarget, mode: str = "enforce"
              ) -> tuple[Any, dict[str, Any], RunReader]:
    plan = parse_plan(text)
    hooks = build_hooks(plan, mode=mode, time_scale=SCALE, env={"ADMIN": "s3cret"})
    controller = Controller(RunConfig(plan=plan, out_dir=tmp_path, time_scale=SCALE,
                                      secrets=("s3cret",)),
                            transport=MockTransport(target), hooks=hooks)
    t0 = time.monotonic()
    target.clock = lambda: time.monotonic() - t0
    outcome = await controller.run()
    reader = RunReader(outcome.run_dir)
    return outcome, build_summary(reader), reader


@pytest.mark.asyncio
async def test_a_clean_run_passes_with_a_verdict_per_plateau(tmp_path: Path) -> None:
    target = FakeTarget()
    outcome, summary, reader = await run(plan_text(), tmp_path, target)
    with reader:
        # PASS unless the shared test box made the generator itself lag (INVALID)
        driven = all(p["valid"] for p in summary["plateaus"] if not p["warmup"])
        assert outcome.status == "completed"
        assert summary["verdict"] == ("PASS" if driven else "INVALID")
        verdicts = {p["id"]: (p["verdict"] or {}).get("verdict") for p in summary["plateaus"]}
        assert verdicts == {"p0": None, "p1": "PASS", "p2": "PASS"}
        assert summary["safe_rps"] == 40 and summary["criteria_evaluated"] == 8
        ledger = reader.ledger()
        assert len(ledger) == target.ai_calls > 0
        assert all(r["finding"] is None for r in ledger)
        assert summary["cost"]["findings"] == {} and summary["cost"]["refused"] == 0
        assert Decimal(summary["cost"]["spent_usd"]) == sum(
            Decimal(r["provider_cost_usd"]) for r in ledger)
        names = {s.name for s in reader.samples("cost")}
        assert {"spend_usd", "usd_per_ai_call", "usd_per_1k_requests"} <= names


@pytest.mark.asyncio
async def test_a_red_plateau_stops_the_ramp(tmp_path: Path) -> None:
    target = FakeTarget()
    target.slow_plateaus = {"p2"}
    outcome, summary, reader = await run(plan_text(), tmp_path, target)
    reader.close()
    assert outcome.status == "failed" and summary["verdict"] == "FAIL"
    assert summary["reason"].startswith("core_p95: FAIL")
    assert (summary["safe_rps"], summary["safe_plateau"]) == (40, "p1")


@pytest.mark.asyncio
async def test_an_error_storm_aborts_after_the_scaled_for(tmp_path: Path) -> None:
    target = FakeTarget()
    target.errors_from = 2.0  # into p1: 75% of the requests fail from then on
    text = plan_text().replace("plateaus: [{rps: 40, duration: 40s}, {rps: 40, duration: 40s}]",
                               "plateaus: [{rps: 40, duration: 4m}]")  # 12 s
    outcome, summary, reader = await run(text, tmp_path, target)
    with reader:
        fired = reader.events("trigger_fired")
        warned = reader.events("trigger_warning")
    assert fired and fired[0].data["trigger"] == "error_rate"
    # the 1 s windows reach the trigger a second late at most; then it must hold 6 s
    assert 0 < warned[0].t - 2.0 <= 2.2, warned[0].t
    assert fired[0].t - warned[0].t == pytest.approx(6.0, abs=0.2)
    assert fired[0].data["latency_s"] < 0.2
    assert outcome.status == "aborted" and summary["verdict"] == "ABORTED"
    assert outcome.abort is not None and outcome.abort.kind == "error_rate"
    assert outcome.abort.t == fired[0].t and outcome.abort.plateau == "p1"


@pytest.mark.asyncio
async def test_a_low_cap_trips_the_kill_switch_without_overshoot(tmp_path: Path) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []

    async def kill(request: web.Request) -> web.Response:
        calls.append((request.headers.get("X-Admin-Token", ""), await request.json()))
        return web.json_response({"ai_kill_switch": True})

    app = web.Application()
    app.router.add_post("/admin/kill-switch", kill)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/admin/kill-switch"
    try:
        target = FakeTarget()
        outcome, summary, reader = await run(plan_text("0.002", "0.001", url), tmp_path, target)
    finally:
        await runner.cleanup()
    with reader:
        kinds = [e.kind for e in reader.events()]
        ledger = reader.ledger()
    assert outcome.status == "aborted" and outcome.abort is not None
    assert outcome.abort.kind == "cost_cap"
    cost = summary["cost"]
    assert Decimal(cost["spent_usd"]) <= Decimal("0.002") and cost["overshoot_usd"] == "0"
    assert cost["killed"] and cost["refused"] >= 1
    assert calls == [("s3cret", {"on": True})]  # the target's hook, with the env token
    assert kinds.index("soft_cost_alert") < kinds.index("cost_cap") < kinds.index("abort")
    assert any(r["finding"] == "refused" for r in ledger)
    assert "s3cret" not in (tmp_path / outcome.run_id / "run.sqlite").read_bytes().decode(
        "latin-1")


@pytest.mark.asyncio
async def test_billed_fallbacks_are_a_finding_and_a_red_plateau(tmp_path: Path) -> None:
    target = FakeTarget()
    target.fallback_billed = Decimal("0.0003")
    outcome, summary, reader = await run(plan_text(), tmp_path, target, "observe")
    reader.close()
    assert outcome.status == "completed" and summary["verdict"] == "FAIL"
    assert summary["cost"]["findings"]["fallback_billed"] == target.ai_calls
    failed = {c["name"] for p in summary["plateaus"] for c in p["criteria"]
              if c["verdict"] == "FAIL"}
    assert failed == {"fallbacks_bill_zero"}
    example = summary["cost"]["examples"]["fallback_billed"][0]
    assert example["path"] == "extractive" and example["billed_usd"] == "0.0003"
