"""`perfgate demo`: the main job on embedded defaults.

Starts llmsim (the provider simulator) and studyhall (the reference service, SQLite,
seeded with synthetic data) as child processes on loopback, runs the packaged
perf-6b plan time-compressed to about three minutes (``--full`` keeps the real
90 minutes), prints the per-plateau table and where the run's files are, and always
stops the children: on normal end, errors and Ctrl-C.
"""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from rich.console import Console

from perfgate.chaos.demo import DemoEgress, demo_egress
from perfgate.cli.console import make_console, plateau_table
from perfgate.cli.run_cmd import execute
from perfgate.cli.services import Service, ServiceError, ServiceGroup, free_port
from perfgate.controller.hooks import RunHook
from perfgate.controller.runner import RunConfig
from perfgate.dashboard.session import DashboardOptions
from perfgate.guards import GuardsConfigError, build_hooks
from perfgate.plan.loader import parse_plan
from perfgate.plan.models import Plan
from perfgate.plan.resolve import with_target
from perfgate.preflight.cli import preflight_for_run, run_hooks

#: llmsim's default admin token (the simulator's drills and cost report; not a secret)
LLMSIM_ADMIN_TOKEN = "llmsim-admin"
LLMSIM_KEYS = {"STUDYHALL_OPENAI_KEY_PRIMARY": "sk-sim-primary",
               "STUDYHALL_OPENAI_KEY_SECONDARY": "sk-sim-secondary"}
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
    dashboard: DashboardOptions | None = None  # None: --no-dashboard


def start_reference_system(group: ServiceGroup, work: Path, token: str, admin_token: str,
                           database_url: str | None = None, egress: DemoEgress | None = None,
                           outbound_sink: str | None = None) -> tuple[str, str]:
    """Start llmsim and studyhall (SQLite in ``work`` unless ``database_url``); return
    (studyhall URL, llmsim URL). ``egress``: where llmsim runs (a network namespace, or
    loopback behind the chaos proxy) and what studyhall's provider base URL is.
    ``outbound_sink``: perfgate's catch-all sink URL; studyhall's e-mail, notification
    and webhook URLs point at it, so any outbound message is a data-safety hit."""
    database_url = database_url or f"sqlite+aiosqlite:///{work / 'studyhall.db'}"
    egress = egress or DemoEgress("127.0.0.1", free_port())
    app_port = free_port()
    llm_url = egress.llm_url
    group.start(Service(
        "llmsim",
        [*egress.exec_prefix, sys.executable, "-m", "llmsim", "serve", "--host",
         egress.llm_host, "--port", str(egress.llm_port), "--seed", "6",
         "--ledger", str(work / "provider-ledger.jsonl"), "--log-level", "warning"],
        health_url=f"{llm_url}/metrics", log_path=work / "llmsim.log"))
    app_url = f"http://127.0.0.1:{app_port}"
    group.start(Service(
        "studyhall",
        [sys.executable, "-m", "studyhall", "serve", "--host", "127.0.0.1", "--port",
         str(app_port), "--database-url", database_url,
         "--seed-if-empty", "--provider-base-url", egress.provider_url,
         "--billing-ledger", str(work / "billing-ledger.jsonl"), "--log-level", "warning",
         *_outbound_flags(outbound_sink)],
        health_url=f"{app_url}/healthz", log_path=work / "studyhall.log",
        env={"STUDYHALL_TOKEN": token, "STUDYHALL_ADMIN_TOKEN": admin_token}))
    return app_url, llm_url


def _outbound_flags(sink: str | None) -> list[str]:
    if sink is None:
        return []
    return ["--outbound-email-url", f"{sink}/email", "--notification-url",
            f"{sink}/notifications", "--webhook-url", f"{sink}/webhooks"]


def demo_hooks(plan: Plan, *, scale: float, env: dict[str, str], headers: dict[str, str],
               sink_port: int, console: Console) -> list[RunHook]:
    """The same hooks as `perfgate run`: guards (criteria, triggers, cost gate, war room),
    then the preflight record, chaos and stability before the war room. The demo is a
    rehearsal: a red preflight item is shown and recorded, but does not stop it."""
    guards = build_hooks(plan, time_scale=scale, env=env, metrics_port=0,
                         outbound_sink_port=sink_port)
    ok, report = preflight_for_run(plan, headers, time_scale=scale, plan_path=None,
                                   console=console, env=env)
    if not ok:
        console.print("preflight has red items (shown above); the demo goes on as a "
                      "rehearsal and records them", highlight=False)
    at = next((i for i, h in enumerate(guards) if h.name == "war_room"), len(guards))
    return [*guards[:at], *run_hooks(plan, report, env=env), *guards[at:]]


def run_demo(flags: DemoFlags) -> int:
    console, err = make_console(), make_console(stderr=True)
    scale = 1.0 if flags.full else (flags.time_scale or DEMO_TIME_SCALE)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    work = flags.out / f"demo-services-{stamp}"
    work.mkdir(parents=True, exist_ok=True)
    token = f"sh-test-{secrets.token_hex(8)}"
    admin_token = secrets.token_hex(12)
    egress = demo_egress(free_port(), free_port())
    sink_port = free_port()
    try:
        with ServiceGroup() as group:
            console.print("starting the reference system (llmsim + studyhall, seeding "
                          f"synthetic data); logs in {work}; {egress.note}", highlight=False)
            try:
                app_url, llm_url = start_reference_system(
                    group, work, token, admin_token, egress=egress,
                    outbound_sink=f"http://127.0.0.1:{sink_port}")
            except ServiceError as exc:
                err.print(f"[red]error[/red] {exc}", highlight=False)
                return 4
            console.print(f"studyhall {app_url} · llmsim {llm_url}", highlight=False)
            plan = egress.plan(with_target(packaged_plan(), app_url))
            demo_env = {"STUDYHALL_TOKEN": token, "STUDYHALL_ADMIN_TOKEN": admin_token,
                        "LLMSIM_URL": llm_url, "LLMSIM_ADMIN_TOKEN": LLMSIM_ADMIN_TOKEN,
                        # the simulator's project keys, which studyhall uses by default:
                        # preflight probes their limits with a free GET /v1/models
                        **LLMSIM_KEYS}
            # the demo's own process is where every hook reads ${NAME} from (captures too)
            os.environ.update(demo_env)
            env = dict(os.environ)
            headers = {"Authorization": f"Bearer {token}"}
            try:
                hooks = demo_hooks(plan, scale=scale, env=env, headers=headers,
                                   sink_port=sink_port, console=console)
            except GuardsConfigError as exc:
                for problem in exc.problems:
                    err.print(f"[red]error[/red] {problem}", highlight=False)
                return 4
            config = RunConfig(plan=plan, out_dir=flags.out, time_scale=scale,
                               headers=headers, secrets=(token, admin_token))
            code, summary = execute(config, console=console, dashboard=flags.dashboard,
                                    hooks=hooks)
    finally:
        egress.close()  # after the services stopped: nothing runs in the namespace
    console.print(plateau_table(summary))
    run_dir = flags.out / str(summary["run_id"])
    console.print(f"verdict {summary['verdict']} · run files: {run_dir} "
                  f"(summary.json, run.sqlite, latency.hlog)", highlight=False)
    return code
