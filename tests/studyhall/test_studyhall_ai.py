"""AI endpoints with a fake provider: 4x billing, failover, breaker, fallbacks, kill switch."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import httpx
import pytest
from studyhall_fakes import ADMIN, AUTH, COMPLETION_TOKENS, FakeClock, FakeProvider

pytestmark = pytest.mark.asyncio

IN_PRICE, OUT_PRICE = Decimal("0.15"), Decimal("0.60")
ESSAY = ("Photosynthesis turns light into chemical energy. Plants use it to grow. "
         "In my experiment the plant near the window grew faster than the one in the dark.")


def expected_cost(prompt: int, completion: int) -> Decimal:
    return (prompt * IN_PRICE + completion * OUT_PRICE) / Decimal(1_000_000)


async def analyze(c: httpx.AsyncClient, text: str = ESSAY, rid: str | None = None,
                  student_id: int = 5) -> httpx.Response:
    headers = AUTH | ({"X-Request-ID": rid} if rid else {})
    r = await c.post("/api/ai/analyze", json={"student_id": student_id, "text": text},
                     headers=headers)
    assert r.status_code == 200, r.text
    return r


async def ledger(c: httpx.AsyncClient) -> list[dict]:
    r = await c.get("/admin/billing", headers=ADMIN)
    assert r.status_code == 200
    return [json.loads(line) for line in r.text.splitlines()]


def metric(app, name: str, labels: dict | None = None) -> float:
    value = app.state.studyhall.metrics.registry.get_sample_value(name, labels or {})
    return 0.0 if value is None else value


async def test_provider_call_bills_exactly_four_times(make_client) -> None:
    c, app = await make_client()
    r = await analyze(c, rid="req-billing-1")
    h = r.headers
    assert h["x-ai-path"] == "provider" and h["x-ai-provider-key"] == "primary"
    assert h["x-ai-model"] == "gpt-4o-mini"
    prompt, completion = int(h["x-ai-prompt-tokens"]), int(h["x-ai-completion-tokens"])
    assert prompt > 20 and completion == COMPLETION_TOKENS
    cost = Decimal(h["x-ai-provider-cost-usd"])
    assert cost == expected_cost(prompt, completion)
    assert Decimal(h["x-ai-billed-usd"]) == 4 * cost
    assert "e" not in h["x-ai-billed-usd"].lower()
    assert r.json()["feedback"]
    rows = await ledger(c)
    assert len(rows) == 1
    row = rows[0]
    assert row["request_id"] == "req-billing-1" and row["path"] == "provider"
    assert row["key"] == "primary" and row["prompt_tokens"] == prompt
    assert Decimal(row["provider_cost_usd"]) == cost
    assert Decimal(row["billed_usd"]) == 4 * cost
    assert metric(app, "studyhall_billed_usd_total") == pytest.approx(float(4 * cost))


async def test_generate_returns_count_questions_and_bills(make_client) -> None:
    c, _ = await make_client()
    r = await c.post("/api/ai/generate", json={"course_id": 3, "count": 4}, headers=AUTH)
    assert r.status_code == 200
    assert len(r.json()["questions"]) == 4
    h = r.headers
    cost = expected_cost(int(h["x-ai-prompt-tokens"]), int(h["x-ai-completion-tokens"]))
    assert Decimal(h["x-ai-billed-usd"]) == 4 * cost
    bad = await c.post("/api/ai/generate", json={"course_id": 3, "count": 0}, headers=AUTH)
    assert bad.status_code == 422
    missing = await c.post("/api/ai/generate", json={"course_id": 99999}, headers=AUTH)
    assert missing.status_code == 404


async def test_transient_rate_limit_is_retried_on_primary(make_client, fake_provider) -> None:
    c, app = await make_client(rate_limit_retries=1)
    fake_provider.script["primary"] = ["rate_limited"]
    r = await analyze(c)
    assert r.headers["x-ai-provider-key"] == "primary"
    assert fake_provider.count("primary") == 2 and fake_provider.count("secondary") == 0
    assert metric(app, "studyhall_failovers_total") == 0


async def test_persisting_rate_limit_fails_over_and_sidelines_primary(
    make_client, fake_provider: FakeProvider, clock: FakeClock
) -> None:
    c, app = await make_client(rate_limit_retries=1, rate_limit_sideline_s=5)
    fake_provider.modes["primary"] = "rate_limited"
    fake_provider.retry_after = "20"
    r = await analyze(c)
    assert r.headers["x-ai-path"] == "provider"
    assert r.headers["x-ai-provider-key"] == "secondary"
    assert fake_provider.count("primary", "rate_limited") == 2
    labels = {"key": "primary", "outcome": "rate_limited"}
    assert metric(app, "studyhall_provider_requests_total", labels) == 2
    assert metric(app, "studyhall_failovers_total") == 1
    # primary is sidelined: the next call goes straight to the secondary
    await analyze(c, text="another essay. With two sentences.")
    assert fake_provider.count("primary") == 2
    assert fake_provider.count("secondary") == 2
    # after the sideline, primary is tried again
    fake_provider.modes["primary"] = "ok"
    clock.advance(6)
    r = await analyze(c, text="third essay.")
    assert r.headers["x-ai-provider-key"] == "primary"


async def test_insufficient_quota_fails_over_at_once(
    make_client, fake_provider: FakeProvider, clock: FakeClock
) -> None:
    c, app = await make_client(rate_limit_retries=3, quota_sideline_s=30)
    fake_provider.modes["primary"] = "quota"
    r = await analyze(c)
    assert r.headers["x-ai-provider-key"] == "secondary"
    assert fake_provider.count("primary") == 1  # no retry on quota
    assert metric(app, "studyhall_provider_requests_total",
                  {"key": "primary", "outcome": "quota"}) == 1
    h = r.headers
    cost = expected_cost(int(h["x-ai-prompt-tokens"]), int(h["x-ai-completion-tokens"]))
    assert Decimal(h["x-ai-billed-usd"]) == 4 * cost
    status = (await c.get("/admin/status", headers=ADMIN)).json()
    assert "primary" in status["sidelined_keys"]
    clock.advance(31)
    fake_provider.modes["primary"] = "ok"
    assert (await analyze(c, text="later.")).headers["x-ai-provider-key"] == "primary"


async def test_all_keys_exhausted_falls_back_extractive_billing_zero(
    make_client, fake_provider: FakeProvider
) -> None:
    c, app = await make_client()
    fake_provider.modes.update(primary="quota", secondary="quota")
    r = await analyze(c, rid="req-fallback")
    h = r.headers
    assert h["x-ai-path"] == "extractive"
    assert h["x-ai-fallback-reason"] == "keys_exhausted"
    assert h["x-ai-provider-key"] == "none"
    assert h["x-ai-billed-usd"] == "0" and h["x-ai-provider-cost-usd"] == "0"
    assert h["x-ai-prompt-tokens"] == "0"
    assert "words" in r.json()["feedback"]
    row = (await ledger(c))[-1]
    assert row["path"] == "extractive" and row["billed_usd"] == "0"
    assert row["request_id"] == "req-fallback"
    assert metric(app, "studyhall_fallbacks_total", {"path": "extractive"}) == 1
    assert metric(app, "studyhall_billed_usd_total") == 0


async def test_cache_fallback_bills_zero(make_client, fake_provider: FakeProvider) -> None:
    c, app = await make_client()
    first = await analyze(c)
    fake_provider.modes.update(primary="error", secondary="error")
    again = await analyze(c)
    assert again.headers["x-ai-path"] == "cache"
    assert again.headers["x-ai-fallback-reason"] == "provider_error"
    assert again.headers["x-ai-billed-usd"] == "0"
    assert again.json()["feedback"] == first.json()["feedback"]
    other = await analyze(c, text="A text never seen before.")
    assert other.headers["x-ai-path"] == "extractive"
    rows = await ledger(c)
    assert [r["path"] for r in rows] == ["provider", "cache", "extractive"]
    assert [Decimal(r["billed_usd"]) == 0 for r in rows] == [False, True, True]
    assert metric(app, "studyhall_fallbacks_total", {"path": "cache"}) == 1


async def test_fallback_bills_fault_makes_fallbacks_bill(make_client, fake_provider) -> None:
    c, _ = await make_client()
    r = await c.post("/admin/faults", json={"fallback_bills": True}, headers=ADMIN)
    assert r.status_code == 200 and r.json()["fallback_bills"] is True
    fake_provider.modes.update(primary="quota", secondary="quota")
    h = (await analyze(c)).headers
    assert h["x-ai-path"] == "extractive"
    assert h["x-ai-provider-cost-usd"] == "0"
    assert Decimal(h["x-ai-billed-usd"]) > 0  # the deliberate bug perfgate must catch
    assert Decimal((await ledger(c))[-1]["billed_usd"]) > 0
    await c.delete("/admin/faults", headers=ADMIN)
    assert (await analyze(c)).headers["x-ai-billed-usd"] == "0"


async def test_breaker_trips_and_half_open_probes(
    make_client, fake_provider: FakeProvider, clock: FakeClock
) -> None:
    c, app = await make_client(breaker_failure_threshold=3, breaker_reset_timeout_s=10)
    fake_provider.modes.update(primary="error", secondary="error")
    for i in range(3):
        r = await analyze(c, text=f"essay {i}.")
        assert r.headers["x-ai-fallback-reason"] == "provider_error"
    assert fake_provider.count() == 3  # 5xx is not failed over to the other key
    assert metric(app, "studyhall_breaker_state") == 2
    r = await analyze(c, text="while open.")
    assert r.headers["x-ai-fallback-reason"] == "breaker_open"
    assert fake_provider.count() == 3  # open: no provider call
    clock.advance(10)
    assert metric(app, "studyhall_breaker_state") == 1  # half-open
    r = await analyze(c, text="probe fails.")
    assert r.headers["x-ai-fallback-reason"] == "provider_error"
    assert fake_provider.count() == 4
    assert metric(app, "studyhall_breaker_state") == 2  # re-opened
    clock.advance(10)
    fake_provider.modes.update(primary="ok", secondary="ok")
    r = await analyze(c, text="probe succeeds.")
    assert r.headers["x-ai-path"] == "provider"
    assert metric(app, "studyhall_breaker_state") == 0
    assert metric(app, "studyhall_breaker_transitions_total", {"to": "open"}) == 2
    assert metric(app, "studyhall_breaker_transitions_total", {"to": "half_open"}) == 2
    assert metric(app, "studyhall_breaker_transitions_total", {"to": "closed"}) == 1


async def test_half_open_lets_one_probe_through(
    make_client, fake_provider: FakeProvider, clock: FakeClock
) -> None:
    c, app = await make_client(breaker_failure_threshold=1, breaker_reset_timeout_s=5)
    fake_provider.modes["primary"] = "error"
    await analyze(c, text="trip.")
    clock.advance(5)
    fake_provider.modes["primary"] = "slow"
    fake_provider.slow_s = 0.2
    a, b = await asyncio.gather(analyze(c, text="probe a."), analyze(c, text="probe b."))
    paths = sorted([a.headers["x-ai-path"], b.headers["x-ai-path"]])
    assert paths == ["extractive", "provider"]
    assert metric(app, "studyhall_breaker_state") == 0


async def test_timeout_counts_and_falls_back(make_client, fake_provider) -> None:
    c, app = await make_client(provider_timeout_s=0.05)
    fake_provider.modes["primary"] = "slow"
    fake_provider.slow_s = 0.5
    r = await analyze(c)
    assert r.headers["x-ai-path"] == "extractive"
    assert r.headers["x-ai-fallback-reason"] == "provider_error"
    assert metric(app, "studyhall_provider_requests_total",
                  {"key": "primary", "outcome": "timeout"}) == 1


async def test_kill_switch_fallback_mode(make_client, fake_provider) -> None:
    c, _ = await make_client()
    r = await c.post("/admin/kill-switch", json={"on": True}, headers=ADMIN)
    assert r.json() == {"ai_kill_switch": True, "mode": "fallback"}
    assert (await c.get("/admin/flags")).json()["ai_kill_switch"] is True
    res = await analyze(c)
    assert res.headers["x-ai-path"] == "extractive"
    assert res.headers["x-ai-fallback-reason"] == "kill_switch"
    assert res.headers["x-ai-billed-usd"] == "0"
    assert fake_provider.count() == 0
    await c.post("/admin/kill-switch", json={"on": False}, headers=ADMIN)
    assert (await analyze(c)).headers["x-ai-path"] == "provider"


async def test_kill_switch_503_mode(make_client, fake_provider) -> None:
    c, _ = await make_client(kill_switch_mode="503")
    await c.post("/admin/kill-switch", json={"on": True}, headers=ADMIN)
    r = await c.post("/api/ai/generate", json={"course_id": 1, "count": 3}, headers=AUTH)
    assert r.status_code == 503
    assert fake_provider.count() == 0


async def test_unknown_student_is_404_without_provider_call(make_client, fake_provider) -> None:
    c, _ = await make_client()
    r = await c.post("/api/ai/analyze", json={"student_id": 123456, "text": "hi"}, headers=AUTH)
    assert r.status_code == 404
    assert fake_provider.count() == 0
