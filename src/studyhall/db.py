"""The bounded DB connection pool and timed statements.

One SQLAlchemy async engine per app: ``pool_size`` connections, ``max_overflow=0`` and a
``pool_timeout`` (a request that cannot get a connection in time gets a 503). This holds
for SQLite (aiosqlite, WAL mode) too, so ``studyhall_db_pool_in_use`` (tracked with pool
checkout/checkin events) means the same on both backends.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import RowMapping, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.sql.elements import TextClause

from studyhall.faults import Faults
from studyhall.metrics import Metrics


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA busy_timeout=5000",
        "PRAGMA cache_size=-16000",
        "PRAGMA temp_store=MEMORY",
    ):
        cursor.execute(pragma)
    cursor.close()


def make_engine(
    url: str, *, pool_size: int = 5, pool_timeout_s: float = 10.0, db_schema: str | None = None
) -> AsyncEngine:
    """A bounded async engine for ``sqlite+aiosqlite`` or ``postgresql+asyncpg`` URLs."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": 0,
        "pool_timeout": pool_timeout_s,
        "poolclass": AsyncAdaptedQueuePool,
    }
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ValueError("studyhall needs a file-backed SQLite database (not :memory:)")
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        if db_schema:
            kwargs["connect_args"] = {"server_settings": {"search_path": db_schema}}
        return create_async_engine(url, **kwargs)
    raise ValueError(f"unsupported database URL backend {backend!r} (use sqlite or postgresql)")


class Database:
    def __init__(
        self,
        url: str,
        *,
        pool_size: int,
        pool_timeout_s: float,
        metrics: Metrics,
        faults: Faults,
        db_schema: str | None = None,
    ) -> None:
        self.engine = make_engine(
            url, pool_size=pool_size, pool_timeout_s=pool_timeout_s, db_schema=db_schema
        )
        self.dialect = self.engine.dialect.name
        self.pool_size = pool_size
        self.in_use = 0
        self._metrics = metrics
        self._faults = faults
        event.listen(self.engine.sync_engine, "checkout", self._on_checkout)
        event.listen(self.engine.sync_engine, "checkin", self._on_checkin)
        metrics.db_pool_size.set(pool_size)
        metrics.db_pool_in_use.set_function(lambda: self.in_use)

    def _on_checkout(self, *_: Any) -> None:
        self.in_use += 1

    def _on_checkin(self, *_: Any) -> None:
        self.in_use -= 1

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        """A pooled connection for one request (held ``db_hold_ms`` longer under that fault)."""
        async with self.engine.connect() as conn:
            yield conn
            hold = self._faults.config.db_hold_ms
            if hold:
                await asyncio.sleep(hold / 1000)

    async def fetch_all(
        self,
        conn: AsyncConnection,
        statement: str,
        sql: TextClause,
        params: Mapping[str, Any],
    ) -> Sequence[RowMapping]:
        started = time.perf_counter()
        result = await conn.execute(sql, dict(params))
        rows = result.mappings().all()
        self._metrics.db_query.labels(statement=statement).observe(time.perf_counter() - started)
        return rows

    async def close(self) -> None:
        await self.engine.dispose()
