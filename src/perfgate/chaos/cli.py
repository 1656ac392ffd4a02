"""``perfgate chaos cleanup RUN_DIR``: revert faults a killed run left applied."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from perfgate.chaos.fault import ChaosError
from perfgate.chaos.state import cleanup

app = typer.Typer(help="The chaos probe's faults.", no_args_is_help=True)


@app.command("cleanup")
def cleanup_cmd(
    run_dir: Annotated[Path, typer.Argument(help="The run directory (holds chaos.state.json)")],
    force: Annotated[bool, typer.Option("--force", help="Even if the run's process is alive")
                     ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Results as JSON")] = False,
) -> None:
    """Revert and verify every fault the run's state file still lists as applied
    (after a SIGKILL nothing else could). Exit 0 when all are gone, 1 otherwise."""
    try:
        results = cleanup(run_dir, force=force)
    except ChaosError as exc:
        Console(stderr=True).print(f"[red]error[/red] {exc}", highlight=False)
        raise typer.Exit(4) from exc
    if as_json:
        typer.echo(json.dumps(results, indent=2, default=str))
    elif not results:
        Console().print(f"{run_dir}: no applied fault left", highlight=False, soft_wrap=True)
    for r in results if not as_json else []:
        ok = r.get("verified")
        Console().print(f"{r['fault']} ({r.get('kind')}): "
                        + ("reverted, verified" if ok else f"NOT reverted: {r.get('error')}"),
                        highlight=False, soft_wrap=True)
    raise typer.Exit(0 if all(r.get("verified") for r in results) else 1)
