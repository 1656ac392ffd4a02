"""One pass over a store's ``windows`` table: every merge the deliverables need.

The report needs the run merged three ways: per series (plateau, family, mix class,
endpoint) for the summary and the plateau table, and per (second, family) for the
charts. A window is read once, its blobs decoded sparsely
(:mod:`perfgate.report.hdrsparse`), and added into both; a second's family histograms
are reduced to percentiles as soon as the scan moves past that second, so memory is
O(series + seconds), never O(windows). Merges are exact (bucket counts add).

Counts order in :class:`Agg` follows :data:`perfgate.metrics.window.RECORD_FIELDS`
(``sent``, ``dropped``, then one count per outcome).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from perfgate.metrics.outcome import ERROR_OUTCOMES, Outcome
from perfgate.metrics.window import Cell, SeriesKey
from perfgate.report import hdrsparse
from perfgate.store.writer import DB_NAME

__all__ = ["Agg", "SecondRow", "StoreScan", "connect_ro", "scan_store"]

_OUTCOMES = tuple(Outcome)
_COUNT_COLUMNS = ("sent", "dropped", *(o.value for o in _OUTCOMES))
_N = len(_COUNT_COLUMNS)
_ERR_POS = tuple(2 + _OUTCOMES.index(o) for o in ERROR_OUTCOMES)
_TIMEOUT_POS = 2 + _OUTCOMES.index(Outcome.TIMEOUT)
_EXCLUDED_POS = 2 + _OUTCOMES.index(Outcome.EXCLUDED)


def connect_ro(run_dir: Path) -> sqlite3.Connection:
    """A read-only connection to ``run_dir``'s store (safe beside a live writer)."""
    path = (Path(run_dir) / DB_NAME).resolve()
    return sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)


@dataclass
class Agg:
    """Merged counts and sparse histograms of one group."""

    counts: list[int] = field(default_factory=lambda: [0] * _N)
    latency: hdrsparse.Sparse = field(default_factory=dict)
    service: hdrsparse.Sparse = field(default_factory=dict)

    def add(self, other: Agg) -> None:
        for i, n in enumerate(other.counts):
            self.counts[i] += n
        hdrsparse.add_into(self.latency, other.latency)
        hdrsparse.add_into(self.service, other.service)

    @property
    def sent(self) -> int:
        return self.counts[0]

    @property
    def completed(self) -> int:
        return sum(self.counts[2:])

    @property
    def slo(self) -> int:
        return self.completed - self.counts[_EXCLUDED_POS]

    @property
    def errors(self) -> int:
        return sum(self.counts[i] for i in _ERR_POS)

    @property
    def timeouts(self) -> int:
        return self.counts[_TIMEOUT_POS]

    def to_cell(self) -> Cell:
        """The exact :class:`Cell` these windows merge to."""
        cell = Cell()
        cell.sent, cell.dropped = self.counts[0], self.counts[1]
        for i, outcome in enumerate(_OUTCOMES):
            cell.counts[outcome] = self.counts[2 + i]
        cell.latency = hdrsparse.to_dense(self.latency)
        cell.service = hdrsparse.to_dense(self.service)
        return cell


@dataclass(frozen=True)
class SecondRow:
    """One family over one second: counts and latency percentiles (ms, None if empty)."""

    second: int
    family: str
    sent: int
    dropped: int
    slo: int
    errors: int
    timeouts: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


@dataclass
class StoreScan:
    step_s: int = 1
    series: dict[SeriesKey, Agg] = field(default_factory=dict)
    seconds: list[SecondRow] = field(default_factory=list)
    #: plateau -> second -> sends in that second (for "sends within the plateau's span")
    sent_by_second: dict[str, dict[int, int]] = field(default_factory=dict)

    def sent_before(self, plateau: str, end_s: float | None) -> int:
        per = self.sent_by_second.get(plateau, {})
        return sum(n for s, n in per.items() if end_s is None or s < end_s)

    def cells(self) -> dict[SeriesKey, Cell]:
        return {key: agg.to_cell() for key, agg in self.series.items()}


def _flush(scan: StoreScan, second: int, families: dict[str, Agg]) -> None:
    for family, agg in sorted(families.items()):
        pct = hdrsparse.percentiles_ms(agg.latency, (50, 95, 99))
        scan.seconds.append(SecondRow(second, family, agg.counts[0], agg.counts[1], agg.slo,
                                      agg.errors, agg.timeouts, pct["p50"], pct["p95"],
                                      pct["p99"]))


def scan_store(run_dir: Path, since: int = 0, step: int = 1) -> StoreScan:
    """Scan every window with ``second >= since`` (``since`` lets a live view go on).

    ``step``: the per-family rows (``seconds``) cover ``step`` seconds each, starting at
    multiples of ``step`` (histograms merged exactly over the step); series are unchanged.
    """
    scan = StoreScan(step_s=step)
    columns = ", ".join(("second", "plateau", "family", "mix_class", "endpoint",
                         *_COUNT_COLUMNS, "latency", "service"))
    conn = connect_ro(run_dir)
    try:
        rows = conn.execute(f"SELECT {columns} FROM windows WHERE second >= ? "
                            "ORDER BY second", (since,))
        current: int | None = None
        families: dict[str, Agg] = {}
        for row in rows:
            second = row[0]
            slot = second - second % step
            if slot != current:
                if current is not None:
                    _flush(scan, current, families)
                current, families = slot, {}
            key = SeriesKey(*row[1:5])
            counts = list(row[5:5 + _N])
            lat = hdrsparse.decode(row[-2]) if row[-2] is not None else {}
            svc = hdrsparse.decode(row[-1]) if row[-1] is not None else {}
            agg = scan.series.get(key)
            if agg is None:
                agg = scan.series[key] = Agg()
            fam = families.get(key.family)
            if fam is None:
                fam = families[key.family] = Agg()
            for target in (agg, fam):
                for i, n in enumerate(counts):
                    target.counts[i] += n or 0
                hdrsparse.add_into(target.latency, lat)
            hdrsparse.add_into(agg.service, svc)
            per = scan.sent_by_second.setdefault(key.plateau, {})
            per[second] = per.get(second, 0) + (counts[0] or 0)
        if current is not None:
            _flush(scan, current, families)
    finally:
        conn.close()
    return scan
