"""`perfgate preflight` and the preflight before `perfgate run`, against real sockets."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from perfgate.cli.main import app

pytestmark = pytest.mark.integration
runner = CliRunner()


def _guarded(provider: str, webhook: str, *, secondary_env: str = "KEY_B",
             pii: bool = False) -> str:
    body = '{item_id: "{item_id}", text: "{words}"' + (', mail: "{email}"' if pii else "") + "}"
    return f"""
    budget:
      hard_cap_usd: 5
      soft_alert_usd: 4
      confirmed_revised_cap: true   # the toy mix is 30% AI
      model: m
      prices: {{m: {{input_per_1m: "0.15", output_per_1m: "0.60"}}}}
    vendor:
      base_url: {provider}/v1
      keys:
        - {{name: primary, env: KEY_A, project: proj-a}}
        - {{name: secondary, env: {secondary_env}, project: proj-b}}
    war_room:
      owner: Dana
      roles: {{sre: S, backend: B, data_analytics: D, llm_platform: L, finance: F}}
      comms: {{slack: "#perf"}}
      dashboard: {webhook}/dash
      webhooks: [{{name: room, kind: slack, url: "{webhook}/hook"}}]
    """.replace("\n    ", "\n"), body


def _plan(make_toy_plan, provider: str, webhook: str, **kw):  # type: ignore[no-untyped-def]
    extra, body = _guarded(provider, webhook, **kw)

    def edit(text: str) -> str:
        text = text.replace("        body: {item_id: \"{item_id}\", text: \"{words}\"}",
                            f"        body: {body}\n        ai: {{prompt_tokens: 100, "
                            "max_tokens: 50}")
        if kw.get("pii"):
            text = text.replace("params:\n", "params:\n  email: {const: jane.doe@gmail.com}\n")
        return text + extra

    return make_toy_plan("guarded", edit=edit, plateaus=((20, 1.0),), warmup_s=0.5)


def test_preflight_all_items_with_evidence_and_json(make_toy_plan, fake_provider, webhook_sink,
                                                    monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KEY_A", "sk-a")
    monkeypatch.setenv("KEY_B", "sk-b")
    plan = _plan(make_toy_plan, fake_provider.url, webhook_sink.url)
    result = runner.invoke(app, ["preflight", str(plan), "--json"])
    assert result.stdout.startswith("{"), result.output + plan.read_text()
    report = json.loads(result.stdout)
    checks = {c["id"]: c for c in report["checks"]}
    assert result.exit_code == 0, [c for c in report["checks"] if c["status"] == "red"]
    assert list(checks) == ["plan_target", "traffic_mix", "ai_share", "budget", "vendor_limits",
                            "data_safety", "isolation", "war_room", "tools",
                            "generator_capacity", "chaos"]
    assert all(c["evidence"] for c in checks.values())
    smoke = {r["endpoint"]: r["status"] for r in checks["plan_target"]["data"]["smoke"]}
    assert smoke == {"item": 200, "unauthorised": 401, "broken": 503, "generate": 200}
    keys = {k["name"]: k for k in checks["vendor_limits"]["data"]["keys"]}
    assert keys["secondary"]["project"] == "proj-b"
    assert keys["secondary"]["project_source"] == "openai-project header"
    assert keys["primary"]["rpm_limit"] == 1000 and 0 < keys["primary"]["rpm_headroom"] < 1
    assert fake_provider.seen == ["sk-a", "sk-b"]  # the probe, once per key; no completion
    assert checks["data_safety"]["data"]["pii"]["hits"] == {}
    assert any("preflight" in m.get("text", "") for m in webhook_sink.seen)
    assert checks["generator_capacity"]["data"]["self_test"]["ok"]
    assert "sk-a" not in result.stdout and "sk-b" not in result.stdout  # names, not values


def test_pii_and_a_same_project_secondary_are_red_exit_5(make_toy_plan, fake_provider,
                                                         webhook_sink, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KEY_A", "sk-a")
    monkeypatch.setenv("KEY_SAME", "sk-also-a")
    plan = _plan(make_toy_plan, fake_provider.url, webhook_sink.url, secondary_env="KEY_SAME",
                 pii=True)
    result = runner.invoke(app, ["preflight", str(plan), "--json"])
    assert result.exit_code == 5
    report = json.loads(result.stdout)
    assert set(report["red"]) >= {"data_safety", "vendor_limits"}
    safety = next(c for c in report["checks"] if c["id"] == "data_safety")
    assert safety["data"]["pii"]["hits"]["generate"][0] == {"kind": "email",
                                                           "value": "jane.doe@gmail.com"}
    vendor = next(c for c in report["checks"] if c["id"] == "vendor_limits")
    assert any("share a project" in line for line in vendor["evidence"])


def test_bad_plan_is_exit_4(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    assert runner.invoke(app, ["preflight", str(bad)]).exit_code == 4


def test_run_stops_on_a_red_preflight_and_records_a_skipped_one(
        make_toy_plan, fake_provider, webhook_sink, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KEY_A", "sk-a")
    monkeypatch.delenv("KEY_B", raising=False)  # the secondary key is missing: red
    plan = _plan(make_toy_plan, fake_provider.url, webhook_sink.url)
    out = tmp_path / "runs"
    args = ["run", str(plan), "--out", str(out), "--no-dashboard", "--metrics-port", "-1"]
    red = runner.invoke(app, args)
    assert red.exit_code == 5 and not list(out.glob("toyrun-*"))
    skipped = runner.invoke(app, [*args, "--skip-preflight", "--json"])
    summary = json.loads(skipped.stdout[skipped.stdout.index("{"):])
    assert summary["preflight"]["skipped"] is True
    assert set(summary) >= {"chaos", "resilience", "stability"}
    run_dir = out / summary["run_id"]
    with sqlite3.connect(run_dir / "run.sqlite") as db:
        kinds = [k for (k,) in db.execute("select kind from events where kind = 'preflight'")]
    assert kinds == ["preflight"]
