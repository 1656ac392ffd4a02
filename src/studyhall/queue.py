"""The background analytics queue: profile views and AI calls emit events that a worker
drains at a bounded rate (``queue_drain_rate`` events/s, a token bucket).

In-process (a deque) by default; Redis Streams when ``redis_url`` is set: ``XADD`` on
the request path, ``XREADGROUP`` + ``XACK`` + ``XDEL`` in the worker, so the stream holds
exactly the events not yet processed (depth = ``XLEN``, oldest = first entry's id time).
``studyhall_queue_depth`` and ``studyhall_queue_oldest_age_seconds`` are exported.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import json
import logging
import os
import time
from collections import Counter, deque
from typing import Any

from studyhall.metrics import Metrics

log = logging.getLogger("studyhall.queue")
TICK_S = 0.05


class Analytics:
    """What the worker does with an event: aggregate it."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.profile_views: Counter[int] = Counter()

    def apply(self, event: dict[str, Any]) -> None:
        kind = str(event.get("type", "unknown"))
        self.counts[kind] += 1
        if kind == "profile_view":
            self.profile_views[int(event.get("student_id", 0))] += 1
        elif kind == "ai_call":
            self.counts[f"ai_path:{event.get('path')}"] += 1


class EventQueue(abc.ABC):
    """Base: token-bucket worker loop; subclasses store and fetch the events."""

    def __init__(self, metrics: Metrics, drain_rate: float) -> None:
        self._metrics = metrics
        self.drain_rate = drain_rate
        self.analytics = Analytics()
        self._task: asyncio.Task[None] | None = None
        metrics.queue_depth.set_function(self.depth)
        metrics.queue_oldest_age.set_function(self.oldest_age)

    @abc.abstractmethod
    def depth(self) -> float: ...

    @abc.abstractmethod
    def oldest_age(self) -> float: ...

    @abc.abstractmethod
    async def put(self, event: dict[str, Any]) -> None: ...

    @abc.abstractmethod
    async def _take(self, n: int) -> int:
        """Process up to ``n`` events; return how many were processed."""

    async def start(self) -> None:
        self._task = asyncio.create_task(self._worker(), name="studyhall-queue-worker")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _worker(self) -> None:
        tokens = 0.0
        last = time.monotonic()
        burst = max(1.0, self.drain_rate * TICK_S * 2)
        while True:
            now = time.monotonic()
            tokens = min(burst, tokens + (now - last) * self.drain_rate)
            last = now
            if tokens >= 1:
                try:
                    done = await self._take(int(tokens))
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("queue worker failed; retrying")
                    done = 0
                    await asyncio.sleep(0.5)
                tokens -= done
                self._metrics.queue_processed.inc(done)
            await asyncio.sleep(TICK_S)


class InProcessQueue(EventQueue):
    def __init__(self, metrics: Metrics, drain_rate: float, max_depth: int) -> None:
        super().__init__(metrics, drain_rate)
        self._items: deque[tuple[float, dict[str, Any]]] = deque()
        self._max_depth = max_depth

    def depth(self) -> float:
        return float(len(self._items))

    def oldest_age(self) -> float:
        return time.monotonic() - self._items[0][0] if self._items else 0.0

    async def put(self, event: dict[str, Any]) -> None:
        if len(self._items) >= self._max_depth:
            self._items.popleft()
            self._metrics.queue_dropped.inc()
        self._items.append((time.monotonic(), event))

    async def _take(self, n: int) -> int:
        done = 0
        while done < n and self._items:
            _, event = self._items.popleft()
            self.analytics.apply(event)
            done += 1
        return done


class RedisStreamQueue(EventQueue):
    GROUP = "studyhall-workers"

    def __init__(self, metrics: Metrics, drain_rate: float, url: str, stream: str) -> None:
        super().__init__(metrics, drain_rate)
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        self.stream = stream
        self._consumer = f"worker-{os.getpid()}"
        self._depth = 0.0
        self._oldest_ms: float | None = None
        self._stats_task: asyncio.Task[None] | None = None

    def depth(self) -> float:
        return self._depth

    def oldest_age(self) -> float:
        return max(0.0, time.time() - self._oldest_ms / 1000) if self._oldest_ms else 0.0

    async def start(self) -> None:
        from redis.exceptions import ResponseError

        try:
            await self._redis.xgroup_create(self.stream, self.GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        await self.refresh_stats()
        self._stats_task = asyncio.create_task(self._stats_loop(), name="studyhall-queue-stats")
        await super().start()

    async def put(self, event: dict[str, Any]) -> None:
        try:
            await self._redis.xadd(self.stream, {"event": json.dumps(event)})
        except Exception as exc:  # the request must not fail because analytics is down
            self._metrics.queue_dropped.inc()
            log.warning("queue XADD failed: %s", exc)

    async def _take(self, n: int) -> int:
        reply: Any = await self._redis.xreadgroup(
            self.GROUP, self._consumer, {self.stream: ">"}, count=n, block=int(TICK_S * 1000)
        )
        ids = []
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                raw = fields.get(b"event") or fields.get("event") or b"{}"
                self.analytics.apply(json.loads(raw))
                ids.append(entry_id)
        if ids:
            await self._redis.xack(self.stream, self.GROUP, *ids)
            await self._redis.xdel(self.stream, *ids)
        return len(ids)

    async def refresh_stats(self) -> None:
        self._depth = float(await self._redis.xlen(self.stream))
        first: Any = await self._redis.xrange(self.stream, "-", "+", count=1)
        if first:
            entry_id = first[0][0]
            entry_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
            self._oldest_ms = float(entry_id.split("-")[0])
        else:
            self._oldest_ms = None

    async def _stats_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                await self.refresh_stats()
            except Exception as exc:
                log.warning("queue stats failed: %s", exc)

    async def close(self) -> None:
        if self._stats_task is not None:
            self._stats_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._stats_task
        await super().close()
        await self._redis.aclose()
