import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from perfgate.metrics import SeriesKey, Window, merge_cells
from perfgate.store import DB_NAME, HLOG_NAME, PLAN_NAME, RunReader, RunWriter, StoreError

PLAN = json.dumps({"name": "perf-6b", "plateaus": [21, 31]})


def new_writer(tmp_path: Path, **kwargs: object) -> RunWriter:
    return RunWriter.create(tmp_path / "run", "r-1", PLAN, {"target": "http://x"}, **kwargs)  # type: ignore[arg-type]


def test_create_lays_out_the_run_directory(tmp_path: Path) -> None:
    writer = new_writer(tmp_path, start_epoch_s=1_700_000_000.0)
    run_dir = tmp_path / "run"
    assert (run_dir / PLAN_NAME).read_text() == PLAN
    assert (run_dir / HLOG_NAME).exists()
    conn = sqlite3.connect(run_dir / DB_NAME)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()
    with RunReader(run_dir) as reader:
        meta = reader.meta()
        assert meta["run_id"] == "r-1" and meta["target"] == "http://x"
        assert meta["start_epoch_s"] == 1_700_000_000.0
        assert reader.status == "running" and not reader.is_complete
        assert reader.plan_json() == PLAN
    writer.close("completed")


def test_an_existing_store_is_never_overwritten(tmp_path: Path) -> None:
    new_writer(tmp_path).close("completed")
    with pytest.raises(FileExistsError):
        new_writer(tmp_path)


def test_everything_round_trips(
    tmp_path: Path, make_windows: Callable[[int], list[Window]], keys: tuple[SeriesKey, ...]
) -> None:
    writer = new_writer(tmp_path)
    written = make_windows(0) + make_windows(1)
    writer.add_windows(written)
    writer.upsert_plateau("p1", 1, "plateau 1", 21.0, 300.0, 1320.0, "running")
    writer.upsert_plateau("p1", 1, "plateau 1", 21.0, 300.0, verdict={"core": "PASS"})
    writer.upsert_plateau("p1", 1, "plateau 1", 21.0, 300.0, 1320.0, "done")
    writer.upsert_plateau("p0", 0, "warm-up", 10.0, 0.0)
    eid = writer.add_event(
        1.5, "alert", "p95 high", severity="warning", plateau="p1", data={"p95": 812.5}
    )
    writer.add_event(2.0, "note", "plain")
    writer.add_generator_sample(
        1,
        loop_lag_p99_us=900,
        loop_lag_max_us=4000,
        cpu_percent=35.5,
        rss_bytes=80 << 20,
        inflight=12,
        target_rps=21.0,
    )
    writer.add_sample(1.0, "prometheus", "cpu_percent", 41.0, labels={"pod": "a"})
    writer.set_meta("verdict", {"overall": "PASS"})
    writer.close("completed")
    assert writer.closed

    with RunReader(tmp_path / "run") as reader:
        assert reader.status == "completed" and reader.is_complete
        assert reader.meta()["verdict"] == {"overall": "PASS"}
        read = list(reader.windows())
        assert [(w.second, w.key) for w in read] == sorted((w.second, w.key) for w in written)
        assert {(w.second, w.key): w.cell for w in read} == {
            (w.second, w.key): w.cell for w in written
        }
        assert merge_cells(w.cell for w in read) == merge_cells(w.cell for w in written)
        assert [w.key.plateau for w in reader.windows(plateau="p1")] == ["p1"] * 6
        assert list(reader.windows(plateau="p9")) == []

        p0, p1 = reader.plateaus()
        assert (p0.id, p0.name, p0.status, p0.verdict) == ("p0", "warm-up", None, None)
        assert (p1.idx, p1.name, p1.target_rps, p1.start_s, p1.end_s) == (
            1,
            "plateau 1",
            21.0,
            300.0,
            1320.0,
        )
        assert (p1.status, p1.verdict) == ("done", {"core": "PASS"})  # the verdict stays

        alert, note = reader.events()
        assert (alert.id, alert.kind, alert.severity, alert.plateau) == (
            eid,
            "alert",
            "warning",
            "p1",
        )
        assert alert.data == {"p95": 812.5} and alert.wall.endswith("+00:00")
        assert (note.severity, note.data) == ("info", None)
        assert [e.kind for e in reader.events(kind="note")] == ["note"]

        (gen,) = reader.generator_samples()
        assert (gen.second, gen.loop_lag_p99_us, gen.cpu_percent, gen.inflight) == (
            1,
            900,
            35.5,
            12,
        )
        (sample,) = reader.samples(source="prometheus")
        assert (sample.name, sample.labels, sample.value) == ("cpu_percent", {"pod": "a"}, 41.0)
        assert reader.samples(name="nope") == []


def test_a_closed_store_is_one_plain_file(tmp_path: Path) -> None:
    new_writer(tmp_path).close("aborted")
    run_dir = tmp_path / "run"
    assert not (run_dir / (DB_NAME + "-wal")).exists()
    with RunReader(run_dir) as reader:
        assert reader.status == "aborted"


def test_close_needs_a_final_status_and_is_idempotent(tmp_path: Path) -> None:
    writer = new_writer(tmp_path)
    with pytest.raises(ValueError, match="final status"):
        writer.close("running")
    writer.close("completed")
    writer.close("aborted")  # already closed: no effect
    with RunReader(tmp_path / "run") as reader:
        assert reader.status == "completed"


def test_context_manager_records_how_the_run_ended(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), new_writer(tmp_path):
        raise RuntimeError("boom")
    with RunReader(tmp_path / "run") as reader:
        assert reader.status == "error"


def test_reader_sees_committed_data_only_while_the_writer_runs(
    tmp_path: Path, make_windows: Callable[[int], list[Window]], keys: tuple[SeriesKey, ...]
) -> None:
    writer = new_writer(tmp_path)
    reader = RunReader(tmp_path / "run")
    writer.add_windows(make_windows(0))
    writer.add_event(0.5, "note", "first")
    assert list(reader.windows()) == [] and reader.events() == []
    writer.commit()
    assert len(list(reader.windows())) == len(keys)
    assert [e.message for e in reader.events()] == ["first"]
    writer.add_windows(make_windows(1))
    assert len(list(reader.windows())) == len(keys)
    writer.commit()
    assert len(list(reader.windows())) == 2 * len(keys)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader._conn.execute("DELETE FROM windows")
    writer.close("completed")  # a reader still open: the store stays in WAL, still fine
    assert reader.status == "completed"
    reader.close()


def test_reader_on_a_missing_store_says_so(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no run store"):
        RunReader(tmp_path)


def test_reader_on_a_file_that_is_not_a_store_says_so(tmp_path: Path) -> None:
    (tmp_path / DB_NAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a perfgate run store"):
        RunReader(tmp_path)


def test_generator_sample_fields_may_be_unmeasured(tmp_path: Path) -> None:
    writer = new_writer(tmp_path)
    writer.add_generator_sample(
        0,
        loop_lag_p99_us=None,
        loop_lag_max_us=None,
        cpu_percent=None,
        rss_bytes=None,
        inflight=0,
        target_rps=10.0,
    )
    writer.add_generator_sample(
        0,
        loop_lag_p99_us=120,
        loop_lag_max_us=900,
        cpu_percent=12.0,
        rss_bytes=1,
        inflight=3,
        target_rps=10.0,
    )  # the same second again replaces the row
    writer.add_generator_sample(
        1,
        loop_lag_p99_us=None,
        loop_lag_max_us=None,
        cpu_percent=None,
        rss_bytes=None,
        inflight=0,
        target_rps=10.0,
    )
    writer.close("completed")
    with RunReader(tmp_path / "run") as reader:
        first, second = reader.generator_samples()
        assert (first.loop_lag_p99_us, first.inflight) == (120, 3)
        assert (second.loop_lag_p99_us, second.cpu_percent) == (None, None)


def test_secrets_are_redacted_from_events_and_meta(tmp_path: Path) -> None:
    secret = "sk-live-abc123XYZ"
    writer = new_writer(tmp_path, secrets=[secret, ""])
    writer.add_event(
        1.0, "error", f"401 with key {secret}", data={"header": f"Bearer {secret}", "n": 3}
    )
    writer.set_meta("last_error", f"auth failed for {secret}")
    writer.upsert_plateau("p1", 1, "plateau 1", 21.0, 0.0, verdict={"why": [secret]})
    writer.close("completed")
    with RunReader(tmp_path / "run") as reader:
        (event,) = reader.events()
        assert event.message == "401 with key [REDACTED]"
        assert event.data == {"header": "Bearer [REDACTED]", "n": 3}
        assert reader.meta()["last_error"] == "auth failed for [REDACTED]"
        assert reader.plateaus()[0].verdict == {"why": ["[REDACTED]"]}
    raw = (tmp_path / "run" / DB_NAME).read_bytes()
    assert secret.encode() not in raw
