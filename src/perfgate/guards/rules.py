"""Prometheus ``for:`` semantics for abort rules (pure; time comes in as an argument).

A rule is evaluated at each tick with the value of its signal over the rolling window
(or None when there is no value: a telemetry gap, no requests). At each evaluation:

* condition false -> INACTIVE (a pending or firing rule clears);
* value None (a gap) -> INACTIVE as well: the condition did not hold *at every
  evaluation*, so a gap resets the clock, as a PromQL alert whose series vanished;
* condition true, rule INACTIVE -> PENDING with ``active_since = t`` (the warning);
* condition true, PENDING, ``t - active_since >= for`` -> FIRING (the abort).

So with ``for: 120s`` evaluated every second from t = 0, the evaluation at t = 119
(held 119 s) does not fire and the one at t = 120 does; ``for: 0`` fires on the first
true evaluation. Evaluations happen on a grid (``resolution``, the controller's 1 s tick)
but their measured times jitter by milliseconds, so the held time is compared with
``for`` to within half a grid step: 5.999 s held on a 1 s grid is 6 s.

Time scale: a compressed run compresses the rule's window and ``for`` alike, but never
below a floor (``scaled``), so a 2-minute rule in a 1/30 demo still needs the condition
to hold for several evaluations instead of firing on one noisy second.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["FOR_FLOOR_S", "WINDOW_FLOOR_S", "ForRule", "RuleState", "Transition", "scaled"]

WINDOW_FLOOR_S = 3.0
FOR_FLOOR_S = 3.0
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}


def scaled(seconds: float, time_scale: float, floor: float) -> float:
    """``seconds x time_scale``, not below ``floor`` (nor above ``seconds``); 0 stays 0."""
    if seconds <= 0:
        return 0.0
    return min(seconds, max(seconds * time_scale, floor))


class RuleState(StrEnum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"


class Transition(StrEnum):
    NONE = "none"
    BREACH = "breach"  # INACTIVE -> PENDING: the warning
    FIRE = "fire"  # -> FIRING
    CLEAR = "clear"  # PENDING or FIRING -> INACTIVE


@dataclass
class ForRule:
    op: str
    threshold: Any
    for_s: float
    state: RuleState = RuleState.INACTIVE
    active_since: float | None = None
    last_value: Any = None
    fired_at: float | None = None
    resolution: float = 0.0  # the evaluation grid step (0: exact times)

    def holds(self, value: Any) -> bool:
        return value is not None and _OPS[self.op](value, self.threshold)

    def evaluate(self, t: float, value: Any) -> Transition:
        self.last_value = value
        if not self.holds(value):
            was = self.state
            self.state, self.active_since = RuleState.INACTIVE, None
            return Transition.NONE if was is RuleState.INACTIVE else Transition.CLEAR
        if self.state is RuleState.FIRING:
            return Transition.NONE
        if self.state is RuleState.INACTIVE:
            self.state, self.active_since = RuleState.PENDING, t
            if self.for_s > 0:
                return Transition.BREACH
        assert self.active_since is not None
        # half a grid step (and a float epsilon: 120 x 0.1 s may sum to 11.99999999)
        if t - self.active_since >= self.for_s - self.resolution / 2 - 1e-9:
            self.state, self.fired_at = RuleState.FIRING, t
            return Transition.FIRE
        return Transition.NONE
