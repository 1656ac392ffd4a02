"""A run killed with SIGKILL keeps every committed second."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from perfgate.metrics import histogram as hist
from perfgate.store import HLOG_NAME, RunReader

CHILD = r"""
import runpy, sys, time
from pathlib import Path
make_windows = runpy.run_path(sys.argv[2])["make_windows"]
from perfgate.store import RunWriter

run_dir = Path(sys.argv[1])
writer = RunWriter.create(run_dir, "killed", "{}", {})
writer.upsert_plateau("p1", 1, "plateau 1", 21.0, 0.0, status="running")
for second in range(3):
    writer.add_windows(make_windows(second))
    writer.add_event(second + 0.5, "tick", f"second {second}")
    writer.add_generator_sample(second, loop_lag_p99_us=1, loop_lag_max_us=2, cpu_percent=3.0,
                                rss_bytes=4, inflight=5, target_rps=6.0)
    writer.commit()
writer.add_windows(make_windows(3))  # never committed
writer.add_event(3.5, "tick", "second 3")
(run_dir / "ready").write_text("3")
time.sleep(60)
"""


@pytest.mark.integration
def test_sigkill_keeps_every_committed_second(tmp_path: Path, keys: tuple[object, ...]) -> None:
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(run_dir), str(Path(__file__).with_name("conftest.py"))],
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not (run_dir / "ready").exists():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "writer subprocess too slow"
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    with RunReader(run_dir) as reader:
        assert reader.status == "running" and not reader.is_complete
        windows = list(reader.windows())
        assert sorted({w.second for w in windows}) == [0, 1, 2]
        assert len(windows) == 3 * len(keys)
        assert all(w.cell.completed > 0 and w.cell.latency is not None for w in windows)
        assert [e.message for e in reader.events()] == [f"second {s}" for s in range(3)]
        assert [g.second for g in reader.generator_samples()] == [0, 1, 2]
        assert reader.plateaus()[0].status == "running"

    intervals = [(tag, s) for tag, s, _ in hist.read_hlog(str(run_dir / HLOG_NAME))]
    assert intervals == [(f, float(s)) for s in range(3) for f in ("ai", "core")]
