"""Per-second windows of exact latency histograms and outcome counts, and their merges.

Public names are re-exported here (pinned by tests/perfgate/metrics/test_public_api.py);
``perfgate.metrics.histogram`` is the only module that touches ``hdrh``.
"""

from perfgate.metrics.aggregate import (
    SliStats,
    by_family,
    by_minute_family,
    by_plateau_endpoint,
    by_plateau_family,
    by_plateau_mix_class,
    group_windows,
    merge_cells,
    sli_stats,
)
from perfgate.metrics.outcome import ERROR_OUTCOMES, SLO_OUTCOMES, Outcome, classify_status
from perfgate.metrics.recorder import Recorder
from perfgate.metrics.window import RECORD_FIELDS, Cell, CellRecord, SeriesKey, Window

__all__ = [
    "ERROR_OUTCOMES",
    "RECORD_FIELDS",
    "SLO_OUTCOMES",
    "Cell",
    "CellRecord",
    "Outcome",
    "Recorder",
    "SeriesKey",
    "SliStats",
    "Window",
    "by_family",
    "by_minute_family",
    "by_plateau_endpoint",
    "by_plateau_family",
    "by_plateau_mix_class",
    "classify_status",
    "group_windows",
    "merge_cells",
    "sli_stats",
]
