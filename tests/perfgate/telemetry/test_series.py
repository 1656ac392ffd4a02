"""The in-memory signal store: rolling windows, gaps that hide values, plateau buckets."""

from __future__ import annotations

import math

from perfgate.telemetry.series import SignalStore


def test_window_holds_the_samples_in_now_minus_span_to_now() -> None:
    s = SignalStore()
    for t in range(10):
        s.add(float(t), "cpu_percent", 10.0 * t)
    assert s.window("cpu_percent", 9.0, 3.0) == [70.0, 80.0, 90.0]
    assert s.window("cpu_percent", 30.0, 3.0) is None  # nothing recent: no value
    assert s.window("nope", 9.0, 3.0) is None
    assert s.latest("cpu_percent") == 90.0


def test_a_gap_hides_the_signal_until_the_next_good_read() -> None:
    s = SignalStore()
    s.add(1.0, "cpu_percent", 50.0)
    assert s.open_gap("cpu_percent", 2.0, "HTTP 500")
    assert not s.open_gap("cpu_percent", 3.0, "HTTP 500")  # the same gap
    assert s.window("cpu_percent", 2.0, 60.0) is None
    assert s.latest("cpu_percent") is None
    gap = s.close_gap("cpu_percent", 5.0)
    assert gap is not None and gap.since == 2.0 and s.gap_seconds["cpu_percent"] == 3.0
    assert s.window("cpu_percent", 5.0, 60.0) == [50.0]


def test_labels_select_series() -> None:
    s = SignalStore()
    s.add(1.0, "provider_requests_rate", 3.0, {"key": "primary", "outcome": "ok"})
    s.add(1.0, "provider_requests_rate", 1.0, {"key": "primary", "outcome": "quota"})
    assert s.window("provider_requests_rate", 1.0, 5.0, {"outcome": "quota"}) == [1.0]
    assert sorted(s.between("provider_requests_rate", 0.0, 1.0)) == [1.0, 3.0]


def test_buckets_between_two_times_is_the_plateau_histogram() -> None:
    s = SignalStore()
    inf = math.inf
    s.add_buckets(1.0, "db_query_seconds", [(0.05, 10.0), (inf, 10.0)])
    s.add_buckets(6.0, "db_query_seconds", [(0.05, 15.0), (inf, 30.0)])
    s.add_buckets(11.0, "db_query_seconds", [(0.05, 16.0), (inf, 40.0)])
    assert s.buckets_between("db_query_seconds", 5.0, 11.0) == [(0.05, 6.0), (inf, 30.0)]
    # a plateau that began before the first scrape counts from the first one
    assert s.buckets_between("db_query_seconds", 0.0, 6.5) == [(0.05, 5.0), (inf, 20.0)]
    assert s.buckets_between("db_query_seconds", 12.0, 13.0) is None
