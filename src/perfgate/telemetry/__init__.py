"""Telemetry from the system under test: Prometheus text scrapes or PromQL queries,
turned into the plan's signals (rates, windowed quantiles, gauges, CPU %).

Public names are re-exported here (pinned by tests/perfgate/telemetry/test_public_api.py).
The running hook is ``perfgate.telemetry.collector.TelemetryHook`` (not imported here:
``perfgate.plan.models`` imports this package's ``spec`` and the hook imports the plan).
"""

from perfgate.telemetry.quantile import bucket_deltas, count_over, histogram_quantile
from perfgate.telemetry.series import SignalStore
from perfgate.telemetry.spec import SignalSpec, SourceSpec, TelemetrySpec, quantile_sample_name

__all__ = [
    "SignalSpec",
    "SignalStore",
    "SourceSpec",
    "TelemetrySpec",
    "bucket_deltas",
    "count_over",
    "histogram_quantile",
    "quantile_sample_name",
]
