"""The plan's ``preflight`` and ``vendor`` sections (declarative only)::

    preflight:
      telemetry_mix: prod-mix.csv       # default for --telemetry (file or URL)
      mix_metric: studyhall_http_request_duration_seconds_count   # for Prometheus text
      mix_label: route
      flags: {url: /admin/flags, off: [outbound_email, notifications, provider_webhooks]}
      tools: [py-spy]                   # executables the configured captures need
      confirmed:                        # items a person confirmed: who and when
        outbound_urls: "perf lead 2024-05-02: studyhall outbound URLs -> perfgate sink"
    vendor:
      base_url: http://127.0.0.1:8100/v1
      keys:
        - {name: primary, env: STUDYHALL_OPENAI_KEY_PRIMARY, project: proj-primary}
        - {name: secondary, env: STUDYHALL_OPENAI_KEY_SECONDARY, project: proj-secondary}

Keys are named by the environment variable that holds them; a value never appears
in a plan, the store or a report. Limits given here win over the probe's headers.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from perfgate.plan.durations import Duration

__all__ = ["FlagsCheckSpec", "PreflightSpec", "VendorKeySpec", "VendorSpec"]

ITEMS = ("plan_target", "traffic_mix", "ai_share", "budget", "vendor_limits", "data_safety",
         "isolation", "war_room", "tools", "generator_capacity", "chaos")


class _Strict(BaseModel):
    # Same rules as perfgate.plan.models.StrictModel (not imported: that module imports us).
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FlagsCheckSpec(_Strict):
    url: str = Field(default="/admin/flags", description="JSON of the target's feature flags")
    off: list[str] = Field(default_factory=lambda: ["outbound_email", "notifications",
                                                    "provider_webhooks"])
    headers: dict[str, str] = Field(default_factory=dict, description="${ENV} ok")


class PreflightSpec(_Strict):
    telemetry_mix: str | None = Field(
        default=None, description="Latest production request counts: JSON, CSV, Prometheus "
                                  "text or a PromQL /api/v1/query URL (--telemetry wins)")
    mix_metric: str = Field(default="http_requests_total",
                            description="Prometheus text: the request counter to read")
    mix_label: str = Field(default="route", description="The label naming the endpoint")
    mix_tolerance_pp: float = Field(default=5.0, gt=0, description="Max drift, percent points")
    flags: FlagsCheckSpec | None = None
    tools: list[str] = Field(default_factory=list, description="Executables captures need")
    pg_stat_statements: str | None = Field(
        default=None, description="PostgreSQL DSN (${ENV} ok) that must have the extension")
    pii_samples: int = Field(default=50, ge=1, le=10_000, description="Samples per endpoint")
    capacity_factor: float = Field(default=1.5, ge=1)
    capacity_duration: Duration = Field(default=2.0, gt=0, le=60)
    max_loop_lag_ms: float = Field(default=10.0, gt=0)
    smoke_timeout: Duration = Field(default=10.0, gt=0)
    confirmed: dict[str, str] = Field(default_factory=dict,
                                      description="Item -> who confirmed it, and when")


class VendorKeySpec(_Strict):
    name: str = Field(description="As in X-AI-Provider-Key: primary, secondary")
    env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                     description="Environment variable holding the key (never the value)")
    project: str | None = Field(default=None, description="Declared project id")
    rpm: int | None = Field(default=None, ge=1, description="Limit (else from the probe)")
    tpm: int | None = Field(default=None, ge=1)


class VendorSpec(_Strict):
    base_url: str = Field(description="Provider API base URL, e.g. http://127.0.0.1:8100/v1")
    keys: list[VendorKeySpec] = Field(min_length=1)
    probe: bool = Field(default=True, description="GET /models per key (bills nothing)")
    min_headroom: float = Field(default=0.1, ge=0, lt=1,
                                description="Red when a key's headroom is below this")

    @model_validator(mode="after")
    def _names(self) -> VendorSpec:
        names = [k.name for k in self.keys]
        if len(set(names)) != len(names):
            raise ValueError(f"key names must be unique, got {names}")
        return self
