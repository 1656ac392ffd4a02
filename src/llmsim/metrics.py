"""Prometheus metrics of the simulator, on an explicit registry (no global state).

* ``llmsim_requests_total{project, endpoint, outcome}``: every authenticated API
  call; ``outcome`` is ``ok``, ``rate_limited``, ``quota_exceeded``,
  ``server_error``, ``bad_request`` or ``not_found``. Calls with a bad key are
  counted with ``project="unknown"``, ``outcome="unauthorized"``.
* ``llmsim_tokens_total{project, model, kind}``: billed tokens, ``kind`` is
  ``prompt`` or ``completion``.
* ``llmsim_cost_usd_total{project, model}``: billed USD (a float view of the exact
  ledger; use the cost report for reconciliation).
* ``llmsim_response_seconds{project, stream}``: time from arrival to the last byte
  of an admitted completion.
* ``llmsim_in_flight``: completions being answered right now.

``POST /admin/reset`` does not reset them: counters are monotonic by contract.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_LATENCY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0)


class SimMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.requests = Counter(
            "llmsim_requests",
            "API calls by project, endpoint and outcome",
            ["project", "endpoint", "outcome"],
            registry=self.registry,
        )
        self.tokens = Counter(
            "llmsim_tokens",
            "Billed tokens by project, model and kind (prompt|completion)",
            ["project", "model", "kind"],
            registry=self.registry,
        )
        self.cost = Counter(
            "llmsim_cost_usd",
            "Billed USD by project and model",
            ["project", "model"],
            registry=self.registry,
        )
        self.response_seconds = Histogram(
            "llmsim_response_seconds",
            "Arrival to last byte of admitted completions",
            ["project", "stream"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "llmsim_in_flight", "Completions being answered", registry=self.registry
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
