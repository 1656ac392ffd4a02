"""`perfgate demo`: the main job on embedded defaults.

Starts llmsim (the provider simulator) and studyhall (the reference service, SQLite,
seeded with synthetic data) as child processes on loopback, runs the packaged
perf-6b plan time-compressed to about three minutes (``--full`` keeps the real
90 minutes), prints the per-plateau table and where the run's files are, and always
stops the children: on normal end, errors and Ctrl-C.
"""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from perfgate.cli.console import make_console, plateau_table
from perfgate.cli.run_cmd import execute
from perfgate.cli.services import Service, ServiceError, ServiceGroup, free_port
from perfgate.controller.runner import RunConfig
from perfgate.plan.loader import parse_plan
from perfgate.plan.models import Plan
from perfgate.plan.resolve import with_target

#: perf-6b is 90 minutes (5 min warm-up + 5 x 17 min); x 1/30 is 3 minutes.
DEMO_TIME_SCALE = 1 / 30


def packaged_plan() -> Plan:
    text = resources.files("perfgate").joinpath("plans/perf-6b.yaml").read_text("utf-8")
    return parse_plan(text, "perfgate/plans/perf-6b.yaml")


@dataclass(frozen=True)
class DemoFlags:
    full: bool
    time_scale: float | None
    out: Path


def start_reference_system(group: ServiceGroup, work: Path, token: str, admin_token: str,
                           database_url: str | None = None) -> tuple[str, str]:
    """Start llmsim and studyhall (SQLite in ``work`` unless ``database_url``); return
    (studyhall URL, llmsim URL)."""
    database_url = database_url or f"sqlite+aiosqlite:///{work / 'studyhall.db'}"
    llm_port, app_port = free_port(), free_port()
    llm_url = f"http://127.0.0.1:{llm_port}"
    group.start(Service(
        "llmsim",
        [sys.executable, "-m", "llmsim", "serve", "--host", "127.0.0.1", "--port",
         str(llm_port), "--seed", "6", "--ledger", str(work / "provider-ledger.jsonl"),
         "--log-level", "warning"],
        health_url=f"{llm_url}/metrics", log_path=work / "llmsim.log"))
    app_url = f"http://127.0.0.1:{app_port}"
    group.start(Service(
        "studyhall",
        [sys.executable, "-m", "studyhall", "serve", "--host", "127.0.0.1", "--port",
         str(app_port), "--database-url", database_url,
         "--seed-if-empty", "--provider-base-url", f"{llm_url}/v1",
         "--billing-ledger", str(work / "billing-ledger.jsonl"), "--log-level", "warning"],
        health_url=f"{app_url}/healthz", log_path=work / "studyhall.log",
        env={"STUDYHALL_TOKEN": token, "STUDYHALL_ADMIN_TOKEN": admin_token}))
    return app_url, llm_url


def run_demo(flags: DemoFlags) -> int:
    console, err = make_console(), make_console(stderr=True)
    scale = 1.0 if flags.full else (flags.time_scale or DEMO_TIME_SCALE)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    work = flags.out / f"demo-services-{stamp}"
    work.mkdir(parents=True, exist_ok=True)
    token = f"sh-test-{secrets.token_hex(8)}"
    admin_token = secrets.token_hex(12)
    with ServiceGroup() as group:
        console.print("starting the reference system (llmsim + studyhall, seeding synthetic "
                      f"data); logs in {work}", highlight=False)
        try:
            app_url, llm_url = start_reference_system(group, work, token, admin_token)
        except ServiceError as exc:
            err.print(f"[red]error[/red] {exc}", highlight=False)
            return 4
        console.print(f"studyhall {app_url} · llmsim {llm_url}", highlight=False)
        plan = with_target(packaged_plan(), app_url)
        config = RunConfig(plan=plan, out_dir=flags.out, time_scale=scale,
                           headers={"Authorization": f"Bearer {token}"}, secrets=(token,))
        code, summary = execute(config, console=console)
    console.print(plateau_table(summary))
    run_dir = flags.out / str(summary["run_id"])
    console.print(f"verdict {summary['verdict']} · run files: {run_dir} "
                  f"(summary.json, run.sqlite, latency.hlog)", highlight=False)
    return code
