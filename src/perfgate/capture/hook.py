"""``CaptureHook``: takes the plan's captures at their points of each plateau.

Scheduling: on start, every (capture, plateau, point) becomes a due time on the run
clock (the plateau's start + fraction x its duration, time scale applied). Points inside a
plateau fire from the tick; ``end`` points fire from ``on_phase_end``;
``pg_stat_statements`` resets at the start and reads at the end. Captures due at the same
moment run one after another in plan order (a heap snapshot before the call that stops
tracing); py-spy recordings run one at a time, each capped to what is left of its plateau.
Nothing blocks the tick: captures run as tasks. ``on_end`` takes the end captures of the
phase in progress (the last plateau, or the one an abort cut), waits a little for the
captures still running, then cancels them.

Every capture ends as one ``capture`` event: ``data = {name, kind, plateau, point, ok,
skipped, files, reason, ...}`` (files relative to the run directory). A failure is an
event with ``severity: warning``, never a failed run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfgate.capture import runners
from perfgate.capture.runners import CaptureEnv, CaptureResult, MissingEnv
from perfgate.capture.spec import CaptureSpec, point_fraction
from perfgate.controller.hooks import BaseHook, RunContext
from perfgate.engine.timeline import Phase
from perfgate.metrics.window import Window
from perfgate.store.redact import redact

__all__ = ["CaptureHook", "Due"]

END_GRACE_S = 15.0


@dataclass(frozen=True)
class Due:
    t: float
    phase: Phase
    spec: CaptureSpec
    label: str  # start | mid | end | at90 | reset | read
    at_end: bool


def _label(point: object) -> str:
    if isinstance(point, str):
        return point
    return f"at{round(point_fraction(point) * 100):d}"  # type: ignore[arg-type]


def schedule(captures: Sequence[CaptureSpec], timeline: Sequence[Phase]) -> list[Due]:
    """Every capture point of the run, in time order (ties keep plan order)."""
    out: list[Due] = []
    for phase in timeline:
        for spec in captures:
            if not spec.applies_to(phase.id):
                continue
            if spec.kind == "pg_stat_statements":
                out.append(Due(phase.start_s, phase, spec, "reset", False))
                out.append(Due(phase.end_s, phase, spec, "read", True))
                continue
            for point in spec.at:
                frac = point_fraction(point)
                out.append(Due(phase.start_s + frac * phase.duration_s, phase, spec,
                               _label(point), frac >= 1.0))
    return sorted(out, key=lambda d: d.t)  # stable: plan order among equal times


class CaptureHook(BaseHook):
    name = "captures"

    def __init__(self, env: Mapping[str, str] | None = None,
                 pg_connect: Any | None = None) -> None:
        self._env = dict(os.environ if env is None else env)
        self._pg_connect = pg_connect
        self._due: list[Due] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._pyspy = asyncio.Lock()
        self._cenv: CaptureEnv | None = None
        self.taken = 0
        self.failed = 0

    async def on_start(self, ctx: RunContext) -> None:
        self._due = schedule(ctx.plan.captures, ctx.timeline)
        cenv = CaptureEnv(ctx.run_dir, ctx.plan.target.base_url, self._env)
        if self._pg_connect is not None:
            cenv.pg_connect = self._pg_connect
        self._cenv = cenv

    async def on_tick(self, ctx: RunContext, now: float, phase: Phase | None,
                      windows: Sequence[Window]) -> None:
        ready = [d for d in self._due if not d.at_end and d.t <= now]
        if ready:
            self._due = [d for d in self._due if d not in ready]
            self._launch(ctx, ready)

    async def on_phase_end(self, ctx: RunContext, phase: Phase, now: float) -> None:
        ready = [d for d in self._due if d.phase.id == phase.id]
        if ready:
            self._due = [d for d in self._due if d not in ready]
            self._launch(ctx, ready)

    async def on_end(self, ctx: RunContext, status: str) -> None:
        # The phase in progress when the run ended (the last plateau, whose end the ticker
        # may not have seen, or the one an abort cut) still gets its end captures: the
        # state at the end is evidence.
        now = ctx.now()
        ready = [d for d in self._due if d.at_end and d.phase.start_s <= now]
        self._due = []
        if ready:
            self._launch(ctx, ready)
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=END_GRACE_S)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _launch(self, ctx: RunContext, dues: list[Due]) -> None:
        chain = [d for d in dues if d.spec.kind != "pyspy"]
        tasks = [self._run_chain(ctx, chain)] if chain else []
        tasks += [self._run_chain(ctx, [d]) for d in dues if d.spec.kind == "pyspy"]
        for coro in tasks:
            task = asyncio.create_task(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run_chain(self, ctx: RunContext, dues: list[Due]) -> None:
        for due in dues:
            try:
                result = await self._take(ctx, due)
            except MissingEnv as exc:
                result = CaptureResult(False, reason=str(exc), skipped=due.spec.optional)
            except asyncio.CancelledError:
                self._record(ctx, due, CaptureResult(False, reason="run ended first"))
                raise
            except Exception as exc:  # a capture never takes the run down
                result = CaptureResult(False, reason=f"{type(exc).__name__}: {exc}")
            self._record(ctx, due, result)

    async def _take(self, ctx: RunContext, due: Due) -> CaptureResult:
        cenv = self._cenv
        assert cenv is not None
        spec, phase = due.spec, due.phase
        folder = ctx.run_dir / "captures" / phase.id
        folder.mkdir(parents=True, exist_ok=True)
        out = folder / f"{spec.name}.{due.label}"
        if spec.kind == "http":
            return await runners.run_http(spec, cenv, out)
        if spec.kind == "command":
            return await runners.run_command(spec, cenv, out, phase.id)
        if spec.kind == "pg_stat_statements":
            if due.label == "reset":
                return await runners.pg_reset(spec, cenv)
            return await runners.pg_read(spec, cenv, folder / spec.name)
        async with self._pyspy:
            seconds = min(spec.duration, phase.end_s - ctx.now() - 0.5)
            if seconds < 1.0:
                return CaptureResult(False, skipped=True,
                                     reason=f"less than 1 s left of {phase.id} to profile")
            return await runners.run_pyspy(spec, cenv, out, seconds)

    def _record(self, ctx: RunContext, due: Due, result: CaptureResult) -> None:
        spec = due.spec
        secrets = tuple(self._cenv.secrets) if self._cenv else ()
        where = f"{spec.name} ({spec.kind}) at {due.phase.id} {due.label}"
        if result.ok:
            self.taken += 1
            message = f"capture {where}: " + (", ".join(result.files) or "done")
        elif result.skipped:
            message = f"capture {where} skipped: {result.reason}"
        else:
            self.failed += 1
            message = f"capture {where} failed: {result.reason}"
        data = {"name": spec.name, "kind": spec.kind, "plateau": due.phase.id,
                "point": due.label, "ok": result.ok, "skipped": result.skipped,
                "files": result.files, "reason": redact(result.reason, secrets),
                **result.data}
        ctx.writer.add_event(ctx.now(), "capture", redact(message, secrets),
                             severity="info" if result.ok or result.skipped else "warning",
                             plateau=due.phase.id, data=data)
        ctx.extras["captures"] = {"taken": self.taken, "failed": self.failed,
                                  "last": message[:160]}


def captures_dir(run_dir: Path) -> Path:
    return run_dir / "captures"
