"""Typed plan models (pydantic v2, strict: an unknown key is an error).

A plan is declarative: nothing here runs. ``perfgate.plan.loader`` turns YAML into a
``Plan`` and reports every problem at once with file:line and key path;
``perfgate.plan.resolve`` applies run-time choices (time scale, target override).

Plateau ids: the warm-up is ``p0`` (excluded from analysis), plateaus are ``p1``..``pN``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from perfgate.capture.spec import CaptureSpec
from perfgate.chaos.spec import ChaosSpec
from perfgate.guards.spec import (
    BudgetSpec,
    CriterionSpec,
    MetricsEndpointSpec,
    TriggersSpec,
    WarRoomSpec,
)
from perfgate.plan.durations import Duration
from perfgate.preflight.spec import PreflightSpec, VendorSpec
from perfgate.report.spec import CapacitySpec, SeverityPolicySpec, SoakSpec
from perfgate.stability.spec import StabilitySpec
from perfgate.telemetry.spec import TelemetrySpec

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TargetSpec(StrictModel):
    base_url: str = Field(description="Base URL of the system under test, e.g. http://127.0.0.1:8000")
    allowed_hosts: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "localhost", "::1"],
        description="Hosts perfgate may send traffic to; loopback is always allowed.",
    )
    isolated: bool = Field(
        default=False,
        description="Operator's statement that the target is isolated from public UX and partners.",
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Headers on every request; ${ENV_VAR} is expanded at run time, never stored.",
    )


class Stage(StrictModel):
    rps: float = Field(gt=0, description="Target arrival rate, requests per second")
    duration: Duration = Field(description="How long the stage is held, e.g. '17m'")
    name: str | None = None


class ScheduleSpec(StrictModel):
    arrival: Literal["poisson", "uniform"] = "poisson"
    seed: int = 0
    warmup: Stage | None = Field(default=None, description="Excluded from analysis (plateau p0)")
    plateaus: list[Stage] = Field(min_length=1)


class FamilySpec(StrictModel):
    timeout: Duration = Field(default=10.0, description="Per-request timeout for this family")
    description: str = ""


class WordsSpec(StrictModel):
    min: int = Field(default=5, ge=1)
    max: int = Field(default=20, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> WordsSpec:
        if self.min > self.max:
            raise ValueError(f"words.min ({self.min}) is greater than words.max ({self.max})")
        return self


class ParamSpec(StrictModel):
    """A seeded synthetic value generator: exactly one of the fields is set."""

    int_range: tuple[int, int] | None = Field(default=None, alias="int")
    choice: list[Any] | None = None
    words: WordsSpec | None = None
    uuid: bool | None = None
    const: Any = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ParamSpec:
        # `is not None`, not truthiness: `const: 0` and `const: false` are real values
        kinds = [k for k in ("int_range", "choice", "words", "const")
                 if getattr(self, k) is not None]
        if self.uuid:
            kinds.append("uuid")
        if len(kinds) != 1:
            raise ValueError("a parameter needs exactly one of: int, choice, words, uuid, const")
        if self.int_range is not None and self.int_range[0] > self.int_range[1]:
            raise ValueError(f"int range {list(self.int_range)} is empty")
        if self.choice is not None and not self.choice:
            raise ValueError("choice needs at least one value")
        return self


class AiCallSpec(StrictModel):
    """Token sizes of one AI endpoint, used for budget reservation and vendor-limit checks."""

    prompt_tokens: int = Field(gt=0)
    max_tokens: int = Field(gt=0)


class EndpointSpec(StrictModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    method: HttpMethod = "GET"
    path: str = Field(description="Path template; {param} placeholders come from `params`")
    query: dict[str, str] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    body: Any = Field(default=None, description="JSON body template")
    weight: float = Field(default=1.0, gt=0)
    expect: list[int] = Field(default_factory=lambda: [200],
                              description="Statuses the smoke test expects")
    ai: AiCallSpec | None = None


class MixClassSpec(StrictModel):
    family: str
    weight: float = Field(gt=0, description="Share of all arrivals (weights are normalised)")
    endpoints: list[EndpointSpec] = Field(min_length=1)


class EngineSpec(StrictModel):
    max_inflight: int = Field(default=2000, ge=1, description="Arrivals beyond this are dropped")
    connections: int = Field(default=256, ge=1, description="Keep-alive connection pool size")
    loop: Literal["auto", "asyncio", "uvloop"] = "auto"
    client: Literal["aiohttp", "raw"] = Field(
        default="raw",
        description="HTTP client: 'raw' (perfgate's HTTP/1.1 keep-alive client, several times "
                    "aiohttp's rate per core; https falls back to aiohttp) or 'aiohttp'")


class Plan(StrictModel):
    name: str
    run_tag: str = Field(pattern=r"^[A-Za-z0-9_.-]+$",
                         description="X-Perf-Run tag on every request")
    description: str = ""
    target: TargetSpec
    schedule: ScheduleSpec
    families: dict[str, FamilySpec] = Field(min_length=1)
    mix: dict[str, MixClassSpec] = Field(min_length=1)
    params: dict[str, ParamSpec] = Field(default_factory=dict)
    engine: EngineSpec = Field(default_factory=EngineSpec)
    # guardrails (perfgate.guards, perfgate.telemetry): all optional
    telemetry: TelemetrySpec | None = Field(default=None, description="Signals from the target")
    criteria: list[CriterionSpec] = Field(default_factory=list,
                                          description="Pass criteria, judged per plateau")
    triggers: TriggersSpec = Field(default_factory=TriggersSpec, description="Abort rules")
    budget: BudgetSpec | None = Field(default=None, description="AI cost cap and price table")
    war_room: WarRoomSpec | None = Field(default=None, description="Owner, roster, webhooks")
    metrics_endpoint: MetricsEndpointSpec = Field(default_factory=MetricsEndpointSpec,
                                                  description="perfgate's own /metrics")
    # deliverables (perfgate.capture, perfgate.report): all optional
    captures: list[CaptureSpec] = Field(default_factory=list,
                                        description="Profiles/traces/snapshots per plateau")
    severity_policy: SeverityPolicySpec = Field(default_factory=SeverityPolicySpec,
                                                description="Hotspot severity -> ETA")
    capacity: CapacitySpec | None = Field(default=None,
                                          description="Cohort, growth and pricing inputs")
    soak: SoakSpec = Field(default_factory=SoakSpec, description="The follow-up soak (perf-7a)")
    # pre-run checks, chaos probe, stability (perfgate.preflight, .chaos, .stability)
    preflight: PreflightSpec = Field(default_factory=PreflightSpec,
                                     description="Pre-run checklist settings, confirmations")
    vendor: VendorSpec | None = Field(default=None,
                                      description="AI provider keys (env names), projects, limits")
    chaos: ChaosSpec | None = Field(default=None, description="Faults injected at a plateau")
    stability: StabilitySpec = Field(default_factory=StabilitySpec,
                                     description="Leak, GC-pause and error-cascade rules")
