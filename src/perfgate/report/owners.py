"""Who owns a hotspot and by when: the plan's roster by area and its severity policy.

The roster is the war room's (``war_room.roles``: sre, backend, data_analytics,
llm_platform, finance; ``war_room.owner`` is the perf lead). An area without a named owner
falls to the perf lead, marked as such; a plan without a war room leaves it unassigned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from perfgate.report.hotspots import Candidate
from perfgate.report.spec import SeverityPolicySpec

__all__ = ["Hotspot", "assign", "owner_for"]

AREA_ROLE = {"sre": "sre", "backend": "backend", "data": "data_analytics",
             "llm_platform": "llm_platform", "finance": "finance"}


@dataclass(frozen=True)
class Hotspot:
    rank: int
    candidate: Candidate
    severity: str
    owner: str
    eta_days: int | None
    due: str | None


def owner_for(area: str, war_room: Mapping[str, Any] | None) -> str:
    if not war_room:
        return f"unassigned ({area}: no roster in the plan)"
    roles = war_room.get("roles") or {}
    name = roles.get(AREA_ROLE.get(area, area))
    if name:
        return f"{name} ({area})"
    lead = war_room.get("owner")
    return f"{lead} (perf lead; no {area} owner)" if lead else f"unassigned ({area})"


def assign(ranked: list[Candidate], policy: SeverityPolicySpec,
           war_room: Mapping[str, Any] | None, ended: date) -> list[Hotspot]:
    out = []
    for i, c in enumerate(ranked, start=1):
        severity = policy.severity(c.pressure)
        days = policy.eta_days.get(severity)
        due = (ended + timedelta(days=days)).isoformat() if days is not None else None
        out.append(Hotspot(i, c, severity, owner_for(c.area, war_room), days, due))
    return out
