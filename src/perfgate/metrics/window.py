"""One series' counts and histograms over one second (or any merged span).

Window semantics: a request is *sent* (or *dropped*) in the second of its send time and
*completed* in the second of its completion time, so a slow response lands in a later
window than its send. Over a plateau the difference is only at the edges; over the run
it is nil. Both histograms hold SLO outcomes only (every outcome except the 401, which is
counted but excluded from SLO statistics):

- ``latency``: completion time - INTENDED send time (the open-model schedule's time),
  which is free of coordinated omission: a stalled target or a late generator shows up.
- ``service``: completion time - actual send time, what the server and network took.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from perfgate.metrics import histogram as hist
from perfgate.metrics.histogram import HdrHistogram
from perfgate.metrics.outcome import ERROR_OUTCOMES, Outcome

__all__ = ["RECORD_FIELDS", "Cell", "CellRecord", "SeriesKey", "Window"]

#: A cell as stored: ``sent``, ``dropped``, one count per outcome (named by the outcome's
#: value) and the two histograms as encoded blobs (None when empty).
CellRecord = dict[str, int | bytes | None]
RECORD_FIELDS: tuple[str, ...] = (
    "sent",
    "dropped",
    *(o.value for o in Outcome),
    "latency",
    "service",
)


class SeriesKey(NamedTuple):
    """What a series is about. ``plateau`` is "p0" for the warm-up, then "p1".."pN"."""

    plateau: str
    family: str
    mix_class: str
    endpoint: str


class Cell:
    """Mutable accumulator of one series over one second or a merged span.

    Histograms are created on first use (an empty cell allocates nothing big), which
    keeps a second with no completions for a key cheap. A cell with completions holds two
    dense HdrHistograms, ~370 KiB: whatever keeps many windows around (a rolling minute
    per endpoint, a whole run) should keep merged cells or ``to_record()`` blobs
    (0.1-4 KiB), not thousands of live cells.
    """

    __slots__ = ("counts", "dropped", "latency", "sent", "service")

    def __init__(self) -> None:
        self.sent = 0
        self.dropped = 0
        self.counts: dict[Outcome, int] = dict.fromkeys(Outcome, 0)
        self.latency: HdrHistogram | None = None
        self.service: HdrHistogram | None = None

    def record(self, outcome: Outcome, latency_us: int, service_us: int) -> None:
        self.counts[outcome] += 1
        if outcome is Outcome.EXCLUDED:
            return
        # A value clamped into 1 µs..1 h is still counted; the return value is moot here.
        if self.latency is None:
            self.latency = hist.new_histogram()
        hist.record(self.latency, latency_us)
        if self.service is None:
            self.service = hist.new_histogram()
        hist.record(self.service, service_us)

    def add_sent(self, n: int = 1) -> None:
        self.sent += n

    def add_dropped(self, n: int = 1) -> None:
        self.dropped += n

    def merge(self, other: Cell) -> None:
        """Add ``other`` into this cell (exact; ``other`` is left unchanged)."""
        self.sent += other.sent
        self.dropped += other.dropped
        for outcome, n in other.counts.items():
            self.counts[outcome] += n
        self.latency = _merged(self.latency, other.latency)
        self.service = _merged(self.service, other.service)

    @property
    def completed(self) -> int:
        return sum(self.counts.values())

    @property
    def excluded(self) -> int:
        return self.counts[Outcome.EXCLUDED]

    @property
    def slo_count(self) -> int:
        return self.completed - self.excluded

    @property
    def errors(self) -> int:
        return sum(self.counts[o] for o in ERROR_OUTCOMES)

    @property
    def error_rate(self) -> float | None:
        slo = self.slo_count
        return self.errors / slo if slo else None

    def to_record(self) -> CellRecord:
        rec: CellRecord = {"sent": self.sent, "dropped": self.dropped}
        for outcome in Outcome:
            rec[outcome.value] = self.counts[outcome]
        rec["latency"] = _blob(self.latency)
        rec["service"] = _blob(self.service)
        return rec

    @classmethod
    def from_record(cls, rec: Mapping[str, object]) -> Cell:
        cell = cls()
        cell.sent = _int(rec, "sent")
        cell.dropped = _int(rec, "dropped")
        for outcome in Outcome:
            cell.counts[outcome] = _int(rec, outcome.value)
        cell.latency = _histogram(rec.get("latency"))
        cell.service = _histogram(rec.get("service"))
        return cell

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Cell):
            return NotImplemented
        return self.to_record() == other.to_record()

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return (
            f"Cell(sent={self.sent}, dropped={self.dropped}, completed={self.completed}, "
            f"errors={self.errors}, excluded={self.excluded})"
        )


@dataclass(frozen=True)
class Window:
    second: int
    key: SeriesKey
    cell: Cell


def _merged(dst: HdrHistogram | None, src: HdrHistogram | None) -> HdrHistogram | None:
    if not hist.total_count(src):
        return dst
    if dst is None:
        dst = hist.new_histogram()
    hist.merge_into(dst, src)
    return dst


def _blob(h: HdrHistogram | None) -> bytes | None:
    return hist.encode(h) if h is not None and h.total_count else None


def _histogram(value: object) -> HdrHistogram | None:
    if value is None:
        return None
    if isinstance(value, memoryview):
        value = value.tobytes()
    if not isinstance(value, bytes | str):
        raise ValueError(f"histogram blob must be bytes, got {type(value).__name__}")
    return hist.decode(value.encode("ascii") if isinstance(value, str) else value)


def _int(rec: Mapping[str, object], name: str) -> int:
    value = rec.get(name, 0)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"cell field {name!r} must be a count >= 0, got {value!r}")
    return value
