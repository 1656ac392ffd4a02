import random
from pathlib import Path

import pytest
from hdrh.histogram import HdrHistogram

from perfgate.metrics import histogram as hist


def reference() -> HdrHistogram:
    return HdrHistogram(hist.LOWEST_US, hist.HIGHEST_US, hist.SIG_DIGITS)


def bucket_edges() -> list[int]:
    """Every power-of-two bucket edge and its neighbours across 1 µs .. 1 h."""
    values = {1, 2, 999, 1000, 1001, hist.HIGHEST_US - 1, hist.HIGHEST_US}
    edge = 1024
    while edge <= hist.HIGHEST_US:
        values.update({edge - 1, edge, edge + 1, 2 * edge - 1})
        edge *= 2
    return sorted(v for v in values if 1 <= v <= hist.HIGHEST_US)


def test_inline_record_equals_hdrh_record_value() -> None:
    rng = random.Random(7)
    values = bucket_edges() + [int(rng.lognormvariate(11, 2)) + 1 for _ in range(20_000)]
    values = [min(v, hist.HIGHEST_US) for v in values]
    ours, theirs = hist.new_histogram(), reference()
    for v in values:
        assert hist.record(ours, v)
        assert theirs.record_value(v)
    assert ours.equals(theirs)
    assert (ours.min_value, ours.max_value) == (theirs.min_value, theirs.max_value)
    assert hist.encode(ours) == theirs.encode()


def test_out_of_range_values_are_clamped_and_counted() -> None:
    h = hist.new_histogram()
    assert hist.record(h, 0) is False
    assert hist.record(h, -5) is False
    assert hist.record(h, hist.HIGHEST_US + 1) is False
    assert hist.record(h, 10**15) is False
    assert hist.total_count(h) == 4
    assert h.get_count_at_value(1) == 2
    assert h.get_count_at_value(hist.HIGHEST_US) == 2
    assert hist.percentile_ms(h, 0) == 0.001
    assert hist.max_ms(h) == pytest.approx(hist.HIGHEST_US / 1000, rel=1e-3)


def test_precision_worked_example_254_9_ms() -> None:
    h = hist.new_histogram()
    hist.record(h, 254_900)
    p99 = hist.percentile_ms(h, 99)
    assert p99 == 254.975  # highest value of the 128 µs bucket [254,848 .. 254,975]
    assert p99 is not None and 254.9 <= p99 <= 254.9 * 1.001


def test_relative_error_is_below_a_tenth_of_a_percent_everywhere() -> None:
    h = hist.new_histogram()
    for v in bucket_edges():
        high = h.get_highest_equivalent_value(v)
        low = h.get_lowest_equivalent_value(v)
        assert low <= v <= high
        assert high - low + 1 <= max(1, v / 1000)


def test_percentiles_match_hdrh_semantics() -> None:
    rng = random.Random(3)
    ours, theirs = hist.new_histogram(), reference()
    for _ in range(5000):
        v = int(rng.expovariate(1 / 40_000)) + 1
        hist.record(ours, v)
        theirs.record_value(v)
    qs = (0, 0.1, 1, 25, 50, 90, 95, 99, 99.9, 99.99, 100)
    got = hist.percentiles_ms(ours, qs)
    for q in qs:
        assert got[f"p{q:g}"] == theirs.get_value_at_percentile(q) / 1000, q
    assert got["max"] == theirs.get_max_value() / 1000
    assert hist.percentile_ms(ours, 99.9) == got["p99.9"]


def test_percentiles_of_empty_histogram_are_none() -> None:
    assert hist.percentiles_ms(hist.new_histogram()) == {
        "p50": None,
        "p90": None,
        "p95": None,
        "p99": None,
        "max": None,
    }
    assert hist.percentile_ms(hist.new_histogram(), 50) is None
    assert hist.min_ms(hist.new_histogram()) is None


def test_percentile_out_of_range_is_an_error() -> None:
    h = hist.new_histogram()
    hist.record(h, 5)
    with pytest.raises(ValueError, match="outside"):
        hist.percentile_ms(h, 101)


def test_encode_decode_round_trip() -> None:
    h = hist.new_histogram()
    for v in (1, 17, 2048, 254_900, 3_000_000):
        hist.record(h, v)
    blob = hist.encode(h)
    assert isinstance(blob, bytes) and blob.startswith(b"HISTF")
    back = hist.decode(blob)
    assert back.equals(h)
    assert hist.percentiles_ms(back) == hist.percentiles_ms(h)
    assert hist.encode(back) == blob


def test_decode_rejects_junk_and_foreign_layouts() -> None:
    with pytest.raises(ValueError, match="not a valid"):
        hist.decode(b"not a histogram")
    foreign = HdrHistogram(1, 60_000_000, 2)
    foreign.record_value(100)
    with pytest.raises(ValueError, match="layout"):
        hist.decode(foreign.encode())


def test_merge_into_skips_empty_sources_and_keeps_min() -> None:
    dst = hist.new_histogram()
    hist.record(dst, 500)
    hist.merge_into(dst, hist.new_histogram())
    assert hist.min_ms(dst) == 0.5
    src = hist.new_histogram()
    hist.record(src, 90)
    hist.merge_into(dst, src)
    assert (hist.total_count(dst), hist.min_ms(dst), hist.max_ms(dst)) == (2, 0.09, 0.5)


def test_hlog_round_trip_with_tags(tmp_path: Path) -> None:
    h = hist.new_histogram()
    for v in (10, 20, 254_900):
        hist.record(h, v)
    path = tmp_path / "x.hlog"
    with path.open("w") as stream:
        log = hist.HlogWriter(stream, start_epoch_s=1_700_000_000.5, comment="test")
        log.write_interval(h, "core", 0.0)
        log.write_interval(h, "bad tag,x", 7.0, 1.0)
        log.flush()
    text = path.read_text()
    assert "Tag=bad_tag_x,7.000,1.000,254.975," in text
    got = list(hist.read_hlog(str(path)))
    assert [(tag, start) for tag, start, _ in got] == [("core", 0.0), ("bad_tag_x", 7.0)]
    assert all(back.equals(h) for _, _, back in got)
