"""The chaos hook in real (short) controller runs: the window, and the revert on normal
end, abort and exception, each verified and recorded."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from perfgate.chaos.fault import Outcome
from perfgate.chaos.hook import ChaosHook
from perfgate.controller.abort import AbortReason
from perfgate.controller.hooks import BaseHook, RunContext
from perfgate.controller.runner import Controller, RunConfig
from perfgate.controller.snapshot import Snapshot
from perfgate.engine.client import MockTransport, PreparedRequest, Response
from perfgate.engine.timeline import Phase
from perfgate.metrics.window import Window
from perfgate.plan.loader import load_plan
from perfgate.store.reader import RunReader

pytestmark = pytest.mark.integration

CHAOS = """
chaos:
  faults:
    - name: fake
      kind: command
      plateau: p1
      at: 0.5s
      duration: {duration}
      recovery: 5s
      command: {{inject: ["true"], revert: ["true"]}}
"""


class FakeFault:
    kind = "command"

    def __init__(self) -> None:
        self.name = "fake"
        self.lock = threading.Lock()
        self.on = False
        self.calls: list[str] = []

    def prepare(self) -> None:
        self.calls.append("prepare")

    def apply(self) -> dict[str, Any]:
        self.on = True
        self.calls.append("apply")
        return {"on": True}

    def revert(self) -> dict[str, Any]:
        self.on = False
        self.calls.append("revert")
        return {}

    def verify(self) -> Outcome:
        return Outcome(not self.on, {"on": self.on})

    def record(self) -> dict[str, Any]:
        return {"kind": "command", "name": self.name, "inject": ["true"], "revert": ["true"]}

    def close(self) -> None:
        self.calls.append("close")


async def _ok(req: PreparedRequest) -> Response:
    return Response(200, {})


def _run(plan_path: Path, out: Path, fault: FakeFault, *, extra: list[Any] | None = None,
         subscriber: Any = None) -> tuple[Controller, BaseException | None]:
    plan = load_plan(plan_path)
    assert plan.chaos is not None
    hook = ChaosHook(plan.chaos, env={}, faults={"fake": fault})
    controller = Controller(RunConfig(plan=plan, out_dir=out, tick_s=0.25),
                            transport=MockTransport(_ok), hooks=[hook, *(extra or [])],
                            subscribers=[subscriber] if subscriber else None)
    error = None
    try:
        asyncio.run(controller.run())
    except Exception as exc:  # the exception path is one of the cases
        error = exc
    return controller, error


def _events(run_dir: Path) -> dict[str, list[Any]]:
    with RunReader(run_dir) as r:
        return {k: r.events(k) for k in ("chaos_start", "chaos_end", "chaos_revert")}


def test_fault_held_for_its_window_then_reverted_and_verified(make_toy_plan, tmp_path: Path
                                                              ) -> None:  # type: ignore[no-untyped-def]
    plan = make_toy_plan(edit=lambda t: t + CHAOS.format(duration="0.75s"),
                         plateaus=((20, 2.0),), warmup_s=0.5)
    fault = FakeFault()
    controller, error = _run(plan, tmp_path, fault)
    assert error is None
    ev = _events(controller.run_dir)
    start, end = ev["chaos_start"][0], ev["chaos_end"][0]
    assert start.t == pytest.approx(1.0, abs=0.15)  # warm-up 0.5 s + at 0.5 s
    assert end.t - start.t == pytest.approx(0.75, abs=0.15)
    assert end.data["reason"] == "window over"
    assert ev["chaos_revert"][0].data["verified"] is True
    assert fault.calls == ["prepare", "apply", "revert", "close"]
    with RunReader(controller.run_dir) as r:
        meta = r.meta()["chaos"][0]
    assert meta["status"] == "reverted" and meta["verified"] is True
    assert (controller.run_dir / "chaos.state.json").exists()


class AbortAt(BaseHook):
    name = "abort_at"

    async def on_tick(self, ctx: RunContext, now: float, phase: Phase | None,
                      windows: list[Window]) -> None:  # type: ignore[override]
        if now >= 1.5:
            ctx.abort(AbortReason("perf_lead", "stop", "test", now))


def test_abort_mid_fault_reverts_it(make_toy_plan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = make_toy_plan(edit=lambda t: t + CHAOS.format(duration="5s"),
                         plateaus=((20, 8.0),), warmup_s=0.5)
    fault = FakeFault()
    controller, error = _run(plan, tmp_path, fault, extra=[AbortAt()])
    assert error is None and controller.aborts.aborted
    ev = _events(controller.run_dir)
    assert ev["chaos_end"][0].data["reason"] == "run aborted"
    assert ev["chaos_revert"][0].data["verified"] is True and not fault.on


def test_an_exception_in_the_run_still_reverts(make_toy_plan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = make_toy_plan(edit=lambda t: t + CHAOS.format(duration="5s"),
                         plateaus=((20, 8.0),), warmup_s=0.5)
    fault = FakeFault()

    def explode(s: Snapshot) -> None:
        if fault.on:
            raise RuntimeError("subscriber bug")

    controller, error = _run(plan, tmp_path, fault, subscriber=explode)
    assert isinstance(error, RuntimeError)
    assert not fault.on and fault.calls[-2:] == ["revert", "close"]
    assert _events(controller.run_dir)["chaos_revert"][0].data["verified"] is True
