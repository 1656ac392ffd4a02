"""`perfgate run`: load and resolve the plan, run the controller, print and store the result."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.live import Live

from perfgate.capture.hook import CaptureHook
from perfgate.cli.console import make_console, plateau_table, render_snapshot, snapshot_line
from perfgate.cli.exitcodes import VERDICT_EXIT, ExitCode
from perfgate.cli.plan_cmd import load_or_exit
from perfgate.controller.hooks import RunHook
from perfgate.controller.runner import Controller, RunConfig
from perfgate.controller.snapshot import Snapshot
from perfgate.dashboard.session import DashboardOptions, attach, end_payload
from perfgate.engine.loop import select_loop
from perfgate.guards import GuardsConfigError, build_hooks
from perfgate.plan.models import Plan
from perfgate.plan.resolve import (
    MissingSecret,
    TargetNotAllowed,
    check_target_allowed,
    expand_headers,
    with_target,
)
from perfgate.report.summary import build_summary, write_summary
from perfgate.store.reader import RunReader


@dataclass(frozen=True)
class RunFlags:
    plan: Path
    target: str | None
    time_scale: float
    out: Path
    as_json: bool
    dashboard: DashboardOptions | None = None  # None: --no-dashboard
    guards: str = "enforce"  # or "observe": judge and record, never stop (but the cost cap)
    metrics_port: int | None = None  # /metrics port; None: the plan's; < 0: off
    skip_preflight: bool = False  # recorded in the store (meta preflight.skipped)


def build_guards_or_exit(config: RunConfig, flags: RunFlags, err: Console) -> list[RunHook]:
    """The guard hooks (``perfgate.guards``); a plan they cannot enforce is exit 4."""
    endpoint = config.plan.metrics_endpoint
    port = flags.metrics_port if flags.metrics_port is not None else \
        endpoint.port if endpoint.enabled else None
    try:
        return build_hooks(config.plan, mode=flags.guards, time_scale=config.time_scale,
                           metrics_port=port if port is not None and port >= 0 else None)
    except GuardsConfigError as exc:
        for problem in exc.problems:
            err.print(f"[red]error[/red] {problem}", highlight=False, soft_wrap=True)
        err.print("the run was not started", highlight=False)
        raise SystemExitCode(ExitCode.BAD_INPUT) from exc


def resolve_or_exit(plan: Plan, target: str | None, err: Console) -> tuple[Plan, RunConfig]:
    plan = with_target(plan, target)
    try:
        check_target_allowed(plan)
        secrets = expand_headers(plan)
    except (TargetNotAllowed, MissingSecret) as exc:
        err.print(f"[red]error[/red] {exc}", highlight=False)
        raise SystemExitCode(ExitCode.BAD_INPUT) from exc
    return plan, RunConfig(plan=plan, out_dir=Path("runs"), headers=secrets.headers,
                           secrets=secrets.values)


class SystemExitCode(Exception):
    """Carries an exit code up to the typer layer without calling sys.exit here."""

    def __init__(self, code: ExitCode) -> None:
        super().__init__(int(code))
        self.code = code


def execute(
    config: RunConfig, *, console: Console, quiet: bool = False,
    dashboard: DashboardOptions | None = None, hooks: list[RunHook] | None = None,
) -> tuple[int, dict[str, object]]:
    """Run the controller with a live console (and the live dashboard, unless
    ``dashboard`` is None); return (exit code, summary)."""
    if config.plan.captures:  # profiles, traces, heap snapshots (perfgate.capture)
        hooks = [*(hooks or []), CaptureHook()]
    controller = Controller(config, hooks=hooks)
    dash = attach(dashboard, controller) if dashboard is not None else None
    latest: list[Snapshot] = []
    live: Live | None = None
    if not quiet and console.is_terminal:
        live = Live(get_renderable=lambda: render_snapshot(latest[-1]) if latest else "",
                    console=console, refresh_per_second=2, transient=True)
    last_line = [-10.0]

    def on_snapshot(s: Snapshot) -> None:
        latest.append(s)
        del latest[:-1]
        if live is None and not quiet and (s.t - last_line[0] >= 10 or s.done):
            last_line[0] = s.t
            console.print(snapshot_line(s), highlight=False)

    controller.subscribe(on_snapshot)
    console.print(f"run {controller.run_id}: {config.plan.name} against "
                  f"{config.plan.target.base_url} ({controller.total_s:.0f} s, time scale "
                  f"{config.time_scale:g}); store {controller.run_dir}", highlight=False)
    loop = select_loop(config.plan.engine.loop)
    with asyncio.Runner(loop_factory=loop.factory) as runner:
        if dash is not None:  # served by the run's own loop; the token is printed only here
            console.print(runner.run(dash.start_and_describe()), markup=False,
                          highlight=False, soft_wrap=True)
        try:
            if live is not None:
                with live:
                    outcome = runner.run(controller.run())
            else:
                outcome = runner.run(controller.run())
            summary = write_report(outcome.run_dir, console)
            code = int(VERDICT_EXIT.get(str(summary["verdict"]), ExitCode.FAIL))
            if dash is not None:  # the verdict and the report link, then let browsers go
                runner.run(dash.finish(end_payload(summary, code, outcome.run_dir)))
        finally:
            if dash is not None:
                runner.run(dash.close())
    return code, summary


def write_report(run_dir: Path, console: Console) -> dict[str, object]:
    """Every deliverable (summary.json, report.html, junit.xml); return the summary. A
    report that cannot be built never costs the run its verdict: summary.json still is."""
    from perfgate.report.build import write_deliverables

    try:
        built = write_deliverables(run_dir)
    except Exception as exc:  # the verdict must survive a report bug
        console.print(f"[yellow]report not built[/yellow] ({type(exc).__name__}: {exc}); "
                      f"rebuild with `perfgate report {run_dir}`", highlight=False)
        with RunReader(run_dir) as reader:
            summary = build_summary(reader)
        write_summary(run_dir, summary)
        return summary
    console.print(f"report: {built.html_path}", highlight=False)
    return built.summary


def with_preflight_and_chaos(config: RunConfig, flags: RunFlags, hooks: list[RunHook],
                             out: Console) -> list[RunHook]:
    """Revert chaos leftovers of killed runs in ``--out``, run the preflight (exit 5 on a
    red item) unless skipped, and add the preflight, chaos and stability hooks (before the
    war room, so it announces their events)."""
    from perfgate.chaos.state import cleanup_stale
    from perfgate.preflight.cli import preflight_for_run, run_hooks

    for run_dir, results in cleanup_stale(config.out_dir).items():
        for r in results:
            out.print(f"chaos leftover of {run_dir}: {r['fault']} "
                      + ("reverted" if r.get("verified") else "NOT reverted"), highlight=False)
    report = None
    if not flags.skip_preflight:
        ok, report = preflight_for_run(config.plan, config.headers,
                                       time_scale=config.time_scale, plan_path=flags.plan,
                                       console=out)
        if not ok:
            out.print("preflight red: the run was not started (--skip-preflight to override)",
                      highlight=False)
            raise SystemExitCode(ExitCode.PREFLIGHT_RED)
    ours = run_hooks(config.plan, report)
    at = next((i for i, h in enumerate(hooks) if h.name == "war_room"), len(hooks))
    return [*hooks[:at], *ours, *hooks[at:]]


def run_and_report(flags: RunFlags) -> int:
    console, err = make_console(), make_console(stderr=True)
    try:
        plan = load_or_exit(flags.plan, err)
        plan, config = resolve_or_exit(plan, flags.target, err)
    except SystemExitCode as exc:
        return int(exc.code)
    config.out_dir = flags.out
    config.time_scale = flags.time_scale
    try:
        hooks = build_guards_or_exit(config, flags, err)
    except SystemExitCode as exc:
        return int(exc.code)
    out = err if flags.as_json else console
    try:
        hooks = with_preflight_and_chaos(config, flags, hooks, out)
    except SystemExitCode as exc:
        return int(exc.code)
    code, summary = execute(config, console=out, dashboard=flags.dashboard, hooks=hooks)
    out.print(plateau_table(summary))
    out.print(f"verdict {summary['verdict']}; files in {Path(flags.out) / str(summary['run_id'])}",
              highlight=False)
    if flags.as_json:
        print(json.dumps(summary, indent=2, default=str))
    return code
