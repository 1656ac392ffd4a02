"""The dispatcher on a fake clock: CO correction, the in-flight cap, stop and drain."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pytest

from perfgate.engine.client import MockTransport, PreparedRequest, Response, TransportTimeout
from perfgate.engine.mix import MixSampler, build_endpoints
from perfgate.engine.params import RequestFactory
from perfgate.engine.schedule import arrivals
from perfgate.engine.shard import Shard, plain_key
from perfgate.engine.tags import Tagger
from perfgate.engine.timeline import Phase
from perfgate.metrics.outcome import Outcome
from perfgate.plan.models import Plan

if TYPE_CHECKING:  # fixtures from conftest (not importable under --import-mode=importlib)
    FakeClock = Any
    FakeSink = Any

P1 = Phase("p1", 1, "plateau 1", 1.0, 0.0, 10.0, False)

Handler = Callable[[PreparedRequest], Awaitable[Response]]


def make_shard(
    plan: Plan, handler: Handler, sink: FakeSink, times: list[float], *,
    clock: FakeClock | None = None, max_inflight: int = 100, phase: Phase = P1,
    stop_grace_s: float = 1.0,
) -> Shard:
    refs = build_endpoints(plan)
    kwargs = {"clock": clock, "sleep_until": clock.sleep_until, "t0": 0.0} if clock else {}
    return Shard(
        [(t, phase) for t in times], MixSampler(refs, random.Random(0)),
        RequestFactory(plan, rng=random.Random(0)), Tagger(plan.run_tag, "t"),
        MockTransport(handler), sink, max_inflight=max_inflight, stop_grace_s=stop_grace_s,
        **kwargs,
    )


def request_index(req: PreparedRequest) -> int:
    return int(req.headers["X-Request-ID"].rsplit("-", 1)[1], 16) - 1


@pytest.mark.asyncio
async def test_latency_is_from_the_intended_time(
    small_plan: Plan, sink: FakeSink, fake_clock: FakeClock
) -> None:
    async def handler(req: PreparedRequest) -> Response:
        if request_index(req) == 1:  # intended at t=1.0: the server stalls 800 ms
            await fake_clock.sleep(0.8)
        return Response(200, {})

    shard = make_shard(small_plan, handler, sink, [0.0, 1.0, 2.0, 3.0], clock=fake_clock)
    result = await fake_clock.run(shard.run(asyncio.Event()))
    assert result.sent == 4 and result.completed == 4 and result.dropped == 0
    assert [t for _, t in sink.sent_at] == [0.0, 1.0, 2.0, 3.0]
    done = {round(t - lat / 1e6, 6): (t, lat, svc) for _, t, _, lat, svc in sink.done}
    assert done[1.0] == (pytest.approx(1.8), 800_000, 800_000)
    assert done[2.0] == (2.0, 0, 0)
    assert sink.done[0][0] == ("p1", "core", "only", "ping")


@pytest.mark.asyncio
async def test_late_dispatch_counts_in_latency_not_service(
    small_plan: Plan, sink: FakeSink, fake_clock: FakeClock
) -> None:
    async def handler(req: PreparedRequest) -> Response:
        await fake_clock.sleep(0.05)
        return Response(200, {})

    fake_clock.block(0.99, 1.2)  # the loop is busy: the wake-up for t=1.0 comes at 1.2
    shard = make_shard(small_plan, handler, sink, [0.0, 1.0, 2.0], clock=fake_clock)
    result = await fake_clock.run(shard.run(asyncio.Event()))
    assert [t for _, t in sink.sent_at] == [0.0, pytest.approx(1.2), 2.0]  # sent late, not skipped
    late = [d for d in sink.done if d[1] == pytest.approx(1.25)]
    assert len(late) == 1
    _, _, outcome, latency_us, service_us = late[0]
    assert outcome is Outcome.OK
    assert latency_us == 250_000 and service_us == 50_000
    assert result.max_send_lag_s == pytest.approx(0.2)


@pytest.mark.asyncio
async def test_all_due_arrivals_go_in_one_pass(
    small_plan: Plan, sink: FakeSink, fake_clock: FakeClock
) -> None:
    async def handler(req: PreparedRequest) -> Response:
        return Response(204, {})

    fake_clock.block(0.001, 0.5)  # after t=0 the next wake-up is at 0.5: 50 arrivals due
    times = [i / 100 for i in range(100)]
    shard = make_shard(small_plan, handler, sink, times, clock=fake_clock)
    result = await fake_clock.run(shard.run(asyncio.Event()))
    assert result.sent == 100 and result.completed == 100
    sent_times = [t for _, t in sink.sent_at]
    assert sent_times[:51] == [0.0] + [0.5] * 50
    assert sent_times[51:] == times[51:]
    lat = sorted(d[3] for d in sink.done)
    assert lat[-1] == 490_000 and lat[0] == 0


@pytest.mark.asyncio
async def test_in_flight_cap_drops_and_never_delays(
    small_plan: Plan, sink: FakeSink, fake_clock: FakeClock
) -> None:
    release = asyncio.Event()

    async def handler(req: PreparedRequest) -> Response:
        await release.wait()
        return Response(200, {})

    async def releaser() -> None:
        await fake_clock.sleep_until(100.0)
        release.set()

    times = [i * 0.25 for i in range(20)]
    shard = make_shard(small_plan, handler, sink, times, clock=fake_clock, max_inflight=5)

    async def both() -> object:
        result, _ = await asyncio.gather(shard.run(asyncio.Event()), releaser())
        return result

    result = await fake_clock.run(both())
    assert (result.sent, result.dropped, result.completed) == (5, 15, 5)
    assert [t for _, t in sink.sent_at] == times[:5]
    assert [t for _, t in sink.dropped_at] == times[5:]  # each drop at its own intended time
    assert all(d[2] is Outcome.OK for d in sink.done)


@pytest.mark.asyncio
async def test_outcomes_and_errors(small_plan: Plan, sink: FakeSink) -> None:
    answers = [Response(200, {}), Response(401, {}), Response(503, {}), Response(404, {})]

    async def handler(req: PreparedRequest) -> Response:
        i = request_index(req)
        if i < 4:
            return answers[i]
        if i == 4:
            raise TransportTimeout("slow")
        raise ValueError("transport bug")

    shard = make_shard(small_plan, handler, sink, [0.0] * 6)
    result = await shard.run(asyncio.Event())
    assert sorted(d[2] for d in sink.done) == sorted([
        Outcome.OK, Outcome.EXCLUDED, Outcome.HTTP_5XX, Outcome.HTTP_4XX, Outcome.TIMEOUT,
        Outcome.OTHER])
    assert result.unexpected_errors == 1 and result.completed == 6


@pytest.mark.asyncio
async def test_stop_is_prompt_and_abandons_after_grace(small_plan: Plan, sink: FakeSink) -> None:
    async def never(req: PreparedRequest) -> Response:
        await asyncio.Event().wait()
        raise AssertionError

    times = [i / 100 for i in range(1000)]  # 10 s at 100 RPS
    shard = make_shard(small_plan, never, sink, times, stop_grace_s=0.1)
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.2, stop.set)
    started = time.monotonic()
    result = await shard.run(stop)
    took = time.monotonic() - started
    assert took < 0.6
    assert result.stopped and 10 <= result.sent < 60
    assert result.abandoned == result.sent and result.completed == 0
    assert shard.live().inflight == 0


@pytest.mark.asyncio
async def test_drains_in_flight_at_the_end(small_plan: Plan, sink: FakeSink) -> None:
    async def slow(req: PreparedRequest) -> Response:
        await asyncio.sleep(0.1)
        return Response(200, {})

    shard = make_shard(small_plan, slow, sink, [0.0, 0.01, 0.02])
    result = await shard.run(asyncio.Event())
    assert (result.completed, result.abandoned, result.stopped) == (3, 0, False)
    assert all(d[3] >= 100_000 for d in sink.done)
    live = shard.live()
    assert (live.phase, live.inflight, live.sent, live.completed) == ("p1", 0, 3, 3)


@pytest.mark.asyncio
async def test_a_sink_failure_stops_the_run(small_plan: Plan) -> None:
    class Broken:
        def sent(self, *args: object) -> None:
            pass

        def dropped(self, *args: object) -> None:
            pass

        def completed(self, *args: object) -> None:
            raise RuntimeError("sink broke")

    async def ok(req: PreparedRequest) -> Response:
        return Response(200, {})

    shard = make_shard(small_plan, ok, Broken(), [0.0, 0.01, 0.02])
    with pytest.raises(RuntimeError, match="sink broke"):
        await shard.run(asyncio.Event())
    with pytest.raises(RuntimeError, match="runs once"):
        await shard.run(asyncio.Event())


@pytest.mark.asyncio
async def test_real_clock_poisson_plateau(small_plan: Plan, sink: FakeSink) -> None:
    async def ok(req: PreparedRequest) -> Response:
        return Response(200, {})

    times = list(arrivals(500.0, 0.0, 0.5, "poisson", random.Random(4)))
    shard = make_shard(small_plan, ok, sink, times)
    result = await shard.run(asyncio.Event())
    assert result.sent == len(times) and result.dropped == 0
    # dispatch lateness on an idle loop is small
    assert result.max_send_lag_s < 0.05
    assert plain_key("p1", build_endpoints(small_plan)[0]) == sink.sent_at[0][0]
