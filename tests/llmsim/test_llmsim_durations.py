from __future__ import annotations

import pytest

from llmsim.durations import go_duration, header_duration

MS = 1_000_000
S = 1_000_000_000


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0s"),
        (1, "1ns"),
        (999, "999ns"),
        (1_500, "1.5µs"),
        (20 * MS, "20ms"),
        (1_500_000, "1.5ms"),
        (S, "1s"),
        (8_640 * MS, "8.64s"),
        (60 * S, "1m0s"),
        (6 * 60 * S, "6m0s"),
        (61 * S + 500 * MS, "1m1.5s"),
        (3600 * S, "1h0m0s"),
        (25 * 3600 * S + 61 * S, "25h1m1s"),
        (-20 * MS, "-20ms"),
        (-90 * S, "-1m30s"),
    ],
)
def test_go_duration_matches_go(ns: int, text: str) -> None:
    assert go_duration(ns) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (-1.0, "0s"),
        (0.0001, "1ms"),  # rounded up to the millisecond, never µs
        (0.02, "20ms"),
        (0.0201, "21ms"),
        (0.1 + 0.2, "300ms"),  # float noise does not add a millisecond
        (1, "1s"),
        (59.9995, "1m0s"),
        (360, "6m0s"),
    ],
)
def test_header_duration(seconds: float, text: str) -> None:
    assert header_duration(seconds) == text
