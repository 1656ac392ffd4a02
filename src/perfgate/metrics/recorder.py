"""Per-second accumulation of sends, drops and completions, keyed by series.

Times are float seconds since the run start on the caller's monotonic clock; the window
of an event is ``floor(t)``: the send time for ``sent``/``dropped``, the completion time
for ``completed`` (see :mod:`perfgate.metrics.window`).

Once a second has been closed it is never reopened, so every (second, key) window is
emitted exactly once: an event that arrives for an already closed second (its caller
lagged behind the closer) is counted in the oldest open second instead, and tallied in
:attr:`Recorder.late`. Nothing recorded is lost; it may only move forward in time.
"""

from __future__ import annotations

import math

from perfgate.metrics.outcome import Outcome
from perfgate.metrics.window import Cell, SeriesKey, Window

__all__ = ["Recorder"]


class Recorder:
    def __init__(self) -> None:
        # second -> key -> cell. Nested dicts avoid a (second, key) tuple per event.
        self._open: dict[int, dict[SeriesKey, Cell]] = {}
        self._closed_before = -math.inf
        self.late = 0

    def _cell(self, key: SeriesKey, t: float) -> Cell:
        second = math.floor(t)
        if second < self._closed_before:
            self.late += 1
            second = int(self._closed_before)
        cells = self._open.get(second)
        if cells is None:
            cells = self._open[second] = {}
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = Cell()
        return cell

    def sent(self, key: SeriesKey, t: float) -> None:
        self._cell(key, t).sent += 1

    def dropped(self, key: SeriesKey, t: float) -> None:
        self._cell(key, t).dropped += 1

    def completed(
        self, key: SeriesKey, t: float, outcome: Outcome, latency_us: int, service_us: int
    ) -> None:
        self._cell(key, t).record(outcome, latency_us, service_us)

    def close_before(self, second: int) -> list[Window]:
        """Return and forget every window whose second is < ``second``, by second then key."""
        self._closed_before = max(self._closed_before, second)
        done = sorted(s for s in self._open if s < second)
        return [
            Window(s, key, cell) for s in done for key, cell in sorted(self._open.pop(s).items())
        ]

    def close_all(self) -> list[Window]:
        """Close every open window (end of run)."""
        if not self._open:
            return []
        return self.close_before(max(self._open) + 1)

    @property
    def open_seconds(self) -> list[int]:
        return sorted(self._open)
