"""The plan's ``telemetry`` section: where signals come from and how each is read.

Declarative only (the running collector is ``perfgate.telemetry.collector``). Example::

    telemetry:
      interval: 5s          # scrape period; x --time-scale, never below 0.5 s
      cores: 1              # cpu_percent = rate(process_cpu_seconds_total) x 100 / cores
      sources:
        - {name: target, url: /metrics}               # relative to target.base_url
      signals:
        cpu_percent: {metric: process_cpu_seconds_total, type: cpu}
        db_pool_in_use: {metric: studyhall_db_pool_in_use}
        db_query_seconds: {metric: studyhall_db_query_seconds, type: histogram,
                           quantiles: [0.95]}          # sample db_query_p95_seconds
        provider_requests_rate: {metric: studyhall_provider_requests_total, type: counter,
                                 by: [key, outcome]}

Signal types: ``gauge`` (the value), ``counter`` (per-second rate between scrapes),
``cpu`` (a CPU-seconds counter as % of ``cores``), ``histogram`` (quantiles of the
observations between two scrapes, from bucket deltas; ``over`` names counts of
observations above a bound). A ``promql`` source evaluates each signal's ``query``
(or one derived from ``metric``/``type``) against a Prometheus server's HTTP API.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from perfgate.plan.durations import Duration

__all__ = ["SignalSpec", "SourceSpec", "TelemetrySpec", "quantile_sample_name"]

_NAME = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    # Same rules as perfgate.plan.models.StrictModel (not imported: that module imports us).
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SourceSpec(_Strict):
    name: str = Field(pattern=_NAME)
    kind: Literal["prometheus", "promql"] = "prometheus"
    url: str = Field(description="prometheus: the scrape URL; promql: the server's base URL. "
                                 "A path (/metrics) is relative to target.base_url.")
    headers: dict[str, str] = Field(default_factory=dict,
                                    description="${ENV} is expanded at run time, never stored")
    timeout: Duration = Field(default=2.0, gt=0)
    range: Duration = Field(default=60.0, gt=0,
                            description="promql: the [range] of derived rate() queries")


class SignalSpec(_Strict):
    metric: str | None = Field(default=None, description="Metric name in the exposition")
    type: Literal["gauge", "counter", "cpu", "histogram"] = "gauge"
    labels: dict[str, str] = Field(default_factory=dict,
                                   description="Only series with these label values")
    by: list[str] = Field(default_factory=list,
                          description="Keep these labels (one sample each); sum the rest")
    quantiles: list[float] = Field(default_factory=list,
                                   description="histogram: windowed quantiles to sample")
    over: dict[str, Duration] = Field(
        default_factory=dict,
        description="histogram: sample name -> bound; counts observations above the bound")
    query: str | None = Field(default=None, description="promql: the query to evaluate")
    source: str | None = Field(default=None, description="Source name (default: the first)")

    @model_validator(mode="after")
    def _consistent(self) -> SignalSpec:
        if self.metric is None and self.query is None:
            raise ValueError("a signal needs `metric` (or `query` for a promql source)")
        if self.type != "histogram" and (self.quantiles or self.over):
            raise ValueError("quantiles/over only apply to type: histogram")
        if any(not 0 < q < 1 for q in self.quantiles):
            raise ValueError("quantiles are fractions between 0 and 1, e.g. 0.95")
        for name in self.over:
            if not re.match(_NAME, name):
                raise ValueError(f"sample name {name!r} must match {_NAME}")
        return self


class TelemetrySpec(_Strict):
    interval: Duration = Field(default=5.0, gt=0, description="Scrape period (x time scale)")
    cores: float = Field(default=1.0, gt=0, description="CPU %% is of this many cores")
    sources: list[SourceSpec] = Field(min_length=1)
    signals: dict[str, SignalSpec] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sources_known(self) -> TelemetrySpec:
        names = [s.name for s in self.sources]
        if len(set(names)) != len(names):
            raise ValueError(f"source names must be unique, got {names}")
        for signal, spec in self.signals.items():
            if not re.match(_NAME, signal):
                raise ValueError(f"signal name {signal!r} must match {_NAME}")
            if spec.source is not None and spec.source not in names:
                raise ValueError(f"signal {signal!r}: unknown source {spec.source!r}; "
                                 f"declared: {names}")
        return self

    def source_of(self, signal: str) -> SourceSpec:
        wanted = self.signals[signal].source
        return next((s for s in self.sources if s.name == wanted), self.sources[0])


def quantile_sample_name(signal: str, q: float) -> str:
    """``db_query_seconds`` at 0.95 -> ``db_query_p95_seconds`` (unit suffix kept last)."""
    label = f"p{q * 100:g}".replace(".", "_")
    for unit in ("_seconds", "_bytes"):
        if signal.endswith(unit):
            return f"{signal[: -len(unit)]}_{label}{unit}"
    return f"{signal}_{label}"
