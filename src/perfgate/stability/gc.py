"""Sustained GC pauses: counts of long pauses per window, red when too many in a row.

Input: samples ``(t, n)`` where ``n`` is the number of pauses above the bound (100 ms)
observed since the previous read (the telemetry histogram's ``over`` count from bucket
deltas, so it is exact when the bound is a bucket bound). Each count is placed in the
window holding its read time; windows are ``[start + k*window, start + (k+1)*window)``.
With the default definition a window is *bad* when it holds more than one long pause,
and pauses are *sustained* when two consecutive windows are bad.
"""

from __future__ import annotations

from collections.abc import Sequence

from perfgate.stability.spec import GcSpec
from perfgate.stability.verdict import Verdict

__all__ = ["gc_verdict"]


def gc_verdict(samples: Sequence[tuple[float, float]], spec: GcSpec, start_s: float,
               end_s: float) -> Verdict:
    if not samples:
        return Verdict("gc_pauses", "INSUFFICIENT",
                       f"no {spec.signal} samples (is the GC histogram in telemetry?)")
    n_windows = max(1, int((end_s - start_s) // spec.window) + 1)
    counts = [0.0] * n_windows
    for t, n in samples:
        if start_s <= t <= end_s:
            k = min(n_windows - 1, int((t - start_s) // spec.window))
            counts[k] += n
    bad = [k for k, c in enumerate(counts) if c > spec.max_per_window]
    run: list[int] = []
    found: list[int] | None = None
    for k in range(n_windows):
        run = [*run, k] if k in bad else []
        if len(run) >= spec.consecutive:
            found = run
            break
    windows = [{"window": k, "from_s": round(start_s + k * spec.window, 3),
                "to_s": round(start_s + (k + 1) * spec.window, 3), "pauses": counts[k]}
               for k in bad]
    evidence: dict[str, object] = {"bad_windows": windows, "total_long_pauses": sum(counts),
                                   "window_s": spec.window, "max_per_window": spec.max_per_window,
                                   "consecutive": spec.consecutive}
    if found is not None:
        span = ", ".join(f"{start_s + k * spec.window:.0f}-{start_s + (k + 1) * spec.window:.0f}s"
                         for k in found)
        evidence["sustained_windows"] = found
        return Verdict("gc_pauses", "FAIL",
                       f"sustained long GC pauses: more than {spec.max_per_window} per "
                       f"{spec.window:g} s window in {len(found)} windows in a row ({span})",
                       evidence)
    return Verdict("gc_pauses", "PASS",
                   f"{sum(counts):.0f} long GC pause(s), never more than {spec.max_per_window} "
                   f"per window for {spec.consecutive} windows in a row", evidence)
