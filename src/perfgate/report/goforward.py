"""The go-forward plan: what must change before the scale push, what drifted, what next.

Items come from red criteria (required), marginal ones (a PASS at >= ``marginal`` of its
limit: watch), INSUFFICIENT ones (measure again), under-driven plateaus, and the critical
and high hotspots. Drift: the observed mix per class against the plan's weights (in
percentage points; over ``mix_drift_points`` means re-baseline, the memo's 5 points) and
the observed tokens per provider call against the plan's assumption (over
``token_drift``, the memo's 20%). A PASS schedules the soak (perf-7a) within its days.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from perfgate.report.criteria import PlanCriterion, Result

__all__ = ["Drift", "GoForward", "Item", "go_forward", "mix_drift"]


@dataclass(frozen=True)
class Item:
    priority: str  # required | watch | measure
    text: str
    owner_area: str


@dataclass(frozen=True)
class Drift:
    what: str
    planned: float
    observed: float
    delta: float  # points for mix, relative for tokens
    limit: float
    drifted: bool


@dataclass
class GoForward:
    items: list[Item] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)
    rebaseline: bool = False
    soak: dict[str, object] | None = None
    soak_note: str = ""


def criterion_area(statistic: str, family: str | None) -> str:
    if statistic.startswith(("usd_", "gross_margin", "fallback_billed", "markup")):
        return "finance"
    if statistic.startswith(("cpu_", "db_pool", "rss", "gc_")):
        return "sre"
    if statistic.startswith("db_"):
        return "data"
    if statistic.startswith(("provider", "breaker")) or family == "ai":
        return "llm_platform"
    return "backend"


def mix_drift(planned: Mapping[str, float], observed: Mapping[str, int],
              limit_points: float) -> list[Drift]:
    """Share per mix class, in percentage points of all arrivals."""
    pt, ot = sum(planned.values()), sum(observed.values())
    if not pt or not ot:
        return []
    out = []
    for name in sorted(planned):
        p = 100 * planned[name] / pt
        o = 100 * observed.get(name, 0) / ot
        out.append(Drift(f"mix {name}", p, o, o - p, limit_points, abs(o - p) > limit_points))
    return out


def go_forward(results: Sequence[Result], criteria: Sequence[PlanCriterion],
               marginal: float, invalid: Sequence[tuple[str, list[str]]],
               hotspots: Sequence[tuple[str, str, str]], drift: list[Drift],
               passed: bool, safe_rps: float | None, soak_days: int, soak_hours: float,
               ended: date) -> GoForward:
    """``hotspots``: (severity, text, area) of the ranked hotspots."""
    gf = GoForward(drift=drift, rebaseline=any(d.drifted for d in drift))
    by_name = {c.name: c for c in criteria}
    seen: set[str] = set()
    for r in results:
        if r.verdict == "FAIL" and r.name not in seen:
            area = criterion_area(r.statistic, r.family)
            seen.add(r.name)
            gf.items.append(Item("required", f"Fix {r.name} (red at {r.plateau}): "
                                 f"{r.sentence or r.statistic}", area))
    for r in results:
        c = by_name.get(r.name)
        if r.verdict != "PASS" or c is None or r.value is None or r.name in seen:
            continue
        area = criterion_area(r.statistic, r.family)
        room = c.headroom(float(r.value))
        if room is not None and room >= marginal:
            seen.add(r.name)
            gf.items.append(Item("watch", f"{r.name} is marginal at {r.plateau}: "
                                 f"{room:.0%} of its limit ({r.sentence or r.statistic})", area))
    for r in results:
        if r.verdict == "INSUFFICIENT" and f"i:{r.name}" not in seen:
            seen.add(f"i:{r.name}")
            area = criterion_area(r.statistic, r.family)
            why = r.sentence.split(": INSUFFICIENT, ", 1)[-1] if r.sentence else \
                "too few samples"
            gf.items.append(Item("measure", f"{r.name} could not be judged at {r.plateau} "
                                 f"({why}): lengthen the plateau or raise its traffic share "
                                 "if this must be judged", area))
    for pid, reasons in invalid:
        gf.items.append(Item("required", f"{pid} was under-driven ({'; '.join(reasons)}): add "
                             "generator capacity before trusting its numbers", "sre"))
    for severity, text, area in hotspots:
        if severity in ("critical", "high"):
            gf.items.append(Item("required", f"Before the scale push ({severity}): {text}",
                                 area))
    for d in drift:
        if d.drifted:
            gf.items.append(Item("required", f"Re-baseline: {d.what} drifted ({d.observed:.1f} "
                                 f"observed vs {d.planned:.1f} planned)", "data"))
    if passed and safe_rps is not None:
        gf.soak = {"name": "perf-7a", "rps": safe_rps, "hours": soak_hours,
                   "by": (ended + timedelta(days=soak_days)).isoformat()}
        gf.soak_note = (f"Schedule the perf-7a soak: {soak_hours:g} h at {safe_rps:g} RPS by "
                        f"{gf.soak['by']} (`perfgate plan soak RUN_DIR` writes its plan).")
    else:
        gf.soak_note = "No soak yet: perf-7a follows a passing run of this plan."
    return gf
