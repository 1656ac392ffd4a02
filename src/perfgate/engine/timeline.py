"""The run's timeline: the warm-up (``p0``) and the plateaus (``p1``..``pN``) back to back.

Durations are multiplied by ``time_scale`` (``--time-scale``); rates never are. Times
are seconds since the run start.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from perfgate.plan.models import ScheduleSpec


@dataclass(frozen=True, slots=True)
class Phase:
    """One stage held at a constant target rate over ``[start_s, end_s)``."""

    id: str
    index: int
    name: str
    rps: float
    start_s: float
    end_s: float
    warmup: bool

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def build_timeline(schedule: ScheduleSpec, time_scale: float = 1.0) -> list[Phase]:
    """Phases in run order; ``p0`` only when the schedule has a warm-up."""
    if not time_scale > 0:
        raise ValueError(f"time_scale must be > 0, got {time_scale!r}")
    stages = [(0, schedule.warmup)] if schedule.warmup is not None else []
    stages += list(enumerate(schedule.plateaus, start=1))
    phases: list[Phase] = []
    start = 0.0
    for index, stage in stages:
        end = start + stage.duration * time_scale
        default_name = "warm-up" if index == 0 else f"plateau {index}"
        phases.append(Phase(
            id=f"p{index}", index=index, name=stage.name or default_name, rps=stage.rps,
            start_s=start, end_s=end, warmup=index == 0,
        ))
        start = end
    return phases


def phase_at(timeline: Sequence[Phase], t: float) -> Phase | None:
    """The phase holding time ``t``, or None before the start or from the end on."""
    i = bisect_right([p.start_s for p in timeline], t) - 1
    if i < 0 or t >= timeline[i].end_s:
        return None
    return timeline[i]


def total_duration(timeline: Sequence[Phase]) -> float:
    return timeline[-1].end_s if timeline else 0.0
