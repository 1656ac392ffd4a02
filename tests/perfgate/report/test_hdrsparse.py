"""The sparse reader agrees with hdrh to the bit: counts, percentiles, dense round trip."""

import random

import pytest

from perfgate.metrics import histogram as hist
from perfgate.report import hdrsparse


def _histogram(n: int, seed: int) -> hist.HdrHistogram:
    rng = random.Random(seed)
    h = hist.new_histogram()
    for _ in range(n):
        hist.record(h, max(1, int(rng.lognormvariate(10, 1.5))))
    return h


@pytest.mark.parametrize(("n", "seed"), [(1, 1), (12, 2), (500, 3), (20_000, 4)])
def test_decode_matches_the_dense_counts(n: int, seed: int) -> None:
    h = _histogram(n, seed)
    sparse = hdrsparse.decode(hist.encode(h))
    assert sparse == {i: h.counts[i] for i in range(h.counts_len) if h.counts[i]}


@pytest.mark.parametrize(("n", "seed"), [(1, 5), (7, 6), (999, 7), (5000, 8)])
def test_percentiles_match_the_metrics_layer(n: int, seed: int) -> None:
    h = _histogram(n, seed)
    qs = (0, 50, 90, 95, 99, 99.9, 100)
    assert hdrsparse.percentiles_ms(hdrsparse.decode(hist.encode(h)), qs) == \
        hist.percentiles_ms(h, qs)


def test_merge_then_dense_is_the_dense_merge() -> None:
    parts = [_histogram(300, s) for s in range(5)]
    merged_dense = hist.new_histogram()
    merged_sparse: hdrsparse.Sparse = {}
    for h in parts:
        hist.merge_into(merged_dense, h)
        hdrsparse.add_into(merged_sparse, hdrsparse.decode(hist.encode(h)))
    dense = hdrsparse.to_dense(merged_sparse)
    assert dense is not None
    assert hist.encode(dense) == hist.encode(merged_dense)
    assert dense.total_count == merged_dense.total_count
    assert hist.max_ms(dense) == hist.max_ms(merged_dense)
    assert hist.min_ms(dense) == hist.min_ms(merged_dense)


def test_empty_and_foreign_blobs() -> None:
    assert hdrsparse.to_dense({}) is None
    assert hdrsparse.percentiles_ms({})["p99"] is None
    with pytest.raises(ValueError, match="not a valid"):
        hdrsparse.decode(b"not base64!")
