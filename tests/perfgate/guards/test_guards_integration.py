"""The guards end to end: ``perfgate run`` (typer's CliRunner, in this process) against real
studyhall and llmsim processes over sockets, with studyhall's and llmsim's fault toggles.

One studyhall (kill switch in 503 mode, outbound URLs at perfgate's sink port) and one
llmsim serve the whole module; every test resets their toggles first. Runs are short
(time scale 0.05: 2 s warm-up, two 6 s plateaus) at ~10 RPS: the module takes about a
minute on two shared cores. The billed-fallback test runs last: studyhall sidelines
quota-blocked keys for 30 s, which would leak into a later test.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from perfgate.cli.main import app
from perfgate.store.reader import RunReader

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ADMIN_TOKEN = "it-admin-token"
TOKEN = "sh-test-guards"
SCALE = "0.05"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(argv: list[str], marker: str, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, stdin=subprocess.DEVNULL)
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put("")

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line.startswith(marker):
            return proc, line.split(" on ", 1)[1].strip()
        if not line:
            break
    proc.kill()
    proc.wait(10)
    raise RuntimeError(f"{argv[2]} did not start")


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    if proc.stdout is not None:
        proc.stdout.close()


class Hooks(BaseHTTPRequestHandler):
    posts: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.posts.append(json.loads(body))  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@dataclass
class Reference:
    studyhall: str
    llmsim: str
    sink_port: int
    webhook: str
    posts: list[dict[str, Any]] = field(default_factory=list)

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        r = httpx.request(method, self.studyhall + path, json=body, timeout=10,
                          headers={"X-Admin-Token": ADMIN_TOKEN})
        r.raise_for_status()
        return r.json()

    def llm_admin(self, path: str, body: Any = None) -> Any:
        r = httpx.post(self.llmsim + path, json=body, timeout=10,
                       headers={"Authorization": "Bearer llmsim-admin"})
        r.raise_for_status()
        return r.json()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reference]:
    work = tmp_path_factory.mktemp("guards-it")
    env = {**os.environ, "STUDYHALL_ADMIN_TOKEN": ADMIN_TOKEN, "STUDYHALL_TOKEN": TOKEN}
    llm, llm_url = start([sys.executable, "-m", "llmsim", "serve", "--port", "0",
                          "--latency-scale", "0.1", "--seed", "3"], "llmsim listening", env)
    sink_port = free_port()
    sink = f"http://127.0.0.1:{sink_port}"
    try:
        app_proc, app_url = start(
            [sys.executable, "-m", "studyhall", "serve", "--port", "0", "--database-url",
             f"sqlite+aiosqlite:///{work / 'sh.db'}", "--seed-if-empty", "--students", "300",
             "--courses", "120", "--provider-base-url", f"{llm_url}/v1",
             "--kill-switch-mode", "503", "--billing-ledger", str(work / "billing.jsonl"),
             "--outbound-email-url", f"{sink}/email", "--notification-url", f"{sink}/notify",
             "--webhook-url", f"{sink}/webhook"], "studyhall listening", env)
    except BaseException:
        stop(llm)
        raise
    hooks = ThreadingHTTPServer(("127.0.0.1", 0), Hooks)
    hooks.posts = []  # type: ignore[attr-defined]
    threading.Thread(target=hooks.serve_forever, daemon=True).start()
    ref = Reference(app_url, llm_url, sink_port,
                    f"http://127.0.0.1:{hooks.server_address[1]}/hook", hooks.posts)  # type: ignore[attr-defined]
    try:
        yield ref
    finally:
        hooks.shutdown()
        hooks.server_close()
        stop(app_proc)
        stop(llm)


@pytest.fixture
def ref(reference: Reference, monkeypatch: pytest.MonkeyPatch) -> Reference:
    time.sleep(1.0)  # let requests abandoned by the previous run finish (its ledgers)
    reference.admin("DELETE", "/admin/faults")
    reference.admin("POST", "/admin/kill-switch", {"on": False})
    reference.llm_admin("/admin/reset")
    reference.posts.clear()
    monkeypatch.setenv("STUDYHALL_TOKEN", TOKEN)
    monkeypatch.setenv("STUDYHALL_ADMIN_TOKEN", ADMIN_TOKEN)
    monkeypatch.setenv("LLMSIM_URL", reference.llmsim)
    monkeypatch.setenv("LLMSIM_ADMIN_TOKEN", "llmsim-admin")
    monkeypatch.setenv("WAR_ROOM_HOOK", reference.webhook)
    return reference


def plan(ref: Reference, *, cap: str = "500") -> str:
    return f"""
name: guards-it
run_tag: guardsit
target:
  base_url: {ref.studyhall}
  headers: {{Authorization: "Bearer ${{STUDYHALL_TOKEN}}"}}
schedule:
  arrival: uniform
  seed: 6
  warmup: {{rps: 8, duration: 40s}}
  plateaus: [{{rps: 10, duration: 2m}}, {{rps: 10, duration: 2m}}]
families:
  core: {{timeout: 5s}}
  ai: {{timeout: 10s}}
mix:
  profile_reads:
    family: core
    weight: 35
    endpoints: [{{name: profile, path: "/api/students/{{student_id}}/profile"}}]
  search_browse:
    family: core
    weight: 40
    endpoints:
      - {{name: search, path: /api/courses/search, query: {{q: "{{term}}"}}, weight: 60}}
      - {{name: browse, path: /api/courses, query: {{topic: "{{topic}}"}}, weight: 40}}
  ai_analysis:
    family: ai
    weight: 25
    endpoints:
      - {{name: ai_analyze, method: POST, path: /api/ai/analyze, weight: 60,
         body: {{student_id: "{{student_id}}", text: "{{essay}}"}},
         ai: {{prompt_tokens: 450, max_tokens: 300}}}}
      - {{name: ai_generate, method: POST, path: /api/ai/generate, weight: 40,
         body: {{course_id: "{{course_id}}", count: "{{count}}"}},
         ai: {{prompt_tokens: 250, max_tokens: 500}}}}
params:
  student_id: {{int: [1, 300]}}
  course_id: {{int: [1, 120]}}
  count: {{int: [3, 6]}}
  term: {{choice: [algebra, biology, history, physics]}}
  topic: {{choice: [math, science, arts]}}
  essay: {{words: {{min: 30, max: 80}}}}
telemetry:
  interval: 5s
  sources: [{{name: studyhall, url: /metrics}}]
  signals:
    cpu_percent: {{metric: process_cpu_seconds_total, type: cpu}}
    db_query_seconds: {{metric: studyhall_db_query_seconds, type: histogram, quantiles: [0.95]}}
    db_pool_size: {{metric: studyhall_db_pool_size}}
    db_pool_in_use: {{metric: studyhall_db_pool_in_use}}
    provider_requests_rate: {{metric: studyhall_provider_requests_total, type: counter,
                              by: [key, outcome]}}
criteria:
  - {{name: core_p95, family: core, metric: p95, threshold: 120ms, min_samples: 30}}
  - {{name: core_errors, family: core, metric: error_rate, threshold: 1%, min_samples: 30}}
  - {{name: ai_p95, family: ai, metric: p95, threshold: 900ms, min_samples: 10}}
  - {{name: fallbacks_bill_zero, family: ai, metric: fallback_billed_usd, threshold: $0}}
  - {{name: markup_4x, family: ai, metric: markup_mismatches, threshold: 0}}
  - {{name: db_pool_free, family: core, signal: db_pool_free_ratio, stat: mean, op: ">=",
     threshold: 20%}}
triggers:
  rules:
    - {{name: error_rate, signal: error_rate, op: ">", threshold: 0.5%, for: 2m}}
    - {{name: provider_blocked, signal: provider_blocked, op: ">", threshold: 0, for: 2m}}
    - {{name: data_safety, signal: outbound_hits, op: ">", threshold: 0}}
  outbound_sink: {{port: {ref.sink_port}}}
budget:
  hard_cap_usd: {cap}
  soft_alert_usd: "{Decimal(cap) / 2}"
  model: gpt-4o-mini
  prices: {{gpt-4o-mini: {{input_per_1m: "0.15", output_per_1m: "0.60"}}}}
  kill_switch: {{url: /admin/kill-switch, method: POST,
                headers: {{X-Admin-Token: "${{STUDYHALL_ADMIN_TOKEN}}"}}, body: {{"on": true}}}}
  reconcile:
    target_billing:
      url: /admin/billing
      headers: {{X-Admin-Token: "${{STUDYHALL_ADMIN_TOKEN}}"}}
    provider_report: {{url: "${{LLMSIM_URL}}/admin/cost-report",
                      headers: {{Authorization: "Bearer ${{LLMSIM_ADMIN_TOKEN}}"}}}}
war_room:
  owner: "Perf lead: Pat"
  dashboard: "http://127.0.0.1:8089/"
  webhooks: [{{name: ops, kind: json, url: "${{WAR_ROOM_HOOK}}"}}]
"""


def perfgate_run(ref: Reference, tmp_path: Path, *args: str, cap: str = "500",
                 at: tuple[float, Any] | None = None) -> tuple[int, dict[str, Any], str]:
    path = tmp_path / "plan.yaml"
    path.write_text(plan(ref, cap=cap), encoding="utf-8")
    timer = threading.Timer(at[0], at[1]) if at else None
    if timer:
        timer.start()
    try:
        result = CliRunner().invoke(app, [
            "run", str(path), "--time-scale", SCALE, "--out", str(tmp_path / "runs"),
            "--metrics-port", "0", "--no-dashboard", "--skip-preflight", *args])
    finally:
        if timer:
            timer.cancel()
    runs = tmp_path / "runs"
    assert runs.is_dir() and any(runs.iterdir()), result.output[-3000:]
    run_dir = next(runs.iterdir())
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    return result.exit_code, summary, str(run_dir)


def test_a_healthy_run_passes_with_three_ledgers_agreeing(ref: Reference, tmp_path: Path) -> None:
    code, summary, run_dir = perfgate_run(ref, tmp_path)
    driven = all(p["valid"] for p in summary["plateaus"] if not p["warmup"])
    assert code == (0 if driven else 3), summary["reason"]
    verdicts = {p["id"]: (p["verdict"] or {}).get("verdict") for p in summary["plateaus"]}
    assert verdicts == {"p0": None, "p1": "PASS", "p2": "PASS"}
    assert summary["safe_rps"] == 10
    rec = summary["reconciliation"]
    assert rec["findings"] == [] and len(rec["comparisons"]) == 4, rec
    assert Decimal(rec["provider"]["provider_cost_usd"]) > 0
    assert summary["cost"]["findings"] == {}
    with RunReader(run_dir) as reader:
        telemetry = {s.name for s in reader.samples("telemetry")}
        gaps = reader.events("telemetry_gap")
    assert {"cpu_percent", "db_pool_free_ratio", "provider_requests_rate"} <= telemetry
    assert gaps == []
    kinds = [p["kind"] for p in ref.posts]
    assert kinds[0] == "start" and kinds[-1] == "final"
    assert kinds.count("criterion_verdict") == 2 and "phase_start" in kinds


def test_slow_search_goes_red_at_the_plateau_it_starts_in(ref: Reference,
                                                          tmp_path: Path) -> None:
    def slow_search() -> None:  # p2 starts 8 s into the run
        ref.admin("POST", "/admin/faults", {"slow_search": True, "slow_search_sleep_ms": 300})

    code, summary, _ = perfgate_run(ref, tmp_path, at=(9.5, slow_search))
    assert code == 1, summary["reason"]
    assert summary["verdict"] == "FAIL" and summary["status"] == "failed"
    assert (summary["safe_rps"], summary["safe_plateau"]) == (10, "p1")
    p2 = next(p for p in summary["plateaus"] if p["id"] == "p2")
    assert p2["verdict"]["failed"] == ["core_p95"]
    assert summary["reason"].startswith("core_p95: FAIL")


def test_an_error_storm_aborts_after_two_scaled_minutes(ref: Reference, tmp_path: Path) -> None:
    ref.admin("POST", "/admin/kill-switch", {"on": True})  # 503 mode: every AI call fails
    code, summary, run_dir = perfgate_run(ref, tmp_path)
    assert code == 2 and summary["verdict"] == "ABORTED"
    with RunReader(run_dir) as reader:
        abort = reader.meta()["abort"]
        warned = reader.events("trigger_warning")[0]
    assert abort["kind"] == "error_rate"
    held = abort["t"] - warned.t
    assert held == pytest.approx(6.0, abs=0.6)  # for: 2m x 0.05
    assert any(p["kind"] == "abort" for p in ref.posts)


def test_a_low_cap_trips_the_kill_switch_with_spend_under_it(ref: Reference,
                                                             tmp_path: Path) -> None:
    code, summary, _ = perfgate_run(ref, tmp_path, cap="0.0008")
    assert code == 2
    cost = summary["cost"]
    assert summary["verdict"] == "ABORTED" and cost["killed"]
    assert Decimal(cost["spent_usd"]) <= Decimal("0.0008") and cost["overshoot_usd"] == "0"
    assert ref.admin("GET", "/admin/status")["flags"]["ai_kill_switch"] is True


def test_billed_fallbacks_and_provider_blocks_are_caught(ref: Reference, tmp_path: Path) -> None:
    ref.admin("POST", "/admin/faults", {"fallback_bills": True})
    for project in ("proj-primary", "proj-secondary"):
        ref.llm_admin(f"/admin/projects/{project}/quota-exhausted", {"on": True})
    code, summary, run_dir = perfgate_run(ref, tmp_path, "--guards", "observe")
    assert code == 1 and summary["status"] == "completed" and summary["verdict"] == "FAIL"
    assert summary["cost"]["findings"].get("fallback_billed", 0) > 0
    failed = {c["name"] for p in summary["plateaus"] for c in p["criteria"]
              if c["verdict"] == "FAIL"}
    assert "fallbacks_bill_zero" in failed
    with RunReader(run_dir) as reader:
        fired = [e.data["trigger"] for e in reader.events("trigger_fired")]
    assert "provider_blocked" in fired  # recorded, not acted on: observe mode
