"""``ReportModel``: every number of the report, assembled from the store (no rendering).

One pass over the windows (:mod:`perfgate.report.scan`) feeds ``summary.json`` and the
charts; telemetry, the ledger, criteria results, events and capture files feed the rest.
Works the same for finished, aborted and crashed runs: whatever the store holds is shown,
whatever it lacks is "not measured".
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import metadata
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from perfgate.report import capacity as capmod
from perfgate.report import hotspots as hs
from perfgate.report.charts import figures, series_from_store
from perfgate.report.charts.data import step_for
from perfgate.report.criteria import PlanCriterion, Result, plan_criteria, results_by_plateau
from perfgate.report.evidence import gather
from perfgate.report.facts import cost_stats, ledger_rows, signal_stats
from perfgate.report.goforward import GoForward, go_forward, mix_drift
from perfgate.report.limits import limits_from, vendor_limits
from perfgate.report.owners import Hotspot, assign
from perfgate.report.scan import scan_store
from perfgate.report.spec import CapacitySpec, SeverityPolicySpec, SoakSpec
from perfgate.report.summary import build_summary
from perfgate.report.table import Row, plateau_rows
from perfgate.report.verdict import Banner, banner, executive_summary
from perfgate.store.reader import RunReader

__all__ = ["ReportModel", "build_model"]


@dataclass
class ReportModel:
    run_id: str
    plan_name: str
    target: str
    status: str
    complete: bool
    started_at: str | None
    ended_at: str | None
    time_scale: float
    banner: Banner
    summary_text: str
    rows: list[Row]
    figures: list[dict[str, Any]]
    hotspots: list[Hotspot]
    hotspot_note: str
    capacity: capmod.Capacity
    slo_p95_ms: dict[str, float]
    go: GoForward
    captures: list[dict[str, Any]]
    events: list[dict[str, Any]]
    plan_json: str
    preflight: Any
    sections: dict[str, Any]  # summary keys other parts add (chaos, resilience, stability)
    environment: dict[str, Any] = field(default_factory=dict)


M = TypeVar("M", bound=BaseModel)


def _section(cls: type[M], raw: Any) -> M | None:
    if raw is None:
        return None
    try:
        return cls.model_validate(raw)
    except ValidationError:
        return None


def _ended(meta: dict[str, Any]) -> date:
    for key in ("ended_at", "started_at"):
        try:
            return datetime.fromisoformat(str(meta[key])).date()
        except (KeyError, ValueError):
            continue
    return datetime.now(UTC).date()


def _results(reader: RunReader) -> dict[str, list[Result]]:
    rows = reader.criteria_results()
    if not rows:  # older stores: the criteria inside each plateau's verdict
        for p in reader.plateaus():
            for r in (p.verdict or {}).get("criteria", []) or []:
                if isinstance(r, dict) and "name" in r and "verdict" in r:
                    rows.append({"plateau": p.id, **r})
    return results_by_plateau(rows)


def _slo(criteria: list[PlanCriterion]) -> dict[str, float]:
    return {c.family: c.threshold * 1000 for c in criteria
            if c.metric == "p95" and c.family and c.op in ("<=", "<")}


def _environment(meta: dict[str, Any]) -> dict[str, Any]:
    def version(pkg: str) -> str:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return "not installed"

    recorded = {k: meta[k] for k in ("environment", "versions", "pid", "guards_mode",
                                     "schema_version", "start_epoch_s") if k in meta}
    return {"recorded with the run": recorded or "not recorded",
            "report built with": {"perfgate": version("perfgate"), "python":
                                  platform.python_version(), "plotly": version("plotly"),
                                  "platform": platform.platform()}}


def build_model(reader: RunReader) -> tuple[ReportModel, dict[str, Any]]:
    """The report's model and the ``summary.json`` it was built with."""
    meta, plateaus = reader.meta(), reader.plateaus()
    end_s = max((p.end_s or p.start_s for p in plateaus), default=0.0)
    scan = scan_store(reader.run_dir, step=step_for(max(float(meta.get("total_s") or 0),
                                                        end_s)))
    summary = build_summary(reader, scan=scan)
    chart = series_from_store(reader, scan=scan)
    try:
        plan = json.loads(reader.plan_json())
    except (OSError, ValueError):
        plan = {}
    criteria = plan_criteria(plan)
    results = _results(reader)
    scale = float(meta.get("time_scale") or 1.0)
    tele = signal_stats(reader.samples(source="telemetry"), plateaus, end_s)
    cost = cost_stats(ledger_rows(reader.run_dir), scale)
    events = reader.events()
    policy = _section(SeverityPolicySpec, plan.get("severity_policy")) or SeverityPolicySpec()
    cap_spec = _section(CapacitySpec, plan.get("capacity"))
    soak = _section(SoakSpec, plan.get("soak")) or SoakSpec()
    budget = plan.get("budget") if isinstance(plan.get("budget"), dict) else {}
    marginal = cap_spec.marginal if cap_spec else 0.9
    vendor = vendor_limits(meta, summary)
    rows = plateau_rows(summary, tele, cost, results, criteria, marginal, vendor)
    slo = _slo(criteria)
    analysed = [p for p in summary["plateaus"] if not p["warmup"] and p.get("sent")]
    verdict_of = {r.plateau: r.verdict for r in rows}
    points = [capmod.PlateauPoint(
        p["id"], p["target_rps"], p.get("achieved_rps"), bool(p["valid"]) and
        p.get("status") != "cut", verdict_of.get(p["id"]),
        {f: s.get("p95_ms") for f, s in p["families"].items()},
        sum(int(s.get("requests") or 0) for s in p["families"].values()),
        cost[p["id"]].ai_calls if p["id"] in cost else 0,
        cost[p["id"]].provider_cost if p["id"] in cost else Decimal(0),
        cost[p["id"]].billed if p["id"] in cost else Decimal(0)) for p in analysed]
    infra = Decimal(str(budget.get("infra_usd_per_hour"))) \
        if budget.get("infra_usd_per_hour") is not None else None
    cap = capmod.capacity_call(points, slo, cap_spec, infra)
    top = analysed[-1] if analysed else None
    spend = chart.spend_usd.y[-1] if chart.spend_usd.y else None
    inputs = hs.HotspotInputs(
        top["id"] if top else None, top.get("achieved_rps") if top else None,
        gather(reader.run_dir, events),
        {ep: [(p["id"], p.get("achieved_rps") or p["target_rps"], s["p95_ms"])
              for p in analysed for e, s in p["endpoints"].items()
              if e == ep and s.get("p95_ms")]
         for ep in {k.endpoint for k in scan.series}},
        {k.endpoint: k.family for k in scan.series}, slo,
        tele.get(top["id"], {}) if top else {},
        [(s.t, s.value) for s in reader.samples("telemetry", "rss_bytes")
         if any(p["start_s"] <= s.t < (p["end_s"] or end_s) for p in analysed)],
        scale, cost.get(top["id"]) if top else None, spend, chart.hard_cap_usd,
        limits_from(criteria, vendor))
    ranked = hs.rank(hs.candidates(inputs))
    war_room = plan.get("war_room") if isinstance(plan.get("war_room"), dict) else None
    hot = assign(ranked, policy, war_room, _ended(meta))
    b = banner(summary, meta, results)
    classes = sorted({m for p in analysed for m in p["mix_classes"]})
    observed_mix = {m: sum(int(p["mix_classes"].get(m, {}).get("sent") or 0) for p in analysed)
                    for m in classes}
    planned_mix = {k: float(v.get("weight", 0)) for k, v in (plan.get("mix") or {}).items()}
    drift = mix_drift(planned_mix, observed_mix, cap_spec.mix_drift_points if cap_spec else 5.0)
    drift += _token_drift(cost, [p["id"] for p in analysed], cap_spec)
    go = go_forward([r for p in analysed for r in results.get(p["id"], [])], criteria,
                    marginal, [(p["id"], p["invalid_reasons"]) for p in analysed
                               if not p["valid"]],
                    [(h.severity, f"{h.candidate.subject}: {h.candidate.hypothesis}",
                      h.candidate.area) for h in hot], drift, b.verdict == "PASS",
                    cap.safe_rps if soak.rps == "safe" else float(soak.rps),
                    soak.within_days, soak.duration / 3600, _ended(meta))
    margin = next((p for p in cap.projections if p.months == 12), None)
    margin_text = (f"At 12 months the projected gross margin is {margin.margin:.1%} on "
                   f"${margin.arr:,.0f} ARR against the ${margin.plan_arr or 0:,.0f} plan."
                   if margin is not None and margin.margin is not None else None)
    text = executive_summary(summary, b, cap, slo, [f"{h.candidate.subject} ({h.severity})"
                                                   for h in hot], spend, margin_text)
    extra: dict[str, Any] = {k: summary[k] for k in ("chaos", "resilience", "stability")
                             if summary.get(k) is not None}
    return ReportModel(
        run_id=str(meta.get("run_id", "")), plan_name=str(meta.get("plan_name", "")),
        target=str(meta.get("target", "")), status=summary["status"],
        complete=summary["complete"], started_at=meta.get("started_at"),
        ended_at=meta.get("ended_at"), time_scale=scale, banner=b, summary_text=text,
        rows=rows, figures=figures(chart), hotspots=hot,
        hotspot_note=f"{len(ranked)} hotspot(s) with evidence; ranked by pressure",
        capacity=cap, slo_p95_ms=slo, go=go,
        captures=sorted(({"t": e.t, "plateau": e.plateau, "message": e.message,
                          **(e.data or {})} for e in events if e.kind == "capture"),
                        key=lambda c: c["t"]),
        events=[{"t": e.t, "kind": e.kind, "severity": e.severity, "plateau": e.plateau,
                 "message": e.message} for e in events
                if e.severity in ("warning", "critical", "error")],
        plan_json=json.dumps(plan, indent=2, sort_keys=False),
        preflight=meta.get("preflight", summary.get("preflight")),
        sections=extra, environment=_environment(meta)), summary


def _token_drift(cost: dict[str, Any], analysed: list[str], spec: CapacitySpec | None
                 ) -> list[Any]:
    from perfgate.report.goforward import Drift

    if spec is None or spec.tokens_per_ai_call is None:
        return []
    calls = sum(cost[p].provider_calls for p in analysed if p in cost)
    tokens = sum(cost[p].prompt_tokens + cost[p].completion_tokens for p in analysed
                 if p in cost)
    if not calls:
        return []
    observed = tokens / calls
    rel = observed / spec.tokens_per_ai_call - 1
    return [Drift("tokens per AI call", spec.tokens_per_ai_call, observed, rel,
                  spec.token_drift, abs(rel) > spec.token_drift)]
