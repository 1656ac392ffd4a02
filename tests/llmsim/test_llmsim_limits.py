"""Sliding-window rate limits on an explicit (fake) clock."""

from __future__ import annotations

import pytest

from llmsim.limits import ProjectLimiter, SlidingWindow


def test_window_counts_entries_younger_than_the_window() -> None:
    w = SlidingWindow(60.0)
    w.add(0.0, 5)
    w.add(10.0, 7)
    assert w.used(59.999) == 12
    assert w.used(60.0) == 7  # the entry at t=0 leaves at exactly t=60
    assert w.used(70.0) == 0


def test_wait_to_fit_frees_oldest_entries_first() -> None:
    w = SlidingWindow(60.0)
    w.add(0.0, 40)
    w.add(20.0, 40)
    assert w.wait_to_fit(30.0, 20, 100) == 0.0
    assert w.wait_to_fit(30.0, 30, 100) == pytest.approx(30.0)  # after t=0 expires (t=60)
    assert w.wait_to_fit(30.0, 90, 100) == pytest.approx(50.0)  # needs both gone (t=80)
    assert w.wait_to_fit(30.0, 101, 100) is None  # never fits


def test_wait_to_empty_is_until_the_newest_entry_expires() -> None:
    w = SlidingWindow(60.0)
    assert w.wait_to_empty(0.0) == 0.0
    w.add(0.0, 1)
    w.add(15.0, 1)
    assert w.wait_to_empty(20.0) == pytest.approx(55.0)


def test_rpm_limit_denies_then_recovers() -> None:
    lim = ProjectLimiter(rpm=3, tpm=10_000, window_s=60.0)
    for t in (0.0, 1.0, 2.0):
        assert lim.try_acquire(t, 10) is None
    denied = lim.try_acquire(30.0, 10)
    assert denied is not None
    assert denied.kind == "requests"
    assert (denied.limit, denied.used, denied.requested) == (3, 3, 1)
    assert denied.retry_after_s == pytest.approx(30.0)  # the t=0 request leaves at t=60
    assert lim.try_acquire(60.0, 10) is None


def test_denied_calls_do_not_consume_the_window() -> None:
    lim = ProjectLimiter(rpm=1, tpm=10_000, window_s=60.0)
    assert lim.try_acquire(0.0, 1) is None
    for t in (1.0, 2.0, 3.0):
        assert lim.try_acquire(t, 1) is not None
    assert lim.snapshot(3.0).remaining_requests == 0
    assert lim.try_acquire(60.0, 1) is None


def test_tpm_limit_and_request_limit_priority() -> None:
    lim = ProjectLimiter(rpm=2, tpm=100, window_s=60.0)
    assert lim.try_acquire(0.0, 80) is None
    denied = lim.try_acquire(5.0, 30)
    assert denied is not None and denied.kind == "tokens"
    assert (denied.limit, denied.used, denied.requested) == (100, 80, 30)
    assert denied.retry_after_s == pytest.approx(55.0)
    assert lim.try_acquire(5.0, 20) is None  # fits exactly: 100 <= 100
    # Now over both limits: the request limit is reported.
    denied = lim.try_acquire(6.0, 50)
    assert denied is not None and denied.kind == "requests"


def test_call_larger_than_tpm_is_too_large() -> None:
    lim = ProjectLimiter(rpm=10, tpm=100, window_s=60.0)
    denied = lim.try_acquire(0.0, 101)
    assert denied is not None
    assert denied.kind == "tokens" and denied.too_large
    assert denied.retry_after_s == 60.0


def test_snapshot_remaining_and_reset() -> None:
    lim = ProjectLimiter(rpm=10, tpm=1_000, window_s=60.0)
    fresh = lim.snapshot(0.0)
    assert (fresh.remaining_requests, fresh.remaining_tokens) == (10, 1_000)
    assert (fresh.reset_requests_s, fresh.reset_tokens_s) == (0.0, 0.0)
    lim.try_acquire(0.0, 100)
    lim.try_acquire(10.0, 250)
    snap = lim.snapshot(20.0)
    assert (snap.limit_requests, snap.limit_tokens) == (10, 1_000)
    assert (snap.remaining_requests, snap.remaining_tokens) == (8, 650)
    assert snap.reset_requests_s == pytest.approx(50.0)
    assert snap.reset_tokens_s == pytest.approx(50.0)
    later = lim.snapshot(65.0)
    assert (later.remaining_requests, later.remaining_tokens) == (9, 750)


def test_lowering_a_limit_live_never_reports_negative_remaining() -> None:
    lim = ProjectLimiter(rpm=10, tpm=1_000, window_s=60.0)
    for t in range(5):
        lim.try_acquire(float(t), 100)
    lim.rpm = 2
    assert lim.snapshot(5.0).remaining_requests == 0
    denied = lim.try_acquire(5.0, 1)
    assert denied is not None and denied.retry_after_s == pytest.approx(58.0)


def test_clear_empties_both_windows() -> None:
    lim = ProjectLimiter(rpm=1, tpm=10, window_s=60.0)
    lim.try_acquire(0.0, 10)
    lim.clear()
    assert lim.try_acquire(1.0, 10) is None
