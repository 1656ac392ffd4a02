"""Prometheus metrics on an explicit registry (one per app; nothing global).

Names are part of the contract perfgate maps its signals to; keep them stable:
``process_cpu_seconds_total``, ``process_resident_memory_bytes`` (ProcessCollector),
``studyhall_gc_pause_seconds``, ``studyhall_http_request_duration_seconds{route,method,status}``,
``studyhall_db_query_seconds{statement}``, ``studyhall_db_pool_size``,
``studyhall_db_pool_in_use``, ``studyhall_queue_depth``, ``studyhall_queue_oldest_age_seconds``,
``studyhall_queue_dropped_total``, ``studyhall_breaker_state`` (0 closed, 1 half-open, 2 open),
``studyhall_breaker_transitions_total{to}``, ``studyhall_provider_requests_total{key,outcome}``,
``studyhall_failovers_total``, ``studyhall_fallbacks_total{path}``,
``studyhall_outbound_blocked_total{channel}``, ``studyhall_provider_cost_usd_total``,
``studyhall_billed_usd_total``.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.12, 0.15, 0.25, 0.5, 0.75, 0.9, 1.0,
                2.5, 5.0, 10.0)
DB_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
OUTCOMES = ("ok", "rate_limited", "quota", "timeout", "error")
GC_BUCKETS = (0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=r)
        self.gc_pause = Histogram(
            "studyhall_gc_pause_seconds", "Garbage-collector pauses", ["generation"],
            buckets=GC_BUCKETS, registry=r,
        )
        self.http_duration = Histogram(
            "studyhall_http_request_duration_seconds", "HTTP request duration by route",
            ["route", "method", "status"], buckets=HTTP_BUCKETS, registry=r,
        )
        self.db_query = Histogram(
            "studyhall_db_query_seconds", "DB statement duration", ["statement"],
            buckets=DB_BUCKETS, registry=r,
        )
        self.db_pool_size = Gauge("studyhall_db_pool_size", "DB pool size", registry=r)
        self.db_pool_in_use = Gauge(
            "studyhall_db_pool_in_use", "DB connections checked out", registry=r
        )
        self.queue_depth = Gauge("studyhall_queue_depth", "Events waiting", registry=r)
        self.queue_oldest_age = Gauge(
            "studyhall_queue_oldest_age_seconds", "Age of the oldest waiting event", registry=r
        )
        self.queue_dropped = Counter(
            "studyhall_queue_dropped", "Events dropped (queue full or unreachable)", registry=r
        )
        self.queue_processed = Counter(
            "studyhall_queue_processed", "Events drained by the worker", registry=r
        )
        self.breaker_state = Gauge(
            "studyhall_breaker_state", "Provider breaker: 0 closed, 1 half-open, 2 open",
            registry=r,
        )
        self.breaker_transitions = Counter(
            "studyhall_breaker_transitions", "Breaker transitions", ["to"], registry=r
        )
        self.provider_requests = Counter(
            "studyhall_provider_requests", "Provider calls by key and outcome",
            ["key", "outcome"], registry=r,
        )
        self.failovers = Counter(
            "studyhall_failovers", "Requests moved from the primary to the secondary key",
            registry=r,
        )
        self.fallbacks = Counter(
            "studyhall_fallbacks", "AI answers served without the provider", ["path"],
            registry=r,
        )
        self.outbound_blocked = Counter(
            "studyhall_outbound_blocked", "Outbound messages blocked by flags", ["channel"],
            registry=r,
        )
        self.provider_cost = Counter(
            "studyhall_provider_cost_usd", "Provider cost in USD", registry=r
        )
        self.billed = Counter("studyhall_billed_usd", "Billed to customers in USD", registry=r)
        # known label values exist from the start, so rates begin at 0 rather than absent
        for to in ("closed", "half_open", "open"):
            self.breaker_transitions.labels(to=to)
        for key in ("primary", "secondary"):
            for outcome in OUTCOMES:
                self.provider_requests.labels(key=key, outcome=outcome)
        for path in ("cache", "extractive"):
            self.fallbacks.labels(path=path)
        for channel in ("outbound_email", "notifications", "provider_webhooks"):
            self.outbound_blocked.labels(channel=channel)
        self._gc_started: float | None = None
        self._gc_installed = False

    # --- GC pauses through gc.callbacks ---------------------------------------------------
    def _gc_callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self._gc_started is not None:
            self.gc_pause.labels(generation=str(info.get("generation", "?"))).observe(
                time.perf_counter() - self._gc_started
            )
            self._gc_started = None

    def install_gc_callback(self) -> None:
        if not self._gc_installed:
            gc.callbacks.append(self._gc_callback)
            self._gc_installed = True

    def remove_gc_callback(self) -> None:
        if self._gc_installed:
            gc.callbacks.remove(self._gc_callback)
            self._gc_installed = False

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
