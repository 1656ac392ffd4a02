"""The guards hook: pass criteria at each plateau's end (ramp discipline) and the abort
triggers every second, in ``enforce`` or ``observe`` mode.

Ramp discipline: when a plateau's time is up its criteria are judged on the data
merged so far (requests still in flight at the boundary land in a later second and
are in the report's recomputation, not in this verdict). Any FAIL means no advance:
``ctx.fail`` stops the run with FAIL, and the safe RPS is the last plateau judged
without a FAIL (meta ``safe_rps``/``safe_plateau``; null when the first plateau failed).
INSUFFICIENT is shown, never a failure. The warm-up (``p0``) is never judged.

``observe`` judges and records everything the same way (the verdicts, a trigger that
would have fired) but never stops the run; only the hard cost cap (``CostHook``) still
does. The summary's verdict is FAIL when any plateau was red, in either mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from perfgate.controller.abort import AbortReason
from perfgate.controller.hooks import BaseHook, RunContext
from perfgate.engine.timeline import Phase
from perfgate.guards.costhook import CostHook
from perfgate.guards.criteria import FAIL, CriterionResult, PlateauFacts, judge, plateau_verdict
from perfgate.guards.livedata import LoadData
from perfgate.guards.rules import Transition
from perfgate.guards.sink import OutboundHit, OutboundSink
from perfgate.guards.spec import CriterionSpec
from perfgate.guards.triggers import TriggerEvaluator, TriggerRuntime
from perfgate.guards.units import format_value
from perfgate.metrics.window import Window
from perfgate.telemetry.series import SignalStore

__all__ = ["GuardsHook"]

WARMUP = "p0"


class GuardsHook(BaseHook):
    name = "guards"

    def __init__(self, criteria: Sequence[CriterionSpec], evaluator: TriggerEvaluator,
                 load: LoadData, *, mode: str, signals: SignalStore | None = None,
                 histogram_signals: frozenset[str] = frozenset(),
                 cost: CostHook | None = None, infra_usd_per_hour: Decimal = Decimal(0),
                 sink: OutboundSink | None = None) -> None:
        self.criteria = list(criteria)
        self.evaluator = evaluator
        self.load = load
        self.mode = mode
        self.enforce = mode == "enforce"
        self.signals = signals
        self.histogram_signals = histogram_signals
        self.cost = cost
        self.infra_usd_per_hour = infra_usd_per_hour
        self.sink = sink
        self.results: dict[str, list[CriterionResult]] = {}
        self.verdicts: dict[str, dict[str, Any]] = {}
        self.safe: Phase | None = None
        self.first_red: str | None = None
        self.fired: list[dict[str, Any]] = []
        self._pending: list[Phase] = []
        self._ctx: RunContext | None = None

    async def on_start(self, ctx: RunContext) -> None:
        self._ctx = ctx
        ctx.writer.set_meta("guards_mode", self.mode)
        ctx.writer.set_meta("guards", {
            "criteria": [c.name for c in self.criteria],
            "window_s": self.evaluator.window_s,
            "triggers": {rt.spec.name: {"for_s": rt.for_s, "window_s": rt.window_s}
                         for rt in self.evaluator.rules}})
        if self.sink is not None:
            self.sink.on_hit = self._on_hit
            url = await self.sink.start()
            ctx.writer.set_meta("outbound_sink_url", url)
            ctx.extras["outbound_sink_url"] = url

    def _on_hit(self, hit: OutboundHit) -> None:
        if self._ctx is not None:
            self._ctx.writer.add_event(
                self._ctx.now(), "data_safety", f"outbound {hit.method} {hit.path} reached the "
                f"sink ({hit.size} bytes): the target sent a message out during the test",
                severity="critical", data={"path": hit.path, "excerpt": hit.excerpt})

    async def on_phase_end(self, ctx: RunContext, phase: Phase, now: float) -> None:
        self._pending.append(phase)  # judged in this tick's on_tick, with its last windows

    async def on_tick(self, ctx: RunContext, now: float, phase: Phase | None,
                      windows: Sequence[Window]) -> None:
        self.load.add(windows)
        pending, self._pending = self._pending, []
        for ended in pending:
            self._judge(ctx, ended, now, cut=False)
        self._triggers(ctx, now, phase)
        ctx.extras["guards"] = self.live()

    def live(self) -> dict[str, Any]:
        return {"mode": self.mode, "triggers": self.evaluator.states(),
                "verdicts": {p: v["verdict"] for p, v in self.verdicts.items()},
                "safe_rps": self.safe.rps if self.safe else None,
                "criteria": {p: {r.spec.name: r.verdict for r in rs}
                             for p, rs in self.results.items()}}

    # -- criteria --------------------------------------------------------------------

    def facts(self, phase: Phase, end_s: float) -> PlateauFacts:
        cost = self.cost.budget.plateaus.get(phase.id) if self.cost is not None else None
        return PlateauFacts(phase.id, phase.start_s, end_s, self.load.plateau(phase.id),
                            self.signals, self.histogram_signals, cost,
                            self.infra_usd_per_hour)

    def _judge(self, ctx: RunContext, phase: Phase, now: float, *, cut: bool) -> None:
        if phase.id == WARMUP or not self.criteria or phase.id in self.verdicts:
            return
        end_s = min(phase.end_s, now)
        results = [judge(spec, self.facts(phase, end_s)) for spec in self.criteria]
        self.results[phase.id] = results
        for r in results:
            ctx.writer.put_criterion_result(r.to_row(phase.id, now))
        verdict = {**plateau_verdict(results), "cut": cut, "mode": self.mode,
                   "criteria": [r.to_row(phase.id, now) for r in results]}
        self.verdicts[phase.id] = verdict
        ctx.writer.upsert_plateau(phase.id, phase.index, phase.name, phase.rps, phase.start_s,
                                  verdict=verdict)
        red = verdict["verdict"] == FAIL
        lines = [r.sentence() for r in results if r.verdict == FAIL] or \
            [f"{g} {v}" for g, v in verdict["families"].items()]
        ctx.writer.add_event(
            now, "criterion_verdict",
            f"{phase.id} ({phase.rps:g} RPS) {verdict['verdict']}"
            f"{' (cut short)' if cut else ''}: " + "; ".join(lines),
            severity="critical" if red else "info", plateau=phase.id,
            data={"verdict": verdict["verdict"], "families": verdict["families"],
                  "failed": verdict["failed"], "insufficient": verdict["insufficient"]})
        if cut:
            return
        if red and self.first_red is None:
            self.first_red = phase.id
            if self.enforce:
                ctx.fail(phase.id, "; ".join(r.sentence() for r in results if r.verdict == FAIL))
        elif not red and self.first_red is None:
            self.safe = phase
        ctx.writer.set_meta("safe_rps", self.safe.rps if self.safe else None)
        ctx.writer.set_meta("safe_plateau", self.safe.id if self.safe else None)

    # -- triggers --------------------------------------------------------------------

    def _triggers(self, ctx: RunContext, now: float, phase: Phase | None) -> None:
        plateau = phase.id if phase else None
        for rt, transition, value in self.evaluator.evaluate(now):
            if transition is Transition.NONE:
                continue
            s, unit = rt.spec, rt.spec.unit
            what = (f"{s.name}: {s.signal}{'[' + s.family + ']' if s.family else ''} "
                    f"{format_value(value, unit)} {s.op} {format_value(s.value, unit)}")
            data = {"trigger": s.name, "value": _num(value), "threshold": _num(s.value),
                    "window_s": rt.window_s, "for_s": rt.for_s, "since": rt.rule.active_since}
            if transition is Transition.BREACH:
                ctx.writer.add_event(now, "trigger_warning",
                                     f"{what}: breach started; aborts if it holds "
                                     f"{rt.for_s:g} s", severity="warning",
                                     plateau=plateau, data=data)
            elif transition is Transition.CLEAR:
                ctx.writer.add_event(now, "trigger_cleared", f"{s.name}: condition cleared",
                                     plateau=plateau, data=data)
            else:
                self._fire(ctx, rt, now, plateau, what, data)

    def _fire(self, ctx: RunContext, rt: TriggerRuntime, now: float, plateau: str | None,
              what: str, data: dict[str, Any]) -> None:
        since = rt.rule.active_since if rt.rule.active_since is not None else now
        evidence = {**data, "held_s": round(now - since, 3),
                    "latency_s": round(now - (since + rt.for_s), 3), "mode": self.mode}
        self.fired.append({"t": now, **evidence})
        held = f"held {now - since:.1f} s (for: {rt.for_s:g} s, window {rt.window_s:g} s)"
        observe = "" if self.enforce else " [observe mode: not stopping]"
        ctx.writer.add_event(now, "trigger_fired", f"{what}: {held}{observe}",
                             severity="critical", plateau=plateau, data=evidence)
        if self.enforce:
            ctx.abort(AbortReason(rt.spec.name, f"{what}: {held}", "perfgate", now, plateau,
                                  evidence))

    async def on_end(self, ctx: RunContext, status: str) -> None:
        now = ctx.now()
        for ph in ctx.timeline:  # a plateau whose end the ticker never saw
            if ph.start_s < now and ph.id not in self.verdicts:
                self._judge(ctx, ph, now, cut=status != "completed")
        ctx.writer.set_meta("triggers", {"fired": self.fired,
                                         "final": self.evaluator.states()})
        if self.sink is not None:
            ctx.writer.set_meta("outbound_hits", len(self.sink.hits))
            await self.sink.stop()


def _num(v: Any) -> Any:
    return float(v) if isinstance(v, Decimal) else v
