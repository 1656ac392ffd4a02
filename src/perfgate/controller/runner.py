"""The run controller: one timeline clock driving the shard, the recorder and the store.

Every tick (1 s): close the recorder's finished windows, store them, merge them into
the live aggregates, sample the generator (loop lag, CPU, RSS), note phase changes,
poll for the perf lead's abort, publish one ``Snapshot`` to every subscriber, commit.
The store is therefore never more than a second behind: a SIGKILL loses at most the
second in progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil

from perfgate.controller.abort import AbortController, AbortReason, read_abort_request
from perfgate.controller.hooks import RunContext, RunHook
from perfgate.controller.live import LiveStats
from perfgate.controller.runid import make_run_id
from perfgate.controller.snapshot import Snapshot
from perfgate.engine.build import build_shard
from perfgate.engine.client import Transport
from perfgate.engine.looplag import LoopLagMonitor
from perfgate.engine.mix import EndpointRef
from perfgate.engine.rawhttp import transport_for
from perfgate.engine.timeline import Phase, build_timeline, phase_at
from perfgate.metrics import histogram as hist
from perfgate.metrics.recorder import Recorder
from perfgate.metrics.window import SeriesKey
from perfgate.plan.models import Plan
from perfgate.store.writer import RunWriter

Subscriber = Callable[[Snapshot], None]


@dataclass
class RunConfig:
    plan: Plan
    out_dir: Path
    time_scale: float = 1.0
    headers: dict[str, str] = field(default_factory=dict)  # expanded; never stored
    secrets: tuple[str, ...] = ()
    run_id: str | None = None
    tick_s: float = 1.0


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    run_dir: Path
    status: str  # completed | aborted | interrupted
    abort: AbortReason | None


def _series_key(plateau_id: str, ref: EndpointRef) -> SeriesKey:
    return SeriesKey(plateau_id, ref.family, ref.mix_class, ref.name)


def _lag_histogram(values_us: tuple[int, ...]) -> bytes | None:
    if not values_us:
        return None
    h = hist.new_histogram()
    for v in values_us:
        hist.record(h, v)
    return hist.encode(h)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Controller:
    def __init__(
        self,
        config: RunConfig,
        *,
        transport: Transport | None = None,
        subscribers: list[Subscriber] | None = None,
        hooks: list[RunHook] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.plan = config.plan
        self.run_id = config.run_id or make_run_id(self.plan.run_tag)
        self.run_dir = config.out_dir / self.run_id
        self.timeline: list[Phase] = build_timeline(self.plan.schedule, config.time_scale)
        self.total_s = self.timeline[-1].end_s if self.timeline else 0.0
        self._transport = transport
        self._subscribers = list(subscribers or [])
        self.hooks: list[RunHook] = list(hooks or [])
        self._clock = clock
        self.failure: tuple[str, str] | None = None  # (plateau, reason): ramp discipline
        self.aborts = AbortController()
        self.live = LiveStats()
        self.last_snapshot: Snapshot | None = None
        self.extras: dict[str, object] = {}
        self._t0: float | None = None

    def subscribe(self, fn: Subscriber) -> None:
        self._subscribers.append(fn)

    def add_hook(self, hook: RunHook) -> None:
        self.hooks.append(hook)

    async def _call_hooks(self, writer: RunWriter, what: str, *args: object) -> None:
        for hook in self.hooks:
            try:
                await getattr(hook, what)(*args)
            except Exception as exc:  # a broken hook is evidence, never the end of a run
                writer.add_event(self._ctx_now(), "hook_error",
                                 f"{hook.name}.{what} failed: {type(exc).__name__}: {exc}",
                                 severity="warning")

    def _ctx_now(self) -> float:
        return self._clock() - self._t0 if self._t0 is not None else 0.0

    # -- the run -------------------------------------------------------------------------

    async def run(self) -> RunOutcome:
        plan, cfg = self.plan, self.config
        writer = RunWriter.create(
            self.run_dir, self.run_id,
            plan.model_dump_json(by_alias=True, indent=2),
            {"run_id": self.run_id, "plan_name": plan.name, "run_tag": plan.run_tag,
             "target": plan.target.base_url, "time_scale": cfg.time_scale,
             "started_at": _now_iso(), "pid": os.getpid(),
             "total_s": self.total_s},
            secrets=cfg.secrets,
        )
        for ph in self.timeline:
            writer.upsert_plateau(ph.id, ph.index, ph.name, ph.rps, ph.start_s, ph.end_s,
                                  "pending")
        writer.commit()

        recorder = Recorder()
        base_transport = self._transport or transport_for(
            plan.engine.client, plan.engine.connections, plan.target.base_url)
        transport = base_transport
        for hook in self.hooks:
            transport = hook.wrap_transport(transport)
        stop = asyncio.Event()
        t0 = self._t0 = self._clock()
        ctx = RunContext(
            plan=plan, run_id=self.run_id, run_dir=self.run_dir, timeline=self.timeline,
            time_scale=cfg.time_scale, writer=writer, now=self._ctx_now,
            abort=lambda reason: self._abort(writer, reason, stop),
            fail=lambda plateau, why: self._fail(writer, plateau, why, stop),
            extras=self.extras, headers=dict(cfg.headers))
        await self._call_hooks(writer, "on_start", ctx)
        shard = build_shard(
            plan, transport=transport, sink=recorder, request_id_prefix=self.run_id,
            static_headers=cfg.headers, time_scale=cfg.time_scale, key_for=_series_key,
            clock=self._clock, t0=t0)
        lag = LoopLagMonitor()
        loop = asyncio.get_running_loop()
        self._install_signals(loop, stop, t0)
        proc = psutil.Process()
        proc.cpu_percent(None)
        status = "completed"
        writer.add_event(0.0, "run_start", f"run {self.run_id} started against "
                         f"{plan.target.base_url}", data={"phases": len(self.timeline)})
        lag.start()
        shard_task = asyncio.create_task(shard.run(stop))
        current: Phase | None = None
        try:
            next_tick = 1
            while True:
                delay = t0 + next_tick * cfg.tick_s - self._clock()
                done, _ = await asyncio.wait({shard_task}, timeout=max(0.0, delay))
                early = t0 + next_tick * cfg.tick_s - self._clock()
                if not done and early > 0:  # timers may fire a hair early: never close a
                    await asyncio.sleep(early)  # second that is still in progress
                now = self._clock() - t0
                closed = recorder.close_before(int(now // cfg.tick_s))
                writer.add_windows(closed)
                self.live.add(closed)
                phase = phase_at(self.timeline, now)
                if current is not None and (phase is None or phase.id != current.id):
                    await self._call_hooks(writer, "on_phase_end", ctx, current, now)
                current = self._note_phase(writer, current, phase, now)
                await self._call_hooks(writer, "on_tick", ctx, now, phase, closed)
                stats = lag.snapshot_and_reset()
                lag_p99 = stats.p99_us / 1000 if stats.samples else None
                inflight = shard.live().inflight
                cpu = proc.cpu_percent(None)
                writer.add_generator_sample(
                    second=next_tick - 1, loop_lag_p99_us=stats.p99_us if stats.samples else None,
                    loop_lag_max_us=stats.max_us if stats.samples else None,
                    cpu_percent=cpu, rss_bytes=proc.memory_info().rss,
                    inflight=inflight, target_rps=phase.rps if phase else 0.0,
                    loop_lag_hist=_lag_histogram(stats.values_us))
                self._poll_abort(writer, now, phase, stop)
                self._publish(now, phase, inflight, lag_p99, cpu, done=False)
                writer.commit()
                next_tick += 1
                if done:
                    break
            await shard_task
            if self.aborts.aborted:
                status = "aborted" if self.aborts.reason and \
                    self.aborts.reason.kind != "signal" else "interrupted"
            elif self.failure is not None:
                status = "failed"
        finally:
            await lag.stop()
            if not shard_task.done():
                shard_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await shard_task
            self._remove_signals(loop)
            if self._transport is None:
                await base_transport.close()
            end_t = self._clock() - t0
            final = recorder.close_all()
            writer.add_windows(final)
            self.live.add(final)
            for ph in self.timeline:
                if ph.start_s < end_t:
                    writer.upsert_plateau(ph.id, ph.index, ph.name, ph.rps, ph.start_s,
                                          min(ph.end_s, end_t),
                                          "done" if ph.end_s <= end_t + 1e-6 else "cut")
            await self._call_hooks(writer, "on_end", ctx, status)
            if self.failure is not None:
                writer.set_meta("failed_plateau", self.failure[0])
                writer.set_meta("reason", self.failure[1])
            reason = self.aborts.reason
            if reason is not None:
                writer.set_meta("abort", reason.to_dict())
                writer.set_meta("reason", reason.message)
            writer.set_meta("ended_at", _now_iso())
            writer.add_event(end_t, "run_end", f"run {status}", severity="info")
            writer.close(status)
            self._publish(end_t, None, 0, None, None, done=True)
        return RunOutcome(self.run_id, self.run_dir, status, self.aborts.reason)

    # -- pieces of a tick ----------------------------------------------------------------

    def _note_phase(self, writer: RunWriter, current: Phase | None, phase: Phase | None,
                    now: float) -> Phase | None:
        if phase is current or (phase and current and phase.id == current.id):
            return current
        if current is not None:
            writer.upsert_plateau(current.id, current.index, current.name, current.rps,
                                  current.start_s, current.end_s, "done")
            writer.add_event(now, "phase_end", f"{current.id} {current.name} ended",
                             plateau=current.id)
        if phase is not None:
            writer.upsert_plateau(phase.id, phase.index, phase.name, phase.rps,
                                  phase.start_s, phase.end_s, "running")
            writer.add_event(now, "phase_start",
                             f"{phase.id} {phase.name} at {phase.rps:g} RPS", plateau=phase.id)
        return phase

    def _poll_abort(self, writer: RunWriter, now: float, phase: Phase | None,
                    stop: asyncio.Event) -> None:
        request = read_abort_request(self.run_dir)
        if request is None or self.aborts.aborted:
            return
        reason = AbortReason("perf_lead", request.get("reason", ""), request.get("who", ""),
                             now, phase.id if phase else None, {"requested_at": request.get("at")})
        self._abort(writer, reason, stop)

    def _abort(self, writer: RunWriter | None, reason: AbortReason, stop: asyncio.Event) -> None:
        if self.aborts.abort(reason) and writer is not None:
            writer.add_event(reason.t, "abort", f"ABORT ({reason.kind}) by "
                             f"{reason.who or 'perfgate'}: {reason.message}",
                             severity="critical", plateau=reason.plateau,
                             data=reason.evidence)
        stop.set()

    def _fail(self, writer: RunWriter, plateau: str, why: str, stop: asyncio.Event) -> None:
        """Ramp discipline: a red plateau means no advance; the run ends with FAIL."""
        if self.failure is None and not self.aborts.aborted:
            self.failure = (plateau, why)
            writer.add_event(self._ctx_now(), "fail", f"{plateau} red, not advancing: {why}",
                             severity="critical", plateau=plateau)
        stop.set()

    def _install_signals(self, loop: asyncio.AbstractEventLoop, stop: asyncio.Event,
                         t0: float) -> None:
        def on_signal(signame: str) -> None:
            now = self._clock() - t0
            phase = phase_at(self.timeline, now)
            self.aborts.abort(AbortReason("signal", f"interrupted by {signame}", "", now,
                                          phase.id if phase else None))
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            # not the main thread (tests): the stop event still works
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, on_signal, sig.name)

    @staticmethod
    def _remove_signals(loop: asyncio.AbstractEventLoop) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)

    def _publish(self, now: float, phase: Phase | None, inflight: int,
                 lag_p99_ms: float | None, cpu: float | None, *, done: bool) -> None:
        snap = Snapshot(
            run_id=self.run_id, t=now, total_s=self.total_s,
            phase_id=phase.id if phase else None,
            phase_name=phase.name if phase else ("done" if done else "-"),
            phase_elapsed_s=max(0.0, now - phase.start_s) if phase else 0.0,
            phase_remaining_s=max(0.0, phase.end_s - now) if phase else 0.0,
            target_rps=phase.rps if phase else 0.0,
            achieved_rps=self.live.recent_send_rate(), inflight=inflight,
            sent=self.live.sent, dropped=self.live.dropped, completed=self.live.completed,
            loop_lag_p99_ms=lag_p99_ms, cpu_percent=cpu,
            families=self.live.families(phase.id if phase else None), done=done,
            extras=dict(self.extras))
        self.last_snapshot = snap
        for fn in self._subscribers:
            fn(snap)
