"""The open-model load engine: schedules, mix, requests, tags, transport, dispatcher.

See ``shard`` for the coordinated-omission contract. Public names are re-exported here
and pinned by ``tests/perfgate/engine/test_public_api.py``.
"""

from perfgate.engine.build import build_shard
from perfgate.engine.client import (
    AiohttpTransport,
    MockTransport,
    PreparedRequest,
    Response,
    Transport,
    TransportConnectError,
    TransportError,
    TransportTimeout,
)
from perfgate.engine.loop import LoopChoice, select_loop
from perfgate.engine.looplag import LagStats, LoopLagMonitor
from perfgate.engine.mix import EndpointRef, MixSampler, build_endpoints
from perfgate.engine.params import RequestFactory
from perfgate.engine.schedule import arrivals, timeline_arrivals
from perfgate.engine.shard import (
    LiveCounters,
    ResultSink,
    Shard,
    ShardResult,
    plain_key,
)
from perfgate.engine.tags import Tagger
from perfgate.engine.timeline import Phase, build_timeline, phase_at, total_duration

__all__ = [
    "AiohttpTransport",
    "EndpointRef",
    "LagStats",
    "LiveCounters",
    "LoopChoice",
    "LoopLagMonitor",
    "MixSampler",
    "MockTransport",
    "Phase",
    "PreparedRequest",
    "RequestFactory",
    "Response",
    "ResultSink",
    "Shard",
    "ShardResult",
    "Tagger",
    "Transport",
    "TransportConnectError",
    "TransportError",
    "TransportTimeout",
    "arrivals",
    "build_endpoints",
    "build_shard",
    "build_timeline",
    "phase_at",
    "plain_key",
    "select_loop",
    "timeline_arrivals",
    "total_duration",
]
