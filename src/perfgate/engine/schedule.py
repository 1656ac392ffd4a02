"""Arrival schedules: pure generators of *intended* send times.

A schedule never looks at the clock or at responses (open model): it only says when
each request should leave. The dispatcher sends at those times and measures latency
from them, so a late send shows up as latency instead of vanishing.

- ``poisson``: exponential inter-arrival gaps with mean ``1/rate``; the first arrival
  comes one gap after ``start``. Counts per interval are Poisson(rate x length).
- ``uniform``: ``start + k/rate`` for k = 0, 1, ... (phase 0: the first arrival is at
  ``start``), computed from k, not by summing gaps, so there is no drift.

Both yield every arrival in ``[start, end)`` and nothing outside it.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from typing import Literal

from perfgate.engine.timeline import Phase

ArrivalKind = Literal["poisson", "uniform"]


def arrivals(
    rate: float, start: float, end: float, kind: ArrivalKind, rng: random.Random
) -> Iterator[float]:
    """Intended send times in ``[start, end)`` at ``rate`` per second."""
    if not rate > 0:
        raise ValueError(f"rate must be > 0, got {rate!r}")
    if kind == "uniform":
        return _uniform(rate, start, end)
    if kind == "poisson":
        return _poisson(rate, start, end, rng)
    raise ValueError(f"unknown arrival kind {kind!r}: use 'poisson' or 'uniform'")


def _uniform(rate: float, start: float, end: float) -> Iterator[float]:
    k = 0
    t = start
    while t < end:
        yield t
        k += 1
        t = start + k / rate


def _poisson(rate: float, start: float, end: float, rng: random.Random) -> Iterator[float]:
    gap = rng.expovariate
    t = start + gap(rate)
    while t < end:
        yield t
        t += gap(rate)


def timeline_arrivals(
    timeline: Iterable[Phase], kind: ArrivalKind, seed: int | str
) -> Iterator[tuple[float, Phase]]:
    """Every phase's arrivals in order, each with its phase; one seeded stream."""
    rng = random.Random(seed)
    for phase in timeline:
        for t in arrivals(phase.rps, phase.start_s, phase.end_s, kind, rng):
            yield t, phase
