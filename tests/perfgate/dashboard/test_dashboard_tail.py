"""Reading what the store committed since a cursor: gap-free, never repeated."""

from __future__ import annotations

from pathlib import Path

from perfgate.dashboard.tail import Cursor, last_window_second, read_tail
from perfgate.metrics.histogram import new_histogram, percentiles_ms, record


def test_no_store_yet(tmp_path: Path) -> None:
    tail, cursor = read_tail(tmp_path / "missing", Cursor())
    assert tail["seconds"] == [] and cursor == Cursor()
    assert last_window_second(tmp_path / "missing") == -1


def test_cursor_round_trip_and_garbage() -> None:
    c = Cursor(5, 4, 12, 30)
    assert Cursor.parse(c.encode()) == c
    for junk in (None, "", "abc", "1.2.3", "1.2.3.x", "1.2.3.4.5"):
        assert Cursor.parse(junk) == Cursor()
    assert Cursor.parse("-9.-9.-9.-9") == Cursor()


def test_rows_per_second_match_the_windows(fake_run) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        fake_run.tick(sample=40.0, event="trigger_warning")
    tail, cursor = read_tail(fake_run.run_dir, Cursor())
    assert [r["s"] for r in tail["seconds"]] == [0, 1, 2]
    row = tail["seconds"][2]
    assert row["sent"] == 20 and row["dropped"] == 0
    core = row["fam"]["core"]
    assert (core["n"], core["slo"], core["err"], core["timeouts"]) == (10, 10, 1, 0)
    assert row["fam"]["ai"]["timeouts"] == 1 and row["fam"]["ai"]["err"] == 1
    # exact: the same percentiles the dense histogram of the same latencies gives
    h = new_histogram()
    for j in range(9):
        record(h, 1000 + 100 * j + 2)
    record(h, 1000)
    expected = percentiles_ms(h)
    assert [core[q] for q in ("p50", "p90", "p95", "p99")] == \
        [expected[q] for q in ("p50", "p90", "p95", "p99")]
    assert [g["s"] for g in tail["generator"]] == [0, 1, 2]
    assert tail["generator"][0]["lag_p99_ms"] == 2.0 and tail["generator"][1]["target_rps"] == 10
    assert [(s["src"], s["name"]) for s in tail["samples"][:2]] == \
        [("telemetry", "cpu_percent"), ("cost", "spend_usd")]
    assert [e["kind"] for e in tail["events"]] == ["trigger_warning"] * 3
    assert [p["id"] for p in tail["plateaus"]] == ["p0", "p1"]
    assert tail["plateaus"][1]["status"] == "running"
    assert cursor == Cursor(2, 2, tail["events"][-1]["id"], tail["samples"][-1]["r"])
    assert last_window_second(fake_run.run_dir) == 2


def test_only_what_is_new(fake_run) -> None:  # type: ignore[no-untyped-def]
    fake_run.tick()
    _, cursor = read_tail(fake_run.run_dir, Cursor())
    again, same = read_tail(fake_run.run_dir, cursor)
    assert same == cursor and not again["seconds"] and not again["generator"]
    assert again["plateaus"]  # always whole: statuses and verdicts change in place
    fake_run.tick(sample=1.0, event="abort")
    new, later = read_tail(fake_run.run_dir, cursor)
    assert [r["s"] for r in new["seconds"]] == [1]
    assert [g["s"] for g in new["generator"]] == [1]
    assert len(new["samples"]) == 2 and [e["kind"] for e in new["events"]] == ["abort"]
    assert later.window == 1 and later.event > cursor.event and later.sample > cursor.sample

