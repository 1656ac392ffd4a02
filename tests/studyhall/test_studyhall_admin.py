"""Admin routes, flags and the outbound gate, fault toggles."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from studyhall_fakes import ADMIN, AUTH, Sink

from studyhall.server import running

pytestmark = pytest.mark.asyncio


async def test_admin_needs_the_admin_token(make_client) -> None:
    c, _ = await make_client()
    for method, path in (("GET", "/admin/billing"), ("GET", "/admin/heap"),
                         ("POST", "/admin/kill-switch"), ("GET", "/admin/faults"),
                         ("GET", "/admin/status")):
        r = await c.request(method, path, json={"on": True})
        assert r.status_code == 401, path
        r = await c.request(method, path, json={"on": True}, headers=AUTH)  # API token: not admin
        assert r.status_code == 401, path
    ok = await c.get("/admin/status", headers={"Authorization": "Bearer admin-secret-for-tests"})
    assert ok.status_code == 200


async def test_admin_disabled_without_configured_token(make_client) -> None:
    c, _ = await make_client(admin_token=None)
    r = await c.get("/admin/billing", headers=ADMIN)
    assert r.status_code == 403
    assert "STUDYHALL_ADMIN_TOKEN" in r.json()["detail"]


async def test_flags_default_off_and_outbound_blocked(make_client) -> None:
    c, app = await make_client(outbound_email_url="http://127.0.0.1:9/never")
    flags = (await c.get("/admin/flags")).json()
    assert flags == {"outbound_email": False, "notifications": False,
                     "provider_webhooks": False, "ai_kill_switch": False}
    await c.post("/api/ai/analyze", json={"student_id": 1, "text": "Hello there."}, headers=AUTH)
    await c.post("/api/ai/generate", json={"course_id": 1, "count": 2}, headers=AUTH)
    reg = app.state.studyhall.metrics.registry
    for channel in ("outbound_email", "notifications", "provider_webhooks"):
        assert reg.get_sample_value("studyhall_outbound_blocked_total", {"channel": channel}) == 1
    bad = await c.post("/admin/flags", json={"outbound_email": "maybe"}, headers=ADMIN)
    assert bad.status_code == 422
    unknown = await c.post("/admin/flags", json={"sms": True}, headers=ADMIN)
    assert unknown.status_code == 422


async def test_enabled_flag_sends_to_the_configured_sink(make_client) -> None:
    sink = Sink()
    async with running(sink.app()) as sink_url:
        c, app = await make_client(
            outbound_email_url=f"{sink_url}/email", notification_url=f"{sink_url}/notify",
        )
        r = await c.post("/admin/flags", json={"outbound_email": True}, headers=ADMIN)
        assert r.json()["outbound_email"] is True
        await c.post("/api/ai/analyze", json={"student_id": 2, "text": "Some text."},
                     headers=AUTH | {"X-Request-ID": "rid-out"})
        for _ in range(100):
            if sink.hits:
                break
            await asyncio.sleep(0.02)
        assert [h["path"] for h in sink.hits] == ["email"]
        assert sink.hits[0]["body"]["request_id"] == "rid-out"
        reg = app.state.studyhall.metrics.registry
        assert reg.get_sample_value("studyhall_outbound_blocked_total",
                                    {"channel": "notifications"}) == 1


async def test_billing_export_since(make_client) -> None:
    c, _ = await make_client()
    await c.post("/api/ai/analyze", json={"student_id": 1, "text": "First."}, headers=AUTH)
    cut = time.time()
    await asyncio.sleep(0.01)
    await c.post("/api/ai/analyze", json={"student_id": 1, "text": "Second."}, headers=AUTH)
    all_rows = (await c.get("/admin/billing", headers=ADMIN)).text.splitlines()
    assert len(all_rows) == 2
    r = await c.get("/admin/billing", params={"since": str(cut)}, headers=ADMIN)
    assert r.headers["content-type"].startswith("application/x-ndjson")
    assert len(r.text.splitlines()) == 1
    iso = json.loads(all_rows[1])["ts"]
    r = await c.get("/admin/billing", params={"since": iso}, headers=ADMIN)
    assert len(r.text.splitlines()) == 1
    bad = await c.get("/admin/billing", params={"since": "yesterday"}, headers=ADMIN)
    assert bad.status_code == 422


async def test_ledger_in_memory_without_path(make_client) -> None:
    c, _ = await make_client(billing_ledger_path=None)
    await c.post("/api/ai/analyze", json={"student_id": 1, "text": "First."}, headers=AUTH)
    rows = (await c.get("/admin/billing", headers=ADMIN)).text.splitlines()
    assert len(rows) == 1 and json.loads(rows[0])["path"] == "provider"


async def test_heap_starts_lazily_then_reports(make_client) -> None:
    import tracemalloc

    assert not tracemalloc.is_tracing()
    c, _ = await make_client()
    first = (await c.get("/admin/heap?top=5", headers=ADMIN)).json()
    assert first["tracing_started"] is True
    await c.get("/api/courses", headers=AUTH)
    second = (await c.get("/admin/heap?top=5", headers=ADMIN)).json()
    assert second["tracing_started"] is False
    assert 0 < len(second["top"]) <= 5 and "size_bytes" in second["top"][0]
    assert (await c.delete("/admin/heap", headers=ADMIN)).json() == {"stopped": True}
    assert not tracemalloc.is_tracing()


async def test_faults_toggle_and_reset(make_client) -> None:
    c, _ = await make_client()
    r = await c.post("/admin/faults", json={"slow_search": True, "slow_search_sleep_ms": 0,
                                            "memory_leak_kb": 4, "cpu_burn_ms": 5,
                                            "db_hold_ms": 30}, headers=ADMIN)
    assert r.status_code == 200
    started = time.perf_counter()
    r = await c.get("/api/courses/search?q=algebra", headers=AUTH)
    assert r.status_code == 200 and r.json()["items"]
    assert time.perf_counter() - started >= 0.035  # cpu burn + db hold
    text = (await c.get("/metrics")).text
    assert 'statement="search_like"' in text
    faults = (await c.get("/admin/faults", headers=ADMIN)).json()
    assert faults["leaked_bytes"] == 4 * 1024  # one /api request so far (/metrics is not /api)
    bad = await c.post("/admin/faults", json={"cpu_burn_ms": -1}, headers=ADMIN)
    assert bad.status_code == 422
    reset = (await c.delete("/admin/faults", headers=ADMIN)).json()
    assert reset["leaked_bytes"] == 0 and reset["slow_search"] is False


async def test_db_hold_fault_fills_the_pool(make_client) -> None:
    c, app = await make_client(pool_size=2, pool_timeout_s=0.2)
    await c.post("/admin/faults", json={"db_hold_ms": 400}, headers=ADMIN)
    results = await asyncio.gather(*(c.get(f"/api/students/{i}/profile", headers=AUTH)
                                     for i in range(1, 5)))
    codes = sorted(r.status_code for r in results)
    assert codes.count(200) == 2 and codes.count(503) == 2
    assert app.state.studyhall.db.in_use == 0
