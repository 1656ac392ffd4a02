"""Simulator configuration.

Everything the simulator does is driven by one :class:`SimConfig`. It can be
built in code, or loaded from a JSON or YAML file with :func:`load_config`.

The defaults are a usable stand-alone provider: two synthetic API keys mapped to
two projects, gpt-4o-mini at $0.15 / $0.60 per 1M input / output tokens, limits
roomy enough for the perf-6b plan (about 15 AI calls/s at its top plateau), a
time to first token around 350 ms and answers of 20-120 tokens. With these a call
takes about 495 ms at the median and 730 ms at P95, which leaves the system under
test room for its own work inside perf-6b's 900 ms AI P95.

Keys and the admin token are synthetic secrets: they are never logged and never
written to the ledger or any report (the ledger records the project only).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    # A typo in a drill config must fail loudly rather than silently use a default.
    model_config = ConfigDict(extra="forbid")


class ModelPrice(_Strict):
    """USD per one million tokens."""

    input_per_1m_usd: Decimal = Field(ge=0)
    output_per_1m_usd: Decimal = Field(ge=0)


class ProjectConfig(_Strict):
    """Limits of one project (every API key belongs to one project)."""

    rpm: int = Field(default=5_000, ge=1, description="requests per rate-limit window")
    tpm: int = Field(default=4_000_000, ge=1, description="tokens per rate-limit window")
    spend_limit_usd: Decimal | None = Field(
        default=None, ge=0, description="429 insufficient_quota once spend reaches this"
    )


class LatencyConfig(_Strict):
    """Shape of the latency model (see :mod:`llmsim.latency`); scaled by ``latency_scale``."""

    ttft_median_ms: float = Field(default=350.0, gt=0)
    ttft_sigma: float = Field(default=0.3, ge=0, description="sigma of ln(ttft)")
    ttft_max_ms: float = Field(default=10_000.0, gt=0, description="caps the lognormal tail")
    per_token_ms: float = Field(default=2.0, ge=0, description="time per output token")


class CompletionConfig(_Strict):
    """How long the generated answers are (before ``max_tokens`` truncates them)."""

    min_tokens: int = Field(default=20, ge=1)
    max_tokens: int = Field(default=120, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> CompletionConfig:
        if self.max_tokens < self.min_tokens:
            raise ValueError("completion.max_tokens must be >= completion.min_tokens")
        return self


def _default_keys() -> dict[str, str]:
    return {"sk-sim-primary": "proj-primary", "sk-sim-secondary": "proj-secondary"}


def _default_prices() -> dict[str, ModelPrice]:
    return {
        "gpt-4o-mini": ModelPrice(
            input_per_1m_usd=Decimal("0.15"), output_per_1m_usd=Decimal("0.60")
        )
    }


class SimConfig(_Strict):
    """The whole simulator configuration."""

    keys: dict[str, str] = Field(
        default_factory=_default_keys, description="API key -> project name"
    )
    projects: dict[str, ProjectConfig] = Field(
        default_factory=dict, description="per-project limits; others use default_project"
    )
    default_project: ProjectConfig = Field(default_factory=ProjectConfig)
    prices: dict[str, ModelPrice] = Field(
        default_factory=_default_prices,
        description="model -> price; these are also the models the simulator serves",
    )
    window_s: float = Field(default=60.0, gt=0, description="rate-limit window length")
    latency: LatencyConfig = Field(default_factory=LatencyConfig)
    latency_scale: float = Field(
        default=1.0, ge=0, description="multiplies every modelled delay (0 = no delay)"
    )
    completion: CompletionConfig = Field(default_factory=CompletionConfig)
    seed: int = 0
    admin_token: str = Field(default="llmsim-admin", min_length=1)
    ledger_path: Path | None = Field(
        default=None, description="append one JSON line per billed call"
    )
    forced_retry_after_s: int = Field(
        default=1, ge=0, description="retry-after of a drill-forced rate_limit_exceeded"
    )

    @field_validator("prices")
    @classmethod
    def _some_model(cls, v: dict[str, ModelPrice]) -> dict[str, ModelPrice]:
        if not v:
            raise ValueError("prices must name at least one model")
        return v

    @field_validator("keys")
    @classmethod
    def _nonempty_keys(cls, v: dict[str, str]) -> dict[str, str]:
        for key, project in v.items():
            if not key or not project:
                raise ValueError("API keys and project names must be non-empty")
        return v

    def project_names(self) -> list[str]:
        """Every project a key maps to, plus every project with its own limits."""
        return sorted(set(self.keys.values()) | set(self.projects))

    def project_config(self, project: str) -> ProjectConfig:
        return self.projects.get(project, self.default_project)


def load_config(path: str | Path) -> SimConfig:
    """Read a :class:`SimConfig` from a ``.json``, ``.yaml`` or ``.yml`` file.

    Raises ``ValueError`` naming the file when it cannot be parsed or validated.
    """
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    try:
        is_yaml = p.suffix.lower() in {".yaml", ".yml"}
        data: Any = yaml.safe_load(text) if is_yaml else json.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise ValueError(f"{p}: cannot parse: {exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(f"{p}: expected a mapping at the top level")
    try:
        return SimConfig.model_validate(data)
    except ValueError as exc:
        raise ValueError(f"{p}: invalid llmsim config: {exc}") from exc
