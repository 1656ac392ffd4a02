"""The app in-process (ASGI transport) on a fake clock: exact headers, errors, admin."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
import pytest_asyncio

from llmsim.app import create_app
from llmsim.config import SimConfig
from llmsim.pricing import call_cost
from llmsim.state import Simulator

PRIMARY = {"Authorization": "Bearer sk-sim-primary"}
SECONDARY = {"Authorization": "Bearer sk-sim-secondary"}
ADMIN = {"X-Admin-Token": "test-admin-token"}


class FakeClock:
    def __init__(self, t: float = 1_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def body(content: str = "Explain the water cycle", **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}], **extra}


class Harness:
    def __init__(self, client: httpx.AsyncClient, sim: Simulator, clock: FakeClock) -> None:
        self.client = client
        self.sim = sim
        self.clock = clock

    async def admin(self, path: str, payload: dict[str, Any] | None = None) -> httpx.Response:
        return await self.client.post(f"/admin/{path}", json=payload, headers=ADMIN)

    async def complete(self, headers: dict[str, str] = PRIMARY, **kw: Any) -> httpx.Response:
        return await self.client.post("/v1/chat/completions", json=body(**kw), headers=headers)


@pytest_asyncio.fixture
async def make_harness(
    make_config: Callable[..., SimConfig],
) -> AsyncIterator[Callable[..., Harness]]:
    clients: list[httpx.AsyncClient] = []

    def make(**overrides: Any) -> Harness:
        clock = FakeClock()
        app = create_app(make_config(latency_scale=0, **overrides), clock=clock)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim")
        clients.append(client)
        return Harness(client, app.state.sim, clock)

    yield make
    for client in clients:
        await client.aclose()


@pytest.mark.asyncio
async def test_plain_completion_shape_headers_and_billing(
    make_harness: Callable[..., Harness],
) -> None:
    h = make_harness()
    r = await h.complete(headers={**PRIMARY, "X-Client-Request-Id": "perf-123"})
    assert r.status_code == 200
    data = r.json()
    assert data["object"] == "chat.completion"
    assert data["id"].startswith("chatcmpl-")
    assert data["model"] == "gpt-4o-mini"
    choice = data["choices"][0]
    assert choice["index"] == 0
    assert choice["message"]["role"] == "assistant"
    assert choice["finish_reason"] == "stop"
    usage = data["usage"]
    assert usage["prompt_tokens"] == 3 + 3 + 6  # "Explain the water cycle": 23 chars
    assert usage["completion_tokens"] == len(choice["message"]["content"].split())
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]

    assert r.headers["x-request-id"].startswith("req_")
    assert int(r.headers["openai-processing-ms"]) >= 0
    assert r.headers["x-client-request-id"] == "perf-123"
    assert r.headers["openai-project"] == "proj-primary"
    assert r.headers["x-ratelimit-limit-requests"] == "5000"
    assert r.headers["x-ratelimit-remaining-requests"] == "4999"
    assert r.headers["x-ratelimit-remaining-tokens"] == str(4_000_000 - usage["total_tokens"])
    assert r.headers["x-ratelimit-reset-requests"] == "1m0s"
    assert r.headers["x-ratelimit-reset-tokens"] == "1m0s"

    (entry,) = h.sim.ledger.entries
    assert entry.request_id == r.headers["x-request-id"]
    assert entry.client_request_id == "perf-123"
    assert entry.project == "proj-primary"
    assert entry.cost_usd == call_cost(
        h.sim.config.prices["gpt-4o-mini"], usage["prompt_tokens"], usage["completion_tokens"]
    )


@pytest.mark.asyncio
async def test_same_request_same_answer(make_harness: Callable[..., Harness]) -> None:
    h = make_harness()
    a = (await h.complete()).json()
    b = (await h.complete()).json()
    assert a["choices"][0]["message"]["content"] == b["choices"][0]["message"]["content"]
    assert a["id"] != b["id"]


@pytest.mark.asyncio
async def test_max_tokens_and_max_completion_tokens_cap_the_answer(
    make_harness: Callable[..., Harness],
) -> None:
    h = make_harness(completion={"min_tokens": 50, "max_tokens": 50})
    r = (await h.complete(max_tokens=5)).json()
    assert r["usage"]["completion_tokens"] == 5
    assert r["choices"][0]["finish_reason"] == "length"
    r = (await h.complete(max_tokens=40, max_completion_tokens=3)).json()
    assert r["usage"]["completion_tokens"] == 3


@pytest.mark.asyncio
async def test_stream_events_and_usage_chunk(make_harness: Callable[..., Harness]) -> None:
    h = make_harness()
    r = await h.complete(stream=True, stream_options={"include_usage": True})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["x-ratelimit-remaining-requests"] == "4999"
    lines = [line for line in r.text.split("\n\n") if line]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert all(c["usage"] is None for c in chunks[:-1])
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks[:-1])
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["completion_tokens"] == len(text.split())
    plain = (await h.complete()).json()
    assert plain["choices"][0]["message"]["content"] == text
    assert [e.stream for e in h.sim.ledger.entries] == [True, False]


@pytest.mark.asyncio
async def test_stream_without_include_usage_has_no_usage(
    make_harness: Callable[..., Harness],
) -> None:
    h = make_harness()
    r = await h.complete(stream=True)
    chunks = [json.loads(x.removeprefix("data: ")) for x in r.text.split("\n\n")[:-2]]
    assert all("usage" not in c for c in chunks)
    assert all(c["choices"] for c in chunks)


@pytest.mark.asyncio
async def test_rpm_window_on_fake_clock(make_harness: Callable[..., Harness]) -> None:
    h = make_harness(projects={"proj-primary": {"rpm": 2, "tpm": 100_000}})
    assert (await h.complete()).status_code == 200
    h.clock.t += 20
    second = await h.complete()
    assert second.headers["x-ratelimit-remaining-requests"] == "0"
    assert second.headers["x-ratelimit-reset-requests"] == "1m0s"
    h.clock.t += 10.5
    r = await h.complete()
    assert r.status_code == 429
    err = r.json()["error"]
    assert err["code"] == "rate_limit_exceeded"
    assert err["type"] == "requests"
    assert err["param"] is None
    assert "Limit 2, Used 2, Requested 1" in err["message"]
    assert r.headers["retry-after"] == "30"  # the first call leaves the window in 29.5 s
    assert r.headers["retry-after-ms"] == "29500"
    assert r.headers["x-ratelimit-remaining-requests"] == "0"
    assert r.headers["x-ratelimit-reset-requests"] == "49.5s"
    # Another project has its own window.
    assert (await h.complete(headers=SECONDARY)).status_code == 200
    h.clock.t += 29.5
    assert (await h.complete()).status_code == 200
    assert len(h.sim.ledger) == 4  # the 429 was not billed


@pytest.mark.asyncio
async def test_tpm_window_and_too_large(make_harness: Callable[..., Harness]) -> None:
    h = make_harness(
        projects={"proj-primary": {"rpm": 100, "tpm": 60}},
        completion={"min_tokens": 20, "max_tokens": 20},
    )
    ok = await h.complete(content="abcd")  # 7 prompt + 20 completion
    assert ok.status_code == 200
    assert ok.headers["x-ratelimit-remaining-tokens"] == "33"
    assert (await h.complete(content="abcd")).status_code == 200
    r = await h.complete(content="abcd")
    assert r.status_code == 429
    assert r.json()["error"]["type"] == "tokens"
    assert r.json()["error"]["code"] == "rate_limit_exceeded"
    assert r.headers["retry-after"] == "60"
    huge = await h.complete(content="x" * 400)
    assert huge.status_code == 429
    assert huge.json()["error"]["message"].startswith("Request too large")


@pytest.mark.asyncio
async def test_spend_limit_gives_insufficient_quota(make_harness: Callable[..., Harness]) -> None:
    h = make_harness(projects={"proj-primary": {"spend_limit_usd": "0.00000001"}})
    assert (await h.complete()).status_code == 200  # the call that reaches the limit succeeds
    r = await h.complete()
    assert r.status_code == 429
    assert r.json()["error"] == {
        "message": r.json()["error"]["message"],
        "type": "insufficient_quota",
        "param": None,
        "code": "insufficient_quota",
    }
    assert "retry-after" not in r.headers
    assert (await h.complete(headers=SECONDARY)).status_code == 200
    state = (await h.client.get("/admin/state", headers=ADMIN)).json()
    assert Decimal(state["projects"]["proj-primary"]["spent_usd"]) > Decimal("0.00000001")


@pytest.mark.asyncio
async def test_auth_errors(make_harness: Callable[..., Harness]) -> None:
    h = make_harness()
    r = await h.complete(headers={"Authorization": "Bearer sk-wrong-key-0000"})
    assert r.status_code == 401
    err = r.json()["error"]
    assert err["code"] == "invalid_api_key"
    assert err["type"] == "invalid_request_error"
    assert "sk-wrong-key-0000" not in err["message"]
    assert (await h.complete(headers={})).status_code == 401
    assert (await h.client.get("/v1/models")).status_code == 401
    assert len(h.sim.ledger) == 0


@pytest.mark.asyncio
async def test_bad_requests_are_openai_400s_and_404s(make_harness: Callable[..., Harness]) -> None:
    h = make_harness()
    post = h.client.post
    r = await post("/v1/chat/completions", content=b"{nope", headers=PRIMARY)
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    r = await post("/v1/chat/completions", json={"model": "gpt-4o-mini"}, headers=PRIMARY)
    assert r.status_code == 400 and r.json()["error"]["param"] == "messages"
    r = await post("/v1/chat/completions", json=body(max_tokens=0), headers=PRIMARY)
    assert r.status_code == 400 and r.json()["error"]["param"] == "max_tokens"
    r = await post(
        "/v1/chat/completions", json=body(stream_options={"include_usage": True}), headers=PRIMARY
    )
    assert r.status_code == 400 and r.json()["error"]["param"] == "stream_options"
    r = await post("/v1/chat/completions", json={**body(), "model": "gpt-9"}, headers=PRIMARY)
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    r = await h.client.get("/v1/nothing-here", headers=PRIMARY)
    assert r.status_code == 404 and r.json()["error"]["message"].startswith("Invalid URL")
    assert len(h.sim.ledger) == 0


@pytest.mark.asyncio
async def test_models_are_free_and_carry_limit_headers(
    make_harness: Callable[..., Harness],
) -> None:
    h = make_harness(projects={"proj-secondary": {"rpm": 7, "tpm": 7_000}})
    r = await h.client.get("/v1/models", headers=SECONDARY)
    assert r.status_code == 200
    assert r.json()["data"][0]["id"] == "gpt-4o-mini"
    assert r.headers["x-ratelimit-limit-requests"] == "7"
    assert r.headers["x-ratelimit-limit-tokens"] == "7000"
    assert r.headers["x-ratelimit-remaining-requests"] == "7"
    for _ in range(10):
        assert (await h.client.get("/v1/models", headers=SECONDARY)).status_code == 200
    assert len(h.sim.ledger) == 0
    assert (await h.client.get("/v1/models/gpt-4o-mini", headers=SECONDARY)).status_code == 200
    assert (await h.client.get("/v1/models/nope", headers=SECONDARY)).status_code == 404


@pytest.mark.asyncio
async def test_admin_needs_the_token(make_harness: Callable[..., Harness]) -> None:
    h = make_harness()
    assert (await h.client.get("/admin/state")).status_code == 401
    r = await h.client.get("/admin/state", headers={"Authorization": "Bearer sk-sim-primary"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_admin_token"
    ok = await h.client.get("/admin/state", headers={"Authorization": "Bearer test-admin-token"})
    assert ok.status_code == 200
    assert "sk-sim-primary" not in ok.text  # keys are secrets


@pytest.mark.asyncio
async def test_drill_toggles_faults_and_reset(make_harness: Callable[..., Harness]) -> None:
    h = make_harness()
    r = await h.admin("projects/proj-primary/quota-exhausted", {"on": True})
    assert r.status_code == 200 and r.json()["quota_exhausted"] is True
    assert (await h.complete()).json()["error"]["code"] == "insufficient_quota"
    await h.admin("projects/proj-primary/quota-exhausted", {"on": False})

    await h.admin("projects/proj-primary/rate-limited", {"on": True})
    r = await h.complete()
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limit_exceeded"
    assert r.headers["retry-after"] == "1"
    assert (await h.complete(headers=SECONDARY)).status_code == 200

    r = await h.admin("projects/nope/rate-limited", {"on": True})
    assert r.status_code == 404
    r = await h.admin("projects/proj-primary/rate-limited", {"on": "x"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "on"

    r = await h.admin("faults", {"error_rate": 1.0, "error_status": 503})
    assert r.json()["error_rate"] == 1.0
    r = await h.complete(headers=SECONDARY)
    assert r.status_code == 503 and r.json()["error"]["type"] == "server_error"
    assert len(h.sim.ledger) == 1  # injected errors are not billed

    r = await h.admin("projects/proj-secondary/limits", {"rpm": 1, "spend_limit_usd": "5"})
    assert r.json()["rpm"] == 1 and r.json()["spend_limit_usd"] == "5"

    state = (await h.admin("reset")).json()
    assert state["ledger_entries"] == 0
    assert state["faults"]["error_rate"] == 0
    assert state["projects"]["proj-primary"]["rate_limited"] is False
    assert state["projects"]["proj-secondary"]["rpm"] == 5_000
    assert state["projects"]["proj-secondary"]["spend_limit_usd"] is None
    assert (await h.complete()).status_code == 200


@pytest.mark.asyncio
async def test_error_rate_is_seeded(make_harness: Callable[..., Harness]) -> None:
    async def pattern(h: Harness) -> list[int]:
        await h.admin("faults", {"error_rate": 0.5, "seed": 42})
        return [(await h.complete()).status_code for _ in range(30)]

    first = await pattern(make_harness())
    assert await pattern(make_harness()) == first
    assert set(first) == {200, 500}


@pytest.mark.asyncio
async def test_cost_report_and_ledger_export(make_harness: Callable[..., Harness]) -> None:
    h = make_harness()
    await h.complete()
    await h.complete(content="another question")
    await h.complete(headers=SECONDARY)
    report = (await h.client.get("/admin/cost-report", headers=ADMIN)).json()
    by = {p["project"]: p for p in report["projects"]}
    assert by["proj-primary"]["calls"] == 2 and by["proj-secondary"]["calls"] == 1
    expected = sum((e.cost_usd for e in h.sim.ledger.entries), Decimal(0))
    assert Decimal(report["total"]["cost_usd"]) == expected
    parts = Decimal(by["proj-primary"]["cost_usd"]) + Decimal(by["proj-secondary"]["cost_usd"])
    assert parts == expected
    future = (await h.client.get("/admin/cost-report?since=9999999999", headers=ADMIN)).json()
    assert future["total"]["calls"] == 0
    only = await h.client.get("/admin/cost-report?project=proj-secondary", headers=ADMIN)
    assert only.json()["total"]["calls"] == 1
    rows = (await h.client.get("/admin/ledger", headers=ADMIN)).text.splitlines()
    assert len(rows) == 3 and json.loads(rows[0])["project"] == "proj-primary"


@pytest.mark.asyncio
async def test_metrics_exposition(make_harness: Callable[..., Harness]) -> None:
    h = make_harness(projects={"proj-primary": {"rpm": 1}})
    await h.complete()
    await h.complete()
    await h.complete(headers={"Authorization": "Bearer nope"})
    text = (await h.client.get("/metrics")).text
    assert (
        'llmsim_requests_total{endpoint="chat.completions",outcome="ok",project="proj-primary"} 1.0'
        in text
    )
    assert 'outcome="rate_limited",project="proj-primary"} 1.0' in text
    assert 'outcome="unauthorized",project="unknown"} 1.0' in text
    assert 'llmsim_tokens_total{kind="completion",model="gpt-4o-mini",' in text
    assert "llmsim_cost_usd_total" in text
    assert "llmsim_in_flight 0.0" in text


def test_apps_share_no_state(make_config: Callable[..., SimConfig]) -> None:
    a = create_app(make_config())
    b = create_app(make_config())
    assert a.state.sim is not b.state.sim
    assert a.state.sim.metrics.registry is not b.state.sim.metrics.registry
