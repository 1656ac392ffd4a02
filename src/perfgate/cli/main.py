"""``perfgate``: the command line. Options live in the signatures; exit codes are typed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from perfgate.cli import plan_cmd
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


def main() -> None:
    app()
