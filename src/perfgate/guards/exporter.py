"""perfgate's own Prometheus endpoint (``GET /metrics`` on 127.0.0.1), for an existing
Grafana to chart a run. Instruments live on one explicit ``CollectorRegistry`` per run
(nothing global), fed from the same windows and guard state the store gets: counters
each tick (cheap), everything derived (percentiles, states, spend) when scraped, so an
unscraped endpoint costs the generator's loop nothing::

    perfgate_requests_total{family,outcome}          counter
    perfgate_latency_seconds{family,quantile}        gauge: the current plateau's
                                                     P50/P95/P99 (exact, merged)
    perfgate_plateau_index, perfgate_target_rps      gauges
    perfgate_criterion_state{plateau,criterion,state}  1 for the verdict it holds
    perfgate_trigger_state{trigger,state}            1 for inactive|pending|firing
    perfgate_spend_usd{kind=spent|reserved|billed}, perfgate_cost_cap_usd,
    perfgate_usd_per_1k_requests, perfgate_usd_per_ai_call   gauges
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)

from perfgate.controller.hooks import BaseHook, RunContext
from perfgate.engine.timeline import Phase
from perfgate.guards.costhook import CostHook
from perfgate.guards.hook import GuardsHook
from perfgate.metrics.histogram import percentiles_ms
from perfgate.metrics.window import Window

__all__ = ["MetricsExporter"]

VERDICT_STATES = ("PASS", "FAIL", "INSUFFICIENT")
TRIGGER_STATES = ("inactive", "pending", "firing")


class MetricsExporter(BaseHook):
    name = "metrics_endpoint"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0,
                 guards: GuardsHook | None = None, cost: CostHook | None = None) -> None:
        self.host, self.port = host, port
        self.guards, self.cost = guards, cost
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("perfgate_requests", "Requests completed, by family and outcome",
                                ["family", "outcome"], registry=r)
        self.latency = Gauge("perfgate_latency_seconds", "Current plateau latency from the "
                             "intended send time", ["family", "quantile"], registry=r)
        self.plateau = Gauge("perfgate_plateau_index", "Current plateau (0 = warm-up)",
                             registry=r)
        self.target_rps = Gauge("perfgate_target_rps", "Planned arrival rate", registry=r)
        self.criterion = Gauge("perfgate_criterion_state", "Criterion verdict per plateau",
                               ["plateau", "criterion", "state"], registry=r)
        self.trigger = Gauge("perfgate_trigger_state", "Abort trigger state",
                             ["trigger", "state"], registry=r)
        self.spend = Gauge("perfgate_spend_usd", "AI provider spend", ["kind"], registry=r)
        self.cap = Gauge("perfgate_cost_cap_usd", "Hard cost cap", registry=r)
        self.per_1k = Gauge("perfgate_usd_per_1k_requests", "Spend per 1k requests", registry=r)
        self.per_call = Gauge("perfgate_usd_per_ai_call", "Provider cost per AI call",
                              registry=r)
        self._runner: web.AppRunner | None = None
        self._phase: Phase | None = None
        self.url: str | None = None

    async def _metrics(self, request: web.Request) -> web.Response:
        self.refresh()
        return web.Response(body=generate_latest(self.registry),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def on_start(self, ctx: RunContext) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError as exc:  # a busy port must not stop a run: it is only a view
            await runner.cleanup()
            ctx.writer.add_event(0.0, "hook_error", f"metrics endpoint not started on "
                                 f"{self.host}:{self.port}: {exc}", severity="warning")
            return
        self._runner = runner
        self.url = f"http://{self.host}:{runner.addresses[0][1]}/metrics"
        ctx.writer.set_meta("metrics_url", self.url)
        ctx.extras["metrics_url"] = self.url

    async def on_tick(self, ctx: RunContext, now: float, phase: Phase | None,
                      windows: Sequence[Window]) -> None:
        self.update(windows, phase)

    def update(self, windows: Sequence[Window], phase: Phase | None) -> None:
        """Per tick: count the requests, note the phase (the rest waits for a scrape)."""
        for w in windows:
            for outcome, n in w.cell.counts.items():
                if n:
                    self.requests.labels(w.key.family, outcome.value).inc(n)
        self._phase = phase
        self.plateau.set(phase.index if phase else -1)
        self.target_rps.set(phase.rps if phase else 0)

    def refresh(self) -> None:
        """The derived gauges, computed when scraped."""
        phase = self._phase
        if self.guards is not None:
            if phase is not None:
                for family, cell in self.guards.load.plateau(phase.id).items():
                    if family is None:
                        continue
                    pct = percentiles_ms(cell.latency, (50, 95, 99))
                    for q in ("p50", "p95", "p99"):
                        value = pct[q]
                        if value is not None:
                            self.latency.labels(family, q).set(value / 1000)
            for plateau, results in self.guards.results.items():
                for r in results:
                    for state in VERDICT_STATES:
                        self.criterion.labels(plateau, r.spec.name, state).set(
                            1 if r.verdict == state else 0)
            for name, st in self.guards.evaluator.states().items():
                for state in TRIGGER_STATES:
                    self.trigger.labels(name, state).set(1 if st["state"] == state else 0)
        if self.cost is not None:
            live = self.cost.live()
            self.spend.labels("spent").set(live["spend_usd"])
            self.spend.labels("reserved").set(live["reserved_usd"])
            self.spend.labels("billed").set(live["billed_usd"])
            self.cap.set(live["cap_usd"])
            if live["usd_per_1k_requests"] is not None:
                self.per_1k.set(live["usd_per_1k_requests"])
            if live["usd_per_ai_call"] is not None:
                self.per_call.set(live["usd_per_ai_call"])

    async def on_end(self, ctx: RunContext, status: str) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
