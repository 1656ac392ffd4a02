"""The open-model dispatcher: one event loop sending a schedule's arrivals, never waiting.

Contract (coordinated-omission free):

- Each arrival has an *intended* send time from a pure schedule. The dispatcher sleeps
  until the next one is due, then sends every due arrival in one pass. If it wakes
  late (a busy loop, a GC pause) it sends the late ones at once: nothing is skipped
  and nothing is rescheduled.
- A send never waits for a response: each request runs as its own task, or, when the
  transport is a ``CallbackTransport``, is handed to it with a completion callback (no
  task at all: the fast path). When ``max_inflight`` requests are already out, the
  arrival is counted *dropped* (``sink.dropped``) and the schedule goes on; it is
  never delayed.
- ``latency_us = completion - intended`` includes any lateness of the generator and
  any wait for a pooled connection; ``service_us = completion - actual send`` is the
  classic, uncorrected figure, kept beside it. Example: intended 1.000 s, sent at
  1.200 s because the loop was blocked, answered at 1.250 s: latency 250,000 µs,
  service 50,000 µs.
- Times given to the sink are seconds since ``t0`` (the run start): ``sent`` and
  ``dropped`` at the dispatch time, ``completed`` at the completion time. The
  plateau of a request is the phase of its intended time.

The collector is kept out of the way: ``run`` freezes everything allocated before it
(``gc.freeze``: the plan, modules, the store...) and unfreezes it at the end, so a full
collection during the run walks only the run's own young objects (measured: a 17 ms
gen-2 pause without it, enough to break the 10 ms loop-lag rule in its second).

At the end of the schedule in-flight requests are drained (bounded by the largest
family timeout plus a second). When ``stop`` is set, dispatching ends at once and
in-flight requests get ``stop_grace_s`` to finish; the rest are cancelled and
counted ``abandoned``.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from perfgate.engine.client import (
    CallbackTransport,
    PreparedRequest,
    Response,
    Transport,
    TransportError,
)
from perfgate.engine.mix import EndpointRef, MixSampler
from perfgate.engine.params import RequestFactory
from perfgate.engine.tags import Tagger
from perfgate.engine.timeline import Phase
from perfgate.metrics.outcome import Outcome, classify_status

#: Drain bound beyond the largest family timeout.
DRAIN_SLACK_S = 1.0
#: The shortest sleep between dispatch passes (the event loops' timer resolution).
MIN_SLEEP_S = 0.001


class ResultSink(Protocol):
    """Where outcomes go (``perfgate.metrics.recorder.Recorder`` in a run)."""

    def sent(self, key: Any, t: float) -> None: ...

    def dropped(self, key: Any, t: float) -> None: ...

    def completed(
        self, key: Any, t: float, outcome: Outcome, latency_us: int, service_us: int
    ) -> None: ...


KeyFor = Callable[[str, EndpointRef], Hashable]
SleepUntil = Callable[[float], Awaitable[None]]


def plain_key(plateau_id: str, ref: EndpointRef) -> tuple[str, str, str, str]:
    """``(plateau, family, mix_class, endpoint)``: the fields of the recorder's SeriesKey."""
    return (plateau_id, ref.family, ref.mix_class, ref.name)


@dataclass(frozen=True, slots=True)
class LiveCounters:
    phase: str | None
    inflight: int
    sent: int
    dropped: int
    completed: int


@dataclass(frozen=True, slots=True)
class ShardResult:
    sent: int
    dropped: int
    completed: int
    abandoned: int  # cancelled in flight after a stop (or past the drain bound)
    stopped: bool
    max_send_lag_s: float  # worst lateness of a dispatch pass behind its first due arrival
    unexpected_errors: int  # transport failures that were not TransportError (counted OTHER)
    elapsed_s: float


class Shard:
    def __init__(
        self,
        arrivals: Iterable[tuple[float, Phase]],
        sampler: MixSampler,
        factory: RequestFactory,
        tagger: Tagger,
        transport: Transport,
        sink: ResultSink,
        *,
        max_inflight: int,
        key_for: KeyFor = plain_key,
        clock: Callable[[], float] = time.monotonic,
        t0: float | None = None,
        sleep_until: SleepUntil | None = None,
        stop_grace_s: float = 1.0,
        max_sleep_s: float = 0.05,
        freeze_gc: bool = True,
    ) -> None:
        if max_inflight < 1:
            raise ValueError("max_inflight must be >= 1")
        self._arrivals = arrivals
        self._sampler = sampler
        self._endpoints: Sequence[EndpointRef] = sampler.endpoints
        self._factory = factory
        self._tagger = tagger
        self._transport = transport
        self._sink = sink
        self._max_inflight = max_inflight
        self._key_for = key_for
        self._clock = clock
        self._t0_given = t0
        self._t0 = 0.0
        self._sleep_until = sleep_until or self._real_sleep_until
        self._stop_grace_s = stop_grace_s
        self._max_sleep_s = max_sleep_s
        self._freeze_gc = freeze_gc
        self._max_timeout_s = max(ref.timeout_s for ref in self._endpoints)
        self._send = transport.send if isinstance(transport, CallbackTransport) else None
        self._tasks: set[asyncio.Task[None]] = set()
        self._inflight = 0
        self._abandoned = False  # callback path: answers after this are not counted
        self._idle: asyncio.Future[None] | None = None
        self._failure: BaseException | None = None
        self._ran = False
        self._phase: str | None = None
        self._sent = self._dropped = self._completed = self._unexpected = 0
        self._max_lag = 0.0

    async def _real_sleep_until(self, deadline: float) -> None:
        # Never less than MIN_SLEEP_S: event-loop timers tick in milliseconds, and uvloop
        # rounds a shorter sleep to 0, which would spin the loop at 100% CPU until the
        # next arrival. Arrivals due meanwhile go out together on the wake-up, and their
        # lateness counts in their latency.
        await asyncio.sleep(max(deadline - self._clock(), MIN_SLEEP_S))

    def live(self) -> LiveCounters:
        return LiveCounters(self._phase, self._inflight, self._sent, self._dropped,
                            self._completed)

    async def run(self, stop: asyncio.Event) -> ShardResult:
        if self._ran:
            raise RuntimeError("a Shard runs once")
        self._ran = True
        self._t0 = self._clock() if self._t0_given is None else self._t0_given
        abandoned = 0
        if self._freeze_gc:
            gc.freeze()
        try:
            await self._dispatch(stop)
            abandoned = await self._drain(stop)
        finally:
            if self._inflight:  # failure or cancellation: do not leave requests behind
                self._abandon()
                if self._tasks:
                    await asyncio.wait(list(self._tasks), timeout=self._stop_grace_s)
            if self._freeze_gc:
                gc.unfreeze()
        if self._failure is not None:
            raise self._failure
        return ShardResult(
            sent=self._sent, dropped=self._dropped, completed=self._completed,
            abandoned=abandoned, stopped=stop.is_set(), max_send_lag_s=self._max_lag,
            unexpected_errors=self._unexpected, elapsed_s=self._clock() - self._t0,
        )

    async def _dispatch(self, stop: asyncio.Event) -> None:
        # Hot path: everything looked up once, counters kept in locals.
        clock, t0, sleep_until, max_sleep = (
            self._clock, self._t0, self._sleep_until, self._max_sleep_s)
        pick, build, tag = self._sampler.pick, self._factory.build, self._tagger.apply
        sink_sent, sink_dropped, sink_completed = (
            self._sink.sent, self._sink.dropped, self._sink.completed)
        create_task = asyncio.get_running_loop().create_task
        tasks, on_done, one, cap = self._tasks, self._on_done, self._one, self._max_inflight
        send = self._send
        key_for, endpoints = self._key_for, self._endpoints
        phase: Phase | None = None
        phase_id = ""
        keys: list[Hashable] = []
        sent = dropped = 0
        max_lag = 0.0
        it = iter(self._arrivals)
        nxt = next(it, None)
        while nxt is not None and not stop.is_set():
            now = clock() - t0
            if nxt[0] <= now and now - nxt[0] > max_lag:
                max_lag = now - nxt[0]
            while nxt is not None and nxt[0] <= now:
                intended, p = nxt
                if p is not phase:
                    phase, phase_id = p, p.id
                    keys = [key_for(phase_id, ref) for ref in endpoints]
                    self._phase = phase_id
                ref = pick()
                key = keys[ref.index]
                if self._inflight >= cap:
                    dropped += 1
                    sink_dropped(key, now)
                else:
                    req = build(ref)
                    tag(req.headers, phase_id)
                    sent += 1
                    sink_sent(key, now)
                    self._inflight += 1
                    if send is None:
                        task = create_task(one(ref, req, key, intended))
                        tasks.add(task)
                        task.add_done_callback(on_done)
                    else:
                        # The callback path: the transport calls this when the answer is
                        # in (the body of _one and _on_done, without a task).
                        def done(response: Response | None, error: BaseException | None,
                                 key: Hashable = key, intended: float = intended,
                                 start: float = clock()) -> None:
                            end = clock()
                            if self._abandoned:
                                return
                            if error is None:
                                assert response is not None
                                outcome = classify_status(response.status)
                            elif isinstance(error, TransportError):
                                outcome = error.outcome
                            else:
                                outcome = Outcome.OTHER
                                self._unexpected += 1
                            t = end - t0
                            self._completed += 1
                            self._inflight -= 1
                            try:
                                sink_completed(key, t, outcome,
                                               round((t - intended) * 1_000_000),
                                               round((end - start) * 1_000_000))
                            except BaseException as exc:
                                if self._failure is None:
                                    self._failure = exc
                            if not self._inflight:
                                self._set_idle()

                        send(req, ref.timeout_s, done)
                nxt = next(it, None)
            self._sent, self._dropped, self._max_lag = sent, dropped, max_lag
            if self._failure is not None:
                raise self._failure
            if nxt is not None:
                due = nxt[0]
                await sleep_until(t0 + (due if due - now <= max_sleep else now + max_sleep))

    async def _one(
        self, ref: EndpointRef, req: PreparedRequest, key: Hashable, intended: float
    ) -> None:
        clock = self._clock
        start = clock()
        try:
            response = await self._transport.request(req, ref.timeout_s)
        except TransportError as exc:
            outcome = exc.outcome
        except Exception:  # a transport bug must not stop the run: counted, kept visible
            outcome = Outcome.OTHER
            self._unexpected += 1
        else:
            outcome = classify_status(response.status)
        end = clock()
        t = end - self._t0
        self._completed += 1
        self._sink.completed(key, t, outcome, round((t - intended) * 1_000_000),
                             round((end - start) * 1_000_000))

    def _set_idle(self) -> None:
        if self._idle is not None and not self._idle.done():
            self._idle.set_result(None)

    def _abandon(self) -> int:
        """Give up on every request in flight; return how many there were."""
        count = self._inflight
        self._abandoned = True
        if self._send is not None:  # nothing to cancel: their answers are ignored
            self._inflight = 0
        for task in list(self._tasks):
            task.cancel()
        return count

    def _on_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._inflight -= 1
        if not task.cancelled() and self._failure is None:
            self._failure = task.exception()
        if not self._inflight:
            self._set_idle()

    async def _drain(self, stop: asyncio.Event) -> int:
        """Wait for in-flight requests; return how many were abandoned."""
        if not self._inflight:
            return 0
        loop = asyncio.get_running_loop()
        idle = self._idle = loop.create_future()
        if not stop.is_set():
            stop_wait = loop.create_task(stop.wait())
            await asyncio.wait({idle, stop_wait}, timeout=self._max_timeout_s + DRAIN_SLACK_S,
                               return_when=asyncio.FIRST_COMPLETED)
            stop_wait.cancel()
            await asyncio.wait({stop_wait})
        if self._inflight and stop.is_set():
            await asyncio.wait({idle}, timeout=self._stop_grace_s)
        pending = list(self._tasks)
        abandoned = self._abandon() if self._inflight else 0
        if pending:
            await asyncio.wait(pending, timeout=self._stop_grace_s)
        return abandoned
