"""What the guards keep of the load while the run goes.

* per plateau, one merged ``Cell`` per family and one over every family (key None):
  the plateau's merged data the criteria are judged on (exact, as the report's);
* per second, error/timeout/SLO counts per family: the rolling window of the
  error-rate triggers. A window holds the closed seconds overlapping ``(now - span,
  now]``, i.e. ``now - span - 1 < second < now``; a window with no SLO request has no
  rate (None: a gap).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from perfgate.metrics.outcome import Outcome
from perfgate.metrics.window import Cell, Window

__all__ = ["LoadData"]

Counts = dict[str, list[int]]  # family -> [errors, timeouts, slo]


class LoadData:
    def __init__(self, keep_seconds: float = 3600.0) -> None:
        self.cells: dict[str, dict[str | None, Cell]] = {}
        self._seconds: deque[tuple[int, Counts]] = deque()
        self._keep = keep_seconds

    def add(self, windows: Sequence[Window]) -> None:
        per_second: dict[int, Counts] = {}
        for w in windows:
            cells = self.cells.setdefault(w.key.plateau, {})
            for key in (w.key.family, None):
                cell = cells.get(key)
                if cell is None:
                    cell = cells[key] = Cell()
                cell.merge(w.cell)
            c = per_second.setdefault(w.second, {}).setdefault(w.key.family, [0, 0, 0])
            c[0] += w.cell.errors
            c[1] += w.cell.counts[Outcome.TIMEOUT]
            c[2] += w.cell.slo_count
        for second in sorted(per_second):
            if self._seconds and self._seconds[-1][0] == second:  # late window, same second
                for fam, c in per_second[second].items():
                    old = self._seconds[-1][1].setdefault(fam, [0, 0, 0])
                    for i in range(3):
                        old[i] += c[i]
            else:
                self._seconds.append((second, per_second[second]))
        while self._seconds and self._seconds[0][0] < (self._seconds[-1][0] - self._keep):
            self._seconds.popleft()

    def plateau(self, plateau: str) -> dict[str | None, Cell]:
        return self.cells.get(plateau, {})

    def rolling_rate(self, now: float, span: float, family: str | None = None,
                     what: str = "error_rate") -> tuple[float | None, int]:
        """(rate, SLO requests) over the rolling window ending at ``now``."""
        k = n = 0
        index = 0 if what == "error_rate" else 1
        for second, counts in reversed(self._seconds):
            if second <= now - span - 1:
                break
            if second >= now:
                continue
            for fam, c in counts.items():
                if family is None or fam == family:
                    k += c[index]
                    n += c[2]
        return (k / n if n else None), n
