"""Run every preflight item and collect the checklist (``perfgate preflight``, and
before ``perfgate run`` unless ``--skip-preflight``).

Items (the memo's "Pre-run prerequisites"): 1 plan and target, 2 traffic mix vs
telemetry, 3 AI share vs a revised cap, 4 budget, 5 vendor limits, 6 data safety,
7 isolation, 8 war room, 9 capture tools, 10 generator capacity; plus the chaos
probe's readiness. A check that itself breaks is red with the error: a preflight
that could not look is not a green one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from perfgate.plan.models import Plan
from perfgate.preflight import checks_plan as cp
from perfgate.preflight.capacity import self_test
from perfgate.preflight.checks_target import check_data_safety, check_plan_target
from perfgate.preflight.mix import MixError, adopt_mix, compare_mix, read_counts
from perfgate.preflight.planview import section
from perfgate.preflight.report import Check, PreflightReport
from perfgate.preflight.spec import PreflightSpec, VendorSpec
from perfgate.preflight.vendor import check_vendor

__all__ = ["run_preflight"]

Step = Callable[[Check], Awaitable[None]]


def _mix(check: Check, plan: Plan, pre: PreflightSpec, telemetry: str | None,
         plan_path: Path | None, adopt: bool) -> None:
    source = telemetry
    if source is None and pre.telemetry_mix is not None:
        source = pre.telemetry_mix
        if plan_path is not None and "://" not in source and not Path(source).is_absolute():
            source = str(plan_path.parent / source)
    if source is None:
        who = pre.confirmed.get("traffic_mix")
        check.add("green" if who else "warn",
                  f"mix confirmed against production by {who}" if who else
                  "no production telemetry given (--telemetry FILE or preflight.telemetry_mix):"
                  " mix not compared")
        return
    try:
        result = compare_mix(plan, read_counts(source, pre.mix_metric, pre.mix_label),
                             pre.mix_tolerance_pp)
    except MixError as exc:
        check.add("red", f"telemetry {source}: {exc}")
        return
    check.data["mix"] = result
    for key, planned in result["planned"].items():
        drift = result["drift_pp"][key]
        check.add("green" if abs(drift) <= pre.mix_tolerance_pp else "red",
                  f"{result['level']} {key}: plan {planned:.1f}% vs production "
                  f"{result['observed'][key]:.1f}% ({drift:+.1f} pp)")
    if result["unmatched"]:
        check.add("green", f"ignored (not in the plan): {', '.join(result['unmatched'][:8])}")
    if not result["ok"] and result["adjusted"]:
        check.add("red", "adjusted mix: " + ", ".join(
            f"{c} {a['weight']:g}" for c, a in result["adjusted"].items()))
    if adopt:
        if plan_path is None or not result["adjusted"]:
            check.add("warn", "--adopt-telemetry-mix: needs a plan file and per-class counts")
        else:
            out = adopt_mix(plan_path, result["adjusted"])
            check.data["adopted_plan"] = str(out)
            check.add("warn" if not result["ok"] else "green", f"adjusted mix written to {out}")


async def run_preflight(plan: Plan, *, headers: Mapping[str, str] | None = None,
                        env: Mapping[str, str] | None = None, time_scale: float = 1.0,
                        telemetry: str | None = None, plan_path: Path | None = None,
                        adopt_telemetry_mix: bool = False,
                        skip: frozenset[str] = frozenset()) -> PreflightReport:
    """Every item, in the memo's order; ``skip`` leaves items out (tests)."""
    env = dict(os.environ if env is None else env)
    hdrs = dict(headers or {})
    pre = section(plan, "preflight", PreflightSpec) or PreflightSpec()
    vendor = section(plan, "vendor", VendorSpec)

    async def mix(c: Check) -> None:
        _mix(c, plan, pre, telemetry, plan_path, adopt_telemetry_mix)

    async def ai(c: Check) -> None:
        cp.check_ai_share(c, plan, pre)

    async def budget(c: Check) -> None:
        cp.check_budget(c, plan, time_scale)

    async def isolation(c: Check) -> None:
        cp.check_isolation(c, plan)

    async def capacity(c: Check) -> None:
        facts = await self_test(plan, factor=pre.capacity_factor,
                                duration_s=pre.capacity_duration,
                                max_lag_ms=pre.max_loop_lag_ms)
        c.data["self_test"] = facts
        c.add("green" if facts["ok"] else "red",
              f"{facts['rate']:g} RPS ({pre.capacity_factor:g}x peak) for "
              f"{facts['duration_s']:g} s: sent {facts['sent']}/{facts['intended']}, dropped "
              f"{facts['dropped']}, loop lag p99 {facts['loop_lag_p99_ms']:.1f} ms "
              f"(limit {pre.max_loop_lag_ms:g} ms)")

    steps: list[tuple[str, str, Step]] = [
        ("plan_target", "1 plan valid, target answers",
         lambda c: check_plan_target(c, plan, hdrs, env, pre)),
        ("traffic_mix", "2 traffic mix vs telemetry", mix),
        ("ai_share", "3 AI share vs revised cap", ai),
        ("budget", "4 budget and cost cap", budget),
        ("vendor_limits", "5 vendor limits, failover key",
         lambda c: check_vendor(c, plan, vendor, env)),
        ("data_safety", "6 data safety", lambda c: check_data_safety(c, plan, env, pre)),
        ("isolation", "7 isolation", isolation),
        ("war_room", "8 war room", lambda c: cp.check_war_room(c, plan, env)),
        ("tools", "9 capture tools", lambda c: cp.check_tools(c, plan, pre, env)),
        ("generator_capacity", "10 generator capacity", capacity),
        ("chaos", "chaos probe ready", lambda c: cp.check_chaos(c, plan, env)),
    ]
    t0 = time.monotonic()
    checks: list[Check] = []
    for item, title, step in steps:
        check = Check(item, title, status="skip")  # the first finding sets it
        checks.append(check)
        if item in skip:
            check.evidence.append("skipped")
            continue
        started = time.monotonic()
        try:
            await step(check)
        except Exception as exc:  # a check that cannot look is red, with why
            check.add("red", f"check failed: {type(exc).__name__}: {exc}")
        check.seconds = time.monotonic() - started
        if not check.evidence:
            check.add("green", "ok")
    return PreflightReport(plan.name, plan.target.base_url, checks,
                           seconds=time.monotonic() - t0)
