"""`perfgate demo` end to end: real studyhall + llmsim processes, a result, and cleanup."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _children_of_demo(work_root: Path) -> list[psutil.Process]:
    """Processes whose command line mentions this test's output folder (our services)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if str(work_root) in cmd and ("llmsim" in cmd or "studyhall" in cmd):
            found.append(proc)
    return found


def _wait_gone(work_root: Path, timeout: float = 10.0) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    left = _children_of_demo(work_root)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = _children_of_demo(work_root)
    return left


def test_demo_runs_perf6b_and_cleans_up(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    # perf-6b compressed to ~11 s (x 0.002): the same command as `make demo`, shorter
    done = subprocess.run(
        [sys.executable, "-m", "perfgate", "demo", "--time-scale", "0.002", "--out", str(out)],
        capture_output=True, text=True, timeout=120)
    runs = [d for d in out.glob("perf6b-*") if d.is_dir()]
    assert len(runs) == 1, done.stdout + done.stderr
    summary = json.loads((runs[0] / "summary.json").read_text())
    expected = {"PASS": 0, "INVALID": 3, "FAIL": 1, "ABORTED": 2}[summary["verdict"]]
    assert done.returncode == expected, done.stdout + done.stderr
    assert [p["id"] for p in summary["plateaus"]] == ["p0", "p1", "p2", "p3", "p4", "p5"]
    assert set(summary["run"]["families"]) == {"core", "ai"}
    assert summary["run"]["families"]["ai"]["requests"] > 0
    assert "run files:" in done.stdout and str(runs[0]) in done.stdout
    assert not _wait_gone(out), "demo left studyhall/llmsim running"


def test_demo_ctrl_c_cleans_up(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    log = tmp_path / "demo.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "perfgate", "demo", "--time-scale", "0.02", "--out", str(out)],
            stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not list(out.glob("perf6b-*/run.sqlite")):
            time.sleep(0.2)
        assert list(out.glob("perf6b-*/run.sqlite")), log.read_text()
        assert _children_of_demo(out), "services should be up while the run goes"
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 130, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert not _wait_gone(out), "Ctrl-C left studyhall/llmsim running"
    run_dir = next(out.glob("perf6b-*"))
    assert json.loads((run_dir / "summary.json").read_text())["verdict"] == "INTERRUPTED"
