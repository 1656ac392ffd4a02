"""``perfgate``: the command line. Options live in the signatures; exit codes are typed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from typer.exceptions import TyperException

from perfgate.chaos import cli as chaos_cli
from perfgate.cli import plan_cmd
from perfgate.cli.demo_cmd import DemoFlags, run_demo
from perfgate.cli.exitcodes import ExitCode
from perfgate.cli.run_cmd import RunFlags, run_and_report
from perfgate.controller.abort import request_abort
from perfgate.dashboard.bind import BindError, parse_bind
from perfgate.dashboard.session import DashboardOptions
from perfgate.store.reader import StoreError

app = typer.Typer(
    name="perfgate",
    help="Staged, production-like load tests under executive guardrails: PASS, FAIL or ABORTED.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(plan_cmd.app, name="plan")
app.add_typer(chaos_cli.app, name="chaos")

TargetOpt = Annotated[str | None, typer.Option("--target", help="Override the plan's base URL")]
ScaleOpt = Annotated[float, typer.Option("--time-scale", min=0.0001,
                                         help="Multiply every duration (rates unchanged)")]
OutOpt = Annotated[Path, typer.Option("--out", help="Directory that holds run directories")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print summary.json to stdout at the end")]
BindOpt = Annotated[str, typer.Option(
    "--dashboard-bind", metavar="HOST:PORT",
    help="Where the live dashboard listens; a non-loopback address gets a token, printed once")]
NoDashOpt = Annotated[bool, typer.Option("--no-dashboard", help="Do not serve the live dashboard")]
GuardsOpt = Annotated[str, typer.Option(
    "--guards", metavar="enforce|observe",
    help="enforce: a red plateau or a fired trigger stops the run; observe: judge and record "
         "only (baselines). The hard cost cap holds in both.")]
MetricsPortOpt = Annotated[int | None, typer.Option(
    "--metrics-port", help="perfgate's own /metrics on 127.0.0.1 (default: the plan's "
                           "metrics_endpoint, port 9464; 0 = any free port; -1 = off)")]


def dashboard_options(bind: str, off: bool) -> DashboardOptions | None:
    if off:
        return None
    try:
        return DashboardOptions(bind=parse_bind(bind))
    except BindError as exc:
        Console(stderr=True).print(f"[red]error[/red] {exc}", highlight=False)
        raise typer.Exit(ExitCode.BAD_INPUT) from exc


@app.command()
def run(
    plan: Annotated[Path, typer.Argument(help="Plan file (YAML)")],
    target: TargetOpt = None,
    time_scale: ScaleOpt = 1.0,
    out: OutOpt = Path("runs"),
    as_json: JsonOpt = False,
    dashboard_bind: BindOpt = "127.0.0.1:8089",
    no_dashboard: NoDashOpt = False,
    guards: GuardsOpt = "enforce",
    metrics_port: MetricsPortOpt = None,
    skip_preflight: Annotated[bool, typer.Option(
        "--skip-preflight", help="Start without the prerequisite checklist (recorded in the "
                                 "store; the report shows it)")] = False,
) -> None:
    """Run a plan: preflight, staged open-model load, live console, live dashboard, store."""
    dash = dashboard_options(dashboard_bind, no_dashboard)
    code = run_and_report(RunFlags(plan, target, time_scale, out, as_json, dash, guards,
                                   metrics_port, skip_preflight=skip_preflight))
    raise typer.Exit(code)


@app.command()
def demo(
    full: Annotated[bool, typer.Option("--full", help="Keep the real 90-minute durations")] = False,
    time_scale: Annotated[float | None, typer.Option(
        "--time-scale", min=0.0001, help="Override the compression (default 1/30: ~3 min)")] = None,
    out: OutOpt = Path("runs"),
    dashboard_bind: BindOpt = "127.0.0.1:8089",
    no_dashboard: NoDashOpt = False,
) -> None:
    """The main job: start studyhall + llmsim, run perf-6b time-compressed, print the result."""
    dash = dashboard_options(dashboard_bind, no_dashboard)
    raise typer.Exit(run_demo(DemoFlags(full, time_scale, out, dash)))


@app.command()
def preflight(
    plan: Annotated[Path, typer.Argument(help="Plan file (YAML)")],
    target: TargetOpt = None,
    telemetry: Annotated[str | None, typer.Option(
        "--telemetry", metavar="FILE|URL", help="Latest production request counts (JSON, CSV, "
        "Prometheus text or a PromQL query URL) to compare the mix with")] = None,
    adopt_telemetry_mix: Annotated[bool, typer.Option(
        "--adopt-telemetry-mix", help="Write the observed mix into a copy of the plan")] = False,
    time_scale: ScaleOpt = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="The checklist as JSON")] = False,
) -> None:
    """Check every pre-run prerequisite (the memo's checklist); exit 5 on a red item."""
    from perfgate.preflight.cli import preflight_command

    raise typer.Exit(preflight_command(plan, target=target, telemetry=telemetry,
                                       adopt=adopt_telemetry_mix, as_json=as_json,
                                       time_scale=time_scale))


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (runs/<run-id>)")],
    as_json: JsonOpt = False,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also print report.pdf with headless "
                                                    "Chromium")] = False,
) -> None:
    """Rebuild every deliverable from a run's store (also for a crashed or aborted run):
    report.html, summary.json, junit.xml (and report.pdf)."""
    from perfgate.report.build import write_deliverables
    from perfgate.report.pdf import PdfError

    err = Console(stderr=True)
    _revert_chaos_leftovers(run_dir, err)
    try:
        built = write_deliverables(run_dir, pdf=pdf)
    except StoreError as exc:
        err.print(f"[red]error[/red] {exc}", highlight=False)
        raise typer.Exit(ExitCode.BAD_INPUT) from exc
    except PdfError as exc:
        err.print(f"[red]error[/red] report.pdf: {exc} (report.html, summary.json and "
                  "junit.xml were written)", highlight=False)
        raise typer.Exit(ExitCode.BAD_INPUT) from exc
    summary = built.summary
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    from perfgate.cli.console import plateau_table

    Console().print(plateau_table(summary))
    if not summary["complete"]:
        err.print(f"[yellow]incomplete run[/yellow] (status {summary['status']}): "
                  "reported up to its last stored second")
    out = Console()
    out.print(f"verdict {summary['verdict']}", highlight=False)
    for label, path in (("report", built.html_path), ("summary", built.summary_path),
                        ("junit", built.junit_path), ("pdf", built.pdf_path)):
        if path is not None:
            out.print(f"{label}: {path}", highlight=False)


@plan_cmd.app.command("soak")
def plan_soak(
    run_dir: Annotated[Path, typer.Argument(help="A passing run's directory")],
    out: Annotated[Path | None, typer.Option(
        "--out", help="Where to write the plan (default: RUN_DIR/perf-7a.yaml)")] = None,
    force: Annotated[bool, typer.Option("--force", help="Write it even if the run did not "
                                                        "pass")] = False,
) -> None:
    """Write the follow-up soak plan (perf-7a: 4 h at the run's safe RPS)."""
    from perfgate.report.soak import SoakError, soak_plan

    err = Console(stderr=True)
    try:
        soak = soak_plan(run_dir, force=force)
    except (StoreError, SoakError) as exc:
        err.print(f"[red]error[/red] {exc}", highlight=False)
        raise typer.Exit(ExitCode.BAD_INPUT) from exc
    path = out or run_dir / f"{soak.plan.name}.yaml"
    path.write_text(soak.yaml_text, encoding="utf-8")
    Console().print(f"{soak.plan.name}: {soak.plan.schedule.plateaus[0].duration / 3600:g} h at "
                    f"{soak.rps:g} RPS, run by {soak.due.isoformat()}; plan {path}",
                    highlight=False)
    if soak.cap_note:
        err.print(f"[yellow]note[/yellow] {soak.cap_note}", highlight=False)


def _revert_chaos_leftovers(run_dir: Path, err: Console) -> None:
    """A killed run may have left a fault applied: revert it before reporting."""
    from perfgate.chaos.fault import ChaosError
    from perfgate.chaos.state import cleanup

    try:
        for r in cleanup(run_dir):
            err.print(f"chaos leftover {r['fault']}: " + ("reverted and verified"
                      if r.get("verified") else f"NOT reverted: {r.get('error')}"),
                      highlight=False, soft_wrap=True)
    except ChaosError as exc:  # the run is still alive: its own handlers revert
        err.print(f"[yellow]note[/yellow] {exc}", highlight=False)


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
