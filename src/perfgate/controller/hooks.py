"""The seam where guards, telemetry, chaos, captures and the dashboard join a run.

A hook sees the run through ``RunContext`` and is called by the controller's one
ticker: ``on_start`` before the first arrival, ``on_tick`` once a second with the
windows just closed, ``on_phase_end`` when a phase's time is up (before the next
one's first second is judged), ``on_end`` once, whatever ended the run. A hook that
wants the run to stop calls ``ctx.abort(...)`` (ABORTED; first reason wins) or
``ctx.fail(...)`` (ramp discipline: FAIL, no advance). ``wrap_transport`` lets a hook
see or veto every request (the cost gate). Anything a hook wants live consumers to
show goes into ``ctx.extras`` (JSON-ready), which rides on every ``Snapshot``.
Exceptions raised by a hook are recorded as events and never kill the run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from perfgate.controller.abort import AbortReason
from perfgate.engine.client import Transport
from perfgate.engine.timeline import Phase
from perfgate.metrics.window import Window
from perfgate.plan.models import Plan
from perfgate.store.writer import RunWriter


@dataclass
class RunContext:
    plan: Plan
    run_id: str
    run_dir: Path
    timeline: list[Phase]
    time_scale: float
    writer: RunWriter
    now: Callable[[], float]  # seconds since the run started
    abort: Callable[[AbortReason], None]
    fail: Callable[[str, str], None]  # (plateau id, reason)
    extras: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # expanded secrets: never store


class RunHook(Protocol):
    name: str

    def wrap_transport(self, transport: Transport) -> Transport: ...

    async def on_start(self, ctx: RunContext) -> None: ...

    async def on_tick(self, ctx: RunContext, now: float, phase: Phase | None,
                      windows: Sequence[Window]) -> None: ...

    async def on_phase_end(self, ctx: RunContext, phase: Phase, now: float) -> None: ...

    async def on_end(self, ctx: RunContext, status: str) -> None: ...


class BaseHook:
    """Do-nothing defaults so a hook overrides only what it needs."""

    name = "hook"

    def wrap_transport(self, transport: Transport) -> Transport:
        return transport

    async def on_start(self, ctx: RunContext) -> None:
        return None

    async def on_tick(self, ctx: RunContext, now: float, phase: Phase | None,
                      windows: Sequence[Window]) -> None:
        return None

    async def on_phase_end(self, ctx: RunContext, phase: Phase, now: float) -> None:
        return None

    async def on_end(self, ctx: RunContext, status: str) -> None:
        return None
