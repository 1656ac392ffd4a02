import pytest

from perfgate.metrics import RECORD_FIELDS, Cell, Outcome
from perfgate.metrics import histogram as hist


def test_new_cell_is_empty_and_allocates_no_histogram() -> None:
    cell = Cell()
    assert (cell.sent, cell.dropped, cell.completed, cell.slo_count, cell.errors) == (0,) * 5
    assert cell.error_rate is None
    assert cell.latency is None and cell.service is None


def test_counts_and_rates() -> None:
    cell = Cell()
    cell.add_sent(10)
    cell.add_dropped()
    for outcome in [Outcome.OK] * 5 + [Outcome.EXCLUDED] * 2 + [Outcome.HTTP_5XX, Outcome.TIMEOUT]:
        cell.record(outcome, 1000, 800)
    cell.record(Outcome.CONNECT, 50, 50)
    assert (cell.sent, cell.dropped, cell.completed) == (10, 1, 10)
    assert cell.excluded == 2 and cell.slo_count == 8
    assert cell.errors == 3
    assert cell.error_rate == 3 / 8


def test_401_is_counted_but_kept_out_of_the_histograms() -> None:
    cell = Cell()
    cell.record(Outcome.EXCLUDED, 9_000_000, 9_000_000)
    assert cell.latency is None
    cell.record(Outcome.OK, 2000, 1500)
    assert cell.latency is not None and cell.service is not None
    assert hist.total_count(cell.latency) == 1
    assert hist.max_ms(cell.latency) == 2.0
    assert hist.max_ms(cell.service) == 1.5


def test_record_round_trip() -> None:
    cell = Cell()
    cell.add_sent(3)
    cell.record(Outcome.OK, 1234, 1000)
    cell.record(Outcome.HTTP_4XX, 99, 98)
    rec = cell.to_record()
    assert tuple(rec) == RECORD_FIELDS
    assert rec["ok"] == 1 and rec["http_4xx"] == 1 and rec["excluded_401"] == 0
    assert isinstance(rec["latency"], bytes)
    back = Cell.from_record(rec)
    assert back == cell
    assert back.to_record() == rec


def test_empty_histograms_are_stored_as_none() -> None:
    cell = Cell()
    cell.add_sent()
    rec = cell.to_record()
    assert rec["latency"] is None and rec["service"] is None
    assert Cell.from_record(rec) == cell


def test_from_record_rejects_bad_values() -> None:
    rec = Cell().to_record()
    with pytest.raises(ValueError, match="sent"):
        Cell.from_record({**rec, "sent": -1})
    with pytest.raises(ValueError, match="blob"):
        Cell.from_record({**rec, "latency": 42})


def test_merge_adds_everything_and_leaves_the_source_alone() -> None:
    a, b = Cell(), Cell()
    a.add_sent(2)
    a.record(Outcome.OK, 100, 90)
    b.add_sent(3)
    b.add_dropped(1)
    b.record(Outcome.TIMEOUT, 5_000_000, 5_000_000)
    b_before = b.to_record()
    a.merge(b)
    assert (a.sent, a.dropped, a.completed, a.errors) == (5, 1, 2, 1)
    assert a.latency is not None and hist.total_count(a.latency) == 2
    assert b.to_record() == b_before
    assert a.latency is not b.latency
