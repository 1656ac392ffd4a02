"""`perfgate run`: load and resolve the plan, run the controller, print and store the result."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.live import Live

from perfgate.cli.console import make_console, plateau_table, render_snapshot, snapshot_line
from perfgate.cli.exitcodes import VERDICT_EXIT, ExitCode
from perfgate.cli.plan_cmd import load_or_exit
from perfgate.controller.runner import Controller, RunConfig
from perfgate.controller.snapshot import Snapshot
from perfgate.engine.loop import select_loop
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
    config: RunConfig, *, console: Console, quiet: bool = False
) -> tuple[int, dict[str, object]]:
    """Run the controller with a live console; return (exit code, summary)."""
    controller = Controller(config)
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
        if live is not None:
            with live:
                outcome = runner.run(controller.run())
        else:
            outcome = runner.run(controller.run())
    with RunReader(outcome.run_dir) as reader:
        summary = build_summary(reader)
    write_summary(outcome.run_dir, summary)
    return int(VERDICT_EXIT.get(str(summary["verdict"]), ExitCode.FAIL)), summary


def run_and_report(flags: RunFlags) -> int:
    console, err = make_console(), make_console(stderr=True)
    try:
        plan = load_or_exit(flags.plan, err)
        plan, config = resolve_or_exit(plan, flags.target, err)
    except SystemExitCode as exc:
        return int(exc.code)
    config.out_dir = flags.out
    config.time_scale = flags.time_scale
    out = err if flags.as_json else console
    code, summary = execute(config, console=out)
    out.print(plateau_table(summary))
    out.print(f"verdict {summary['verdict']}; files in {Path(flags.out) / str(summary['run_id'])}",
              highlight=False)
    if flags.as_json:
        print(json.dumps(summary, indent=2, default=str))
    return code
