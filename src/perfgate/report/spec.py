"""The plan's deliverable sections: ``severity_policy``, ``capacity`` and ``soak``.

Owners come from the war room's roster (``war_room.roles``; ``war_room.owner`` is the
perf lead), so a plan names each person once. Example (perf-6b)::

    severity_policy: {eta_days: {critical: 2, high: 5, medium: 10, low: 30}}
    capacity:
      current_dau: 10000
      requests_per_dau_per_day: 25
      peak_hour_share: 0.10          # of a day's requests, in its busiest hour
      growth_dau: {6: 16000, 9: 22000, 12: 30000}
      revenue_per_1k_requests_usd: 35
      revenue_per_ai_call_usd: billed # the markup price observed in the ledger
      arr_plan_usd: 10000000
      tokens_per_ai_call: 620        # the plan's assumption; > 20% drift: re-baseline
    soak: {name: perf-7a, duration: 4h, within_days: 14, rps: safe}
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from perfgate.plan.durations import Duration

__all__ = ["SEVERITIES", "CapacitySpec", "SeverityPolicySpec", "SoakSpec"]

SEVERITIES = ("critical", "high", "medium", "low")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SeverityPolicySpec(_Strict):
    """ETA by severity; a hotspot's severity is its pressure (observed / limit):
    ``critical`` >= 1 (past a limit), ``high`` >= ``high``, ``medium`` >= ``medium``."""

    eta_days: dict[str, int] = Field(
        default_factory=lambda: {"critical": 2, "high": 5, "medium": 10, "low": 30})
    high: float = Field(default=0.85, gt=0, le=1)
    medium: float = Field(default=0.6, gt=0, le=1)

    @model_validator(mode="after")
    def _check(self) -> SeverityPolicySpec:
        unknown = set(self.eta_days) - set(SEVERITIES)
        if unknown:
            raise ValueError(f"eta_days: unknown severities {sorted(unknown)}; use {SEVERITIES}")
        if self.medium > self.high:
            raise ValueError("medium must not be above high")
        return self

    def severity(self, pressure: float) -> str:
        if pressure >= 1.0:
            return "critical"
        if pressure >= self.high:
            return "high"
        return "medium" if pressure >= self.medium else "low"


class CapacitySpec(_Strict):
    current_dau: float | None = Field(default=None, gt=0)
    requests_per_dau_per_day: float = Field(gt=0)
    peak_hour_share: float = Field(gt=0, le=1,
                                   description="Share of a day's requests in its peak hour")
    growth_dau: dict[int, float] = Field(default_factory=dict,
                                         description="Months from now -> DAU")
    revenue_per_1k_requests_usd: Decimal = Field(default=Decimal(0), ge=0)
    revenue_per_ai_call_usd: Decimal | Literal["billed"] = Field(
        default="billed", description="A price, or `billed`: the ledger's billed per AI call")
    arr_plan_usd: Decimal = Field(default=Decimal(10_000_000), gt=0)
    arr_plan_month: int = Field(default=12, ge=1)
    infra_usd_per_hour: Decimal | None = Field(
        default=None, ge=0, description="Per instance at the safe RPS (default: budget's)")
    tokens_per_ai_call: float | None = Field(default=None, gt=0)
    mix_drift_points: float = Field(default=5.0, gt=0)
    token_drift: float = Field(default=0.20, gt=0)
    marginal: float = Field(default=0.9, gt=0, le=1,
                            description="A PASS at >= this share of its limit is marginal")


class SoakSpec(_Strict):
    name: str = "perf-7a"
    run_tag: str = Field(default="perf7a", pattern=r"^[A-Za-z0-9_.-]+$")
    duration: Duration = Field(default=4 * 3600.0, gt=0)
    within_days: int = Field(default=14, ge=1)
    rps: float | Literal["safe"] = "safe"
    description: str = "4-hour soak at the safe RPS: memory/GC and long-haul stability"
