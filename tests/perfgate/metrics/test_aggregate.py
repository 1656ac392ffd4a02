import json
import random

import pytest

from perfgate.metrics import (
    Cell,
    Outcome,
    Recorder,
    SeriesKey,
    Window,
    by_family,
    by_minute_family,
    by_plateau_endpoint,
    by_plateau_family,
    by_plateau_mix_class,
    group_windows,
    merge_cells,
    sli_stats,
)
from perfgate.metrics import histogram as hist

QS = (0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100)


def test_per_second_windows_merge_exactly_into_the_whole() -> None:
    rng = random.Random(20240611)
    whole = hist.new_histogram()
    rec = Recorder()
    key = SeriesKey("p1", "core", "profile", "get_profile")
    for _ in range(30_000):
        t = rng.uniform(0, 120)
        value = int(rng.lognormvariate(10.5, 1.2)) + 1  # ~36 ms median, long tail
        hist.record(whole, value)
        rec.completed(key, t, Outcome.OK, value, value)
    windows = rec.close_all()
    assert len(windows) == 120
    merged = merge_cells(w.cell for w in windows).latency
    assert merged is not None
    assert hist.total_count(merged) == hist.total_count(whole) == 30_000
    assert hist.percentiles_ms(merged, QS) == hist.percentiles_ms(whole, QS)
    assert merged.get_max_value() == whole.get_max_value()
    assert merged.get_min_value() == whole.get_min_value()
    assert merged.equals(whole)
    # and the minutes merge into the same whole
    minutes = group_windows(windows, by_minute_family)
    assert sorted(minutes) == [(0, "core"), (1, "core")]
    assert merge_cells(minutes.values()).latency.equals(whole)  # type: ignore[union-attr]


def test_merge_survives_the_store_encoding() -> None:
    rng = random.Random(5)
    cells = []
    for _ in range(10):
        cell = Cell()
        for _ in range(200):
            cell.record(Outcome.OK, int(rng.expovariate(1 / 5000)) + 1, 100)
        cells.append(cell)
    direct = merge_cells(cells)
    via_store = merge_cells(Cell.from_record(c.to_record()) for c in cells)
    assert via_store == direct


def window(second: int, plateau: str, family: str, mix: str, endpoint: str, n: int) -> Window:
    cell = Cell()
    cell.add_sent(n)
    for i in range(n):
        cell.record(Outcome.OK, 1000 + i, 900)
    return Window(second, SeriesKey(plateau, family, mix, endpoint), cell)


def test_grouping_helpers() -> None:
    ws = [
        window(0, "p0", "core", "profile", "get_profile", 1),
        window(0, "p1", "core", "search", "search", 2),
        window(61, "p1", "core", "search", "browse", 4),
        window(61, "p1", "ai", "ai", "analyze", 8),
    ]
    assert {k: c.sent for k, c in group_windows(ws, by_family).items()} == {"core": 7, "ai": 8}
    assert {k: c.sent for k, c in group_windows(ws, by_plateau_family).items()} == {
        ("p0", "core"): 1,
        ("p1", "core"): 6,
        ("p1", "ai"): 8,
    }
    assert group_windows(ws, by_plateau_mix_class)[("p1", "search")].sent == 6
    assert group_windows(ws, by_plateau_endpoint)[("p1", "browse")].sent == 4
    assert group_windows(ws, by_minute_family)[(1, "core")].sent == 4
    # inputs untouched
    assert [w.cell.sent for w in ws] == [1, 2, 4, 8]


def test_sli_stats() -> None:
    cell = Cell()
    cell.add_sent(997)
    cell.add_dropped(3)
    for i in range(900):
        cell.record(Outcome.OK, 10_000 + i * 100, 5_000)
    for _ in range(40):
        cell.record(Outcome.EXCLUDED, 50, 50)
    for _ in range(30):
        cell.record(Outcome.HTTP_5XX, 2_000, 1_000)
    for _ in range(20):
        cell.record(Outcome.TIMEOUT, 30_000_000, 29_000_000)
    for _ in range(10):
        cell.record(Outcome.HTTP_4XX, 1_000, 800)
    s = sli_stats(cell, duration_s=10.0)
    assert (s.requests, s.slo_requests, s.ok, s.excluded_401) == (1000, 960, 900, 40)
    assert s.errors == 60
    assert s.errors_by_kind == {
        "http_4xx": 10,
        "http_5xx": 30,
        "timeout": 20,
        "connect": 0,
        "other": 0,
    }
    assert s.error_rate == pytest.approx(60 / 960)
    assert s.timeouts == 20 and s.timeout_rate == pytest.approx(20 / 960)
    assert s.dropped_rate == pytest.approx(3 / 1000)
    assert s.sent_rps == s.achieved_rps == pytest.approx(99.7)
    assert s.completed_rps == pytest.approx(100.0)
    assert s.p99_ms == pytest.approx(30_000, rel=1e-3)  # the 20 timeouts are the top 2%
    assert s.p50_ms is not None and 10 < s.p50_ms < 110
    assert s.max_ms == pytest.approx(30_000, rel=1e-3)
    assert s.service_p95_ms == pytest.approx(5.0, rel=1e-3)
    json.dumps(s.to_dict())
    assert s.to_dict()["p99_ms"] == s.p99_ms


def test_sli_stats_of_an_empty_cell() -> None:
    s = sli_stats(Cell(), duration_s=0.0)
    assert (s.requests, s.error_rate, s.dropped_rate, s.p95_ms, s.achieved_rps) == (
        0,
        None,
        None,
        None,
        None,
    )
    assert s.service_p99_ms is None
