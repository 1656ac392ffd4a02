"""Traffic mix vs telemetry (JSON, CSV, Prometheus text; adopt), vendor-limit projection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perfgate.cli.demo_cmd import packaged_plan
from perfgate.plan.loader import load_plan
from perfgate.preflight.mix import MixError, adopt_mix, compare_mix, read_counts
from perfgate.preflight.vendor import projected_peak

PLAN_FILE = Path(__file__).parents[3] / "src/perfgate/plans/perf-6b.yaml"


def test_perf6b_projection_per_key() -> None:
    peak = projected_peak(packaged_plan())
    # 62 RPS x 25% AI x 60 s; tokens: (0.15 + 0.10) x 750 x 62 x 60
    assert peak["rpm"] == pytest.approx(930)
    assert peak["tpm"] == pytest.approx(697_500)


def test_mix_within_tolerance_from_json_endpoint_counts(tmp_path: Path) -> None:
    src = tmp_path / "prod.json"
    src.write_text(json.dumps({"profile": 3600, "search": 2300, "browse": 1600,
                               "ai_analyze": 1500, "ai_generate": 1000, "healthz": 99}))
    result = compare_mix(packaged_plan(), read_counts(str(src), "x", "route"), 5)
    assert result["ok"] and result["level"] == "mix class"
    assert result["observed"]["profile_reads"] == pytest.approx(36.0)
    assert result["unmatched"] == ["healthz"]


def test_mix_drift_from_prometheus_text_is_red_and_adopted(tmp_path: Path) -> None:
    metric = "studyhall_http_request_duration_seconds_count"
    src = tmp_path / "metrics.txt"
    src.write_text("\n".join([
        f"# TYPE {metric[:-6]} histogram",
        f'{metric}{{route="/api/students/{{student_id}}/profile",method="GET"}} 2000',
        f'{metric}{{route="/api/courses/search",method="GET"}} 3000',
        f'{metric}{{route="/api/courses",method="GET"}} 1000',
        f'{metric}{{route="/api/ai/analyze",method="POST"}} 3000',
        f'{metric}{{route="/api/ai/generate",method="POST"}} 1000', ""]))
    counts = read_counts(str(src), metric, "route")
    result = compare_mix(packaged_plan(), counts, 5)
    assert not result["ok"]
    assert result["drift_pp"] == {"profile_reads": -15.0, "search_browse": 0.0,
                                  "ai_analysis": 15.0}
    assert result["adjusted"]["ai_analysis"] == {"weight": 40.0, "endpoints": {
        "ai_analyze": 75.0, "ai_generate": 25.0}}
    plan_copy = tmp_path / "perf-6b.yaml"
    plan_copy.write_text(PLAN_FILE.read_text())
    out = adopt_mix(plan_copy, result["adjusted"])
    adopted = load_plan(out)  # a valid plan
    assert adopted.mix["ai_analysis"].weight == 40.0
    assert adopted.mix["profile_reads"].weight == 20.0


def test_mix_from_family_csv_and_bad_input(tmp_path: Path) -> None:
    src = tmp_path / "fam.csv"
    src.write_text("family,count\ncore,700\nai,300\n")
    result = compare_mix(packaged_plan(), read_counts(str(src), "x", "route"), 5)
    assert result["level"] == "family" and result["drift_pp"] == {"core": -5.0, "ai": 5.0}
    assert result["ok"]
    bad = tmp_path / "bad.json"
    bad.write_text('[{"what": 1}]')
    with pytest.raises(MixError, match="needs a name and a count"):
        read_counts(str(bad), "x", "route")
    with pytest.raises(MixError, match="cannot read"):
        read_counts(str(tmp_path / "missing.csv"), "x", "route")
