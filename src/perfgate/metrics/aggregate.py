"""Exact merges of windows, and the SLIs of a merged cell.

Merging adds counts and histogram buckets, so a minute, a plateau or the whole run
computed from per-second windows is exactly what one accumulator fed every request
would hold: no averaging of percentiles, ever.

Rates (each None when its denominator is 0):

- ``error_rate = errors / slo_requests`` and ``timeout_rate = timeouts / slo_requests``,
  where ``slo_requests`` = completed - 401s (401s are excluded from every SLO);
- ``dropped_rate = dropped / (sent + dropped)``: the share of scheduled arrivals that
  the in-flight cap turned away;
- ``sent_rps = sent / duration_s`` is the rate the generator actually put on the wire,
  and ``achieved_rps`` is that rate (the one judged against the target: 97% rule);
  ``completed_rps = completed / duration_s`` is shown beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import asdict, dataclass
from typing import TypeVar

from perfgate.metrics import histogram as hist
from perfgate.metrics.outcome import ERROR_OUTCOMES, Outcome
from perfgate.metrics.window import Cell, Window

__all__ = [
    "SliStats",
    "by_family",
    "by_minute_family",
    "by_plateau_endpoint",
    "by_plateau_family",
    "by_plateau_mix_class",
    "group_windows",
    "merge_cells",
    "sli_stats",
]

K = TypeVar("K", bound=Hashable)


def merge_cells(cells: Iterable[Cell]) -> Cell:
    """A new cell holding the exact sum of ``cells`` (which are left unchanged)."""
    total = Cell()
    for cell in cells:
        total.merge(cell)
    return total


def group_windows(windows: Iterable[Window], by: Callable[[Window], K]) -> dict[K, Cell]:
    """Merge windows into one new cell per group, e.g. ``group_windows(ws, by_family)``."""
    groups: dict[K, Cell] = {}
    for window in windows:
        group = by(window)
        cell = groups.get(group)
        if cell is None:
            cell = groups[group] = Cell()
        cell.merge(window.cell)
    return groups


def by_plateau_family(w: Window) -> tuple[str, str]:
    return (w.key.plateau, w.key.family)


def by_plateau_mix_class(w: Window) -> tuple[str, str]:
    return (w.key.plateau, w.key.mix_class)


def by_plateau_endpoint(w: Window) -> tuple[str, str]:
    """Endpoint names are unique within a plan, so (plateau, endpoint) is one series."""
    return (w.key.plateau, w.key.endpoint)


def by_minute_family(w: Window) -> tuple[int, str]:
    """Minute = ``second // 60`` since the run start."""
    return (w.second // 60, w.key.family)


def by_family(w: Window) -> str:
    return w.key.family


@dataclass(frozen=True)
class SliStats:
    requests: int
    slo_requests: int
    ok: int
    excluded_401: int
    errors: int
    errors_by_kind: dict[str, int]
    error_rate: float | None
    timeouts: int
    timeout_rate: float | None
    sent: int
    dropped: int
    dropped_rate: float | None
    p50_ms: float | None
    p90_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    service_p95_ms: float | None
    service_p99_ms: float | None
    duration_s: float
    sent_rps: float | None
    completed_rps: float | None
    achieved_rps: float | None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready (plain ints, floats, None and a str->int dict)."""
        return asdict(self)


def sli_stats(cell: Cell, duration_s: float) -> SliStats:
    """The SLIs of ``cell`` observed over ``duration_s`` seconds."""
    lat = hist.percentiles_ms(cell.latency)
    svc = hist.percentiles_ms(cell.service, (95, 99))
    slo = cell.slo_count
    timeouts = cell.counts[Outcome.TIMEOUT]
    arrivals = cell.sent + cell.dropped
    sent_rps = cell.sent / duration_s if duration_s > 0 else None
    return SliStats(
        requests=cell.completed,
        slo_requests=slo,
        ok=cell.counts[Outcome.OK],
        excluded_401=cell.excluded,
        errors=cell.errors,
        errors_by_kind={o.value: cell.counts[o] for o in Outcome if o in ERROR_OUTCOMES},
        error_rate=cell.errors / slo if slo else None,
        timeouts=timeouts,
        timeout_rate=timeouts / slo if slo else None,
        sent=cell.sent,
        dropped=cell.dropped,
        dropped_rate=cell.dropped / arrivals if arrivals else None,
        p50_ms=lat["p50"],
        p90_ms=lat["p90"],
        p95_ms=lat["p95"],
        p99_ms=lat["p99"],
        max_ms=lat["max"],
        service_p95_ms=svc["p95"],
        service_p99_ms=svc["p99"],
        duration_s=duration_s,
        sent_rps=sent_rps,
        completed_rps=cell.completed / duration_s if duration_s > 0 else None,
        achieved_rps=sent_rps,
    )
