"""Writing a run's store as the run goes: ``run.sqlite``, ``latency.hlog``, the plan.

Durability contract: everything added before a :meth:`RunWriter.commit` survives the
process being killed (SIGKILL included) right after it. SQLite runs in WAL mode with
``synchronous=NORMAL``: a commit is a write into the WAL file, which the OS keeps when
the process dies (only a power loss could lose the last commits). The hlog lines of the
committed seconds are written and flushed in the same call, before the database commit.

A store whose ``meta.status`` is still ``"running"`` was never closed: the run died, and
readers treat it as incomplete.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TextIO

from perfgate.metrics import histogram as hist
from perfgate.metrics.histogram import HdrHistogram, HlogWriter
from perfgate.metrics.window import RECORD_FIELDS, Window
from perfgate.store.redact import redact, redact_value
from perfgate.store.schema import (
    CRITERIA_COLUMNS,
    DDL,
    LEDGER_COLUMNS,
    SCHEMA_VERSION,
    WINDOW_COLUMNS,
)

__all__ = ["DB_NAME", "HLOG_NAME", "PLAN_NAME", "RunWriter"]

DB_NAME = "run.sqlite"
HLOG_NAME = "latency.hlog"
PLAN_NAME = "plan.resolved.json"

_INSERT_WINDOW = (
    f"INSERT INTO windows ({', '.join(WINDOW_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in WINDOW_COLUMNS)})"
)
_UPSERT_PLATEAU = """
INSERT INTO plateaus (id, idx, name, target_rps, start_s, end_s, status, verdict_json)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    idx = excluded.idx, name = excluded.name, target_rps = excluded.target_rps,
    start_s = excluded.start_s, end_s = COALESCE(excluded.end_s, end_s),
    status = COALESCE(excluded.status, status),
    verdict_json = COALESCE(excluded.verdict_json, verdict_json)
"""


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class RunWriter:
    """The one writer of a run directory. Make it with :meth:`create`."""

    def __init__(
        self,
        run_dir: Path,
        conn: sqlite3.Connection,
        hlog_file: TextIO,
        hlog: HlogWriter,
        secrets: Iterable[str] = (),
    ) -> None:
        self.run_dir = run_dir
        self._conn = conn
        self._hlog_file = hlog_file
        self._hlog = hlog
        self._secrets = tuple(s for s in secrets if s)
        # (second, family) -> latency merged over that second's endpoints, until commit.
        self._pending_hlog: dict[tuple[int, str], HdrHistogram] = {}
        self._closed = False

    @classmethod
    def create(
        cls,
        run_dir: Path,
        run_id: str,
        plan_json: str,
        meta: Mapping[str, object],
        *,
        secrets: Iterable[str] = (),
        start_epoch_s: float | None = None,
    ) -> RunWriter:
        """Create ``run_dir`` (it must not already hold a store) and start the run's store.

        ``start_epoch_s`` is the wall time of the run clock's zero (default: now); it
        anchors the hlog's timestamps.
        """
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        db_path = run_dir / DB_NAME
        if db_path.exists():
            raise FileExistsError(f"{db_path} already exists: a run directory holds one run")
        started = time.time() if start_epoch_s is None else start_epoch_s
        _write_atomic(run_dir / PLAN_NAME, plan_json)
        conn = sqlite3.connect(db_path)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        for statement in DDL:
            conn.execute(statement)
        hlog_file = open(run_dir / HLOG_NAME, "w", encoding="ascii")  # noqa: SIM115 (owned)
        comment = (
            f"[perfgate run {run_id}: latency from the intended send time, values in "
            "microseconds, one interval per second per family tag]"
        )
        writer = cls(run_dir, conn, hlog_file, HlogWriter(hlog_file, started, comment), secrets)
        base: dict[str, object] = {
            "run_id": run_id,
            "schema_version": SCHEMA_VERSION,
            "status": "running",
            "started_at": datetime.fromtimestamp(started, UTC).isoformat(),
            "start_epoch_s": started,
        }
        for key, value in {**meta, **base}.items():
            writer.set_meta(key, value)
        writer.commit()
        return writer

    def _json(self, value: object) -> str:
        return json.dumps(redact_value(value, self._secrets), default=str, sort_keys=True)

    def set_meta(self, key: str, value: object) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, self._json(value))
        )

    def add_windows(self, windows: Sequence[Window]) -> None:
        rows = []
        for w in windows:
            rec = w.cell.to_record()
            rows.append((w.second, *w.key, *(rec[name] for name in RECORD_FIELDS)))
            if w.cell.latency is not None and hist.total_count(w.cell.latency):
                slot = (w.second, w.key.family)
                merged = self._pending_hlog.get(slot)
                if merged is None:
                    merged = self._pending_hlog[slot] = hist.new_histogram()
                hist.merge_into(merged, w.cell.latency)
        self._conn.executemany(_INSERT_WINDOW, rows)

    def add_event(
        self,
        t: float,
        kind: str,
        message: str,
        *,
        severity: str = "info",
        plateau: str | None = None,
        data: Mapping[str, object] | None = None,
    ) -> int:
        cursor = self._conn.execute(
            "INSERT INTO events (t, wall, kind, severity, plateau, message, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                t,
                _now_iso(),
                kind,
                severity,
                plateau,
                redact(message, self._secrets),
                None if data is None else self._json(data),
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def add_generator_sample(
        self,
        second: int,
        *,
        loop_lag_p99_us: int | None,
        loop_lag_max_us: int | None,
        cpu_percent: float | None,
        rss_bytes: int | None,
        inflight: int,
        target_rps: float,
        loop_lag_hist: bytes | None = None,
    ) -> None:
        """The generator's own health for ``second`` (None: not measured that second).

        ``loop_lag_hist``: that second's lag samples as an encoded histogram (µs), so a
        plateau's lag p99 is exact over all its samples, not a p99 of per-second p99s.
        """
        self._conn.execute(
            "INSERT OR REPLACE INTO generator VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                second,
                loop_lag_p99_us,
                loop_lag_max_us,
                cpu_percent,
                rss_bytes,
                inflight,
                target_rps,
                loop_lag_hist,
            ),
        )

    def add_sample(
        self,
        t: float,
        source: str,
        name: str,
        value: float,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        self._conn.execute(
            "INSERT INTO samples (t, source, name, labels, value) VALUES (?, ?, ?, ?, ?)",
            (t, source, name, None if labels is None else self._json(labels), value),
        )

    def add_ledger_rows(self, rows: Iterable[Mapping[str, object]]) -> None:
        """AI-call ledger rows (``schema.LEDGER_COLUMNS``; a missing column is NULL)."""
        self._conn.executemany(
            f"INSERT INTO ledger ({', '.join(LEDGER_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in LEDGER_COLUMNS)})",
            [tuple(self._cell(row.get(c)) for c in LEDGER_COLUMNS) for row in rows],
        )

    def put_criterion_result(self, row: Mapping[str, object]) -> None:
        """One criterion's verdict on one plateau (replaces an earlier one)."""
        self._conn.execute(
            f"INSERT OR REPLACE INTO criteria_results ({', '.join(CRITERIA_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in CRITERIA_COLUMNS)})",
            tuple(self._cell(row.get(c)) for c in CRITERIA_COLUMNS),
        )

    def _cell(self, value: object) -> object:
        """A column value: numbers and None as they are, text redacted, the rest JSON."""
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, str):
            return redact(value, self._secrets)
        return self._json(value)

    def upsert_plateau(
        self,
        plateau_id: str,
        idx: int,
        name: str,
        target_rps: float,
        start_s: float,
        end_s: float | None = None,
        status: str | None = None,
        verdict: Mapping[str, object] | None = None,
    ) -> None:
        """Insert or update a plateau; ``end_s``, ``status`` or ``verdict`` left None keep
        their stored value (so a verdict written once survives later status updates)."""
        verdict_json = None if verdict is None else self._json(verdict)
        self._conn.execute(
            _UPSERT_PLATEAU,
            (plateau_id, idx, name, target_rps, start_s, end_s, status, verdict_json),
        )

    def commit(self) -> None:
        """Make everything added so far durable (the controller calls this every second)."""
        for (second, family), h in sorted(self._pending_hlog.items()):
            self._hlog.write_interval(h, family, float(second))
        self._pending_hlog.clear()
        self._hlog.flush()
        self._conn.commit()

    def close(self, status: str) -> None:
        """Mark the run ended with ``status`` ("completed", "aborted", ...) and close."""
        if self._closed:
            return
        if not status or status == "running":
            raise ValueError(f"a closed run needs a final status, got {status!r}")
        self.set_meta("status", status)
        self.set_meta("ended_at", _now_iso())
        self.commit()
        self._closed = True
        self._hlog_file.close()
        # A closed store becomes one plain file (no -wal/-shm), copyable and readable
        # from a read-only place. Fails harmlessly while a reader (dashboard) holds it.
        with contextlib.suppress(sqlite3.OperationalError):
            self._conn.execute("PRAGMA journal_mode=DELETE")
        self._conn.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close("completed")
        else:
            self.close("interrupted" if issubclass(exc_type, KeyboardInterrupt) else "error")


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
