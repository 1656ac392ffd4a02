"""The official openai SDK against a real llmsim server (real sockets, port 0)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest

from llmsim.pricing import call_cost
from llmsim.server import BackgroundServer

pytestmark = pytest.mark.integration

MESSAGES: list[Any] = [
    {"role": "system", "content": "You are a study assistant."},
    {"role": "user", "content": "Give feedback on my essay about rivers."},
]


@contextmanager
def sdk(server: BackgroundServer, key: str = "sk-sim-primary") -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        api_key=key, base_url=f"{server.base_url}/v1", max_retries=0, timeout=10
    ) as client:
        yield client


def admin(server: BackgroundServer, method: str, path: str, **kw: Any) -> httpx.Response:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        return client.request(method, path, headers={"X-Admin-Token": "test-admin-token"}, **kw)


def test_plain_completion_usage_matches_headers_and_ledger(
    sim_server: Callable[..., BackgroundServer],
) -> None:
    server = sim_server()
    with sdk(server) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=MESSAGES, max_tokens=64
        )
        completion = raw.parse()
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content
    usage = completion.usage
    assert usage is not None
    assert usage.completion_tokens <= 64
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert raw.headers["x-ratelimit-remaining-tokens"] == str(4_000_000 - usage.total_tokens)
    assert raw.headers["x-ratelimit-remaining-requests"] == "4999"
    assert raw.headers["x-ratelimit-reset-requests"] == "1m0s"
    assert raw.request_id == raw.headers["x-request-id"]

    (entry,) = server.sim.ledger.entries
    assert entry.request_id == raw.request_id
    assert (entry.prompt_tokens, entry.completion_tokens) == (
        usage.prompt_tokens,
        usage.completion_tokens,
    )
    price = server.sim.config.prices["gpt-4o-mini"]
    assert entry.cost_usd == call_cost(price, usage.prompt_tokens, usage.completion_tokens)


def test_streamed_with_include_usage(sim_server: Callable[..., BackgroundServer]) -> None:
    server = sim_server()
    with sdk(server) as client:
        stream = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        with stream:
            chunks = list(stream)
        plain = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    final = chunks[-1]
    assert final.choices == []
    assert final.usage is not None
    assert final.usage.completion_tokens == len(text.split())
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert text == plain.choices[0].message.content
    assert plain.usage is not None and final.usage.prompt_tokens == plain.usage.prompt_tokens


@pytest.mark.asyncio
async def test_async_client_stream(sim_server: Callable[..., BackgroundServer]) -> None:
    server = sim_server()
    async with openai.AsyncOpenAI(
        api_key="sk-sim-secondary", base_url=f"{server.base_url}/v1", max_retries=0, timeout=10
    ) as client:
        stream = await client.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            max_completion_tokens=5,
            stream=True,
            stream_options={"include_usage": True},
        )
        async with stream:
            chunks = [c async for c in stream]
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 5
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"
    assert server.sim.ledger.entries[0].project == "proj-secondary"


def test_rate_limit_exceeded(sim_server: Callable[..., BackgroundServer]) -> None:
    server = sim_server(projects={"proj-primary": {"rpm": 2}})
    with sdk(server) as client:
        for _ in range(2):
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        with pytest.raises(openai.RateLimitError) as info:
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    err = info.value
    assert err.status_code == 429
    assert err.code == "rate_limit_exceeded"
    assert err.type == "requests"
    assert int(err.response.headers["retry-after"]) >= 1
    assert err.response.headers["x-ratelimit-remaining-requests"] == "0"


def test_forced_rate_limit_drill(sim_server: Callable[..., BackgroundServer]) -> None:
    server = sim_server()
    r = admin(server, "POST", "/admin/projects/proj-primary/rate-limited", json={"on": True})
    assert r.status_code == 200
    with sdk(server) as client, pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert info.value.code == "rate_limit_exceeded"
    with sdk(server, "sk-sim-secondary") as client:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)


def test_insufficient_quota(sim_server: Callable[..., BackgroundServer]) -> None:
    server = sim_server(projects={"proj-secondary": {"spend_limit_usd": "0.000001"}})
    admin(server, "POST", "/admin/projects/proj-primary/quota-exhausted", json={"on": True})
    with sdk(server) as client, pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert info.value.code == "insufficient_quota"
    assert info.value.type == "insufficient_quota"
    # Spend-limit path: calls succeed until the spend reaches the limit.
    with sdk(server, "sk-sim-secondary") as client, pytest.raises(openai.RateLimitError) as info:
        for _ in range(100):
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert info.value.code == "insufficient_quota"
    spent = server.sim.ledger.spent("proj-secondary")
    assert spent >= Decimal("0.000001")
    assert spent - server.sim.ledger.entries[-1].cost_usd < Decimal("0.000001")


def test_bad_key_is_authentication_error(sim_server: Callable[..., BackgroundServer]) -> None:
    server = sim_server()
    with sdk(server, "sk-not-a-real-key") as client:
        with pytest.raises(openai.AuthenticationError) as info:
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert info.value.code == "invalid_api_key"
        with pytest.raises(openai.AuthenticationError):
            client.models.list()
    assert len(server.sim.ledger) == 0


def test_models_list_is_not_billed(sim_server: Callable[..., BackgroundServer]) -> None:
    server = sim_server(projects={"proj-primary": {"rpm": 3, "tpm": 3_000}})
    with sdk(server) as client:
        for _ in range(5):
            raw = client.models.with_raw_response.list()
        models = raw.parse()
        assert [m.id for m in models] == ["gpt-4o-mini"]
        assert raw.headers["x-ratelimit-limit-requests"] == "3"
        assert raw.headers["x-ratelimit-limit-tokens"] == "3000"
        assert client.models.retrieve("gpt-4o-mini").id == "gpt-4o-mini"
        # Listing models spent none of the 3 requests.
        for _ in range(3):
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert len(server.sim.ledger) == 3
    report = admin(server, "GET", "/admin/cost-report").json()
    assert report["total"]["calls"] == 3


def test_cost_report_sums_match(sim_server: Callable[..., BackgroundServer]) -> None:
    server = sim_server()
    expected: dict[str, Decimal] = {"proj-primary": Decimal(0), "proj-secondary": Decimal(0)}
    price = server.sim.config.prices["gpt-4o-mini"]
    started = time.time()
    plan = (("sk-sim-primary", "proj-primary", 4), ("sk-sim-secondary", "proj-secondary", 3))
    for key, project, n in plan:
        with sdk(server, key) as client:
            for i in range(n):
                c = client.chat.completions.create(
                    model="gpt-4o-mini",
                    messages=[{"role": "user", "content": f"question number {i}"}],
                    max_tokens=50,
                )
                assert c.usage is not None
                u = c.usage
                expected[project] += call_cost(price, u.prompt_tokens, u.completion_tokens)
    report = admin(server, "GET", "/admin/cost-report", params={"since": started - 1}).json()
    by = {p["project"]: p for p in report["projects"]}
    assert by["proj-primary"]["calls"] == 4 and by["proj-secondary"]["calls"] == 3
    for project, cost in expected.items():
        assert Decimal(by[project]["cost_usd"]) == cost
    assert Decimal(report["total"]["cost_usd"]) == sum(expected.values())
    assert report["total"]["calls"] == 7


def test_injected_server_error(sim_server: Callable[..., BackgroundServer]) -> None:
    server = sim_server()
    admin(server, "POST", "/admin/faults", json={"error_rate": 1.0})
    with sdk(server) as client, pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    admin(server, "POST", "/admin/faults", json={"extra_latency_ms": 150})
    with sdk(server) as client:
        t0 = time.monotonic()
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert time.monotonic() - t0 >= 0.15
    assert len(server.sim.ledger) == 1


def test_metrics_endpoint_over_http(sim_server: Callable[..., BackgroundServer]) -> None:
    server = sim_server()
    with sdk(server) as client:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    with httpx.Client(base_url=server.base_url) as http:
        text = http.get("/metrics").text
    assert 'llmsim_requests_total{endpoint="chat.completions",outcome="ok"' in text


def test_latency_model_paces_plain_and_streamed_answers(
    sim_server: Callable[..., BackgroundServer],
) -> None:
    server = sim_server(
        latency_scale=1.0,
        latency={"ttft_sigma": 0, "ttft_median_ms": 60, "per_token_ms": 4},
        completion={"min_tokens": 30, "max_tokens": 30},
    )
    with sdk(server) as client:
        t0 = time.monotonic()
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert time.monotonic() - t0 >= 0.06 + 30 * 0.004

        t0 = time.monotonic()
        arrivals: list[float] = []
        with client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        ) as stream:
            for _ in stream:
                arrivals.append(time.monotonic() - t0)
        assert arrivals[0] >= 0.06
        assert arrivals[-1] >= 0.06 + 29 * 0.004
        assert arrivals[-1] - arrivals[0] >= 0.08  # tokens are spread, not sent in one burst

        # A client that hangs up mid-stream is still billed and frees its in-flight slot.
        with client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        ) as stream:
            for i, _ in enumerate(stream):
                if i == 3:
                    break
    assert len(server.sim.ledger) == 3
    deadline = time.monotonic() + 2
    with httpx.Client(base_url=server.base_url) as http:
        while "llmsim_in_flight 0.0" not in http.get("/metrics").text:
            assert time.monotonic() < deadline, "in-flight gauge never returned to 0"
            time.sleep(0.02)
