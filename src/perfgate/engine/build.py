"""Wire a ``Shard`` from a plan: timeline, schedule, mix, parameters and tags.

Seeds: the arrival stream uses ``schedule.seed``; the mix and the parameter values use
their own streams derived from it, so changing the mix does not move the arrivals.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping

from perfgate.engine.client import Transport
from perfgate.engine.mix import MixSampler, build_endpoints
from perfgate.engine.params import RequestFactory
from perfgate.engine.schedule import timeline_arrivals
from perfgate.engine.shard import KeyFor, ResultSink, Shard, plain_key
from perfgate.engine.tags import Tagger
from perfgate.engine.timeline import build_timeline
from perfgate.plan.models import Plan


def build_shard(
    plan: Plan,
    *,
    transport: Transport,
    sink: ResultSink,
    request_id_prefix: str | None = None,
    base_url: str | None = None,
    static_headers: Mapping[str, str] | None = None,
    time_scale: float = 1.0,
    key_for: KeyFor = plain_key,
    clock: Callable[[], float] = time.monotonic,
    t0: float | None = None,
) -> Shard:
    """``static_headers``: ``plan.target.headers`` after ``${ENV}`` expansion (the caller's)."""
    seed = plan.schedule.seed
    timeline = build_timeline(plan.schedule, time_scale)
    endpoints = build_endpoints(plan)
    return Shard(
        timeline_arrivals(timeline, plan.schedule.arrival, seed),
        MixSampler(endpoints, random.Random(f"{seed}/mix")),
        RequestFactory(plan, base_url, random.Random(f"{seed}/params"), static_headers,
                       endpoints),
        Tagger(plan.run_tag, request_id_prefix),
        transport,
        sink,
        max_inflight=plan.engine.max_inflight,
        key_for=key_for,
        clock=clock,
        t0=t0,
    )
