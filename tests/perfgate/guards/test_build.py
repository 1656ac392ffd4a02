"""From a plan to hooks: every problem at once, the memo's AI-share rule, hook order."""

from __future__ import annotations

from pathlib import Path

import pytest
from guards_fakes import GUARDED_PLAN

import perfgate.guards
from perfgate.guards import GuardsConfigError, build_hooks, war_room
from perfgate.guards.build import check_plan
from perfgate.plan.loader import load_plan, parse_plan

PERF_6B = Path(__file__).resolve().parents[3] / "plans" / "perf-6b.yaml"


def test_public_names_are_pinned() -> None:
    assert sorted(perfgate.guards.__all__) == [
        "BudgetSpec", "CriterionSpec", "GuardsConfigError", "MetricsEndpointSpec",
        "ModelPriceSpec", "TriggerSpec", "TriggersSpec", "Unit", "WarRoomSpec", "build_hooks",
        "order_statistic_ranks", "parse_threshold", "war_room", "wilson_interval"]


def test_perf_6b_builds_every_guard_in_order() -> None:
    plan = load_plan(PERF_6B)
    assert check_plan(plan, {}) == []
    hooks = build_hooks(plan, time_scale=1 / 30, env={}, metrics_port=0)
    assert [h.name for h in hooks] == ["telemetry", "cost", "guards", "metrics_endpoint",
                                       "war_room"]
    assert war_room(hooks) is hooks[-1]
    assert build_hooks(plan, env={})[-1].name == "war_room"  # metrics endpoint off by default


def test_more_than_25_percent_ai_needs_a_confirmed_revised_cap() -> None:
    text = GUARDED_PLAN.replace("weight: 75", "weight: 70").replace("weight: 25", "weight: 30")
    with pytest.raises(GuardsConfigError) as info:
        build_hooks(parse_plan(text), env={})
    assert "30.0% AI calls, above 25%" in str(info.value)
    confirmed = text.replace("  markup: 4\n", "  markup: 4\n  confirmed_revised_cap: true\n")
    assert check_plan(parse_plan(confirmed), {}) == []


def test_every_problem_is_reported_with_its_key() -> None:
    text = GUARDED_PLAN.replace("family: core, metric: p95", "family: cor, metric: p95")
    text = text.replace("signal: error_rate, op", "signal: cpu_percent, op")
    text = text.replace("    - {name: error_rate", "    - {name: sink, signal: outbound_hits, "
                                                   "threshold: 0}\n    - {name: error_rate")
    problems = check_plan(parse_plan(text), {})
    assert any(p.startswith("criteria[0].family: unknown family 'cor'") for p in problems)
    assert any(p.startswith("triggers.rules[1].signal: unknown signal 'cpu_percent'")
               for p in problems)
    assert any("outbound_hits needs triggers.outbound_sink" in p for p in problems)


def test_ai_endpoints_need_a_budget_and_hosts_must_be_allowed() -> None:
    no_budget = GUARDED_PLAN[:GUARDED_PLAN.index("budget:")]
    assert "no budget" in check_plan(parse_plan(no_budget), {})[0]
    far = GUARDED_PLAN + "  kill_switch: {url: 'https://example.com/kill'}\n"
    assert "allowed_hosts" in check_plan(parse_plan(far), {})[0]
    with pytest.raises(GuardsConfigError, match="not one of"):
        build_hooks(parse_plan(GUARDED_PLAN), mode="lenient", env={})
