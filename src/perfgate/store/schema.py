"""The run store's SQL schema (``run.sqlite``).

One row per (second, series) in ``windows``; histograms are HdrHistogram V2 blobs
(base64 of zlib, as :func:`perfgate.metrics.histogram.encode` makes them), NULL when
empty. ``meta`` values are JSON. Times ``t``/``start_s``/``end_s`` are seconds since the
run start (the controller's monotonic clock); ``wall`` is ISO-8601 UTC.
"""

from __future__ import annotations

from perfgate.metrics.window import RECORD_FIELDS

__all__ = ["DDL", "SCHEMA_VERSION", "WINDOW_COLUMNS", "WINDOW_KEY_COLUMNS"]

SCHEMA_VERSION = 1

WINDOW_KEY_COLUMNS: tuple[str, ...] = ("second", "plateau", "family", "mix_class", "endpoint")
#: Every column of ``windows`` in order: the key, then a cell's record fields.
WINDOW_COLUMNS: tuple[str, ...] = (*WINDOW_KEY_COLUMNS, *RECORD_FIELDS)

_CELL_TYPES = {"latency": "BLOB", "service": "BLOB"}

DDL: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
    """CREATE TABLE IF NOT EXISTS plateaus (
        id TEXT PRIMARY KEY, idx INT, name TEXT, target_rps REAL,
        start_s REAL, end_s REAL, status TEXT, verdict_json TEXT)""",
    "CREATE TABLE IF NOT EXISTS windows ("
    "second INT, plateau TEXT, family TEXT, mix_class TEXT, endpoint TEXT, "
    + ", ".join(f"{name} {_CELL_TYPES.get(name, 'INT')}" for name in RECORD_FIELDS)
    + ")",
    "CREATE INDEX IF NOT EXISTS windows_plateau_family ON windows (plateau, family)",
    "CREATE INDEX IF NOT EXISTS windows_second ON windows (second)",
    """CREATE TABLE IF NOT EXISTS events (
        id INTEGER PRIMARY KEY, t REAL, wall TEXT, kind TEXT, severity TEXT,
        plateau TEXT, message TEXT, data TEXT)""",
    """CREATE TABLE IF NOT EXISTS generator (
        second INT PRIMARY KEY, loop_lag_p99_us INT, loop_lag_max_us INT,
        cpu_percent REAL, rss_bytes INT, inflight INT, target_rps REAL)""",
    "CREATE TABLE IF NOT EXISTS samples (t REAL, source TEXT, name TEXT, labels TEXT, value REAL)",
    "CREATE INDEX IF NOT EXISTS samples_name ON samples (source, name, t)",
)
