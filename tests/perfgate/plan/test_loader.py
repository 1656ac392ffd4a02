from __future__ import annotations

from pathlib import Path

import pytest

from perfgate.plan.durations import format_duration, parse_duration
from perfgate.plan.loader import PlanError, load_plan, parse_plan

ROOT = Path(__file__).resolve().parents[3]
PERF6B = ROOT / "plans" / "perf-6b.yaml"

MINIMAL = """\
name: t
run_tag: t1
target: {base_url: "http://127.0.0.1:9"}
schedule:
  plateaus:
    - {rps: 5, duration: 10s}
families:
  core: {timeout: 2s}
mix:
  reads:
    family: core
    weight: 1
    endpoints:
      - {name: home, path: /}
"""


def test_perf6b_encodes_the_memo() -> None:
    plan = load_plan(PERF6B)
    assert plan.run_tag == "perf6b"
    assert plan.schedule.warmup is not None
    assert (plan.schedule.warmup.rps, plan.schedule.warmup.duration) == (10, 300)
    assert [s.rps for s in plan.schedule.plateaus] == [21, 31, 41, 52, 62]
    assert {s.duration for s in plan.schedule.plateaus} == {17 * 60}
    weights = {name: c.weight for name, c in plan.mix.items()}
    assert weights == {"profile_reads": 35, "search_browse": 40, "ai_analysis": 25}
    families = {name: c.family for name, c in plan.mix.items()}
    assert families == {"profile_reads": "core", "search_browse": "core", "ai_analysis": "ai"}
    # 3x headroom: the top plateau is 3x the projected 12-month peak of ~20.7 RPS
    assert plan.schedule.plateaus[-1].rps / 20.7 == pytest.approx(3.0, abs=0.01)


def test_minimal_plan_defaults() -> None:
    plan = parse_plan(MINIMAL)
    assert plan.schedule.arrival == "poisson"
    assert plan.engine.max_inflight > 0
    assert plan.mix["reads"].endpoints[0].method == "GET"


def test_every_error_reported_with_file_line_and_path() -> None:
    text = MINIMAL.replace("rps: 5", "rps: -5").replace(
        "weight: 1", "weight: 1\n    colour: blue").replace("timeout: 2s", "timeout: soon")
    with pytest.raises(PlanError) as info:
        parse_plan(text, "plan.yaml")
    rendered = [str(i) for i in info.value.issues]
    assert len(rendered) == 3, rendered
    assert any(r.startswith("plan.yaml:6: schedule.plateaus[0].rps:") for r in rendered)
    assert any(r.startswith("plan.yaml:8: families.core.timeout:") and "bad duration" in r
               for r in rendered)
    assert any(r.startswith("plan.yaml:13: mix.reads.colour: unknown key") for r in rendered)


def test_semantic_errors_located() -> None:
    text = MINIMAL.replace("family: core", "family: coer").replace("path: /}", "path: \"/x/{id}\"}")
    with pytest.raises(PlanError) as info:
        parse_plan(text, "p.yaml")
    rendered = sorted(str(i) for i in info.value.issues)
    assert rendered == [
        "p.yaml:11: mix.reads.family: unknown family 'coer'; declared: ['core']",
        "p.yaml:14: mix.reads.endpoints[0].path: template uses {id} but params has no 'id'",
    ]


def test_yaml_syntax_error_has_line() -> None:
    with pytest.raises(PlanError) as info:
        parse_plan("name: x\nschedule: [unclosed\n", "bad.yaml")
    issue = info.value.issues[0]
    assert issue.file == "bad.yaml" and issue.line is not None and "YAML syntax" in issue.message


def test_missing_file() -> None:
    with pytest.raises(PlanError, match="cannot read plan"):
        load_plan("/nonexistent/plan.yaml")


@pytest.mark.parametrize(("text", "seconds"), [
    ("17m", 1020.0), ("5m30s", 330.0), ("250ms", 0.25), ("1h", 3600.0), (12, 12.0), ("1.5s", 1.5)])
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["soon", "5 minutes", "", "-3s", True, -1])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_format_duration() -> None:
    assert format_duration(1020) == "17m"
    assert format_duration(90.5) == "1m30.5s"
    assert format_duration(0.25) == "250ms"
