"""Sparse reading of the store's HdrHistogram blobs, for the report's one pass over a run.

Why: decoding a blob with ``hdrh`` allocates a dense 23,552-counter array (~56 µs) and
a dense merge costs ~17 µs, so a full perf-6b store (27,000 windows, two blobs each,
merged three ways) takes seconds. A per-second window holds a few dozen distinct
buckets; reading the standard V2 wire format straight into ``{index: count}`` takes
~6 µs, and merging small dicts is cheaper still.

Exactness: the indices and counts are the blob's own, so a sparse merge holds exactly the
counts a dense merge would, and :func:`percentiles_ms` reproduces
:func:`perfgate.metrics.histogram.percentiles_ms` to the bit (nearest rank, reported as
the highest value equivalent to the bucket; pinned by tests against ``hdrh``).
:func:`to_dense` turns a merged sparse histogram back into the dense HdrHistogram the
metrics layer computes SLIs from, with ``min``/``max`` set as ``hdrh``'s decode sets them.

Layout: perfgate's only (1 µs .. 1 h, 3 significant digits: 2,048 sub-buckets, unit
magnitude 0); a blob of another layout raises ValueError.
"""

from __future__ import annotations

import base64
import binascii
import struct
import zlib
from collections.abc import Iterable

from perfgate.metrics import histogram as hist
from perfgate.metrics.histogram import HdrHistogram

__all__ = ["Sparse", "add_into", "decode", "percentiles_ms", "to_dense", "value_at_index"]

#: index -> count (no zero counts)
Sparse = dict[int, int]

_HALF_MAG = 10
_HALF = 1 << _HALF_MAG
_PAYLOAD_HEADER = struct.Struct(">iiiiqqd")  # cookie, length, offset, digits, low, high, ratio


def value_at_index(index: int) -> int:
    """The lowest value of the bucket at ``index`` (hdrh's ``get_value_from_index``)."""
    bucket = (index >> _HALF_MAG) - 1
    sub = (index & (_HALF - 1)) + _HALF
    if bucket < 0:
        sub -= _HALF
        bucket = 0
    return sub << bucket


def highest_at_index(index: int) -> int:
    """The highest value equivalent to the bucket at ``index``."""
    bucket = max((index >> _HALF_MAG) - 1, 0)
    return value_at_index(index) + (1 << bucket) - 1


def decode(blob: bytes | str) -> Sparse:
    """A V2 compressed histoblob (base64 of header + zlib payload) as ``{index: count}``."""
    try:
        raw = base64.b64decode(blob)
        data = zlib.decompress(raw[8:])
    except (binascii.Error, zlib.error, ValueError) as exc:
        raise ValueError(f"not a valid HdrHistogram blob: {exc!r}") from exc
    if len(data) < _PAYLOAD_HEADER.size:
        raise ValueError("HdrHistogram payload too short")
    _cookie, length, offset, digits, low, high, _ratio = _PAYLOAD_HEADER.unpack_from(data)
    if (digits, low, high, offset) != (hist.SIG_DIGITS, hist.LOWEST_US, hist.HIGHEST_US, 0):
        raise ValueError(f"histogram layout is not perfgate's ({low}, {high}, {digits})")
    out: Sparse = {}
    index = 0
    pos = _PAYLOAD_HEADER.size
    end = min(pos + length, len(data))
    while pos < end:  # ZigZag LEB128: a count, or minus a run of zero counts
        byte = data[pos]
        pos += 1
        value = byte & 0x7F
        shift = 7
        while byte & 0x80:
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
        value = (value >> 1) ^ -(value & 1)
        if value < 0:
            index -= value
        else:
            if value:
                out[index] = value
            index += 1
    return out


def add_into(dst: Sparse, src: Sparse) -> None:
    get = dst.get
    for index, count in src.items():
        dst[index] = get(index, 0) + count


def percentiles_ms(counts: Sparse, qs: Iterable[float] = (50, 90, 95, 99)
                   ) -> dict[str, float | None]:
    """As :func:`perfgate.metrics.histogram.percentiles_ms` (same keys, same values)."""
    qs = tuple(qs)
    out: dict[str, float | None] = {f"p{q:g}": None for q in qs}
    out["max"] = None
    if not counts:
        return out
    order = sorted(counts)
    total = sum(counts.values())
    out["max"] = highest_at_index(order[-1]) / 1000.0
    wanted = sorted((max(int(q * total / 100 + 0.5), 1), q) for q in qs)
    cumulative = 0
    w = 0
    for index in order:
        cumulative += counts[index]
        while w < len(wanted) and cumulative >= wanted[w][0]:
            q = wanted[w][1]
            edge = highest_at_index(index) if q else value_at_index(index)
            out[f"p{q:g}"] = edge / 1000.0
            w += 1
        if w == len(wanted):
            break
    return out


def to_dense(counts: Sparse) -> HdrHistogram | None:
    """The dense histogram holding ``counts`` (None when empty, as a cell's would be)."""
    if not counts:
        return None
    h = hist.new_histogram()
    for index, count in counts.items():
        h.counts[index] = count
    h.total_count = sum(counts.values())
    h.min_value = value_at_index(min(counts))
    h.max_value = highest_at_index(max(counts))
    return h
