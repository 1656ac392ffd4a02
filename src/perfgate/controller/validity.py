"""Was a plateau really driven? (pure)

A run must never pass because it under-drove the target. A plateau is INVALID when

* achieved send rate < 97% of the rate the schedule asked for,
* dropped arrivals (in-flight cap reached) > 0.1% of intended arrivals, or
* the generator's event-loop lag p99 > 10 ms (sends were late, so the offered load
  was burstier than planned even if the count came out right).

"The rate the schedule asked for" is the schedule's own intended arrivals over the
plateau duration. With Poisson arrivals that count varies around rps x duration
(sd = sqrt(n), 4% on a 30 s compressed plateau at 21 RPS), and that variation is the
model, not the generator's failure; it is reported beside the nominal target.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MIN_ACHIEVED_SHARE = 0.97
MAX_DROPPED_SHARE = 0.001
MAX_LOOP_LAG_P99_MS = 10.0


@dataclass(frozen=True)
class DriveFacts:
    target_rps: float
    duration_s: float
    intended: int
    sent: int
    dropped: int
    loop_lag_p99_ms: float | None


@dataclass(frozen=True)
class Validity:
    valid: bool
    reasons: list[str] = field(default_factory=list)
    achieved_rps: float = 0.0
    intended_rps: float = 0.0


def judge_drive(f: DriveFacts) -> Validity:
    reasons: list[str] = []
    achieved = f.sent / f.duration_s if f.duration_s > 0 else 0.0
    intended_rps = f.intended / f.duration_s if f.duration_s > 0 else 0.0
    if f.intended > 0 and f.sent < MIN_ACHIEVED_SHARE * f.intended:
        reasons.append(
            f"achieved {achieved:.2f} RPS is {100 * f.sent / f.intended:.1f}% of the "
            f"scheduled {intended_rps:.2f} RPS (< {MIN_ACHIEVED_SHARE:.0%})"
        )
    if f.intended > 0 and f.dropped > MAX_DROPPED_SHARE * f.intended:
        reasons.append(
            f"{f.dropped} arrivals dropped at the in-flight cap "
            f"({100 * f.dropped / f.intended:.2f}% > {MAX_DROPPED_SHARE:.1%})"
        )
    if f.loop_lag_p99_ms is not None and f.loop_lag_p99_ms > MAX_LOOP_LAG_P99_MS:
        reasons.append(
            f"generator event-loop lag p99 {f.loop_lag_p99_ms:.1f} ms > {MAX_LOOP_LAG_P99_MS:g} ms"
        )
    return Validity(not reasons, reasons, achieved, intended_rps)
