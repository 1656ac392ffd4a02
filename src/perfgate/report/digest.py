"""``summary.json``'s ``report`` key: the report's conclusions in JSON, for CI gates.

``{banner: {verdict, reason, plateau}, safe_rps, safe_plateau, capacity: {estimate_family,
fits: {family: {slo_ms, rps_at_slo, ci95: [low, high], r2, note}}, dau_at_safe,
headroom: [{label, dau, peak_rps, headroom_x}], projections: [{months, dau, revenue_usd,
cogs_usd, margin, arr_usd, plan_arr_usd}]}, hotspots: [{rank, kind, subject, pressure,
severity, owner, due, evidence, hypothesis, fix}], go_forward: {items: [{priority, text,
owner_area}], rebaseline, soak}, files: {report, junit}}``. Money is a decimal string.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from perfgate.report.model import ReportModel

__all__ = ["digest"]


def _usd(v: Decimal | None) -> str | None:
    return None if v is None else str(v.quantize(Decimal("0.01")))


def digest(m: ReportModel) -> dict[str, Any]:
    cap = m.capacity
    return {
        "banner": {"verdict": m.banner.verdict, "reason": m.banner.reason,
                   "plateau": m.banner.plateau},
        "safe_rps": cap.safe_rps, "safe_plateau": cap.safe_plateau,
        "capacity": {
            "estimate_family": cap.estimate_family,
            "fits": {f: {"slo_ms": x.slo_ms, "rps_at_slo": x.rps_at_slo,
                         "ci95": [x.low, x.high] if x.low is not None else None,
                         "r2": x.r2, "note": x.note} for f, x in cap.fits.items()},
            "dau_at_safe": cap.dau_at_safe,
            "headroom": [{"label": h.label, "dau": h.dau, "peak_rps": h.peak_rps,
                          "headroom_x": h.headroom_x} for h in cap.headroom],
            "projections": [{"months": p.months, "dau": p.dau, "revenue_usd": _usd(p.revenue),
                             "cogs_usd": _usd(p.ai_cogs + (p.infra_cogs or 0)),
                             "margin": None if p.margin is None else float(p.margin),
                             "arr_usd": _usd(p.arr), "plan_arr_usd": _usd(p.plan_arr)}
                            for p in cap.projections],
            "notes": cap.notes},
        "hotspots": [{"rank": h.rank, "kind": h.candidate.kind, "subject": h.candidate.subject,
                      "pressure": round(h.candidate.pressure, 4), "severity": h.severity,
                      "owner": h.owner, "due": h.due, "evidence": h.candidate.evidence,
                      "hypothesis": h.candidate.hypothesis, "fix": h.candidate.fix}
                     for h in m.hotspots],
        "go_forward": {"items": [{"priority": i.priority, "text": i.text,
                                  "owner_area": i.owner_area} for i in m.go.items],
                       "rebaseline": m.go.rebaseline, "soak": m.go.soak},
        "files": {"report": "report.html", "junit": "junit.xml"},
    }
