"""The plan's captures section, the schedule it makes, and the flamegraph maths."""

import xml.etree.ElementTree as ET

import pytest
from pydantic import ValidationError

from perfgate.capture.flamegraph import parse_collapsed, render_svg
from perfgate.capture.hook import schedule
from perfgate.capture.spec import CaptureSpec
from perfgate.engine.timeline import build_timeline
from perfgate.report.synthetic import perf6b_plan


def test_perf6b_captures() -> None:
    plan = perf6b_plan()
    kinds = {c.name: (c.kind, c.plateaus) for c in plan.captures}
    assert kinds["cpu_profile"] == ("pyspy", "all")
    assert kinds["db_queue_trace"] == ("http", "all")
    assert kinds["pg_statements"][0] == "pg_stat_statements"
    assert kinds["flamegraph"] == ("pyspy", ["p4", "p5"])
    assert kinds["heap"] == ("http", ["p4", "p5"])


@pytest.mark.parametrize(("raw", "message"), [
    ({"name": "x", "kind": "http"}, "needs `url`"),
    ({"name": "x", "kind": "command"}, "needs `argv`"),
    ({"name": "x", "kind": "pg_stat_statements"}, "needs `dsn`"),
    ({"name": "x", "kind": "pyspy", "at": [1.5]}, "outside the plateau"),
    ({"name": "x", "kind": "pyspy", "plateaus": ["p0", "four"]}, "not plateau ids"),
    ({"name": "X", "kind": "pyspy"}, "pattern"),
])
def test_invalid_captures(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CaptureSpec.model_validate(raw)


def test_schedule_points_scale_with_the_timeline() -> None:
    plan = perf6b_plan()
    timeline = build_timeline(plan.schedule, 1 / 30)  # 10 s warm-up, 34 s plateaus
    dues = schedule(plan.captures, timeline)
    assert all(d.phase.id != "p0" for d in dues)  # the warm-up is never captured
    p4 = [(d.spec.name, d.label, round(d.t, 3), d.at_end) for d in dues if d.phase.id == "p4"]
    start = 10 + 3 * 34
    assert ("db_queue_trace", "start", start, False) in p4
    assert ("pg_statements", "reset", start, False) in p4
    assert ("flamegraph", "at20", round(start + 0.2 * 34, 3), False) in p4
    assert ("cpu_profile", "mid", start + 17, False) in p4
    assert ("heap", "at90", round(start + 0.9 * 34, 3), False) in p4
    ends = [n for n, label, _, at_end in p4 if at_end]
    assert ends == ["db_queue_trace", "pg_statements", "heap", "heap_stop"]  # plan order
    assert not any(d.spec.name == "heap" for d in dues if d.phase.id == "p3")
    assert [d.t for d in dues] == sorted(d.t for d in dues)


def test_self_time_and_svg() -> None:
    prof = parse_collapsed("main;a;hot 30\nmain;a 10\nmain;b;hot 20\n# comment\n\n"
                           "main;rec;rec 5\n")
    assert prof.samples == 65
    assert prof.self_samples() == {"hot": 50, "a": 10, "rec": 5}
    assert prof.total_samples()["main"] == 65 and prof.total_samples()["rec"] == 5
    svg = render_svg(prof, "test <profile>")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert "hot: 30 samples (46.2%)" in titles and "main: 65 samples (100.0%)" in titles
    assert "test &lt;profile&gt;" in svg
