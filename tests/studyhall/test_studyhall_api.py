"""Core API in-process: auth, profile, search, browse, request ids, health, metrics."""

from __future__ import annotations

import httpx
import pytest
from studyhall_fakes import AUTH, N_COURSES

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic sh-test-x"},
     {"Authorization": "Bearer "}],
)
async def test_api_rejects_missing_or_bad_tokens(client: httpx.AsyncClient, headers: dict) -> None:
    for path in ("/api/students/1/profile", "/api/courses/search?q=algebra", "/api/courses"):
        r = await client.get(path, headers=headers)
        assert r.status_code == 401, path
        assert r.headers["www-authenticate"] == "Bearer"
    r = await client.post("/api/ai/analyze", json={"student_id": 1, "text": "x"}, headers=headers)
    assert r.status_code == 401


async def test_configured_token_is_accepted(make_client) -> None:
    c, _ = await make_client(tokens=["perf-run-token"], token_pattern=None)
    ok = await c.get("/api/courses", headers={"Authorization": "Bearer perf-run-token"})
    assert ok.status_code == 200
    bad = await c.get("/api/courses", headers=AUTH)  # pattern disabled
    assert bad.status_code == 401


async def test_profile(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/students/7/profile", headers=AUTH)
    assert r.status_code == 200
    body = r.json()
    assert body["student"]["id"] == 7
    assert body["student"]["email"].endswith(("@example.com", "@example.org"))
    assert 2 <= len(body["enrollments"]) <= 6
    assert body["progress"]["courses"] == len(body["enrollments"])
    assert {"course_id", "title", "progress_pct", "status"} <= set(body["enrollments"][0])


async def test_profile_unknown_student_is_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/students/999999/profile", headers=AUTH)
    assert r.status_code == 404


@pytest.mark.parametrize("term", ["algebra", "biology", "poetry", "programming", "statistics"])
async def test_search_finds_plan_terms(client: httpx.AsyncClient, term: str) -> None:
    r = await client.get("/api/courses/search", params={"q": term, "page": 1}, headers=AUTH)
    assert r.status_code == 200
    body = r.json()
    assert body["items"], term
    assert body["page"] == 1 and body["page_size"] == 20


async def test_search_paging_and_odd_input(client: httpx.AsyncClient) -> None:
    p1 = (await client.get("/api/courses/search?q=history&page=1", headers=AUTH)).json()
    p2 = (await client.get("/api/courses/search?q=history&page=2", headers=AUTH)).json()
    assert not {i["id"] for i in p1["items"]} & {i["id"] for i in p2["items"]}
    for q in ['"', "AND OR NOT", "*", "algebra)"]:
        r = await client.get("/api/courses/search", params={"q": q}, headers=AUTH)
        assert r.status_code == 200, q
    assert (await client.get("/api/courses/search?q=", headers=AUTH)).json()["items"] == []
    assert (await client.get("/api/courses/search", headers=AUTH)).status_code == 422


@pytest.mark.parametrize("topic", ["math", "science", "humanities", "languages", "computing",
                                   "arts"])
async def test_browse_topics(client: httpx.AsyncClient, topic: str) -> None:
    r = await client.get("/api/courses", params={"topic": topic, "page": 1}, headers=AUTH)
    items = r.json()["items"]
    assert items and all(i["topic"] == topic for i in items)
    assert len(items) == min(20, N_COURSES // 6)


async def test_browse_all_pages(client: httpx.AsyncClient) -> None:
    seen = []
    page = 1
    while True:
        body = (await client.get(f"/api/courses?page={page}", headers=AUTH)).json()
        seen += [i["id"] for i in body["items"]]
        if not body["has_more"]:
            break
        page += 1
    assert seen == list(range(1, N_COURSES + 1))


async def test_request_id_is_echoed_or_made(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/courses", headers=AUTH | {"X-Request-ID": "perf-abc-123"})
    assert r.headers["x-request-id"] == "perf-abc-123"
    r = await client.get("/api/courses", headers=AUTH)
    assert len(r.headers["x-request-id"]) == 32


async def test_healthz(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["db"] == "sqlite"


METRIC_NAMES = [
    "process_cpu_seconds_total", "process_resident_memory_bytes",
    "studyhall_gc_pause_seconds_bucket", "studyhall_http_request_duration_seconds_bucket",
    "studyhall_db_query_seconds_bucket", "studyhall_db_pool_size", "studyhall_db_pool_in_use",
    "studyhall_queue_depth", "studyhall_queue_oldest_age_seconds", "studyhall_breaker_state",
    "studyhall_breaker_transitions_total", "studyhall_provider_requests_total",
    "studyhall_failovers_total", "studyhall_fallbacks_total",
    "studyhall_outbound_blocked_total", "studyhall_provider_cost_usd_total",
    "studyhall_billed_usd_total",
]


async def test_metrics_exposition(client: httpx.AsyncClient) -> None:
    import gc

    await client.get("/api/students/3/profile", headers=AUTH)
    await client.get("/api/courses/search?q=physics", headers=AUTH)
    await client.post("/api/ai/analyze", json={"student_id": 1, "text": "A short essay."},
                      headers=AUTH)
    await client.post("/api/ai/generate", json={"course_id": 1, "count": 3}, headers=AUTH)
    gc.collect()
    text = (await client.get("/metrics")).text
    for name in METRIC_NAMES:
        assert f"\n{name}" in text or text.startswith(name), name
    assert 'route="/api/students/{student_id}/profile"' in text
    assert 'statement="search_fts"' in text
    assert 'studyhall_provider_requests_total{key="primary",outcome="ok"} 2.0' in text
    assert "studyhall_db_pool_size 8.0" in text
    assert "studyhall_db_pool_in_use 0.0" in text
    assert "studyhall_breaker_state 0.0" in text
