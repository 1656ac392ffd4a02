"""Event-loop lag: how late a task that sleeps a fixed interval wakes up.

A generator whose loop is late sends late; the dispatcher still measures latency from
the intended time, but a plateau is INVALID when the lag p99 exceeds 10 ms (the
generator could not hold the rate honestly). ``snapshot_and_reset`` is called once per
window (each second) and returns exact order statistics of that window's samples.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LagStats:
    p99_us: int
    max_us: int
    samples: int
    values_us: tuple[int, ...] = ()  # the window's samples, sorted (for exact merges)


def p99(sorted_us: list[int]) -> int:
    """Nearest-rank P99 of sorted samples (0 for none)."""
    if not sorted_us:
        return 0
    return sorted_us[max(0, math.ceil(0.99 * len(sorted_us)) - 1)]


class LoopLagMonitor:
    def __init__(
        self, interval_s: float = 0.005, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if not interval_s > 0:
            raise ValueError("interval_s must be > 0")
        self._interval = interval_s
        self._clock = clock
        self._samples: list[int] = []
        self._task: asyncio.Task[None] | None = None

    def record(self, lateness_s: float) -> None:
        self._samples.append(max(0, round(lateness_s * 1_000_000)))

    async def _run(self) -> None:
        clock, interval, record = self._clock, self._interval, self.record
        while True:
            expected = clock() + interval
            await asyncio.sleep(interval)
            record(clock() - expected)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise

    def snapshot_and_reset(self) -> LagStats:
        samples, self._samples = self._samples, []
        samples.sort()
        return LagStats(p99(samples), samples[-1] if samples else 0, len(samples),
                        tuple(samples))
