"""The one per-second snapshot every live consumer reads (console, dashboard, /metrics).

Pure data, built by ``LiveStats`` from the same windows the store receives, so what
the war room sees live is what the report later recomputes from the store.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class FamilyLive:
    family: str
    requests: int
    errors: int
    error_rate: float | None
    p50_ms: float | None
    p90_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    rps: float  # completions per second over the recent window


@dataclass(frozen=True)
class Snapshot:
    run_id: str
    t: float  # seconds since the run started
    total_s: float
    phase_id: str | None
    phase_name: str
    phase_elapsed_s: float
    phase_remaining_s: float
    target_rps: float
    achieved_rps: float  # sends per second over the recent window
    inflight: int
    sent: int
    dropped: int
    completed: int
    loop_lag_p99_ms: float | None
    cpu_percent: float | None
    families: dict[str, FamilyLive] = field(default_factory=dict)
    done: bool = False
    verdict: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)  # hooks' live state (guards, spend)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
