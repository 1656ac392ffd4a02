"""Store test data. Plain functions too: the SIGKILL child loads this file with runpy."""

from collections.abc import Callable

import pytest

from perfgate.metrics import Cell, Outcome, SeriesKey, Window

KEYS = (
    SeriesKey("p1", "core", "profile", "get_profile"),
    SeriesKey("p1", "core", "search", "search"),
    SeriesKey("p1", "ai", "ai", "analyze"),
)


def make_windows(second: int, base_us: int = 1000) -> list[Window]:
    """One window per key for ``second``, with known contents."""
    windows = []
    for i, key in enumerate(KEYS):
        cell = Cell()
        cell.add_sent(10 + i)
        cell.add_dropped(i)
        for j in range(10 + i):
            cell.record(Outcome.OK, base_us * (i + 1) + j + second, base_us)
        cell.record(Outcome.EXCLUDED, 5, 5)
        cell.record(Outcome.HTTP_5XX, 77_000, 70_000)
        windows.append(Window(second, key, cell))
    return windows


@pytest.fixture(name="make_windows")
def make_windows_fixture() -> Callable[..., list[Window]]:
    return make_windows


@pytest.fixture(name="keys")
def keys_fixture() -> tuple[SeriesKey, ...]:
    return KEYS
