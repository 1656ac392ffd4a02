"""The command-line side of preflight: ``perfgate preflight`` and the check before
``perfgate run``; and the run hooks this package and its siblings add to a run
(preflight record, chaos, stability). Exit codes: 0 ready, 5 a red item, 4 bad plan.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console

from perfgate.cli.exitcodes import ExitCode
from perfgate.controller.hooks import RunHook
from perfgate.plan.loader import PlanError, load_plan
from perfgate.plan.models import Plan
from perfgate.plan.resolve import MissingSecret, expand_headers, with_target
from perfgate.preflight.hook import PreflightRecord
from perfgate.preflight.report import PreflightReport, render
from perfgate.preflight.runner import run_preflight

__all__ = ["preflight_command", "preflight_for_run", "run_hooks"]


def _check(plan: Plan, *, headers: Mapping[str, str], env: Mapping[str, str],
           time_scale: float, telemetry: str | None, plan_path: Path | None,
           adopt: bool) -> PreflightReport:
    return asyncio.run(run_preflight(plan, headers=headers, env=env, time_scale=time_scale,
                                     telemetry=telemetry, plan_path=plan_path,
                                     adopt_telemetry_mix=adopt))


def preflight_command(plan_path: Path, *, target: str | None, telemetry: str | None,
                      adopt: bool, as_json: bool, time_scale: float = 1.0,
                      console: Console | None = None, err: Console | None = None) -> int:
    console, err = console or Console(), err or Console(stderr=True)
    try:
        plan = with_target(load_plan(plan_path), target)
    except PlanError as exc:
        for issue in exc.issues:
            err.print(f"[red]error[/red] {issue}", highlight=False, soft_wrap=True)
        return int(ExitCode.BAD_INPUT)
    try:
        headers = expand_headers(plan).headers
    except MissingSecret as exc:
        headers = {}
        err.print(f"[yellow]warning[/yellow] {exc}: smoke requests go without it",
                  highlight=False)
    report = _check(plan, headers=headers, env=os.environ, time_scale=time_scale,
                    telemetry=telemetry, plan_path=plan_path, adopt=adopt)
    if as_json:
        print(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        console.print(render(report))
    return int(ExitCode.PASS if report.ok else ExitCode.PREFLIGHT_RED)


def preflight_for_run(plan: Plan, headers: Mapping[str, str], *, time_scale: float,
                      plan_path: Path | None, console: Console,
                      env: Mapping[str, str] | None = None) -> tuple[bool, dict[str, Any]]:
    """Run the checklist before a run; (ok, the report as stored in meta ``preflight``)."""
    report = _check(plan, headers=headers, env=os.environ if env is None else env,
                    time_scale=time_scale, telemetry=None, plan_path=plan_path, adopt=False)
    console.print(render(report))
    return report.ok, report.to_dict()


def run_hooks(plan: Plan, preflight: dict[str, Any] | None, *,
              env: Mapping[str, str] | None = None,
              record_preflight: bool = True) -> list[RunHook]:
    """The hooks that record the preflight (None: skipped), run the chaos probe and judge
    stability at the end; chaos before stability, so the verdicts see the reverts."""
    from perfgate.chaos.hook import ChaosHook
    from perfgate.stability.hook import StabilityHook

    hooks: list[RunHook] = [PreflightRecord(preflight)] if record_preflight else []
    if plan.chaos is not None and plan.chaos.faults:
        hooks.append(ChaosHook(plan.chaos, env=dict(os.environ if env is None else env),
                               allowed_hosts=tuple(plan.target.allowed_hosts)))
    hooks.append(StabilityHook())
    return hooks
