"""How a run ends: SIGKILL keeps the store, the perf lead's abort (exit 2), Ctrl-C (130)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

LONG = {"plateaus": ((30, 20.0), (40, 20.0))}


def _start(plan: Path, out: Path) -> tuple[subprocess.Popen[bytes], Path]:
    out.mkdir(parents=True, exist_ok=True)
    log = out / "perfgate.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "perfgate", "run", str(plan), "--out", str(out)],
            stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        dirs = [d for d in out.glob("toyrun-*") if (d / "run.sqlite").exists()]
        if dirs and _stored_seconds(dirs[0]) >= 3:
            return proc, dirs[0]
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"run did not start: {log.read_text()}")


def _stored_seconds(run_dir: Path) -> int:
    try:
        with sqlite3.connect(f"file:{run_dir / 'run.sqlite'}?mode=ro", uri=True) as db:
            row = db.execute("select count(distinct second) from windows").fetchone()
    except sqlite3.Error:
        return 0
    return int(row[0] or 0)


def _report(run_dir: Path) -> tuple[int, dict[str, object]]:
    done = subprocess.run([sys.executable, "-m", "perfgate", "report", str(run_dir), "--json"],
                          capture_output=True, timeout=60)
    return done.returncode, json.loads(done.stdout)


def test_sigkill_keeps_every_committed_second(make_toy_plan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    proc, run_dir = _start(make_toy_plan("k", **LONG), tmp_path / "runs")
    time.sleep(1.5)
    before = _stored_seconds(run_dir)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    after = _stored_seconds(run_dir)
    assert after >= before >= 3  # nothing committed was lost
    code, summary = _report(run_dir)
    assert code == 0
    assert summary["complete"] is False and summary["status"] == "running"
    assert summary["verdict"] == "INCOMPLETE"
    p1 = next(p for p in summary["plateaus"] if p["id"] == "p1")  # type: ignore[union-attr]
    assert p1["sent"] > 0 and p1["families"]["core"]["p95_ms"] is not None
    assert (run_dir / "summary.json").exists()


def test_perf_lead_abort_exit_2_with_who_and_why(make_toy_plan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    proc, run_dir = _start(make_toy_plan("a", **LONG), tmp_path / "runs")
    done = subprocess.run([sys.executable, "-m", "perfgate", "abort", str(run_dir),
                           "--reason", "DB alarm in the war room", "--who", "perf-lead"],
                          capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert proc.wait(15) == 2
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["verdict"] == "ABORTED" and summary["status"] == "aborted"
    assert summary["reason"] == "DB alarm in the war room"
    aborts = [e for e in summary["events"] if e["kind"] == "abort"]
    assert len(aborts) == 1 and "perf-lead" in aborts[0]["message"]


def test_sigint_exit_130_store_intact(make_toy_plan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    proc, run_dir = _start(make_toy_plan("i", **LONG), tmp_path / "runs")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(15) == 130
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["verdict"] == "INTERRUPTED" and summary["complete"] is True
    assert summary["status"] == "interrupted"
