"""The run store's SQL schema (``run.sqlite``).

One row per (second, series) in ``windows``; histograms are HdrHistogram V2 blobs
(base64 of zlib, as :func:`perfgate.metrics.histogram.encode` makes them), NULL when
empty. ``meta`` values are JSON. Times ``t``/``start_s``/``end_s`` are seconds since the
run start (the controller's monotonic clock); ``wall`` is ISO-8601 UTC.
"""

from __future__ import annotations

from perfgate.metrics.window import RECORD_FIELDS

__all__ = [
    "CRITERIA_COLUMNS",
    "DDL",
    "LEDGER_COLUMNS",
    "SCHEMA_VERSION",
    "WINDOW_COLUMNS",
    "WINDOW_KEY_COLUMNS",
]

SCHEMA_VERSION = 1

WINDOW_KEY_COLUMNS: tuple[str, ...] = ("second", "plateau", "family", "mix_class", "endpoint")
#: Every column of ``windows`` in order: the key, then a cell's record fields.
WINDOW_COLUMNS: tuple[str, ...] = (*WINDOW_KEY_COLUMNS, *RECORD_FIELDS)

_CELL_TYPES = {"latency": "BLOB", "service": "BLOB"}

#: One row per AI call (the cost gate's ledger, see ``perfgate.guards.budget``): USD
#: amounts are exact decimal strings; ``finding`` lists what failed its checks
#: (comma-separated, NULL when the call checked out), ``note`` says why.
LEDGER_COLUMNS: tuple[str, ...] = (
    "t", "request_id", "plateau", "endpoint", "status", "path", "model", "provider_key",
    "prompt_tokens", "completion_tokens", "reserved_usd", "provider_cost_usd",
    "header_cost_usd", "billed_usd", "expected_billed_usd", "finding", "note",
)
_LEDGER_TYPES = {"t": "REAL", "status": "INT", "prompt_tokens": "INT",
                 "completion_tokens": "INT"}

#: One row per criterion per plateau (``perfgate.guards.criteria``); ``threshold`` and
#: ``value`` in the unit's terms (seconds, fraction, percent points, USD, count),
#: ``detail`` JSON (exact USD strings, the human sentence).
CRITERIA_COLUMNS: tuple[str, ...] = (
    "plateau", "name", "family", "statistic", "op", "threshold", "threshold_text", "unit",
    "value", "ci_low", "ci_high", "n", "min_samples", "verdict", "t", "detail",
)
_CRITERIA_TYPES = {"threshold": "REAL", "value": "REAL", "ci_low": "REAL", "ci_high": "REAL",
                   "n": "INT", "min_samples": "INT", "t": "REAL"}

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
        cpu_percent REAL, rss_bytes INT, inflight INT, target_rps REAL,
        loop_lag_hist BLOB)""",
    "CREATE TABLE IF NOT EXISTS samples (t REAL, source TEXT, name TEXT, labels TEXT, value REAL)",
    "CREATE INDEX IF NOT EXISTS samples_name ON samples (source, name, t)",
    "CREATE TABLE IF NOT EXISTS ledger ("
    + ", ".join(f"{c} {_LEDGER_TYPES.get(c, 'TEXT')}" for c in LEDGER_COLUMNS) + ")",
    "CREATE TABLE IF NOT EXISTS criteria_results ("
    + ", ".join(f"{c} {_CRITERIA_TYPES.get(c, 'TEXT')}" for c in CRITERIA_COLUMNS)
    + ", PRIMARY KEY (plateau, name))",
)
