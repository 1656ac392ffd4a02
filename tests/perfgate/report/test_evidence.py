"""Evidence read back from capture files through the store's capture events."""

from pathlib import Path

import pytest

from perfgate.report.evidence import gather
from perfgate.store.reader import RunReader


def test_statements_profiles_and_heaps(small_run: Path) -> None:
    with RunReader(small_run) as reader:
        ev = gather(small_run, reader.events())
    # the synthetic target's search_like: 0.24 x RPS calls/s, mean 0.08 ms x RPS^1.5,
    # over 60-s plateaus; deltas between each plateau's start and end /metrics captures
    p1 = ev.statements["p1"]["search_like"]
    assert p1.calls == pytest.approx(0.24 * 21 * 60)
    assert p1.mean_ms == pytest.approx(0.08 * 21 ** 1.5)
    assert ev.statements["p5"]["search_like"].mean_ms == pytest.approx(0.08 * 62 ** 1.5)
    assert ev.statement_files["p5"] == "captures/p5/db_queue_trace.end.txt"
    assert sorted(ev.profiles) == ["p1", "p2", "p3", "p4", "p5"]
    svg, prof = ev.profiles["p5"][0]
    assert svg == "captures/p5/cpu_profile.mid.svg" and prof.samples == 620 + 300 + 400
    assert sorted(ev.heaps) == ["p4", "p5"]
    assert ev.heaps["p5"][1]["studyhall/cache.py:41"] == 12e6
    assert ev.taken == 5 * 3 + 2 and ev.failed == []
