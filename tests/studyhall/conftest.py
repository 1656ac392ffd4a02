"""Fixtures for studyhall: a seeded SQLite file, a fake provider, app clients, and
PostgreSQL / Redis fixtures that SKIP when the service does not answer, but FAIL when
``CI=true`` (CI must start them)."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
import pytest_asyncio

sys.path.insert(0, str(Path(__file__).parent))

from studyhall_fakes import (
    ADMIN_TOKEN,
    N_COURSES,
    N_STUDENTS,
    FakeClock,
    FakeProvider,
    unavailable,
)

from studyhall.app import create_app
from studyhall.seed import seed_database
from studyhall.settings import Settings

PG_URL = os.environ.get(
    "STUDYHALL_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("STUDYHALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("studyhall") / "seeded.db"
    url = f"sqlite+aiosqlite:///{path}"
    asyncio.run(seed_database(url, n_students=N_STUDENTS, n_courses=N_COURSES, seed=7))
    return url


@pytest.fixture
def fake_provider() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


ClientFactory = Callable[..., Any]


@pytest_asyncio.fixture
async def make_client(
    sqlite_url: str, fake_provider: FakeProvider, clock: FakeClock, tmp_path: Path
) -> AsyncIterator[ClientFactory]:
    """``await make_client(**settings_overrides)`` -> (httpx.AsyncClient, app)."""
    async with AsyncExitStack() as stack:

        async def factory(**overrides: Any) -> tuple[httpx.AsyncClient, Any]:
            values: dict[str, Any] = {
                "database_url": sqlite_url,
                "provider_base_url": "http://fake-provider/v1",
                "admin_token": ADMIN_TOKEN,
                "billing_ledger_path": tmp_path / f"ledger-{uuid.uuid4().hex[:6]}.jsonl",
                "rate_limit_backoff_s": 0.0,
            } | overrides
            provider_http = await stack.enter_async_context(
                httpx2.AsyncClient(transport=httpx2.ASGITransport(app=fake_provider.app()))
            )
            app = create_app(Settings(**values), provider_http_client=provider_http, clock=clock)
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sh")
            )
            return client, app

        yield factory


@pytest_asyncio.fixture
async def client(make_client: ClientFactory) -> httpx.AsyncClient:
    c, _ = await make_client()
    return c


@pytest_asyncio.fixture
async def pg_schema() -> AsyncIterator[tuple[str, str]]:
    """(url, schema): an isolated, dropped-afterwards PostgreSQL schema."""
    try:
        import asyncpg
    except ImportError as exc:  # pragma: no cover
        unavailable("PostgreSQL", f"asyncpg missing: {exc}")
    dsn = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    try:
        conn = await asyncio.wait_for(asyncpg.connect(dsn), timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        unavailable("PostgreSQL", f"{PG_URL}: {exc}")
    schema = f"sh_test_{uuid.uuid4().hex[:10]}"
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        yield PG_URL, schema
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()


@pytest_asyncio.fixture
async def redis_url() -> AsyncIterator[str]:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(REDIS_URL)
    try:
        await asyncio.wait_for(client.ping(), timeout=3)
    except (TimeoutError, OSError, RedisError) as exc:
        await client.aclose()
        unavailable("Redis", f"{REDIS_URL}: {exc}")
    try:
        yield REDIS_URL
    finally:
        await client.aclose()


@pytest_asyncio.fixture
async def redis_stream(redis_url: str) -> AsyncIterator[tuple[str, str]]:
    """(url, stream key) unique per test; the stream is deleted afterwards. Request it
    before ``make_client`` so the app (and its worker) stops first."""
    from redis.asyncio import Redis

    stream = f"studyhall:test:{uuid.uuid4().hex[:8]}"
    try:
        yield redis_url, stream
    finally:
        client = Redis.from_url(redis_url)
        try:
            await client.delete(stream)
        finally:
            await client.aclose()
