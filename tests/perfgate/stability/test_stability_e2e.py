"""End to end, time-scaled: studyhall's memory-leak toggle is caught, and without it
memory is not flagged; the verdicts land in meta and summary.json."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from perfgate.cli.main import app

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PLAN = """
name: leak-check
run_tag: leakcheck
target:
  base_url: "{url}"
  headers: {{Authorization: "Bearer ${{LEAK_TOKEN}}"}}
schedule:
  arrival: uniform
  warmup: {{rps: 40, duration: 1m}}
  plateaus:
    - {{rps: 40, duration: 1m}}
    - {{rps: 40, duration: 1m}}
    - {{rps: 40, duration: 1m}}
families:
  core: {{timeout: 5s}}
mix:
  reads:
    family: core
    weight: 1
    endpoints:
      - {{name: profile, path: "/api/students/{{student_id}}/profile"}}
params:
  student_id: {{int: [1, 500]}}
telemetry:
  interval: 0.5s
  sources: [{{name: studyhall, url: /metrics}}]
  signals:
    rss_bytes: {{metric: process_resident_memory_bytes}}
stability:
  leak: {{tolerance_mb_per_h: 5000, floor_rise_mb: 16, min_samples: 4}}
"""
SCALE = "0.05"  # 1 min -> 3 s; MB/h stays per real hour


def _run(plan: Path, out: Path) -> dict[str, object]:
    result = CliRunner().invoke(app, ["run", str(plan), "--out", str(out), "--time-scale", SCALE,
                                      "--skip-preflight", "--no-dashboard",
                                      "--metrics-port", "-1", "--json"])
    assert "{" in result.stdout, result.output
    return dict(json.loads(result.stdout[result.stdout.index("{"):]))


def _leak(summary: dict[str, object]) -> dict[str, object]:
    stability = summary["stability"]
    assert isinstance(stability, dict)
    return next(v for v in stability["verdicts"] if v["name"] == "memory_leak")


def test_memory_leak_toggle_is_caught_and_its_absence_is_not_flagged(
        reference, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ref = reference()
    monkeypatch.setenv("LEAK_TOKEN", ref.token)
    plan = tmp_path / "leak.yaml"
    plan.write_text(PLAN.format(url=ref.app_url))

    clean = _leak(_run(plan, tmp_path / "clean"))
    assert clean["status"] == "PASS", clean

    req = urllib.request.Request(f"{ref.app_url}/admin/faults", method="POST",
                                 data=json.dumps({"memory_leak_kb": 512}).encode(),
                                 headers={"X-Admin-Token": ref.admin_token,
                                          "Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=5) as resp:
        assert json.loads(resp.read())["memory_leak_kb"] == 512
    leaky = _leak(_run(plan, tmp_path / "leaky"))
    assert leaky["status"] == "FAIL", leaky
    evidence = leaky["evidence"]
    assert isinstance(evidence, dict)
    # 512 KiB x 40 req/s = 20 MiB/s = 72,000 MiB/h: far above the 5,000 tolerance
    assert evidence["worst_mb_per_h"] > 20_000
    assert evidence["projected_soak_growth_mb"] == pytest.approx(4 * evidence["worst_mb_per_h"],
                                                                 rel=1e-3)
    assert "memory leak" in str(leaky["message"])
