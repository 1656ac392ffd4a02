from perfgate.metrics import Outcome, Recorder, SeriesKey

PROFILE = SeriesKey("p1", "core", "profile", "get_profile")
SEARCH = SeriesKey("p1", "core", "search", "search")


def test_send_and_completion_land_in_their_own_seconds() -> None:
    rec = Recorder()
    rec.sent(PROFILE, 0.95)
    rec.completed(PROFILE, 2.10, Outcome.OK, 1_150_000, 900_000)  # sent at 0.95, done at 2.1
    rec.dropped(PROFILE, 1.5)
    windows = rec.close_all()
    by_second = {w.second: w.cell for w in windows}
    assert sorted(by_second) == [0, 1, 2]
    assert (by_second[0].sent, by_second[0].completed) == (1, 0)
    assert by_second[1].dropped == 1
    assert (by_second[2].sent, by_second[2].completed) == (0, 1)


def test_close_before_returns_sorted_windows_and_forgets_them() -> None:
    rec = Recorder()
    for t in (3.2, 0.1, 1.7, 0.4):
        rec.sent(SEARCH, t)
        rec.sent(PROFILE, t)
    first = rec.close_before(2)
    assert [(w.second, w.key.endpoint) for w in first] == [
        (0, "get_profile"),
        (0, "search"),
        (1, "get_profile"),
        (1, "search"),
    ]
    assert first[0].cell.sent == 2
    assert rec.close_before(2) == []
    assert rec.open_seconds == [3]
    assert [w.second for w in rec.close_all()] == [3, 3]
    assert rec.close_all() == []


def test_late_events_go_to_the_oldest_open_second_not_a_closed_one() -> None:
    rec = Recorder()
    rec.sent(PROFILE, 4.5)
    rec.close_before(5)
    rec.completed(PROFILE, 4.9, Outcome.OK, 10, 10)  # its second (4) is already closed
    assert rec.late == 1
    (window,) = rec.close_all()
    assert window.second == 5 and window.cell.completed == 1


def test_only_one_cell_per_key_per_second() -> None:
    rec = Recorder()
    for i in range(100):
        rec.completed(PROFILE, 7 + i / 100, Outcome.OK, 1000 + i, 900)
    (window,) = rec.close_all()
    assert window.cell.completed == 100
