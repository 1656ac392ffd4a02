"""The simulator's runtime state: one :class:`Simulator` per app (``app.state.sim``).

It owns the per-project limiters and drill toggles, the ledger, the latency
model, the fault settings and the metrics, and makes the admission decision of a
completion call (:meth:`Simulator.admit`), in this order:

1. quota: the project is forced into quota exhaustion, or its spend has reached
   ``spend_limit_usd`` -> 429 ``insufficient_quota``;
2. a drill forces rate limiting -> 429 ``rate_limit_exceeded`` (type ``requests``,
   ``retry-after: forced_retry_after_s``);
3. the RPM / TPM windows (:mod:`llmsim.limits`) -> 429 ``rate_limit_exceeded``
   (type ``requests`` or ``tokens``) with ``retry-after`` / ``retry-after-ms``.

Injected server errors (``error_rate`` of ``POST /admin/faults``) are drawn
*before* admission, so they are neither billed nor counted in the windows.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from llmsim import errors
from llmsim.config import SimConfig
from llmsim.durations import header_duration
from llmsim.latency import LatencyModel
from llmsim.ledger import Ledger
from llmsim.limits import Denied, ProjectLimiter, RateLimitSnapshot
from llmsim.metrics import SimMetrics
from llmsim.pricing import PriceTable, usd

Clock = Callable[[], float]


class Faults(BaseModel):
    """Drill faults (body of ``POST /admin/faults``; omitted fields reset to defaults)."""

    model_config = ConfigDict(extra="forbid")

    extra_latency_ms: float = Field(default=0.0, ge=0, description="added to every completion")
    error_rate: float = Field(default=0.0, ge=0, le=1, description="share answered with a 5xx")
    error_status: Literal[500, 502, 503] = 500
    seed: int | None = Field(default=None, description="seed of the error draw (default: sim seed)")


@dataclass
class ProjectState:
    name: str
    limiter: ProjectLimiter
    spend_limit_usd: Decimal | None
    quota_exhausted: bool = False
    rate_limited: bool = False

    def to_json(self, now: float, spent: Decimal) -> dict[str, Any]:
        snap = self.limiter.snapshot(now)
        return {
            "rpm": self.limiter.rpm,
            "tpm": self.limiter.tpm,
            "spend_limit_usd": None if self.spend_limit_usd is None else usd(self.spend_limit_usd),
            "spent_usd": usd(spent),
            "quota_exhausted": self.quota_exhausted,
            "rate_limited": self.rate_limited,
            "remaining_requests": snap.remaining_requests,
            "remaining_tokens": snap.remaining_tokens,
        }


def ratelimit_headers(snap: RateLimitSnapshot) -> dict[str, str]:
    return {
        "x-ratelimit-limit-requests": str(snap.limit_requests),
        "x-ratelimit-limit-tokens": str(snap.limit_tokens),
        "x-ratelimit-remaining-requests": str(snap.remaining_requests),
        "x-ratelimit-remaining-tokens": str(snap.remaining_tokens),
        "x-ratelimit-reset-requests": header_duration(snap.reset_requests_s),
        "x-ratelimit-reset-tokens": header_duration(snap.reset_tokens_s),
    }


def _retry_headers(seconds: float) -> dict[str, str]:
    # retry-after is whole seconds (never 0, or clients spin); retry-after-ms is what the
    # openai SDK prefers when it retries on its own.
    return {
        "retry-after": str(max(1, math.ceil(seconds))),
        "retry-after-ms": str(max(1, math.ceil(seconds * 1000))),
    }


@dataclass
class Simulator:
    config: SimConfig
    clock: Clock = time.monotonic
    wall_clock: Clock = time.time
    metrics: SimMetrics = field(default_factory=SimMetrics)
    prices: PriceTable = field(init=False)
    ledger: Ledger = field(init=False)
    latency: LatencyModel = field(init=False)
    faults: Faults = field(init=False)
    projects: dict[str, ProjectState] = field(init=False)
    _fault_rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        cfg = self.config
        self.prices = PriceTable(cfg.prices)
        self.ledger = Ledger(cfg.ledger_path)
        self.latency = LatencyModel(cfg.latency, scale=cfg.latency_scale, seed=cfg.seed)
        self._init_mutable()

    def _init_mutable(self) -> None:
        cfg = self.config
        self.faults = Faults()
        self._fault_rng = random.Random(cfg.seed)
        self.projects = {}
        for name in cfg.project_names():
            pc = cfg.project_config(name)
            self.projects[name] = ProjectState(
                name=name,
                limiter=ProjectLimiter(rpm=pc.rpm, tpm=pc.tpm, window_s=cfg.window_s),
                spend_limit_usd=pc.spend_limit_usd,
            )

    def reset(self) -> None:
        """Back to the configured state: empty ledger and windows, no toggles, no faults."""
        self.ledger.clear()
        self.latency.reseed(self.config.seed)
        self._init_mutable()

    def set_faults(self, faults: Faults) -> None:
        self.faults = faults
        self._fault_rng = random.Random(self.config.seed if faults.seed is None else faults.seed)

    def draw_fault(self) -> errors.SimError | None:
        """The injected server error for this call, if the dice say so."""
        rate = self.faults.error_rate
        if rate > 0 and self._fault_rng.random() < rate:
            return errors.server_error(self.faults.error_status)
        return None

    def project_for_key(self, key: str) -> str | None:
        return self.config.keys.get(key)

    def project(self, name: str) -> ProjectState:
        return self.projects[name]

    def snapshot_headers(self, project: str) -> dict[str, str]:
        return ratelimit_headers(self.projects[project].limiter.snapshot(self.clock()))

    def admit(self, project: str, model: str, tokens: int) -> dict[str, str]:
        """Admit one completion call of ``tokens`` tokens or raise its 429.

        Returns the ``x-ratelimit-*`` headers (counting this call)."""
        state = self.projects[project]
        now = self.clock()
        spent = self.ledger.spent(project)
        over_spend = state.spend_limit_usd is not None and spent >= state.spend_limit_usd
        if state.quota_exhausted or over_spend:
            raise errors.insufficient_quota(headers=self.snapshot_headers(project))
        if state.rate_limited:
            raise errors.SimError(
                429,
                f"Rate limit reached for {model} in project {project} on requests per min "
                f"(RPM): the project is being rate limited. Please try again in "
                f"{self.config.forced_retry_after_s}s. Visit "
                "https://platform.openai.com/account/rate-limits to learn more.",
                type="requests",
                code="rate_limit_exceeded",
                headers={
                    **self.snapshot_headers(project),
                    **_retry_headers(self.config.forced_retry_after_s),
                },
            )
        denied = state.limiter.try_acquire(now, tokens)
        if denied is not None:
            raise self._rate_limit_error(project, model, denied)
        return self.snapshot_headers(project)

    def _rate_limit_error(self, project: str, model: str, d: Denied) -> errors.SimError:
        unit = "requests per min (RPM)" if d.kind == "requests" else "tokens per min (TPM)"
        if d.too_large:
            message = (
                f"Request too large for {model} in project {project} on {unit}: "
                f"Limit {d.limit}, Requested {d.requested}. The input or output tokens must "
                "be reduced in order to run successfully."
            )
        else:
            message = (
                f"Rate limit reached for {model} in project {project} on {unit}: "
                f"Limit {d.limit}, Used {d.used}, Requested {d.requested}. Please try again "
                f"in {header_duration(d.retry_after_s)}. Visit "
                "https://platform.openai.com/account/rate-limits to learn more."
            )
        return errors.SimError(
            429,
            message,
            type=d.kind,
            code="rate_limit_exceeded",
            headers={**self.snapshot_headers(project), **_retry_headers(d.retry_after_s)},
        )

    def state_json(self) -> dict[str, Any]:
        now = self.clock()
        cfg = self.config
        return {
            "models": self.prices.models,
            "window_s": cfg.window_s,
            "latency_scale": cfg.latency_scale,
            "seed": cfg.seed,
            "faults": self.faults.model_dump(),
            "projects": {
                name: st.to_json(now, self.ledger.spent(name))
                for name, st in sorted(self.projects.items())
            },
            "ledger_entries": len(self.ledger),
        }
