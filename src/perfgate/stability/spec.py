"""The plan's ``stability`` section: how leaks, GC pauses and error cascades are judged.

Declarative only (the judging is ``perfgate.stability.leak``/``gc``/``cascade``)::

    stability:
      leak: {tolerance_mb_per_h: 50, floor_rise_mb: 16}
      gc: {signal: gc_pauses_over_100ms, max_per_window: 1, window: 60s, consecutive: 2}
      cascade: {window: 60s, factor: 2, rises: 3, min_errors: 5, spread_rate: 0.01}

MB are MiB (2**20 bytes), as memory tools show them. Leak and GC windows are real time
(the target's memory and collector do not run faster in a compressed rehearsal); the
cascade window is run time and is multiplied by ``--time-scale`` like the plateaus.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from perfgate.plan.durations import Duration

__all__ = ["CascadeSpec", "GcSpec", "LeakSpec", "StabilitySpec"]


class _Strict(BaseModel):
    # Same rules as perfgate.plan.models.StrictModel (not imported: that module imports us).
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class LeakSpec(_Strict):
    signal: str = Field(default="rss_bytes", description="Telemetry sample of resident memory")
    tolerance_mb_per_h: float = Field(
        default=50.0, ge=0, description="A leak is a slope whose CI lower bound exceeds this")
    skip_fraction: float = Field(default=0.2, ge=0, lt=1,
                                 description="Leading share of each plateau left out")
    floor_quantile: float = Field(default=0.05, ge=0, le=1,
                                  description="A plateau's floor: this quantile of its RSS")
    floor_rise_mb: float = Field(default=16.0, ge=0,
                                 description="Floors 'keep rising': every step above this")
    min_samples: int = Field(default=6, ge=3)
    confidence: float = Field(default=0.95, gt=0, lt=1)
    soak_hours: float = Field(default=4.0, gt=0, description="Projection horizon (perf-7a)")


class GcSpec(_Strict):
    signal: str = Field(default="gc_pauses_over_100ms",
                        description="Telemetry sample: pauses over the bound since the last read")
    max_per_window: int = Field(default=1, ge=0, description="More than this in a window is bad")
    window: Duration = Field(default=60.0, gt=0)
    consecutive: int = Field(default=2, ge=1, description="Bad windows in a row = sustained")


class CascadeSpec(_Strict):
    window: Duration = Field(default=60.0, gt=0, description="Error-rate window (x time scale)")
    factor: float = Field(default=2.0, gt=1, description="Each rise at least this multiple")
    rises: int = Field(default=3, ge=1, description="Consecutive rises that make a cascade")
    min_errors: int = Field(default=5, ge=1, description="Errors a rising window needs")
    spread_rate: float = Field(default=0.01, gt=0, le=1,
                               description="A family 'has errors' at this rate (and min_errors)")


class StabilitySpec(_Strict):
    leak: LeakSpec = Field(default_factory=LeakSpec)
    gc: GcSpec = Field(default_factory=GcSpec)
    cascade: CascadeSpec = Field(default_factory=CascadeSpec)
