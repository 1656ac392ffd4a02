"""The plan's guard sections: ``criteria``, ``triggers``, ``budget``, ``war_room``,
``metrics_endpoint``. Declarative only; every section is optional (a plan without them
runs with no guard of that kind).

A **criterion** is judged per plateau at its end (warm-up excluded): one ``metric``
from the catalogue below, or a telemetry ``signal`` with a ``stat``; a comparison; a
threshold with its unit (see ``perfgate.guards.units``)::

    criteria:
      - {name: core_p95, family: core, metric: p95, op: "<=", threshold: 120ms}
      - {name: cpu, family: core, signal: cpu_percent, stat: p95, op: "<=", threshold: 70%}

Metrics (``family`` selects the requests; none = all SLO requests): ``p50 p90 p95 p99``
(latency from the intended send time, seconds), ``error_rate``, ``timeout_rate``
(ratios; 401s excluded); cost: ``usd_per_ai_call`` (provider cost), ``usd_per_1k_requests``,
``fallback_billed_usd`` (billed on cache/extractive answers), ``markup_mismatches``
(provider calls whose billed != markup x recomputed cost, or whose reported cost !=
tokens x price), ``gross_margin`` ((billed - COGS)/billed, COGS = provider cost +
``budget.infra_usd_per_hour`` x the plateau's duration). Telemetry stats: ``mean min
max last`` or ``p50..p99``; on a histogram signal a percentile is computed from the
plateau's merged buckets.

A **trigger** is an abort rule with Prometheus ``for:`` semantics (``perfgate.guards.rules``)
on a rolling window. Signals: ``error_rate``/``timeout_rate`` (all SLO requests, or one
``family``), any telemetry sample name (averaged over the window unless ``agg`` says
otherwise), ``cost_projection_usd`` (spent + spend rate x remaining time),
``provider_blocked`` (1 while the provider rate-limits or refuses quota and no call on
any key succeeds), ``outbound_hits`` (requests caught by perfgate's outbound sink).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from perfgate.guards.units import Unit, parse_threshold, unit_of_signal
from perfgate.plan.durations import Duration

__all__ = [
    "BudgetSpec",
    "CriterionSpec",
    "MetricsEndpointSpec",
    "ModelPriceSpec",
    "TriggerSpec",
    "TriggersSpec",
    "WarRoomSpec",
]

Op = Literal["<=", "<", ">=", ">"]
_NAME = r"^[a-z][a-z0-9_]*$"

LOAD_METRICS: dict[str, Unit] = {
    "p50": Unit.SECONDS, "p90": Unit.SECONDS, "p95": Unit.SECONDS, "p99": Unit.SECONDS,
    "error_rate": Unit.RATIO, "timeout_rate": Unit.RATIO,
}
COST_METRICS: dict[str, Unit] = {
    "usd_per_ai_call": Unit.USD, "usd_per_1k_requests": Unit.USD,
    "fallback_billed_usd": Unit.USD, "markup_mismatches": Unit.COUNT,
    "gross_margin": Unit.RATIO,
}
STATS = ("mean", "min", "max", "last", "p50", "p90", "p95", "p99")
TRIGGER_SIGNALS: dict[str, Unit] = {
    "error_rate": Unit.RATIO, "timeout_rate": Unit.RATIO, "cost_projection_usd": Unit.USD,
    "provider_blocked": Unit.COUNT, "outbound_hits": Unit.COUNT,
}


class _Strict(BaseModel):
    # Same rules as perfgate.plan.models.StrictModel (not imported: that module imports us).
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class _Thresholded(_Strict):
    _value: float | Decimal = PrivateAttr(default=0.0)

    @property
    def value(self) -> float | Decimal:
        """The threshold in its unit's terms (see ``perfgate.guards.units``)."""
        return self._value

    def _parse(self, raw: object, unit: Unit) -> None:
        self._value = parse_threshold(raw, unit)


class CriterionSpec(_Thresholded):
    name: str = Field(pattern=_NAME)
    family: str | None = Field(default=None, description="Endpoint family (none: all)")
    metric: str | None = Field(default=None, description="From the catalogue (see docs)")
    signal: str | None = Field(default=None, description="A telemetry signal or sample name")
    stat: str | None = Field(default=None, description="Telemetry: mean/min/max/last/pNN")
    op: Op = "<="
    threshold: str | float | int
    min_samples: int | None = Field(default=None, ge=1,
                                    description="Override the statistic's minimum sample")
    description: str = ""

    @model_validator(mode="after")
    def _check(self) -> CriterionSpec:
        if (self.metric is None) == (self.signal is None):
            raise ValueError("a criterion needs exactly one of `metric` or `signal`")
        if self.metric is not None and self.metric not in {**LOAD_METRICS, **COST_METRICS}:
            known = sorted({**LOAD_METRICS, **COST_METRICS})
            raise ValueError(f"unknown metric {self.metric!r}; known: {known}")
        if self.signal is not None and (self.stat or "mean") not in STATS:
            raise ValueError(f"unknown stat {self.stat!r}; use one of {list(STATS)}")
        if self.metric is not None and self.stat is not None:
            raise ValueError("`stat` applies to a telemetry `signal` only")
        self._parse(self.threshold, self.unit)
        return self

    @property
    def unit(self) -> Unit:
        if self.metric is not None:
            return {**LOAD_METRICS, **COST_METRICS}[self.metric]
        assert self.signal is not None
        return unit_of_signal(self.signal)

    @property
    def statistic(self) -> str:
        return self.metric or self.stat or "mean"


class TriggerSpec(_Thresholded):
    name: str = Field(pattern=_NAME)
    signal: str = Field(description="error_rate, a telemetry sample, cost_projection_usd, ...")
    family: str | None = Field(default=None, description="error_rate/timeout_rate: one family")
    op: Op = ">"
    threshold: str | float | int
    for_: Duration = Field(default=0.0, alias="for",
                           description="How long the condition must hold (x time scale)")
    agg: Literal["avg", "max", "min", "last"] = "avg"
    description: str = ""

    @model_validator(mode="after")
    def _check(self) -> TriggerSpec:
        if not re.match(_NAME, self.signal):
            raise ValueError(f"signal name {self.signal!r} must match {_NAME}")
        if self.family is not None and self.signal not in ("error_rate", "timeout_rate"):
            raise ValueError("`family` applies to error_rate/timeout_rate only")
        self._parse(self.threshold, self.unit)
        return self

    @property
    def unit(self) -> Unit:
        return TRIGGER_SIGNALS.get(self.signal) or unit_of_signal(self.signal)


class OutboundSinkSpec(_Strict):
    enabled: bool = True
    port: int = Field(default=0, ge=0, le=65535, description="127.0.0.1 port; 0 = any free")


class TriggersSpec(_Strict):
    window: Duration = Field(default=60.0, gt=0, description="Rolling window (x time scale)")
    rules: list[TriggerSpec] = Field(default_factory=list)
    outbound_sink: OutboundSinkSpec | None = None

    @model_validator(mode="after")
    def _unique(self) -> TriggersSpec:
        names = [r.name for r in self.rules]
        if len(set(names)) != len(names):
            raise ValueError(f"trigger names must be unique, got {names}")
        return self


class ModelPriceSpec(_Strict):
    """USD per one million tokens."""

    input_per_1m: Decimal = Field(ge=0)
    output_per_1m: Decimal = Field(ge=0)


class AiHeadersSpec(_Strict):
    """Response header names of the target contract (DESIGN.md, "Target contract")."""

    path: str = "X-AI-Path"
    model: str = "X-AI-Model"
    prompt_tokens: str = "X-AI-Prompt-Tokens"
    completion_tokens: str = "X-AI-Completion-Tokens"
    provider_cost: str = "X-AI-Provider-Cost-USD"
    billed: str = "X-AI-Billed-USD"
    provider_key: str = "X-AI-Provider-Key"


class HttpHookSpec(_Strict):
    """An HTTP call perfgate makes (kill switch, ledger export): path or URL, ${ENV} ok."""

    url: str
    method: Literal["GET", "POST"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    body: dict[str, object] | None = None


class ReconcileSpec(_Strict):
    target_billing: HttpHookSpec | None = Field(
        default=None, description="The target's billing ledger (JSON lines; ?since= added)")
    target_billing_file: str | None = Field(default=None, description="...or a file")
    provider_report: HttpHookSpec | None = Field(
        default=None, description="The provider's cost report (?since= added)")
    tolerance: float = Field(default=0.01, ge=0, description="Relative difference allowed")


class BudgetSpec(_Strict):
    hard_cap_usd: Decimal = Field(gt=0, description="Provider spend that can never be passed")
    soft_alert_usd: Decimal | None = Field(default=None, gt=0)
    markup: Decimal = Field(default=Decimal(4), gt=0)
    model: str = Field(description="Model priced for reservations (the worst case)")
    prices: dict[str, ModelPriceSpec] = Field(min_length=1)
    infra_usd_per_hour: Decimal = Field(default=Decimal(0), ge=0,
                                        description="Infra cost for COGS and margin")
    max_ai_share: float = Field(default=0.25, gt=0, le=1,
                                description="AI share of the mix allowed without a revised cap")
    confirmed_revised_cap: bool = Field(
        default=False, description="Finance confirmed hard_cap_usd for an AI share above max")
    headers: AiHeadersSpec = Field(default_factory=AiHeadersSpec)
    kill_switch: HttpHookSpec | None = None
    reconcile: ReconcileSpec | None = None

    @model_validator(mode="after")
    def _check(self) -> BudgetSpec:
        if self.model not in self.prices:
            raise ValueError(f"model {self.model!r} has no price; priced: {sorted(self.prices)}")
        if self.soft_alert_usd is not None and self.soft_alert_usd >= self.hard_cap_usd:
            raise ValueError("soft_alert_usd must be below hard_cap_usd")
        return self


class Roster(_Strict):
    sre: str | None = None
    backend: str | None = None
    data_analytics: str | None = None
    llm_platform: str | None = None
    finance: str | None = None


class WebhookSpec(_Strict):
    name: str = Field(pattern=_NAME)
    kind: Literal["slack", "json"] = "slack"
    url: str = Field(description="${ENV} is expanded at run time; the value is never stored")


class WarRoomSpec(_Strict):
    owner: str = Field(description="The perf lead, who may abort on any trigger")
    roles: Roster = Field(default_factory=Roster)
    comms: dict[str, str] = Field(default_factory=dict,
                                  description="Bridge and call links, e.g. slack, zoom")
    dashboard: str | None = Field(default=None, description="Live dashboard link; {run_id} ok")
    webhooks: list[WebhookSpec] = Field(default_factory=list)
    retries: int = Field(default=4, ge=0, le=10)
    backoff: Duration = Field(default=0.5, gt=0, description="First retry delay (doubles)")


class MetricsEndpointSpec(_Strict):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=9464, ge=0, le=65535)
