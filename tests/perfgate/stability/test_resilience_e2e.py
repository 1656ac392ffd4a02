"""End to end against studyhall + llmsim: the chaos probe (perfgate's lossy proxy on the
AI egress) trips studyhall's breaker, which serves zero-billed fallbacks and closes again;
then the failover drill (llmsim's quota exhaustion for the primary project) moves traffic
to the secondary key with no trigger and clean billing on both keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from perfgate.cli.main import app
from perfgate.cli.services import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PLAN = """
name: resilience
run_tag: resil
target:
  base_url: "{app}"
  headers: {{Authorization: "Bearer ${{RESIL_TOKEN}}"}}
schedule:
  arrival: uniform
  warmup: {{rps: 8, duration: 1s}}
  plateaus: [{{rps: 8, duration: 22s}}]
families:
  core: {{timeout: 5s}}
  ai: {{timeout: 10s}}
mix:
  reads:
    family: core
    weight: 30
    endpoints: [{{name: profile, path: "/api/students/{{student_id}}/profile"}}]
  ai:
    family: ai
    weight: 70
    endpoints:
      - name: ai_analyze
        method: POST
        path: /api/ai/analyze
        body: {{student_id: "{{student_id}}", text: "{{essay}}"}}
        ai: {{prompt_tokens: 400, max_tokens: 300}}
params:
  student_id: {{int: [1, 500]}}
  essay: {{words: {{min: 20, max: 60}}}}
telemetry:
  interval: 0.5s
  sources: [{{name: studyhall, url: /metrics}}]
  signals:
    breaker_state: {{metric: studyhall_breaker_state}}
budget:
  hard_cap_usd: 5
  soft_alert_usd: 4
  model: gpt-4o-mini
  prices: {{gpt-4o-mini: {{input_per_1m: "0.15", output_per_1m: "0.60"}}}}
  max_ai_share: 0.7
chaos:
  faults:
    - name: ai_egress_black_hole
      kind: proxy
      purpose: breaker
      plateau: p1
      at: 1s
      duration: 4s
      loss: 1.0
      egress: "{llm_hostport}"
      recovery: 15s
      proxy: {{listen: "127.0.0.1:{proxy_port}"}}
    - name: primary_quota_drill
      kind: http
      purpose: failover
      plateau: p1
      at: 15s
      duration: 5s
      recovery: 5s
      http:
        inject: {{url: "{llm}/admin/projects/proj-primary/quota-exhausted", body: {{"on": true}},
                  headers: {{Authorization: "Bearer llmsim-admin"}}}}
        revert: {{url: "{llm}/admin/projects/proj-primary/quota-exhausted", body: {{"on": false}},
                  headers: {{Authorization: "Bearer llmsim-admin"}}}}
        expect: {{quota_exhausted: false}}
"""


def test_breaker_trips_and_recovers_then_failover_moves_to_the_secondary_key(
        reference, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    proxy_port = free_port()
    ref = reference(llmsim=True, provider_url=f"http://127.0.0.1:{proxy_port}/v1",
                    extra=("--provider-timeout", "1"))
    monkeypatch.setenv("RESIL_TOKEN", ref.token)
    plan = tmp_path / "resilience.yaml"
    assert ref.llm_url is not None
    plan.write_text(PLAN.format(app=ref.app_url, llm=ref.llm_url, proxy_port=proxy_port,
                                llm_hostport=ref.llm_url.removeprefix("http://")))
    result = CliRunner().invoke(app, ["run", str(plan), "--out", str(tmp_path / "runs"),
                                      "--skip-preflight", "--no-dashboard",
                                      "--metrics-port", "-1", "--json"])
    summary = json.loads(result.stdout[result.stdout.index("{"):])
    chaos = {c["name"]: c for c in summary["chaos"]}
    assert all(c["status"] == "reverted" and c["verified"] for c in chaos.values()), chaos
    verdicts = {v["name"]: v for v in summary["resilience"]["verdicts"]}
    breaker = verdicts["breaker:ai_egress_black_hole"]
    assert breaker["status"] == "PASS", breaker
    ev = breaker["evidence"]
    assert ev["opened_at_s"] is not None and ev["recovered_after_s"] <= 15
    assert ev["ai_responses"] > 0 and ev["not_served"] == {}
    assert set(ev["by_path"]) <= {"provider", "cache", "extractive"}
    failover = verdicts["failover:primary_quota_drill"]
    assert failover["status"] == "PASS", failover
    fe = failover["evidence"]
    assert fe["failover_after_s"] <= 5 and fe["triggers_fired"] == []
    assert fe["billing_by_key"]["primary"]["findings"] == 0
    assert fe["billing_by_key"]["secondary"]["calls"] > 0
