"""Memory-leak verdict over the target's resident memory, plateau by plateau.

For each analysed plateau the first ``skip_fraction`` of its span is left out (caches
and pools fill there), then:

* the Theil-Sen slope of RSS over time with its confidence interval
  (``perfgate.stability.theilsen``), in MB/h (MB = 2**20 bytes);
* the plateau's *floor*, the ``floor_quantile`` of its RSS (memory that is never
  given back).

A leak is either a plateau whose slope's **lower** bound exceeds the tolerance (the
growth is real, not noise), or floors that **keep rising**: at least three plateaus
and every step from one floor to the next above ``floor_rise_mb``. The verdict shows
MB/h per plateau and the growth a ``soak_hours`` soak would see at the worst slope.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from perfgate.stability.spec import LeakSpec
from perfgate.stability.theilsen import theil_sen
from perfgate.stability.verdict import Verdict

__all__ = ["MB", "PlateauSeries", "leak_verdict"]

MB = float(2**20)


@dataclass(frozen=True)
class PlateauSeries:
    """Samples ``(t seconds, value)`` of one plateau spanning ``[start_s, end_s)``."""

    plateau: str
    start_s: float
    end_s: float
    points: Sequence[tuple[float, float]]


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile of sorted values."""
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def _r(x: float) -> float:
    return round(x, 3)


def leak_verdict(plateaus: Sequence[PlateauSeries], spec: LeakSpec,
                 time_scale: float = 1.0) -> Verdict:
    """Judge leaks; ``time_scale`` is only shown (slopes are per real hour)."""
    rows: list[dict[str, object]] = []
    floors: list[tuple[str, float]] = []
    leaking: list[str] = []
    worst: tuple[float, float, float] | None = None  # (slope, low, high) MB/h
    for p in plateaus:
        cut = p.start_s + spec.skip_fraction * (p.end_s - p.start_s)
        pts = [(t, v) for t, v in p.points if cut <= t < p.end_s]
        row: dict[str, object] = {"plateau": p.plateau, "samples": len(pts),
                                  "from_s": _r(cut), "to_s": _r(p.end_s)}
        rows.append(row)
        if len(pts) < spec.min_samples:
            row["status"] = "INSUFFICIENT"
            continue
        est = theil_sen([t for t, _ in pts], [v for _, v in pts], confidence=spec.confidence)
        if est is None:
            row["status"] = "INSUFFICIENT"
            continue
        per_h = 3600.0 / MB
        slope, low, high = est.slope * per_h, est.low * per_h, est.high * per_h
        floor = _quantile(sorted(v for _, v in pts), spec.floor_quantile) / MB
        floors.append((p.plateau, floor))
        leak = low > spec.tolerance_mb_per_h
        row.update(mb_per_h=_r(slope), ci_mb_per_h=[_r(low), _r(high)], floor_mb=_r(floor),
                   status="FAIL" if leak else "PASS")
        if leak:
            leaking.append(p.plateau)
        if worst is None or slope > worst[0]:
            worst = (slope, low, high)
    steps = [b[1] - a[1] for a, b in itertools.pairwise(floors)]
    floors_rise = len(floors) >= 3 and all(s > spec.floor_rise_mb for s in steps)
    evidence: dict[str, object] = {
        "tolerance_mb_per_h": spec.tolerance_mb_per_h, "confidence": spec.confidence,
        "plateaus": rows, "floor_steps_mb": [_r(s) for s in steps],
        "floors_keep_rising": floors_rise, "time_scale": time_scale,
    }
    if worst is not None:
        h = spec.soak_hours
        evidence.update(worst_mb_per_h=_r(worst[0]),
                        projected_soak_growth_mb=_r(worst[0] * h),
                        projected_soak_growth_ci_mb=[_r(worst[1] * h), _r(worst[2] * h)],
                        soak_hours=h)
    if worst is None:
        return Verdict("memory_leak", "INSUFFICIENT",
                       f"no plateau had {spec.min_samples}+ memory samples after its first "
                       f"{spec.skip_fraction:.0%}", evidence)
    growth = (f"worst {worst[0]:.1f} MB/h (CI {worst[1]:.1f}..{worst[2]:.1f}); "
              f"{worst[0] * spec.soak_hours:.0f} MB over a {spec.soak_hours:g} h soak")
    if leaking or floors_rise:
        why = []
        if leaking:
            why.append(f"slope above {spec.tolerance_mb_per_h:g} MB/h with confidence in "
                       f"{', '.join(leaking)}")
        if floors_rise:
            why.append("plateau floors keep rising (" + " -> ".join(
                f"{pid} {f:.0f} MB" for pid, f in floors) + ")")
        return Verdict("memory_leak", "FAIL", "memory leak: " + "; ".join(why) + f"; {growth}",
                       evidence)
    return Verdict("memory_leak", "PASS", f"no leak: {growth}", evidence)
