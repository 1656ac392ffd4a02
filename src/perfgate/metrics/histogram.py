"""Exact latency histograms: the one module that touches ``hdrh`` (HdrHistogram_py).

Every latency in perfgate is an integer number of MICROSECONDS recorded into an
HdrHistogram tracking 1 µs .. 1 h with 3 significant digits.

Precision guarantee
-------------------
Values are counted in buckets whose width is at most 1/1024 of the values they hold,
so any reported value is within 0.1% of the true one: 1 µs resolution up to 2,047 µs,
then 2 µs up to 4,095 µs, and so on doubling. Worked example: a true latency of
254,900 µs falls in the bucket [254,848 .. 254,975] (128 µs wide); a P99 landing on it
is reported as 254,975 µs = 254.975 ms (+0.03%), never as "250 ms" the way a tool
with rounded buckets (250, 300, ...) would.

Percentile semantics
--------------------
``percentile_ms(h, q)`` is the value of the sample of rank ``max(1, round(q% x N))``
(the nearest-rank definition, as HdrHistogram's ``get_value_at_percentile``), reported
as the HIGHEST value equivalent to its bucket: the answer is never below the true
order statistic and at most one bucket width (<= 0.1%) above it. ``q == 0`` gives the
LOWEST equivalent value of the smallest sample. ``max`` is likewise the highest
equivalent value of the largest sample, so it survives encode/decode and merges
unchanged (the raw maximum is not kept by the wire format).

Merges are exact: adding histograms adds bucket counts, so the merge of per-second
histograms has exactly the counts, total, min and max of one histogram fed the same
values.

Cost (a micro-benchmark on the dev box, CPython 3.11): ``new_histogram()``
allocates a 23,552-counter array (184 KiB) in ~130 µs, so windows create histograms
lazily; ``record()`` computes the bucket index inline (~0.2 µs against ~1 µs for
``record_value``), which is valid because every histogram here is built with the
layout checked by :func:`_check_layout`.
"""

from __future__ import annotations

import binascii
import itertools
import weakref
import zlib
from bisect import bisect_left
from collections.abc import Iterable, Iterator, MutableSequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from hdrh.codec import HdrCookieException, HdrLengthException
from hdrh.log import HistogramLogReader, HistogramLogWriter

if TYPE_CHECKING:

    class HdrHistogram:
        """The typed face of ``hdrh.histogram.HdrHistogram`` (hdrh ships no types): the
        members perfgate uses. Everything else should go through this module's functions."""

        lowest_trackable_value: int
        highest_trackable_value: int
        significant_figures: int
        unit_magnitude: int
        sub_bucket_half_count_magnitude: int
        counts_len: int
        counts: MutableSequence[int]  # a ctypes array of counters
        total_count: int
        min_value: int
        max_value: int

        def __init__(self, lowest: int, highest: int, significant_figures: int) -> None: ...
        def record_value(self, value: int, count: int = 1) -> bool: ...
        def add(self, other: HdrHistogram) -> None: ...
        def encode(self) -> bytes: ...
        @staticmethod
        def decode(encoded: bytes | str) -> HdrHistogram: ...
        def equals(self, other: HdrHistogram) -> bool: ...
        def get_total_count(self) -> int: ...
        def get_max_value(self) -> int: ...
        def get_min_value(self) -> int: ...
        def get_mean_value(self) -> float: ...
        def get_value_at_percentile(self, percentile: float) -> int: ...
        def get_count_at_value(self, value: int) -> int: ...
        def get_counts_array_index(self, value: int) -> int: ...
        def get_value_from_index(self, index: int) -> int: ...
        def get_lowest_equivalent_value(self, value: int) -> int: ...
        def get_highest_equivalent_value(self, value: int) -> int: ...
        def get_start_time_stamp(self) -> float: ...
        def get_tag(self) -> str | None: ...

else:
    from hdrh.histogram import HdrHistogram

__all__ = [
    "HIGHEST_US",
    "LOWEST_US",
    "SIG_DIGITS",
    "HdrHistogram",
    "HlogWriter",
    "decode",
    "encode",
    "max_ms",
    "merge_into",
    "min_ms",
    "new_histogram",
    "percentile_ms",
    "percentiles_ms",
    "read_hlog",
    "record",
    "total_count",
]

LOWEST_US = 1
HIGHEST_US = 3_600_000_000
SIG_DIGITS = 3

# The layout HdrHistogram derives from (1, 3.6e9, 3): 2,048 sub-buckets (half = 2^10),
# unit magnitude 0, 22 buckets. ``record`` relies on it; _check_layout enforces it.
_HALF_MAG = 10
_SUB_MASK = (1 << (_HALF_MAG + 1)) - 1
_COUNTS_LEN = 23_552
DEFAULT_QS: tuple[float, ...] = (50, 90, 95, 99)


def _check_layout(h: HdrHistogram) -> HdrHistogram:
    if (
        h.lowest_trackable_value != LOWEST_US
        or h.highest_trackable_value != HIGHEST_US
        or h.significant_figures != SIG_DIGITS
        or h.unit_magnitude != 0
        or h.sub_bucket_half_count_magnitude != _HALF_MAG
        or h.counts_len != _COUNTS_LEN
    ):
        raise ValueError(
            "histogram layout is not perfgate's "
            f"(lowest={h.lowest_trackable_value}, highest={h.highest_trackable_value}, "
            f"digits={h.significant_figures}); expected ({LOWEST_US}, {HIGHEST_US}, {SIG_DIGITS})"
        )
    return h


def _break_cycle(h: HdrHistogram) -> HdrHistogram:
    """hdrh's histogram and its encoder point at each other, so every dead per-second
    histogram (a 184 KiB counts array) waits for a rare full GC: RSS grew ~400 MB per
    run-hour. A weak back-reference lets reference counting free it at once."""
    encoder = getattr(h, "encoder", None)
    if encoder is not None and getattr(encoder, "histogram", None) is h:
        encoder.histogram = weakref.proxy(h)
    return h


def new_histogram() -> HdrHistogram:
    return _break_cycle(_check_layout(HdrHistogram(LOWEST_US, HIGHEST_US, SIG_DIGITS)))


def record(h: HdrHistogram, value_us: int) -> bool:
    """Count one latency; return False when it was out of range and clamped.

    Values below 1 µs count as 1 µs and values above 1 h as 1 h, so a sample is never
    lost (hdrh's ``record_value`` would return False and drop it). This is the per-request
    hot path: it does HdrHistogram's index arithmetic inline, equal to ``record_value``
    for the layout every perfgate histogram has (pinned by a test over every bucket edge).
    """
    in_range = True
    if value_us < LOWEST_US:
        value_us, in_range = LOWEST_US, False
    elif value_us > HIGHEST_US:
        value_us, in_range = HIGHEST_US, False
    bucket = (value_us | _SUB_MASK).bit_length() - (_HALF_MAG + 1)
    h.counts[((bucket + 1) << _HALF_MAG) + (value_us >> bucket) - (1 << _HALF_MAG)] += 1
    h.total_count += 1
    if value_us < h.min_value:
        h.min_value = value_us
    if value_us > h.max_value:
        h.max_value = value_us
    return in_range


def encode(h: HdrHistogram) -> bytes:
    """The standard compressed V2 histoblob (base64 of zlib), as HDR tools read it."""
    return h.encode()


def decode(blob: bytes) -> HdrHistogram:
    """Inverse of :func:`encode`; ValueError for a corrupt blob or a foreign layout."""
    try:
        h = HdrHistogram.decode(blob)
    except (HdrCookieException, HdrLengthException, binascii.Error, zlib.error) as exc:
        raise ValueError(f"not a valid HdrHistogram blob: {exc!r}") from exc
    return _break_cycle(_check_layout(h))


def merge_into(dst: HdrHistogram, src: HdrHistogram | None) -> None:
    """Add every count of ``src`` to ``dst`` (exact); None or empty adds nothing."""
    # hdrh's add() takes min() with the source's get_min_value(), which is 0 for an
    # empty histogram: skipping empty sources keeps dst's minimum right.
    if src is not None and src.total_count:
        dst.add(src)


def total_count(h: HdrHistogram | None) -> int:
    return 0 if h is None else h.total_count


def percentiles_ms(
    h: HdrHistogram | None, qs: Iterable[float] = DEFAULT_QS
) -> dict[str, float | None]:
    """``{"p50": .., "p90": .., "p95": .., "p99": .., "max": ..}`` in ms; None when empty
    (a cell's histograms are None until its first SLO completion: accepted here too).

    One pass: the cumulative counts up to the maximum are built in C (accumulate over
    the ctypes array), then each percentile is a bisection. ~0.25 ms against ~1.8 ms
    for hdrh's per-index Python loop; the semantics are hdrh's (see module docstring).
    """
    qs = tuple(qs)
    out: dict[str, float | None] = {_label(q): None for q in qs}
    out["max"] = max_ms(h)
    if h is None or not h.total_count:
        return out
    top = h.get_counts_array_index(h.max_value)
    cumulative = list(itertools.accumulate(h.counts[: top + 1]))
    for q in qs:
        if q < 0 or q > 100:
            raise ValueError(f"percentile {q} is outside 0..100")
        target = max(int(q * h.total_count / 100 + 0.5), 1)
        index = min(bisect_left(cumulative, target), top)
        value = h.get_value_from_index(index)
        edge = h.get_highest_equivalent_value(value) if q else h.get_lowest_equivalent_value(value)
        out[_label(q)] = edge / 1000.0
    return out


def percentile_ms(h: HdrHistogram | None, q: float) -> float | None:
    return percentiles_ms(h, (q,))[_label(q)]


def max_ms(h: HdrHistogram | None) -> float | None:
    return h.get_max_value() / 1000.0 if h is not None and h.total_count else None


def min_ms(h: HdrHistogram | None) -> float | None:
    return h.get_min_value() / 1000.0 if h is not None and h.total_count else None


def _label(q: float) -> str:
    return f"p{q:g}"


class HlogWriter:
    """An HdrHistogram interval log (``.hlog``) with one tag per series.

    hdrh 0.10.8's reader understands ``Tag=<tag>,`` lines but its writer cannot emit
    them, so the interval line is written here in the same format (log format 1.3, as
    Java's HistogramLogWriter). Timestamps are seconds since the run start, which the
    ``StartTime``/``BaseTime`` header pins to the epoch. Values are µs, so HDR tools
    want an output value unit ratio of 1000 to print ms.
    """

    def __init__(self, stream: TextIO, start_epoch_s: float, comment: str = "") -> None:
        self._stream = stream
        self._log = HistogramLogWriter(stream)
        if comment:
            self._log.output_comment(comment)
        stream.write("#[Histogram log format version 1.3]\n")
        started = datetime.fromtimestamp(start_epoch_s, UTC).isoformat()
        stream.write(f"#[StartTime: {start_epoch_s:f} (seconds since epoch), {started}]\n")
        self._log.output_base_time(start_epoch_s * 1000.0)
        self._log.output_legend()

    def write_interval(
        self, h: HdrHistogram, tag: str, start_s: float, length_s: float = 1.0
    ) -> None:
        # A tag ends at the first comma and may not hold whitespace; never fail a commit
        # over a family name, make it a valid tag instead.
        tag = "".join("_" if c == "," or c.isspace() else c for c in tag) or "_"
        payload = encode(h).decode("ascii")
        max_ms_value = h.get_max_value() / 1000.0
        self._stream.write(f"Tag={tag},{start_s:.3f},{length_s:.3f},{max_ms_value:.3f},{payload}\n")

    def flush(self) -> None:
        self._stream.flush()


def read_hlog(path: str) -> Iterator[tuple[str | None, float, HdrHistogram]]:
    """Yield ``(tag, start_s, histogram)`` per interval, start relative to StartTime."""
    reader = HistogramLogReader(path, new_histogram())
    try:
        while True:
            h = reader.get_next_interval_histogram()
            if h is None:
                return
            # Relative start as written (3 decimals), undoing the epoch round trip's float error.
            start_s = round(h.get_start_time_stamp() / 1000.0 - reader.get_start_time_sec(), 3)
            yield h.get_tag(), start_s, _check_layout(h)
    finally:
        reader.close()
