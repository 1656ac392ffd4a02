"""Fakes for the engine tests: a discrete-event clock and a recording sink."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from perfgate.metrics.outcome import Outcome
from perfgate.plan.loader import load_plan, parse_plan
from perfgate.plan.models import Plan

PERF_6B = Path(__file__).resolve().parents[3] / "plans" / "perf-6b.yaml"


class FakeClock:
    """Virtual time: ``now`` moves only when every task is waiting on it.

    ``run(coro)`` drives the coroutine: it lets ready tasks run, then jumps to the
    earliest pending ``sleep_until`` deadline. ``block(start, end)`` simulates a busy
    loop: a wake-up due in ``[start, end)`` happens at ``end``.
    """

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._blocks: list[tuple[float, float]] = []

    def __call__(self) -> float:
        return self.now

    def block(self, start: float, end: float) -> None:
        self._blocks.append((start, end))

    async def sleep_until(self, deadline: float) -> None:
        if deadline <= self.now:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (deadline, next(self._seq), fut))
        await fut

    async def sleep(self, seconds: float) -> None:
        await self.sleep_until(self.now + seconds)

    def _advance(self) -> bool:
        while self._timers:
            t, _, fut = heapq.heappop(self._timers)
            if fut.done():
                continue
            for start, end in self._blocks:
                if start <= t < end:
                    t = end
            self.now = max(self.now, t)
            fut.set_result(None)
            return True
        return False

    async def run(self, coro: Coroutine[Any, Any, Any], real_timeout: float = 5.0) -> Any:
        loop = asyncio.get_running_loop()
        task = loop.create_task(coro)
        give_up = loop.time() + real_timeout
        while not task.done():
            for _ in range(30):
                await asyncio.sleep(0)
                if task.done():
                    break
            else:
                if not self._advance():
                    await asyncio.sleep(0.001)  # waiting on something real
                if loop.time() > give_up:
                    task.cancel()
                    raise AssertionError("fake-clock run did not finish")
        return task.result()


@dataclass
class FakeSink:
    sent_at: list[tuple[Any, float]] = field(default_factory=list)
    dropped_at: list[tuple[Any, float]] = field(default_factory=list)
    done: list[tuple[Any, float, Outcome, int, int]] = field(default_factory=list)

    def sent(self, key: Any, t: float) -> None:
        self.sent_at.append((key, t))

    def dropped(self, key: Any, t: float) -> None:
        self.dropped_at.append((key, t))

    def completed(
        self, key: Any, t: float, outcome: Outcome, latency_us: int, service_us: int
    ) -> None:
        self.done.append((key, t, outcome, latency_us, service_us))


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sink() -> FakeSink:
    return FakeSink()


@pytest.fixture(scope="session")
def perf6b() -> Plan:
    return load_plan(PERF_6B)


SMALL_PLAN = """
name: small
run_tag: smoke
target: {base_url: "http://127.0.0.1:9"}
schedule:
  arrival: uniform
  seed: 1
  plateaus: [{rps: 1, duration: 10s}]
families:
  core: {timeout: 2s}
mix:
  only:
    family: core
    weight: 1
    endpoints: [{name: ping, path: /ping}]
"""


@pytest.fixture
def small_plan() -> Plan:
    return parse_plan(SMALL_PLAN, "small.yaml")
