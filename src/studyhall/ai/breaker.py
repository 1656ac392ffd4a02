"""A small asyncio-friendly circuit breaker with an injectable clock.

Why not a library: aiobreaker (1.2.0) has had no release since 2021; pybreaker's async
support goes through Tornado; ``circuitbreaker`` is a decorator with no hook for state
transitions; purgatory (3.0.1, maintained) tracks failures only through exceptions
raised inside its context manager, keeps state behind an async unit-of-work/message-bus
and reads the clock itself, so its open->half-open timing cannot be driven by a fake
clock in tests, and it cannot count a *returned* outcome (e.g. "every key is rate
limited") as a failure. The state machine we need fits in this module.

States: CLOSED (calls pass; ``failure_threshold`` consecutive failures trip it) ->
OPEN (calls rejected for ``reset_timeout_s``) -> HALF_OPEN (at most ``half_open_probes``
concurrent probe calls; a success closes the breaker, a failure re-opens it).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable


class BreakerState(enum.IntEnum):
    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2

    @property
    def label(self) -> str:
        return self.name.lower()


class CircuitBreaker:
    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        reset_timeout_s: float = 10.0,
        half_open_probes: int = 1,
        clock: Callable[[], float] = time.monotonic,
        on_transition: Callable[[BreakerState, BreakerState], None] | None = None,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = reset_timeout_s
        self.half_open_probes = half_open_probes
        self._clock = clock
        self._on_transition = on_transition
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probes_in_flight = 0

    @property
    def state(self) -> BreakerState:
        if (
            self._state is BreakerState.OPEN
            and self._clock() - self._opened_at >= self.reset_timeout_s
        ):
            self._move(BreakerState.HALF_OPEN)
        return self._state

    def _move(self, new: BreakerState) -> None:
        old, self._state = self._state, new
        if new is BreakerState.OPEN:
            self._opened_at = self._clock()
        if new is not BreakerState.HALF_OPEN:
            self._probes_in_flight = 0
        if new is BreakerState.CLOSED:
            self._failures = 0
        if old is not new and self._on_transition is not None:
            self._on_transition(old, new)

    def allow(self) -> bool:
        """May a call go through now? In half-open, reserves one probe slot: the caller
        must then report ``record_success`` or ``record_failure`` (or ``release``)."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and self._probes_in_flight < self.half_open_probes:
            self._probes_in_flight += 1
            return True
        return False

    def _end_probe(self) -> None:
        if self._state is BreakerState.HALF_OPEN and self._probes_in_flight:
            self._probes_in_flight -= 1

    def record_success(self) -> None:
        self._end_probe()
        if self._state is BreakerState.HALF_OPEN:
            self._move(BreakerState.CLOSED)
        elif self._state is BreakerState.CLOSED:
            self._failures = 0

    def record_failure(self) -> None:
        self._end_probe()
        if self._state is BreakerState.HALF_OPEN:
            self._move(BreakerState.OPEN)
        elif self._state is BreakerState.CLOSED:
            self._failures += 1
            if self._failures >= self.failure_threshold:
                self._move(BreakerState.OPEN)

    def release(self) -> None:
        """The allowed call ended with neither verdict (e.g. cancelled)."""
        self._end_probe()
