"""Reading a run's store: while it is being written, after it closed, or after a crash.

The database is opened read-only, so a reader (the live dashboard, ``perfgate report``)
can never change a run; under WAL it sees every committed second and nothing after.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from perfgate.metrics.window import RECORD_FIELDS, Cell, SeriesKey, Window
from perfgate.store.schema import CRITERIA_COLUMNS, LEDGER_COLUMNS, WINDOW_COLUMNS
from perfgate.store.writer import DB_NAME, HLOG_NAME, PLAN_NAME

__all__ = ["EventRow", "GeneratorRow", "PlateauRow", "RunReader", "SampleRow", "StoreError"]


class StoreError(Exception):
    """The directory holds no readable run store (missing, not SQLite, not perfgate's)."""


@dataclass(frozen=True)
class PlateauRow:
    id: str
    idx: int
    name: str
    target_rps: float
    start_s: float
    end_s: float | None
    status: str | None
    verdict: dict[str, Any] | None


@dataclass(frozen=True)
class EventRow:
    id: int
    t: float
    wall: str
    kind: str
    severity: str
    plateau: str | None
    message: str
    data: dict[str, Any] | None


@dataclass(frozen=True)
class GeneratorRow:
    second: int
    loop_lag_p99_us: int | None
    loop_lag_max_us: int | None
    cpu_percent: float | None
    rss_bytes: int | None
    inflight: int
    target_rps: float
    loop_lag_hist: bytes | None = None


@dataclass(frozen=True)
class SampleRow:
    t: float
    source: str
    name: str
    labels: dict[str, str] | None
    value: float


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class RunReader:
    def __init__(self, run_dir: Path | str) -> None:
        self.run_dir = Path(run_dir)
        db_path = self.run_dir / DB_NAME
        if not db_path.is_file():
            raise StoreError(f"{db_path}: no run store here")
        self._conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            self._conn.execute("SELECT value FROM meta WHERE key = 'run_id'").fetchone()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise StoreError(f"{db_path}: not a perfgate run store ({exc})") from exc

    @property
    def hlog_path(self) -> Path:
        return self.run_dir / HLOG_NAME

    def meta(self) -> dict[str, Any]:
        rows = self._conn.execute("SELECT key, value FROM meta ORDER BY key")
        return {key: _loads(value) for key, value in rows}

    @property
    def status(self) -> str:
        """``"running"`` for a store never closed (a live run, or one that died), else
        the final status the writer closed it with ("completed", "aborted", ...)."""
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'status'").fetchone()
        status = _loads(row[0]) if row else None
        return status if isinstance(status, str) else "running"

    @property
    def is_complete(self) -> bool:
        return self.status != "running"

    def plan_json(self) -> str:
        return (self.run_dir / PLAN_NAME).read_text(encoding="utf-8")

    def plateaus(self) -> list[PlateauRow]:
        rows = self._conn.execute(
            "SELECT id, idx, name, target_rps, start_s, end_s, status, verdict_json "
            "FROM plateaus ORDER BY idx, id"
        )
        return [
            PlateauRow(a, b, c, d, e, f, g, _loads(verdict))
            for a, b, c, d, e, f, g, verdict in rows
        ]

    def windows(self, plateau: str | None = None) -> Iterator[Window]:
        """Every stored window (histograms decoded), by second then key, lazily.

        Stream it into a merge (``group_windows(reader.windows(), by_plateau_family)``):
        a decoded cell holds two full HdrHistograms (~370 KiB), so a list of a full run's
        windows would not fit in memory while each merged group costs one cell.
        """
        sql = f"SELECT {', '.join(WINDOW_COLUMNS)} FROM windows"
        args: tuple[str, ...] = ()
        if plateau is not None:
            sql += " WHERE plateau = ?"
            args = (plateau,)
        sql += " ORDER BY second, plateau, family, mix_class, endpoint"
        for row in self._conn.execute(sql, args):
            cell = Cell.from_record(dict(zip(RECORD_FIELDS, row[5:], strict=True)))
            yield Window(row[0], SeriesKey(*row[1:5]), cell)

    def events(self, kind: str | None = None, *, after: int | None = None) -> list[EventRow]:
        """Events in order; ``after``: only those with a larger id (tailing a live run)."""
        sql = "SELECT id, t, wall, kind, severity, plateau, message, data FROM events WHERE 1 = 1"
        args: list[str | int] = []
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind)
        if after is not None:
            sql += " AND id > ?"
            args.append(after)
        rows = self._conn.execute(sql + " ORDER BY id", args)
        return [EventRow(a, b, c, d, e, f, g, _loads(data)) for a, b, c, d, e, f, g, data in rows]

    def generator_samples(self) -> list[GeneratorRow]:
        rows = self._conn.execute("SELECT * FROM generator ORDER BY second")
        return [GeneratorRow(*row) for row in rows]

    def samples(self, source: str | None = None, name: str | None = None) -> list[SampleRow]:
        sql = "SELECT t, source, name, labels, value FROM samples WHERE 1 = 1"
        args: list[str] = []
        if source is not None:
            sql += " AND source = ?"
            args.append(source)
        if name is not None:
            sql += " AND name = ?"
            args.append(name)
        rows = self._conn.execute(sql + " ORDER BY t, rowid", args)
        return [SampleRow(t, src, n, _loads(labels), value) for t, src, n, labels, value in rows]

    def ledger(self) -> list[dict[str, Any]]:
        """The AI-call ledger rows (``schema.LEDGER_COLUMNS``); [] for a store without one."""
        return self._rows("ledger", LEDGER_COLUMNS, "t, rowid")

    def criteria_results(self) -> list[dict[str, Any]]:
        """Criterion verdicts per plateau (``detail`` decoded); [] when none were judged."""
        rows = self._rows("criteria_results", CRITERIA_COLUMNS, "t, plateau, rowid")
        for row in rows:
            row["detail"] = _loads(row["detail"])
        return rows

    def _rows(self, table: str, columns: tuple[str, ...], order: str) -> list[dict[str, Any]]:
        try:
            cursor = self._conn.execute(
                f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}")
        except sqlite3.OperationalError:  # a store written before the table existed
            return []
        return [dict(zip(columns, row, strict=True)) for row in cursor]

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> RunReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
