"""``perfgate``: the command line. Options live in the signatures; exit codes are typed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from typer.exceptions import TyperException

from perfgate.cli import plan_cmd
from perfgate.cli.demo_cmd import DemoFlags, run_demo
from perfgate.cli.exitcodes import ExitCode
from perfgate.cli.run_cmd import RunFlags, run_and_report
from perfgate.controller.abort import request_abort
from perfgate.report.summary import build_summary, write_summary
from perfgate.store.reader import RunReader, StoreError

app = typer.Typer(
    name="perfgate",
    help="Staged, production-like load tests under executive guardrails: PASS, FAIL or ABORTED.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(plan_cmd.app, name="plan")

TargetOpt = Annotated[str | None, typer.Option("--target", help="Override the plan's base URL")]
ScaleOpt = Annotated[float, typer.Option("--time-scale", min=0.0001,
                                         help="Multiply every duration (rates unchanged)")]
OutOpt = Annotated[Path, typer.Option("--out", help="Directory that holds run directories")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print summary.json to stdout at the end")]


@app.command()
def run(
    plan: Annotated[Path, typer.Argument(help="Plan file (YAML)")],
    target: TargetOpt = None,
    time_scale: ScaleOpt = 1.0,
    out: OutOpt = Path("runs"),
    as_json: JsonOpt = False,
) -> None:
    """Run a plan: staged open-model load, live console, store, summary."""
    code = run_and_report(RunFlags(plan, target, time_scale, out, as_json))
    raise typer.Exit(code)


@app.command()
def demo(
    full: Annotated[bool, typer.Option("--full", help="Keep the real 90-minute durations")] = False,
    time_scale: Annotated[float | None, typer.Option(
        "--time-scale", min=0.0001, help="Override the compression (default 1/30: ~3 min)")] = None,
    out: OutOpt = Path("runs"),
) -> None:
    """The main job: start studyhall + llmsim, run perf-6b time-compressed, print the result."""
    raise typer.Exit(run_demo(DemoFlags(full, time_scale, out)))


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (runs/<run-id>)")],
    as_json: JsonOpt = False,
) -> None:
    """Rebuild every deliverable from a run's store (also for a crashed or aborted run)."""
    err = Console(stderr=True)
    try:
        reader = RunReader(run_dir)
    except StoreError as exc:
        err.print(f"[red]error[/red] {exc}", highlight=False)
        raise typer.Exit(ExitCode.BAD_INPUT) from exc
    with reader:
        summary = build_summary(reader)
    path = write_summary(run_dir, summary)
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
    else:
        from perfgate.cli.console import plateau_table

        Console().print(plateau_table(summary))
        if not summary["complete"]:
            err.print(f"[yellow]incomplete run[/yellow] (status {summary['status']}): "
                      "summarised up to its last stored second")
        Console().print(f"summary: {path}", highlight=False)


@app.command()
def abort(
    run_dir: Annotated[Path, typer.Argument(help="The running run's directory")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded in the store)")],
    who: Annotated[str | None, typer.Option("--who", help="Who aborts (default: $USER)")] = None,
) -> None:
    """The perf lead's abort: the running controller stops the run with exit code 2."""
    if not (run_dir / "run.sqlite").exists():
        Console(stderr=True).print(f"[red]error[/red] {run_dir}: not a run directory")
        raise typer.Exit(ExitCode.BAD_INPUT)
    try:
        path = request_abort(run_dir, reason, who)
    except ValueError as exc:
        Console(stderr=True).print(f"[red]error[/red] {exc}")
        raise typer.Exit(ExitCode.BAD_INPUT) from exc
    Console().print(f"abort requested: {path}", highlight=False)


def main(argv: list[str] | None = None) -> None:
    """Entry point: typed exit codes, including 4 for a usage error (click's would be 2,
    which is ABORTED here) and 130 for Ctrl-C."""
    try:
        code = app(args=argv, standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        sys.exit(ExitCode.INTERRUPTED)
    except TyperException as exc:  # click's usage errors, vendored by typer
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            print(f"error: {exc}", file=sys.stderr)
        sys.exit(ExitCode.BAD_INPUT)
    sys.exit(code if isinstance(code, int) else 0)
