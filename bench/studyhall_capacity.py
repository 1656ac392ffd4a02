"""Issue 3's capacity figure: one studyhall worker holds the perf-6b mix at 62 RPS.

Starts llmsim and studyhall (one uvicorn worker) exactly as `perfgate demo` does, on
SQLite and on PostgreSQL, and drives the perf-6b mix with perfgate itself: a 10 s
warm-up at 10 RPS, then 62 RPS (the top plateau) for --seconds. Prints core and AI
P95/P99 per backend against the memo's SLOs (core P95 <= 120 ms, AI P95 <= 900 ms).

    .venv/bin/python bench/studyhall_capacity.py [--seconds 60] [--backends sqlite postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import tempfile
from pathlib import Path

from perfgate.cli.demo_cmd import packaged_plan, start_reference_system
from perfgate.cli.services import ServiceGroup
from perfgate.controller.runner import Controller, RunConfig
from perfgate.engine.loop import select_loop
from perfgate.plan.models import ScheduleSpec, Stage
from perfgate.plan.resolve import with_target
from perfgate.report.summary import build_summary
from perfgate.store.reader import RunReader

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def run_backend(name: str, database_url: str | None, seconds: float,
                work: Path) -> dict[str, object]:
    token, admin = f"sh-test-{secrets.token_hex(6)}", secrets.token_hex(8)
    with ServiceGroup() as group:
        app_url, _ = start_reference_system(group, work / name, token, admin, database_url)
        base = with_target(packaged_plan(), app_url)
        schedule = ScheduleSpec(arrival="poisson", seed=62, warmup=Stage(rps=10, duration=10),
                                plateaus=[Stage(rps=62, duration=seconds, name="62 RPS")])
        plan = base.model_copy(update={"schedule": schedule})
        config = RunConfig(plan=plan, out_dir=work / "runs", headers={
            "Authorization": f"Bearer {token}"}, secrets=(token,))
        controller = Controller(config)
        with asyncio.Runner(loop_factory=select_loop("auto").factory) as runner:
            outcome = runner.run(controller.run())
    with RunReader(outcome.run_dir) as reader:
        summary = build_summary(reader)
    p1 = next(p for p in summary["plateaus"] if p["id"] == "p1")
    fams = p1["families"]
    return {"backend": name, "rps": round(p1["achieved_rps"], 2), "valid": p1["valid"],
            "core_p95_ms": fams["core"]["p95_ms"], "core_p99_ms": fams["core"]["p99_ms"],
            "core_errors": fams["core"]["errors"], "ai_p95_ms": fams["ai"]["p95_ms"],
            "ai_p99_ms": fams["ai"]["p99_ms"], "ai_errors": fams["ai"]["errors"],
            "requests": fams["core"]["requests"] + fams["ai"]["requests"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="studyhall-cap-") as tmp:
        for backend in args.backends:
            url = PG_URL if backend == "postgres" else None
            rows.append(run_backend(backend, url, args.seconds, Path(tmp)))
    ok = True
    print(f"{'backend':10} {'RPS':>6} {'core P95':>9} {'core P99':>9} {'AI P95':>8} "
          f"{'AI P99':>8} {'errors':>6}  verdict")
    for r in rows:
        good = (r["valid"] and r["core_p95_ms"] is not None and r["core_p95_ms"] <= 120
                and r["ai_p95_ms"] is not None and r["ai_p95_ms"] <= 900)
        ok &= bool(good)
        print(f"{r['backend']:10} {r['rps']:>6} {r['core_p95_ms']:>9.1f} {r['core_p99_ms']:>9.1f} "
              f"{r['ai_p95_ms']:>8.1f} {r['ai_p99_ms']:>8.1f} "
              f"{int(r['core_errors']) + int(r['ai_errors']):>6}  "  # type: ignore[call-overload]
              f"{'holds 62 RPS within SLO' if good else 'DOES NOT HOLD'}")
    print(json.dumps(rows))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
