"""Resilience verdicts: the breaker under the chaos probe, and the key-failover drill.

**Breaker** (one fault window ``[start, end)``):

1. *opened*: a ``breaker_state`` sample at or above ``open_value`` (2 = open; 1 =
   half-open also proves it had opened) between ``start`` and ``end + slack`` (a
   scrape after the window still saw the state the fault caused);
2. *served*: every AI response inside the window was a provider answer or a fallback
   (cache/extractive) that billed exactly 0; anything else (an error status, a
   fallback that billed money, a missing path) is listed;
3. *recovered*: the first ``breaker_state`` sample at ``closed_value`` after the last
   open/half-open one that follows ``end`` is within ``recovery_s`` of ``end``;
4. the AI error and timeout rates inside the window are reported (not judged).

**Failover drill** (the primary project forced into quota exhaustion over
``[start, end)``): the first successful provider answer from the secondary key after
``start`` comes within ``within_s``; no abort trigger fired in ``[start, end +
within_s]``; billing checked out on every provider call of each key (no ledger
finding) and each key answered at least once in the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from perfgate.stability.verdict import Status, Verdict, combine

__all__ = ["AiCall", "breaker_verdict", "failover_verdict"]

FALLBACK_PATHS = frozenset({"cache", "extractive"})


@dataclass(frozen=True)
class AiCall:
    t: float
    status: int | None  # None: no HTTP answer (timeout, reset)
    path: str | None  # provider | cache | extractive
    billed: Decimal | None
    provider_key: str | None = None
    finding: str | None = None  # the cost ledger's checks that failed, if any


def _served(call: AiCall) -> str | None:
    """None when the call is acceptable under a fault, else why not."""
    if call.status is None:
        return "no answer"
    if not 200 <= call.status < 300:
        return f"HTTP {call.status}"
    if call.path == "provider":
        return None
    if call.path in FALLBACK_PATHS:
        return None if call.billed == 0 else f"{call.path} fallback billed {call.billed}"
    return f"unknown path {call.path!r}"


def breaker_verdict(*, fault: str, start: float, end: float, recovery_s: float,
                    breaker: Sequence[tuple[float, float]], calls: Sequence[AiCall],
                    ai_requests: int, ai_errors: int, ai_timeouts: int,
                    open_value: float = 2.0, closed_value: float = 0.0,
                    slack_s: float = 0.0) -> Verdict:
    checks: dict[str, Status] = {}
    evidence: dict[str, object] = {"fault": fault, "window_s": [round(start, 3), round(end, 3)],
                                   "recovery_s": recovery_s}
    # 1. opened during the window
    opened_at = next((t for t, v in breaker if start <= t <= end + slack_s and v >= 1), None)
    if not breaker:
        checks["opened"] = "INSUFFICIENT"
    else:
        checks["opened"] = "PASS" if opened_at is not None else "FAIL"
    evidence["opened_at_s"] = opened_at
    # 2. every AI response in the window served or billed-0 fallback
    inside = [c for c in calls if start <= c.t < end]
    bad: dict[str, int] = {}
    paths: dict[str, int] = {}
    for c in inside:
        paths[c.path or "none"] = paths.get(c.path or "none", 0) + 1
        why = _served(c)
        if why is not None:
            bad[why] = bad.get(why, 0) + 1
    evidence.update(ai_responses=len(inside), by_path=paths, not_served=bad)
    checks["served"] = "INSUFFICIENT" if not inside else ("FAIL" if bad else "PASS")
    # 3. closed again within the recovery time
    after = [(t, v) for t, v in breaker if t >= end]
    last_open = max((t for t, v in after if v >= 1), default=None)
    closed_at = next((t for t, v in after if v <= closed_value
                      and (last_open is None or t > last_open)), None)
    evidence["closed_at_s"] = closed_at
    if opened_at is None and not any(v >= 1 for _, v in after):
        checks["recovered"] = "SKIPPED" if breaker else "INSUFFICIENT"
    elif closed_at is None:
        checks["recovered"] = "FAIL"
    else:
        evidence["recovered_after_s"] = round(closed_at - end, 3)
        checks["recovered"] = "PASS" if closed_at - end <= recovery_s else "FAIL"
    # 4. reported only
    evidence.update(ai_requests_in_window=ai_requests,
                    ai_error_rate=ai_errors / ai_requests if ai_requests else None,
                    ai_timeout_rate=ai_timeouts / ai_requests if ai_requests else None,
                    checks=dict(checks))
    status = combine(list(checks.values()))
    opened_text = f"yes at {opened_at:.1f} s" if opened_at is not None else "no"
    parts = [f"opened: {opened_text}",
             f"{len(inside)} AI responses, {sum(bad.values())} neither provider nor "
             f"zero-billed fallback"]
    if closed_at is not None:
        parts.append(f"closed {closed_at - end:.1f} s after the fault (limit {recovery_s:g} s)")
    elif checks["recovered"] == "FAIL":
        parts.append(f"not closed within {recovery_s:g} s after the fault")
    if ai_requests:
        parts.append(f"AI errors {ai_errors / ai_requests:.2%}, "
                     f"timeouts {ai_timeouts / ai_requests:.2%} in the window")
    return Verdict(f"breaker:{fault}", status, "; ".join(parts), evidence)


def failover_verdict(*, drill: str, start: float, end: float, within_s: float,
                     calls: Sequence[AiCall], triggers_fired: Sequence[tuple[float, str]],
                     secondary: str = "secondary", primary: str = "primary") -> Verdict:
    checks: dict[str, Status] = {}
    evidence: dict[str, object] = {"drill": drill, "window_s": [round(start, 3), round(end, 3)],
                                   "within_s": within_s}
    moved = next((c.t for c in sorted(calls, key=lambda c: c.t)
                  if c.t >= start and c.provider_key == secondary and c.path == "provider"
                  and c.status is not None and 200 <= c.status < 300), None)
    evidence["first_secondary_answer_s"] = moved
    if moved is None:
        checks["moved"] = "FAIL" if calls else "INSUFFICIENT"
    else:
        evidence["failover_after_s"] = round(moved - start, 3)
        checks["moved"] = "PASS" if moved - start <= within_s else "FAIL"
    fired = [{"t": t, "trigger": name} for t, name in triggers_fired
             if start <= t <= end + within_s]
    evidence["triggers_fired"] = fired
    checks["no_trigger"] = "FAIL" if fired else "PASS"
    per_key: dict[str, dict[str, int]] = {}
    for c in calls:
        if c.path != "provider" or c.provider_key is None:
            continue
        row = per_key.setdefault(c.provider_key, {"calls": 0, "findings": 0})
        row["calls"] += 1
        row["findings"] += 1 if c.finding else 0
    evidence["billing_by_key"] = per_key
    if not calls:
        checks["billing"] = "INSUFFICIENT"
    else:
        both = all(per_key.get(k, {}).get("calls", 0) > 0 for k in (primary, secondary))
        clean = all(r["findings"] == 0 for r in per_key.values())
        checks["billing"] = "PASS" if both and clean else "FAIL"
    evidence["checks"] = dict(checks)
    status = combine(list(checks.values()))
    parts = [f"secondary answered {moved - start:.1f} s after the drill started "
             f"(limit {within_s:g} s)" if moved is not None else "no secondary answer",
             f"{len(fired)} trigger(s) fired",
             "billing by key: " + (", ".join(f"{k} {r['calls']} calls/{r['findings']} findings"
                                            for k, r in sorted(per_key.items())) or "none")]
    return Verdict(f"failover:{drill}", status, "; ".join(parts), evidence)
