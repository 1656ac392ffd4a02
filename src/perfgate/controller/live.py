"""Live, exact per-plateau aggregates for the snapshot stream.

Each closed window is merged once into its (plateau, family) cell, so the live P95
shown for the current plateau is the exact merged-histogram value, the same number
the report will compute from the store.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from perfgate.controller.snapshot import FamilyLive
from perfgate.metrics.histogram import percentiles_ms
from perfgate.metrics.window import Cell, Window

RECENT_SECONDS = 5


class LiveStats:
    def __init__(self) -> None:
        self._cells: dict[tuple[str, str], Cell] = {}
        self._recent_sent: deque[tuple[int, int]] = deque(maxlen=RECENT_SECONDS)
        self._recent_done: dict[str, deque[tuple[int, int]]] = {}
        self.sent = 0
        self.dropped = 0
        self.completed = 0

    def add(self, windows: Sequence[Window]) -> None:
        per_second_sent: dict[int, int] = {}
        per_second_done: dict[tuple[str, int], int] = {}
        for w in windows:
            key = (w.key.plateau, w.key.family)
            cell = self._cells.get(key)
            if cell is None:
                cell = self._cells[key] = Cell()
            cell.merge(w.cell)
            self.sent += w.cell.sent
            self.dropped += w.cell.dropped
            self.completed += w.cell.completed
            per_second_sent[w.second] = per_second_sent.get(w.second, 0) + w.cell.sent
            fk = (w.key.family, w.second)
            per_second_done[fk] = per_second_done.get(fk, 0) + w.cell.completed
        for second in sorted(per_second_sent):
            self._recent_sent.append((second, per_second_sent[second]))
        for (family, second), n in sorted(per_second_done.items(), key=lambda kv: kv[0][1]):
            self._recent_done.setdefault(family, deque(maxlen=RECENT_SECONDS)).append((second, n))

    def recent_send_rate(self) -> float:
        if not self._recent_sent:
            return 0.0
        return sum(n for _, n in self._recent_sent) / len(self._recent_sent)

    def families(self, plateau: str | None) -> dict[str, FamilyLive]:
        out: dict[str, FamilyLive] = {}
        for (p, family), cell in sorted(self._cells.items()):
            if p != plateau:
                continue
            pct = percentiles_ms(cell.latency)
            done = self._recent_done.get(family)
            rps = sum(n for _, n in done) / len(done) if done else 0.0
            out[family] = FamilyLive(
                family=family, requests=cell.completed, errors=cell.errors,
                error_rate=cell.error_rate, p50_ms=pct["p50"], p90_ms=pct["p90"],
                p95_ms=pct["p95"], p99_ms=pct["p99"], rps=rps)
        return out
