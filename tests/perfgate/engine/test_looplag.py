from __future__ import annotations

import asyncio
import time

import pytest

from perfgate.engine.looplag import LagStats, LoopLagMonitor, p99


def test_p99_nearest_rank() -> None:
    assert p99([]) == 0
    assert p99([5]) == 5
    assert p99(list(range(1, 101))) == 99
    assert p99(list(range(1, 1001))) == 990


def test_snapshot_resets() -> None:
    mon = LoopLagMonitor()
    for s in (0.001, 0.002, 0.0005, -0.0001):
        mon.record(s)
    assert mon.snapshot_and_reset() == LagStats(p99_us=2000, max_us=2000, samples=4,
                                                values_us=(0, 500, 1000, 2000))
    assert mon.snapshot_and_reset() == LagStats(0, 0, 0)


@pytest.mark.asyncio
async def test_a_blocked_loop_shows_as_lag() -> None:
    mon = LoopLagMonitor(interval_s=0.005)
    mon.start()
    await asyncio.sleep(0.05)
    quiet = mon.snapshot_and_reset()
    time.sleep(0.06)  # block the loop
    await asyncio.sleep(0.03)
    busy = mon.snapshot_and_reset()
    await mon.stop()
    await mon.stop()  # idempotent
    assert quiet.samples >= 3 and quiet.max_us < 50_000
    assert busy.max_us >= 50_000 and busy.p99_us == busy.max_us


def test_bad_interval() -> None:
    with pytest.raises(ValueError):
        LoopLagMonitor(interval_s=0)
