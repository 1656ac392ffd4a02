"""Everything one app instance owns, wired from ``Settings``; started and closed by the
app's lifespan (nothing here does I/O before ``start``)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx2

from studyhall.ai.breaker import BreakerState, CircuitBreaker
from studyhall.ai.failover import Failover
from studyhall.ai.fallback import AnswerCache
from studyhall.ai.provider import ProviderClient
from studyhall.ai.service import AIService
from studyhall.auth import TokenChecker
from studyhall.billing import BillingLedger
from studyhall.db import Database
from studyhall.faults import Faults
from studyhall.flags import Outbound
from studyhall.heap import HeapProfiler
from studyhall.metrics import Metrics
from studyhall.queue import EventQueue, InProcessQueue, RedisStreamQueue
from studyhall.settings import Settings


class Services:
    def __init__(
        self,
        settings: Settings,
        *,
        provider_http_client: httpx2.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        s = self.settings = settings
        m = self.metrics = Metrics()
        self.faults = Faults(s.faults)
        self.tokens = TokenChecker(s)
        self.outbound = Outbound(
            s.flags,
            {"outbound_email": s.outbound_email_url, "notifications": s.notification_url,
             "provider_webhooks": s.webhook_url},
            m,
        )
        self.db = Database(
            s.database_url, pool_size=s.pool_size, pool_timeout_s=s.pool_timeout_s,
            metrics=m, faults=self.faults, db_schema=s.db_schema,
        )
        self.queue: EventQueue
        if s.redis_url:
            self.queue = RedisStreamQueue(m, s.queue_drain_rate, s.redis_url, s.queue_stream)
        else:
            self.queue = InProcessQueue(m, s.queue_drain_rate, s.queue_max_depth)
        self.ledger = BillingLedger(s.billing_ledger_path, m)
        self.heap = HeapProfiler()

        def on_transition(_old: BreakerState, new: BreakerState) -> None:
            m.breaker_transitions.labels(to=new.label).inc()

        self.breaker = CircuitBreaker(
            failure_threshold=s.breaker_failure_threshold,
            reset_timeout_s=s.breaker_reset_timeout_s,
            half_open_probes=s.breaker_half_open_probes,
            clock=clock,
            on_transition=on_transition,
        )
        m.breaker_state.set_function(lambda: float(self.breaker.state.value))
        self.provider = ProviderClient(
            base_url=s.provider_base_url,
            api_keys={"primary": s.openai_key_primary.get_secret_value(),
                      "secondary": s.openai_key_secondary.get_secret_value()},
            timeout_s=s.provider_timeout_s,
            http_client=provider_http_client,
        )
        self.failover = Failover(
            self.provider, m,
            rate_limit_retries=s.rate_limit_retries,
            rate_limit_backoff_s=s.rate_limit_backoff_s,
            rate_limit_sideline_s=s.rate_limit_sideline_s,
            quota_sideline_s=s.quota_sideline_s,
            clock=clock,
        )
        self.ai = AIService(
            settings=s, failover=self.failover, breaker=self.breaker,
            cache=AnswerCache(s.cache_size), ledger=self.ledger, metrics=m,
            faults=self.faults, kill_switch=lambda: self.outbound.flags.ai_kill_switch,
        )

    async def start(self) -> None:
        self.ledger.open()
        self.metrics.install_gc_callback()
        if self.settings.tracemalloc:
            self.heap.start()
        await self.queue.start()

    async def close(self) -> None:
        try:
            await self.queue.close()
            await self.outbound.close()
            await self.provider.close()
            await self.db.close()
        finally:
            self.ledger.close()
            self.metrics.remove_gc_callback()
            self.heap.stop()
