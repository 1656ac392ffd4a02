"""The abort triggers: each tick, every rule's signal over its rolling window, then ``for:``.

Signals (the value each rule compares with its threshold):

* ``error_rate`` / ``timeout_rate``: errors (timeouts) / SLO requests completed in the
  window, over every family or the rule's ``family``. perf-6b's "error rate > 0.5% for
  2 consecutive minutes at any plateau" is watched twice: over all SLO requests (the
  memo's wording) and per family (the memo judges AI separately, and a 25% AI share
  could hide an AI storm of up to 2% in the overall rate). Either firing aborts.
* a telemetry sample name (``cpu_percent``, ``db_pool_free_ratio``, ...): the samples in
  the window combined by ``agg`` (avg by default: ``avg_over_time``);
* ``cost_projection_usd``: spent + spend rate over the window x remaining run time;
* ``provider_blocked``: 1 from a rate-limit or quota block seen in the target's telemetry
  (``provider_requests_rate{outcome=rate_limited|quota}`` > 0) until a call succeeds on
  any key (``outcome=ok`` > 0, or a provider-path answer in perfgate's ledger), else 0;
  no provider telemetry (or a gap in it) is no value;
* ``outbound_hits``: requests caught by perfgate's outbound sink so far.

No value (a gap) resets a rule (``perfgate.guards.rules``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from perfgate.guards.livedata import LoadData
from perfgate.guards.rules import FOR_FLOOR_S, WINDOW_FLOOR_S, ForRule, Transition, scaled
from perfgate.guards.spec import TriggerSpec, TriggersSpec
from perfgate.guards.units import Unit
from perfgate.telemetry.series import SignalStore

__all__ = ["TriggerEvaluator", "TriggerRuntime"]

TICK_S = 1.0  # the controller evaluates once a second

PROVIDER_SIGNAL = "provider_requests_rate"
BLOCKED_OUTCOMES = ("rate_limited", "quota")


@dataclass
class TriggerRuntime:
    spec: TriggerSpec
    rule: ForRule
    window_s: float
    for_s: float


Projection = Callable[[float, float], Decimal | None]


class TriggerEvaluator:
    def __init__(self, spec: TriggersSpec, time_scale: float, *, load: LoadData,
                 signals: SignalStore | None = None, projection: Projection | None = None,
                 last_provider_ok: Callable[[], float | None] | None = None,
                 outbound_hits: Callable[[], int] | None = None) -> None:
        self.window_s = scaled(spec.window, time_scale, WINDOW_FLOOR_S)
        self.rules = [
            TriggerRuntime(r, ForRule(r.op, r.value, scaled(r.for_, time_scale, FOR_FLOOR_S),
                                      resolution=TICK_S),
                           self.window_s, scaled(r.for_, time_scale, FOR_FLOOR_S))
            for r in spec.rules]
        self._load = load
        self._signals = signals
        self._projection = projection
        self._last_ok_ledger = last_provider_ok
        self._hits = outbound_hits
        self._scanned_to = -1.0
        self._last_block: float | None = None
        self._last_ok: float | None = None

    def value(self, spec: TriggerSpec, now: float) -> Any:
        w = self.window_s
        if spec.signal in ("error_rate", "timeout_rate"):
            return self._load.rolling_rate(now, w, spec.family, spec.signal)[0]
        if spec.signal == "cost_projection_usd":
            return self._projection(now, w) if self._projection else None
        if spec.signal == "outbound_hits":
            return float(self._hits()) if self._hits else None
        if spec.signal == "provider_blocked":
            return self._blocked(now)
        if self._signals is None:
            return None
        values = self._signals.window(spec.signal, now, w)
        if values is None:
            return None
        v = {"avg": sum(values) / len(values), "max": max(values), "min": min(values),
             "last": values[-1]}[spec.agg]
        return Decimal(str(v)) if spec.unit is Unit.USD else v

    def _blocked(self, now: float) -> float | None:
        """1 from a provider block (rate-limit or quota) until the next successful call.

        Blocked keys get sidelined, after which the target stops calling the provider at
        all, so "blocks in the last minute" would go quiet while nothing works: the state
        holds from the last block seen until a success is seen (telemetry ``ok`` calls or
        a provider-path answer in perfgate's ledger).
        """
        store = self._signals
        if store is None or store.in_gap(PROVIDER_SIGNAL):
            return None
        start, self._scanned_to = self._scanned_to, now
        if any(v > 0 for o in BLOCKED_OUTCOMES
               for v in store.between(PROVIDER_SIGNAL, start, now, {"outcome": o})):
            self._last_block = now
        if any(v > 0 for v in store.between(PROVIDER_SIGNAL, start, now, {"outcome": "ok"})):
            self._last_ok = now
        ledger_ok = self._last_ok_ledger() if self._last_ok_ledger else None
        last_ok = max(t for t in (self._last_ok, ledger_ok, -1.0) if t is not None)
        if self._last_block is None:
            return 0.0 if store.between(PROVIDER_SIGNAL, -1.0, now) else None
        return 1.0 if self._last_block > last_ok else 0.0

    def evaluate(self, now: float) -> list[tuple[TriggerRuntime, Transition, Any]]:
        out = []
        for rt in self.rules:
            value = self.value(rt.spec, now)
            out.append((rt, rt.rule.evaluate(now, value), value))
        return out

    def states(self) -> dict[str, dict[str, Any]]:
        return {rt.spec.name: {"state": rt.rule.state.value,
                               "value": _jsonable(rt.rule.last_value),
                               "since": rt.rule.active_since, "for_s": rt.for_s,
                               "window_s": rt.window_s} for rt in self.rules}


def _jsonable(v: Any) -> Any:
    return float(v) if isinstance(v, Decimal) else v
