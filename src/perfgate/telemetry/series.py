"""In-memory signal series for the guards: samples, histogram snapshots and gaps.

The store (``samples`` table) is the record; this is what the trigger evaluator and the
criteria judge read while the run goes. Times are run-clock seconds. A signal is in a
*gap* from a failed read (source down, metric missing, malformed text) until the next
good one; a gap is never filled with a value, so a window that only holds a gap has no
value at all (and a ``for:`` rule watching it resets).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field

from perfgate.telemetry.quantile import Buckets, bucket_deltas

__all__ = ["Gap", "SignalStore"]

LabelKey = tuple[tuple[str, str], ...]


def label_key(labels: Mapping[str, str] | None) -> LabelKey:
    return tuple(sorted((labels or {}).items()))


@dataclass
class _Series:
    times: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Gap:
    since: float
    reason: str


class SignalStore:
    def __init__(self) -> None:
        self._series: dict[str, dict[LabelKey, _Series]] = {}
        self._hist: dict[str, list[tuple[float, Buckets]]] = {}
        self._gaps: dict[str, Gap] = {}
        self.gap_seconds: dict[str, float] = {}  # closed gaps, total per signal

    # -- writing ---------------------------------------------------------------------

    def add(self, t: float, name: str, value: float,
            labels: Mapping[str, str] | None = None) -> None:
        series = self._series.setdefault(name, {}).setdefault(label_key(labels), _Series())
        series.times.append(t)
        series.values.append(value)

    def add_buckets(self, t: float, name: str, buckets: Buckets) -> None:
        """A cumulative histogram snapshot (for plateau-level merged quantiles)."""
        self._hist.setdefault(name, []).append((t, buckets))

    def open_gap(self, name: str, t: float, reason: str) -> bool:
        """Mark ``name`` missing from ``t``; True when this starts a new gap."""
        if name in self._gaps:
            return False
        self._gaps[name] = Gap(t, reason)
        return True

    def close_gap(self, name: str, t: float) -> Gap | None:
        """End the gap of ``name`` (a good read at ``t``); return it if there was one."""
        gap = self._gaps.pop(name, None)
        if gap is not None:
            self.gap_seconds[name] = self.gap_seconds.get(name, 0.0) + t - gap.since
        return gap

    # -- reading ---------------------------------------------------------------------

    def in_gap(self, name: str) -> bool:
        return name in self._gaps

    def gaps(self) -> dict[str, Gap]:
        return dict(self._gaps)

    def names(self) -> list[str]:
        return sorted(set(self._series) | set(self._hist))

    def between(self, name: str, start: float, end: float,
                labels: Mapping[str, str] | None = None) -> list[float]:
        """Values with ``start < t <= end`` (every label set unless ``labels`` matches)."""
        out: list[float] = []
        for key, series in self._series.get(name, {}).items():
            if labels is not None and not set(labels.items()) <= set(key):
                continue
            lo = bisect_right(series.times, start)
            hi = bisect_right(series.times, end)
            out.extend(series.values[lo:hi])
        return out

    def window(self, name: str, now: float, span: float,
               labels: Mapping[str, str] | None = None) -> list[float] | None:
        """Values in the rolling window ``(now - span, now]``; None in a gap or when empty."""
        if name in self._gaps:
            return None
        values = self.between(name, now - span, now, labels)
        return values or None

    def latest(self, name: str) -> float | None:
        if name in self._gaps:
            return None
        best: tuple[float, float] | None = None
        for series in self._series.get(name, {}).values():
            if series.times and (best is None or series.times[-1] > best[0]):
                best = (series.times[-1], series.values[-1])
        return None if best is None else best[1]

    def buckets_between(self, name: str, start: float, end: float) -> Buckets | None:
        """The histogram of observations between ``start`` and ``end``: the last snapshot
        at or before ``end`` minus the last one at or before ``start`` (or the first one
        after it, when the run started before the first scrape)."""
        snaps = self._hist.get(name)
        if not snaps:
            return None
        times = [t for t, _ in snaps]
        hi = bisect_right(times, end) - 1
        if hi < 0:
            return None
        lo = bisect_right(times, start) - 1
        if lo < 0:
            lo = min(bisect_left(times, start), hi)
        if lo >= hi:
            return None
        return bucket_deltas(snaps[hi][1], snaps[lo][1])
