"""A run's store: ``run.sqlite`` (WAL, committed every second), ``latency.hlog`` and the
resolved plan, written as the run goes and readable while it runs or after it died.

Public names are re-exported here (pinned by tests/perfgate/store/test_public_api.py).
"""

from perfgate.store.reader import (
    EventRow,
    GeneratorRow,
    PlateauRow,
    RunReader,
    SampleRow,
    StoreError,
)
from perfgate.store.redact import REDACTED, redact
from perfgate.store.writer import DB_NAME, HLOG_NAME, PLAN_NAME, RunWriter

__all__ = [
    "DB_NAME",
    "HLOG_NAME",
    "PLAN_NAME",
    "REDACTED",
    "EventRow",
    "GeneratorRow",
    "PlateauRow",
    "RunReader",
    "RunWriter",
    "SampleRow",
    "StoreError",
    "redact",
]
