"""From a plan to the run's guard hooks, after checking everything the plan asks of them.

``check_plan`` returns every problem at once (each naming its plan key); the memo's
rule is one of them: a mix with more than ``budget.max_ai_share`` (25%) AI calls needs
``budget.confirmed_revised_cap: true``, and a plan with AI endpoints needs a budget.

Hook order matters (the controller calls hooks in list order each tick): telemetry
first (fresh samples), then cost (fresh spend), then the guards that judge both, then
the views (metrics endpoint, war room) that show the result.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from perfgate.engine.mix import build_endpoints
from perfgate.engine.timeline import build_timeline
from perfgate.guards.budget import Budget
from perfgate.guards.costhook import CostHook
from perfgate.guards.errors import GuardsConfigError
from perfgate.guards.exporter import MetricsExporter
from perfgate.guards.gate import AiMatcher
from perfgate.guards.hook import GuardsHook
from perfgate.guards.livedata import LoadData
from perfgate.guards.sink import OutboundSink
from perfgate.guards.spec import COST_METRICS, TRIGGER_SIGNALS
from perfgate.guards.triggers import PROVIDER_SIGNAL, TriggerEvaluator
from perfgate.guards.warroom import WarRoomHook
from perfgate.telemetry.collector import TelemetryHook, sample_names
from perfgate.telemetry.env import MissingEnv, host_problem, resolve_url
from perfgate.telemetry.promtext import DB_POOL_FREE
from perfgate.telemetry.series import SignalStore

if TYPE_CHECKING:
    from perfgate.controller.hooks import RunHook
    from perfgate.plan.models import Plan

__all__ = ["build_all", "check_plan", "telemetry_names"]

MODES = ("enforce", "observe")


def telemetry_names(plan: Plan) -> set[str]:
    """Every sample name the plan's telemetry produces (derived ones included)."""
    if plan.telemetry is None:
        return set()
    names = {n for sig, spec in plan.telemetry.signals.items() for n in sample_names(sig, spec)}
    if {"db_pool_size", "db_pool_in_use"} <= names:
        names.add(DB_POOL_FREE)
    return names


def _ai_share(plan: Plan) -> float:
    return sum(ref.probability for ref in build_endpoints(plan) if ref.spec.ai is not None)


def _url_problems(plan: Plan, env: Mapping[str, str]) -> list[str]:
    urls: list[tuple[str, str]] = []
    if plan.telemetry is not None:
        urls += [(f"telemetry.sources[{i}].url", s.url)
                 for i, s in enumerate(plan.telemetry.sources)]
    b = plan.budget
    if b is not None:
        if b.kill_switch is not None:
            urls.append(("budget.kill_switch.url", b.kill_switch.url))
        if b.reconcile is not None:
            for key in ("target_billing", "provider_report"):
                hook = getattr(b.reconcile, key)
                if hook is not None:
                    urls.append((f"budget.reconcile.{key}.url", hook.url))
    out = []
    for where, url in urls:
        try:
            resolved = resolve_url(url, plan.target.base_url, env)
        except MissingEnv:
            continue  # reported when used: a missing variable is a gap, not a refusal
        problem = host_problem(resolved, plan.target.allowed_hosts)
        if problem:
            out.append(f"{where}: {problem}")
    return out


def check_plan(plan: Plan, env: Mapping[str, str] | None = None) -> list[str]:
    env = os.environ if env is None else env
    problems: list[str] = []
    share, b = _ai_share(plan), plan.budget
    if share > 0 and b is None:
        problems.append(f"budget: the mix sends {share:.1%} AI calls (endpoints with `ai:`) "
                        "but the plan has no budget; a hard cost cap is required")
    if b is not None and share > b.max_ai_share + 1e-9 and not b.confirmed_revised_cap:
        problems.append(
            f"budget.confirmed_revised_cap: the mix sends {share:.1%} AI calls, above "
            f"{b.max_ai_share:.0%}; the GO memo requires a revised cap confirmed before "
            "starting (set hard_cap_usd to the revised cap and confirmed_revised_cap: true)")
    names = telemetry_names(plan)
    seen: set[str] = set()
    for i, c in enumerate(plan.criteria):
        where = f"criteria[{i}]"
        if c.name in seen:
            problems.append(f"{where}.name: {c.name!r} is used twice")
        seen.add(c.name)
        if c.family is not None and c.family not in plan.families:
            problems.append(f"{where}.family: unknown family {c.family!r}; declared: "
                            f"{sorted(plan.families)}")
        if c.signal is not None and c.signal not in names and \
                (plan.telemetry is None or c.signal not in plan.telemetry.signals):
            problems.append(f"{where}.signal: {c.signal!r} is not produced by the plan's "
                            f"telemetry; known: {sorted(names)}")
        if c.metric in COST_METRICS and b is None:
            problems.append(f"{where}.metric: {c.metric} needs a budget section")
    for i, r in enumerate(plan.triggers.rules):
        where = f"triggers.rules[{i}]"
        if r.family is not None and r.family not in plan.families:
            problems.append(f"{where}.family: unknown family {r.family!r}")
        if r.signal not in TRIGGER_SIGNALS and r.signal not in names:
            problems.append(f"{where}.signal: unknown signal {r.signal!r}; built in: "
                            f"{sorted(TRIGGER_SIGNALS)}; telemetry: {sorted(names)}")
        needs = {"cost_projection_usd": (b is not None, "a budget section"),
                 "outbound_hits": (plan.triggers.outbound_sink is not None and
                                   plan.triggers.outbound_sink.enabled,
                                   "triggers.outbound_sink"),
                 "provider_blocked": (PROVIDER_SIGNAL in names,
                                      f"a telemetry signal named {PROVIDER_SIGNAL}")}
        ok, what = needs.get(r.signal, (True, ""))
        if not ok:
            problems.append(f"{where}.signal: {r.signal} needs {what}")
    return problems + _url_problems(plan, env)


def build_all(plan: Plan, *, mode: str = "enforce", time_scale: float = 1.0,
              env: Mapping[str, str] | None = None, metrics_port: int | None = None,
              outbound_sink_port: int | None = None) -> list[RunHook]:
    if mode not in MODES:
        raise GuardsConfigError([f"--guards: {mode!r} is not one of {MODES}"])
    env = dict(os.environ if env is None else env)
    problems = check_plan(plan, env)
    if problems:
        raise GuardsConfigError(problems)
    hooks: list[RunHook] = []
    store: SignalStore | None = None
    histograms: frozenset[str] = frozenset()
    if plan.telemetry is not None:
        store = SignalStore()
        histograms = frozenset(n for n, s in plan.telemetry.signals.items()
                               if s.type == "histogram")
        hooks.append(TelemetryHook(plan.telemetry, store, time_scale=time_scale,
                                   base_url=plan.target.base_url,
                                   allowed_hosts=plan.target.allowed_hosts, env=env))
    cost: CostHook | None = None
    if plan.budget is not None:
        cost = CostHook(Budget(plan.budget), AiMatcher.from_plan(plan), env=env)
        hooks.append(cost)
    sink: OutboundSink | None = None
    sink_spec = plan.triggers.outbound_sink
    if sink_spec is not None and sink_spec.enabled:
        sink = OutboundSink(port=sink_spec.port if outbound_sink_port is None
                            else outbound_sink_port)
    timeline = build_timeline(plan.schedule, time_scale)
    total_s = timeline[-1].end_s if timeline else 0.0
    load = LoadData()
    evaluator = TriggerEvaluator(
        plan.triggers, time_scale, load=load, signals=store,
        projection=(lambda now, w: cost.projection(now, w, total_s)) if cost else None,
        last_provider_ok=(lambda: cost.last_provider_ok) if cost else None,
        outbound_hits=(lambda: len(sink.hits)) if sink else None)
    guards = GuardsHook(plan.criteria, evaluator, load, mode=mode, signals=store,
                        histogram_signals=histograms, cost=cost,
                        infra_usd_per_hour=plan.budget.infra_usd_per_hour
                        if plan.budget else Decimal(0), sink=sink)
    hooks.append(guards)
    if metrics_port is not None:
        hooks.append(MetricsExporter(host=plan.metrics_endpoint.host, port=metrics_port,
                                     guards=guards, cost=cost))
    if plan.war_room is not None:
        hooks.append(WarRoomHook(plan.war_room, env=env))
    return hooks
