from collections.abc import Callable
from pathlib import Path

from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader

from perfgate.metrics import Window, by_family, group_windows
from perfgate.metrics import histogram as hist
from perfgate.store import HLOG_NAME, RunWriter


def test_hlog_has_one_tagged_interval_per_second_per_family(
    tmp_path: Path, make_windows: Callable[[int], list[Window]]
) -> None:
    writer = RunWriter.create(tmp_path / "run", "r", "{}", {}, start_epoch_s=1_700_000_000.0)
    windows = {s: make_windows(s) for s in range(3)}
    for s in range(3):
        writer.add_windows(windows[s])
        writer.commit()
    writer.close("completed")

    path = str(tmp_path / "run" / HLOG_NAME)
    reader = HistogramLogReader(path, HdrHistogram(1, hist.HIGHEST_US, 3))
    seen = []
    while (h := reader.get_next_interval_histogram()) is not None:
        start_s = h.get_start_time_stamp() / 1000 - reader.get_start_time_sec()
        seen.append((round(start_s, 3), h.get_tag(), h))
    reader.close()
    assert reader.get_start_time_sec() == 1_700_000_000.0
    assert [(s, tag) for s, tag, _ in seen] == [
        (float(s), f) for s in range(3) for f in ("ai", "core")
    ]
    for second, tag, h in seen:
        expected = group_windows(windows[int(second)], by_family)[tag].latency
        assert h.equals(expected)  # merged across endpoints, 401s left out
        assert h.get_end_time_stamp() - h.get_start_time_stamp() == 1000.0

    # perfgate's own reader agrees
    ours = [(s, tag, hist.total_count(h)) for tag, s, h in hist.read_hlog(path)]
    assert ours == [(s, tag, hist.total_count(h)) for s, tag, h in seen]


def test_hlog_is_flushed_at_each_commit(
    tmp_path: Path, make_windows: Callable[[int], list[Window]]
) -> None:
    writer = RunWriter.create(tmp_path / "run", "r", "{}", {})
    path = tmp_path / "run" / HLOG_NAME
    writer.add_windows(make_windows(0))
    assert "Tag=" not in path.read_text()
    writer.commit()
    assert path.read_text().count("Tag=") == 2
    writer.close("completed")
