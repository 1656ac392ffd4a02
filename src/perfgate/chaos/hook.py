"""The chaos hook: applies each planned fault in its window and always reverts it.

Timing: a fault starts ``at`` into its plateau (``middle`` centres it) and holds for
``duration``, both x the time scale; each fault has its own task, so the window is
exact rather than rounded to the controller's 1 s tick. Fault operations run in
worker threads (the generator's loop never waits on ``iptables`` or an HTTP API).

Reverting: at the window's end; at the run's end whatever ended it (completed,
failed, aborted by a trigger or the perf lead, SIGINT/SIGTERM: the controller turns
these into a normal end, then calls ``on_end``); on an exception escaping the run
(``atexit``); after a SIGKILL from the state file (``perfgate.chaos.state``). Every
revert is verified (rules listed, toxics listed, verify argv) and recorded.

Store: events ``chaos_start``, ``chaos_end`` (window over, with why) and
``chaos_revert`` (verified or not, with the evidence); ``chaos_error`` when a fault
cannot be prepared or applied; meta ``chaos`` (every fault's planned and actual
window and revert result). Live: ``ctx.extras["chaos"]``.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
from collections.abc import Mapping
from typing import Any

from perfgate.chaos.fault import ChaosError, Fault, FaultEnv
from perfgate.chaos.spec import ChaosSpec, FaultSpec
from perfgate.chaos.state import ChaosState, build_fault, cleanup
from perfgate.controller.hooks import BaseHook, RunContext

__all__ = ["ChaosHook"]


class _Run:
    def __init__(self, spec: FaultSpec, fault: Fault, start_s: float, end_s: float) -> None:
        self.spec, self.fault = spec, fault
        self.start_s, self.end_s = start_s, end_s
        self.status = "prepared"
        self.applied_at: float | None = None
        self.reverted_at: float | None = None
        self.verified: bool | None = None
        self.error: str | None = None
        self.drive: asyncio.Task[None] | None = None
        self.revert_task: asyncio.Task[None] | None = None

    def to_dict(self) -> dict[str, Any]:
        s = self.spec
        return {"name": s.name, "kind": s.kind, "purpose": s.purpose, "plateau": s.plateau,
                "loss": s.loss, "egress": s.egress, "recovery_s": s.recovery,
                "planned_start_s": round(self.start_s, 3), "planned_end_s": round(self.end_s, 3),
                "applied_at_s": self.applied_at, "reverted_at_s": self.reverted_at,
                "status": self.status, "verified": self.verified, "error": self.error}


class ChaosHook(BaseHook):
    name = "chaos"

    def __init__(self, spec: ChaosSpec, *, env: Mapping[str, str],
                 allowed_hosts: tuple[str, ...] = (),
                 faults: Mapping[str, Fault] | None = None) -> None:
        self.spec = spec
        self.env = env
        self.allowed = allowed_hosts
        self._given = dict(faults or {})  # tests inject fakes by fault name
        self.runs: list[_Run] = []
        self._ctx: RunContext | None = None
        self._state: ChaosState | None = None

    # -- set-up ---------------------------------------------------------------------

    async def on_start(self, ctx: RunContext) -> None:
        self._ctx = ctx
        self._state = ChaosState(ctx.run_dir, ctx.run_id, self.allowed)
        fenv = FaultEnv(ctx.run_id, self.env, self.allowed)
        phases = {ph.id: ph for ph in ctx.timeline}
        for spec in self.spec.faults:
            phase = phases.get(spec.plateau)
            if phase is None:
                self._event("chaos_error", f"{spec.name}: no plateau {spec.plateau} in this "
                            "run; fault skipped", spec, severity="warning")
                continue
            start = phase.start_s + spec.offset(phase.duration_s, ctx.time_scale)
            end = min(start + spec.duration * ctx.time_scale, phase.end_s)
            try:
                fault = self._given.get(spec.name) or build_fault(spec, fenv)
                await asyncio.to_thread(fault.prepare)
            except (ChaosError, OSError, ValueError) as exc:
                self._event("chaos_error", f"{spec.name}: cannot prepare: {exc}", spec,
                            severity="critical")
                continue
            run = _Run(spec, fault, start, end)
            self.runs.append(run)
            self._state.set(fault, "prepared", window=[start, end])
            run.drive = asyncio.create_task(self._drive(run), name=f"chaos-{spec.name}")
        if self.runs:
            atexit.register(self._atexit)
        self._publish()

    # -- the window -------------------------------------------------------------------

    async def _drive(self, run: _Run) -> None:
        ctx, state = self._ctx, self._state
        assert ctx is not None and state is not None
        await asyncio.sleep(max(0.0, run.start_s - ctx.now()))
        run.status = "applying"
        state.set(run.fault, "applying")
        try:
            evidence = await asyncio.to_thread(run.fault.apply)
        except (ChaosError, OSError) as exc:
            run.error = str(exc)
            self._event("chaos_error", f"{run.spec.name}: apply failed: {exc}", run.spec,
                        severity="critical")
            await self._revert(run, "apply failed")
            return
        run.status, run.applied_at = "applied", round(ctx.now(), 3)
        state.set(run.fault, "applied", applied_at=run.applied_at)
        self._event("chaos_start", f"chaos {run.spec.name}: {run.spec.kind} "
                    f"{run.spec.loss:.0%} loss on {run.spec.egress or 'the AI egress'} until "
                    f"{run.end_s:.1f} s", run.spec,
                    data={"planned_end_s": run.end_s, "evidence": evidence})
        self._publish()
        await asyncio.sleep(max(0.0, run.end_s - ctx.now()))
        await asyncio.shield(self._revert(run, "window over"))

    def _revert(self, run: _Run, reason: str) -> asyncio.Task[None]:
        if run.revert_task is None:
            run.revert_task = asyncio.create_task(self._do_revert(run, reason))
        return run.revert_task

    async def _do_revert(self, run: _Run, reason: str) -> None:
        ctx, state = self._ctx, self._state
        assert ctx is not None and state is not None
        was = run.status
        if was in ("applying", "applied"):
            self._event("chaos_end", f"chaos {run.spec.name} ends: {reason}", run.spec,
                        data={"reason": reason, "start_s": run.applied_at})
        try:
            evidence = await asyncio.to_thread(run.fault.revert)
            check = await asyncio.to_thread(run.fault.verify)
            run.verified = check.ok
            evidence = {**evidence, "verify": check.evidence}
        except (ChaosError, OSError) as exc:
            run.verified, evidence = False, {"error": str(exc)}
        run.status = "reverted" if run.verified else "revert_failed"
        run.reverted_at = round(ctx.now(), 3)
        state.set(run.fault, run.status, reverted_at=run.reverted_at)
        self._event("chaos_revert",
                    f"chaos {run.spec.name} reverted ({reason}); "
                    f"{'verified: nothing left' if run.verified else 'NOT VERIFIED'}",
                    run.spec, severity="info" if run.verified else "critical",
                    data={"reason": reason, "verified": run.verified, "was": was,
                          "evidence": evidence})
        self._publish()

    # -- the end ----------------------------------------------------------------------

    async def on_end(self, ctx: RunContext, status: str) -> None:
        for run in self.runs:
            if run.drive is not None and not run.drive.done():
                run.drive.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await run.drive
        for run in self.runs:
            if run.status in ("applying", "applied") or run.revert_task is not None:
                await self._revert(run, f"run {status}")
        for run in self.runs:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(run.fault.close)
        atexit.unregister(self._atexit)
        ctx.writer.set_meta("chaos", [r.to_dict() for r in self.runs])
        self._publish()

    def _atexit(self) -> None:
        """Last resort when the run dies with an exception: revert from the state file."""
        if self._ctx is not None:
            with contextlib.suppress(Exception):
                cleanup(self._ctx.run_dir, self.env, force=True)

    # -- records ----------------------------------------------------------------------

    def _event(self, kind: str, message: str, spec: FaultSpec, *, severity: str = "info",
               data: dict[str, Any] | None = None) -> None:
        ctx = self._ctx
        assert ctx is not None
        plateau = spec.plateau
        ctx.writer.add_event(ctx.now(), kind, message, severity=severity, plateau=plateau,
                             data={"fault": spec.name, "kind": spec.kind,
                                   "purpose": spec.purpose, "loss": spec.loss,
                                   "recovery_s": spec.recovery, **(data or {})})

    def _publish(self) -> None:
        if self._ctx is None:
            return
        self._ctx.extras["chaos"] = {
            "active": [r.spec.name for r in self.runs if r.status in ("applying", "applied")],
            "faults": [r.to_dict() for r in self.runs]}
