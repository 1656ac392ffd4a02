"""What the store committed since a cursor: the rows a browser has not seen yet.

The dashboard never keeps its own copy of the run: every chart point it sends is read
from ``run.sqlite`` (read-only, WAL: only committed seconds), so a browser that
reconnects with ``Last-Event-ID`` and one that watched from the start see the same
numbers, and both are what ``perfgate report`` will read.

A :class:`Cursor` is four high-water marks, one per append-only stream: the last
window second, the last generator second, the last event id and the last sample rowid.
Every (second, series) window is written exactly once and all series of a second in
the same commit (see :mod:`perfgate.metrics.recorder`), so "second > cursor" never
misses or repeats a second. The cursor is the SSE event id.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfgate.metrics.outcome import ERROR_OUTCOMES, Outcome
from perfgate.report import hdrsparse
from perfgate.store.writer import DB_NAME

__all__ = ["Cursor", "last_window_second", "read_tail"]

_COUNT_FIELDS = ("sent", "dropped", *(o.value for o in Outcome))


@dataclass(frozen=True)
class Cursor:
    window: int = -1
    generator: int = -1
    event: int = 0
    sample: int = 0

    def encode(self) -> str:
        return f"{self.window}.{self.generator}.{self.event}.{self.sample}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor:
        """The cursor in a ``Last-Event-ID``; anything unreadable means "from the start"."""
        try:
            w, g, e, s = (int(part) for part in (text or "").split("."))
        except ValueError:
            return cls()
        return cls(max(w, -1), max(g, -1), max(e, 0), max(s, 0))

    def advanced(self, tail: dict[str, Any]) -> Cursor:
        def last(rows: list[dict[str, Any]], key: str, default: int) -> int:
            return max(default, *(int(r[key]) for r in rows)) if rows else default

        return Cursor(last(tail["seconds"], "s", self.window),
                      last(tail["generator"], "s", self.generator),
                      last(tail["events"], "id", self.event),
                      last(tail["samples"], "r", self.sample))


def empty_tail() -> dict[str, Any]:
    return {"seconds": [], "generator": [], "events": [], "samples": [], "plateaus": []}


def _connect(run_dir: Path) -> sqlite3.Connection | None:
    path = run_dir / DB_NAME
    if not path.is_file():
        return None  # the run has not created its store yet
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)


class _Fam:
    """One family over one second: counts by outcome and the merged sparse latency."""

    __slots__ = ("counts", "latency")

    def __init__(self) -> None:
        self.counts = dict.fromkeys(_COUNT_FIELDS, 0)
        self.latency: hdrsparse.Sparse = {}

    def row(self) -> dict[str, Any]:
        c = self.counts
        n = sum(c[o.value] for o in Outcome)
        slo = n - c[Outcome.EXCLUDED.value]
        pct = hdrsparse.percentiles_ms(self.latency)
        return {"n": n, "slo": slo, "err": sum(c[o.value] for o in ERROR_OUTCOMES),
                "timeouts": c[Outcome.TIMEOUT.value], "excluded": c[Outcome.EXCLUDED.value],
                "p50": pct["p50"], "p90": pct["p90"], "p95": pct["p95"], "p99": pct["p99"]}


def _seconds(db: sqlite3.Connection, after: int) -> list[dict[str, Any]]:
    """One row per second: sends, drops, and per family completions, errors, percentiles
    (exact merges of the second's windows, read sparsely as the report reads them)."""
    sql = (f"SELECT second, family, {', '.join(_COUNT_FIELDS)}, latency FROM windows "
           "WHERE second > ? ORDER BY second")
    seconds: dict[int, dict[str, _Fam]] = {}
    for second, family, *rest in db.execute(sql, (after,)):
        fam = seconds.setdefault(second, {}).setdefault(family, _Fam())
        for name, value in zip(_COUNT_FIELDS, rest, strict=False):
            fam.counts[name] += value or 0
        if rest[-1] is not None:
            hdrsparse.add_into(fam.latency, hdrsparse.decode(rest[-1]))
    return [{"s": second,
             "sent": sum(f.counts["sent"] for f in fams.values()),
             "dropped": sum(f.counts["dropped"] for f in fams.values()),
             "fam": {name: f.row() for name, f in sorted(fams.items())}}
            for second, fams in sorted(seconds.items())]


def _generator(db: sqlite3.Connection, after: int) -> list[dict[str, Any]]:
    rows = db.execute("SELECT second, loop_lag_p99_us, cpu_percent, rss_bytes, inflight, "
                      "target_rps FROM generator WHERE second > ? ORDER BY second", (after,))
    return [{"s": s, "lag_p99_ms": None if lag is None else lag / 1000, "cpu": cpu,
             "rss": rss, "inflight": inflight, "target_rps": target}
            for s, lag, cpu, rss, inflight, target in rows]


def _events(db: sqlite3.Connection, after: int) -> list[dict[str, Any]]:
    rows = db.execute("SELECT id, t, kind, severity, plateau, message FROM events "
                      "WHERE id > ? ORDER BY id", (after,))
    return [{"id": i, "t": t, "kind": kind, "severity": sev, "plateau": plateau,
             "message": message} for i, t, kind, sev, plateau, message in rows]


def _samples(db: sqlite3.Connection, after: int) -> list[dict[str, Any]]:
    rows = db.execute("SELECT rowid, t, source, name, labels, value FROM samples "
                      "WHERE rowid > ? ORDER BY rowid", (after,))
    return [{"r": r, "t": t, "src": src, "name": name,
             "labels": json.loads(labels) if labels else None, "v": value}
            for r, t, src, name, labels, value in rows]


def _plateaus(db: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = db.execute("SELECT id, idx, name, target_rps, start_s, end_s, status, verdict_json "
                      "FROM plateaus ORDER BY idx, id")
    return [{"id": i, "idx": idx, "name": name, "target_rps": rps, "start_s": start,
             "end_s": end, "status": status,
             "verdict": (json.loads(v) or {}).get("verdict") if v else None}
            for i, idx, name, rps, start, end, status, v in rows]


def last_window_second(run_dir: Path) -> int:
    """The last second with stored windows (-1: none yet)."""
    db = _connect(run_dir)
    if db is None:
        return -1
    try:
        row = db.execute("SELECT MAX(second) FROM windows").fetchone()
    except sqlite3.OperationalError:
        return -1
    finally:
        db.close()
    return -1 if row is None or row[0] is None else int(row[0])


def read_tail(run_dir: Path, cursor: Cursor) -> tuple[dict[str, Any], Cursor]:
    """Everything committed after ``cursor`` (plateaus always whole), and the new cursor.

    Blocking (SQLite and histogram decoding): call it in a worker thread.
    """
    db = _connect(run_dir)
    if db is None:
        return empty_tail(), cursor
    try:
        db.execute("BEGIN")  # one read transaction: every stream as of the same commit
        tail = {"seconds": _seconds(db, cursor.window),
                "generator": _generator(db, cursor.generator),
                "events": _events(db, cursor.event),
                "samples": _samples(db, cursor.sample),
                "plateaus": _plateaus(db)}
    except sqlite3.OperationalError:
        return empty_tail(), cursor  # created but no schema yet: nothing committed
    finally:
        db.close()
    return tail, cursor.advanced(tail)
