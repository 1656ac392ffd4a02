"""The follow-up soak plan (perf-7a) from a passing run: ``perfgate plan soak RUN_DIR``.

The soak is the run's own resolved plan (same target, mix, telemetry, criteria, triggers,
roster) with one plateau held for ``soak.duration`` (4 h) at ``soak.rps`` (``safe``: the
run's safe RPS, the last green plateau), the same warm-up, and its own name and run tag.
Captures that named plateaus (heap, flamegraph at p4/p5) apply to the one soak plateau.
The AI spend it will need is projected from the run's observed $/AI call and AI share;
when that passes the plan's hard cap the plan says so, and finance must confirm a revised
cap before it starts (the cap itself is never raised silently).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import yaml

from perfgate.plan.durations import format_duration
from perfgate.plan.loader import parse_plan
from perfgate.plan.models import Plan, Stage
from perfgate.report.model import ReportModel, build_model
from perfgate.store.reader import RunReader

__all__ = ["SoakError", "SoakPlan", "soak_plan"]


class SoakError(Exception):
    """The run cannot seed a soak (it did not pass, or has no safe RPS)."""


@dataclass(frozen=True)
class SoakPlan:
    plan: Plan
    yaml_text: str
    rps: float
    due: date
    projected_spend_usd: Decimal | None
    cap_note: str


def _project(model: ReportModel, rps: float, seconds: float) -> Decimal | None:
    cap = model.capacity
    if cap.ai_share is None or cap.usd_per_ai_call is None:
        return None
    calls = Decimal(repr(rps * seconds * cap.ai_share))
    return (calls * cap.usd_per_ai_call).quantize(Decimal("0.01"))


def soak_plan(run_dir: Path, *, force: bool = False) -> SoakPlan:
    with RunReader(run_dir) as reader:
        model, _ = build_model(reader)
        plan = Plan.model_validate_json(reader.plan_json())
    if model.banner.verdict != "PASS" and not force:
        raise SoakError(f"the run's verdict is {model.banner.verdict}: perf-7a follows a "
                        "passing run (use --force to write it anyway)")
    spec = plan.soak
    rps = model.capacity.safe_rps if spec.rps == "safe" else float(spec.rps)
    if rps is None:
        raise SoakError(f"no safe RPS to soak at ({model.capacity.safe_note})")
    ended = date.fromisoformat(str(model.ended_at or model.started_at)[:10]) \
        if (model.ended_at or model.started_at) else date.today()
    due = ended + timedelta(days=spec.within_days)
    captures = [c.model_copy(update={"plateaus": ["p1"]}) if isinstance(c.plateaus, list)
                else c for c in plan.captures]
    schedule = plan.schedule.model_copy(update={"plateaus": [
        Stage(rps=rps, duration=spec.duration, name=f"soak {format_duration(spec.duration)}")]})
    soak = plan.model_copy(update={
        "name": spec.name, "run_tag": spec.run_tag, "schedule": schedule,
        "captures": captures,
        "description": f"{spec.description}. From {plan.name} run {model.run_id} "
                       f"(safe RPS {rps:g}); run by {due.isoformat()}."})
    spend = _project(model, rps, spec.duration)
    cap = plan.budget.hard_cap_usd if plan.budget is not None else None
    note = ""
    if spend is not None and cap is not None and spend > cap:
        note = (f"projected AI spend ${spend} over {format_duration(spec.duration)} exceeds the "
                f"${cap} hard cap: finance must confirm a revised cap before the soak")
    data = json.loads(soak.model_dump_json(by_alias=True, exclude_none=True))
    header = [f"# {spec.name}: {format_duration(spec.duration)} soak at {rps:g} RPS, "
              f"written by `perfgate plan soak` from run {model.run_id}.",
              f"# Schedule it by {due.isoformat()} (within {spec.within_days} days).",
              f"# Projected AI spend: ${spend}" if spend is not None else
              "# Projected AI spend: not measured (no AI calls in the ledger)"]
    if note:
        header.append(f"# NOTE: {note}")
    text = "\n".join(header) + "\n" + yaml.safe_dump(data, sort_keys=False, width=100)
    parse_plan(text, f"{spec.name}.yaml")  # what we write must load
    return SoakPlan(soak, text, rps, due, spend, note)
