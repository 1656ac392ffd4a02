"""`perfgate plan validate | show | schema`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console

from perfgate.cli.exitcodes import ExitCode
from perfgate.plan.durations import format_duration
from perfgate.plan.loader import PlanError, load_plan
from perfgate.plan.models import Plan
from perfgate.plan.schema import plan_json_schema

app = typer.Typer(help="Check, show and describe plan files.", no_args_is_help=True)

PlanArg = Annotated[Path, typer.Argument(help="Plan file (YAML)", show_default=False)]


def load_or_exit(path: Path, err: Console) -> Plan:
    try:
        return load_plan(path)
    except PlanError as exc:
        for issue in exc.issues:
            err.print(f"[red]error[/red] {issue}", highlight=False, soft_wrap=True)
        err.print(f"{len(exc.issues)} problem(s) in {path}", highlight=False)
        raise typer.Exit(ExitCode.BAD_INPUT) from exc


@app.command()
def validate(
    plan: PlanArg,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Validate a plan; every problem is reported with file:line and key path (exit 4)."""
    out, err = Console(), Console(stderr=True)
    try:
        loaded = load_plan(plan)
    except PlanError as exc:
        if as_json:
            out.print_json(json.dumps({"valid": False, "errors": [
                {"file": i.file, "line": i.line, "path": i.path, "message": i.message}
                for i in exc.issues]}))
            raise typer.Exit(ExitCode.BAD_INPUT) from exc
        load_or_exit(plan, err)
        return
    if as_json:
        out.print_json(json.dumps({"valid": True, "name": loaded.name}))
    else:
        total = sum(s.duration for s in loaded.schedule.plateaus)
        if loaded.schedule.warmup:
            total += loaded.schedule.warmup.duration
        out.print(f"[green]ok[/green] {plan}: plan {loaded.name!r}, "
                  f"{len(loaded.schedule.plateaus)} plateaus, {format_duration(total)} in all",
                  highlight=False)


@app.command()
def show(
    plan: PlanArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of YAML")] = False,
) -> None:
    """Print the plan resolved: every default filled in."""
    loaded = load_or_exit(plan, Console(stderr=True))
    data = loaded.model_dump(mode="json", by_alias=True, exclude_none=True)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        typer.echo(yaml.safe_dump(data, sort_keys=False, width=100))


@app.command()
def schema() -> None:
    """Print the plan's JSON Schema."""
    typer.echo(json.dumps(plan_json_schema(), indent=2))
