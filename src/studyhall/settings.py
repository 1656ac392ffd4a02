"""studyhall settings: one pydantic model, built explicitly (no globals, no import-time I/O).

``Settings()`` gives the demo defaults (SQLite file, llmsim's simulated keys);
``Settings.from_env()`` layers the environment on top:

=================================  ==========================================
``STUDYHALL_DATABASE_URL``         database_url
``STUDYHALL_REDIS_URL``/``REDIS_URL``  redis_url (Redis Streams queue)
``STUDYHALL_PROVIDER_BASE_URL``    provider_base_url
``STUDYHALL_OPENAI_KEY_PRIMARY``   openai_key_primary (secret)
``STUDYHALL_OPENAI_KEY_SECONDARY`` openai_key_secondary (secret)
``STUDYHALL_ADMIN_TOKEN``          admin_token (secret; admin routes are 403 without it)
``STUDYHALL_TOKEN``                tokens (comma-separated extra valid bearer tokens)
``STUDYHALL_BILLING_LEDGER``       billing_ledger_path
=================================  ==========================================
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from studyhall.faults import FaultConfig
from studyhall.flags import FlagConfig


class ModelPrice(BaseModel):
    """USD per one million tokens."""

    model_config = ConfigDict(frozen=True)

    input_per_1m: Decimal
    output_per_1m: Decimal


def _default_prices() -> dict[str, ModelPrice]:
    return {
        "gpt-4o-mini": ModelPrice(input_per_1m=Decimal("0.15"), output_per_1m=Decimal("0.60")),
    }


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # --- database -------------------------------------------------------------
    database_url: str = "sqlite+aiosqlite:///studyhall.db"
    db_schema: str | None = Field(
        default=None, description="PostgreSQL schema (search_path) holding the tables"
    )
    pool_size: int = Field(default=8, ge=1, le=256)
    pool_timeout_s: float = Field(default=10.0, gt=0)

    # --- background queue -------------------------------------------------------
    redis_url: str | None = None
    queue_stream: str = "studyhall:events"
    queue_drain_rate: float = Field(default=200.0, gt=0, description="events per second")
    queue_max_depth: int = Field(default=100_000, ge=1)

    # --- AI provider ------------------------------------------------------------
    provider_base_url: str = "http://127.0.0.1:8100/v1"
    openai_key_primary: SecretStr = SecretStr("sk-sim-primary")
    openai_key_secondary: SecretStr = SecretStr("sk-sim-secondary")
    model: str = "gpt-4o-mini"
    provider_timeout_s: float = Field(default=5.0, gt=0)
    analyze_max_tokens: int = Field(default=300, ge=1)
    generate_max_tokens: int = Field(default=500, ge=1)
    prices: dict[str, ModelPrice] = Field(default_factory=_default_prices)
    markup: Decimal = Decimal(4)
    # failover policy
    rate_limit_retries: int = Field(default=1, ge=0, description="primary retries on a 429 RL")
    rate_limit_backoff_s: float = Field(default=0.2, ge=0, description="max wait per retry")
    rate_limit_sideline_s: float = Field(default=5.0, ge=0)
    quota_sideline_s: float = Field(default=30.0, ge=0)
    # circuit breaker
    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_reset_timeout_s: float = Field(default=10.0, gt=0)
    breaker_half_open_probes: int = Field(default=1, ge=1)
    # fallbacks
    cache_size: int = Field(default=2048, ge=0)
    kill_switch_mode: Literal["fallback", "503"] = "fallback"

    # --- auth ---------------------------------------------------------------------
    admin_token: SecretStr | None = None
    tokens: list[SecretStr] = Field(default_factory=list)
    token_pattern: str | None = r"sh-test-[A-Za-z0-9_.-]{1,64}"

    # --- billing --------------------------------------------------------------------
    billing_ledger_path: Path | None = Field(
        default=None, description="JSON-lines ledger; None keeps rows in memory only"
    )

    # --- outbound sinks and feature flags ----------------------------------------------
    outbound_email_url: str | None = None
    notification_url: str | None = None
    webhook_url: str | None = None
    flags: FlagConfig = Field(default_factory=FlagConfig)

    # --- rehearsal faults and diagnostics -----------------------------------------------
    faults: FaultConfig = Field(default_factory=FaultConfig)
    tracemalloc: bool = Field(default=False, description="start tracemalloc at startup")

    @property
    def price(self) -> ModelPrice:
        try:
            return self.prices[self.model]
        except KeyError:
            raise ValueError(f"no price for model {self.model!r} in settings.prices") from None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``env`` (default ``os.environ``); explicit ``overrides`` win."""
        source = os.environ if env is None else env
        values: dict[str, Any] = {}
        simple = {
            "STUDYHALL_DATABASE_URL": "database_url",
            "STUDYHALL_PROVIDER_BASE_URL": "provider_base_url",
            "STUDYHALL_OPENAI_KEY_PRIMARY": "openai_key_primary",
            "STUDYHALL_OPENAI_KEY_SECONDARY": "openai_key_secondary",
            "STUDYHALL_ADMIN_TOKEN": "admin_token",
            "STUDYHALL_BILLING_LEDGER": "billing_ledger_path",
        }
        for var, field in simple.items():
            if source.get(var):
                values[field] = source[var]
        redis_url = source.get("STUDYHALL_REDIS_URL") or source.get("REDIS_URL")
        if redis_url:
            values["redis_url"] = redis_url
        if source.get("STUDYHALL_TOKEN"):
            raw = source["STUDYHALL_TOKEN"].split(",")
            values["tokens"] = [t.strip() for t in raw if t.strip()]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)
