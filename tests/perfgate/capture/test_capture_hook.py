"""The capture hook in a run: on time, in order, failures as events (never a failed run),
and the report lists what was captured."""

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from perfgate.capture.hook import CaptureHook
from perfgate.cli.main import app
from perfgate.controller.hooks import RunContext
from perfgate.engine.timeline import build_timeline
from perfgate.report.synthetic import perf6b_plan
from perfgate.store.writer import RunWriter


def _events(run_dir: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(run_dir / "run.sqlite") as db:
        rows = db.execute("SELECT t, severity, plateau, message, data FROM events "
                          "WHERE kind = 'capture' ORDER BY id").fetchall()
    return [{"t": t, "severity": s, "plateau": p, "message": m, **json.loads(d)}
            for t, s, p, m, d in rows]


def test_hook_fires_each_point_and_records_failures(tmp_path: Path, fake_pyspy: str,
                                                     fake_pg: Any) -> None:
    plan = perf6b_plan()
    captures = [
        {"name": "prof", "kind": "pyspy", "pid": 1, "executable": fake_pyspy, "at": ["start"],
         "plateaus": ["p1"]},
        {"name": "pg", "kind": "pg_stat_statements", "dsn": "${DSN}", "plateaus": ["p1"]},
        {"name": "nodsn", "kind": "pg_stat_statements", "dsn": "${NOPE}", "optional": True,
         "plateaus": ["p1"]},
        {"name": "broken", "kind": "command", "argv": ["/no/such/tool"], "at": ["mid"],
         "plateaus": ["p1"]},
    ]
    plan = plan.model_validate({**json.loads(plan.model_dump_json(by_alias=True)),
                                "captures": captures})
    timeline = build_timeline(plan.schedule, 1 / 300)  # 1 s warm-up, 3.4 s plateaus
    run_dir = tmp_path / "run"
    writer = RunWriter.create(run_dir, "r", "{}", {})
    clock = [0.0]
    ctx = RunContext(plan=plan, run_id="r", run_dir=run_dir, timeline=timeline,
                     time_scale=1 / 300, writer=writer, now=lambda: clock[0],
                     abort=lambda r: None, fail=lambda p, w: None)
    hook = CaptureHook(env={"DSN": "postgresql://u:pw@db/x"}, pg_connect=fake_pg)

    async def drive() -> None:
        await hook.on_start(ctx)
        p1 = timeline[1]
        for now in (0.5, p1.start_s + 0.01, p1.start_s + 2.0):
            clock[0] = now
            await hook.on_tick(ctx, now, p1, [])
            await asyncio.sleep(0.3)
        clock[0] = p1.end_s
        await hook.on_phase_end(ctx, p1, p1.end_s)
        await hook.on_end(ctx, "completed")

    asyncio.run(drive())
    writer.close("completed")
    events = {(e["name"], e["point"]): e for e in _events(run_dir)}
    assert set(events) == {("prof", "start"), ("pg", "reset"), ("pg", "read"),
                           ("nodsn", "reset"), ("nodsn", "read"), ("broken", "mid")}
    assert events[("prof", "start")]["ok"] and events[("prof", "start")]["samples"] == 100
    assert (run_dir / "captures" / "p1" / "prof.start.svg").is_file()
    assert events[("pg", "read")]["files"] == ["captures/p1/pg.json"]
    skipped = events[("nodsn", "read")]
    assert skipped["skipped"] and skipped["severity"] == "info" and "NOPE" in skipped["reason"]
    broken = events[("broken", "mid")]
    assert not broken["ok"] and broken["severity"] == "warning"
    assert all("pw@" not in e["message"] for e in events.values())
    assert hook.failed == 1 and ctx.extras["captures"]["taken"] == 3


@pytest.mark.integration
def test_captures_in_a_real_run(make_toy_plan: Any, tmp_path: Path, fake_pyspy: str) -> None:
    extra = f"""
captures:
  - {{name: metrics, kind: http, url: /metrics, at: [start, end],
     headers: {{Authorization: "Bearer ${{TOY_TOKEN}}"}}}}
  - {{name: cpu, kind: pyspy, duration: 1s, at: [start], plateaus: [p2],
     executable: "{fake_pyspy}"}}
  - {{name: broken, kind: command, argv: [/no/such/tool], plateaus: [p1]}}
"""
    plan = make_toy_plan("cap", edit=lambda text: text + extra, plateaus=((40, 2.0), (60, 4.0)))
    result = CliRunner().invoke(app, ["run", str(plan), "--out", str(tmp_path / "runs"),
                                      "--no-dashboard", "--metrics-port", "-1",
                                      "--skip-preflight"])
    assert result.exit_code == 0, result.output  # a failed capture never fails the run
    run_dir = next((tmp_path / "runs").glob("toyrun-*"))
    events = _events(run_dir)
    got = sorted((e["plateau"], e["name"], e["point"], e["ok"]) for e in events)
    assert got == [("p1", "broken", "end", False), ("p1", "metrics", "end", True),
                   ("p1", "metrics", "start", True), ("p2", "cpu", "start", True),
                   ("p2", "metrics", "end", True), ("p2", "metrics", "start", True)]
    assert (run_dir / "captures" / "p2" / "cpu.start.svg").is_file()
    html = (run_dir / "report.html").read_text()
    assert "captures/p2/cpu.start.svg" in html and "/no/such/tool" in html
    assert f"report: {run_dir / 'report.html'}" in result.output
