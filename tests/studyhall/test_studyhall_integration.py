"""Real sockets: studyhall and llmsim both served by uvicorn on port 0, the official SDK
path end to end, failover with llmsim's quota drill, three-ledger reconciliation; and the
``studyhall`` CLI (seed, serve) as a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from studyhall_fakes import ADMIN, ADMIN_TOKEN, AUTH, N_COURSES, N_STUDENTS

from studyhall.app import create_app
from studyhall.cli import main as cli_main
from studyhall.server import running
from studyhall.settings import Settings

llmsim_app = pytest.importorskip("llmsim.app", reason="llmsim not available")
llmsim_config = pytest.importorskip("llmsim.config")

LLMSIM_ADMIN = {"Authorization": "Bearer llmsim-admin"}
ESSAY = "Rivers shape valleys over time. Erosion carries sediment downstream. " * 3


@pytest.mark.integration
@pytest.mark.asyncio
async def test_studyhall_with_real_llmsim(sqlite_url: str, tmp_path: Path) -> None:
    sim = llmsim_app.create_app(llmsim_config.SimConfig(latency_scale=0.0, seed=3))
    async with running(sim) as llm_url:
        settings = Settings(
            database_url=sqlite_url, provider_base_url=f"{llm_url}/v1",
            admin_token=ADMIN_TOKEN, billing_ledger_path=tmp_path / "billing.jsonl",
            rate_limit_backoff_s=0.0,
        )
        async with running(create_app(settings)) as sh_url, \
                httpx.AsyncClient(base_url=sh_url, timeout=10) as c, \
                httpx.AsyncClient(base_url=llm_url, headers=LLMSIM_ADMIN, timeout=10) as llm:
            r = await c.post("/api/ai/analyze", json={"student_id": 9, "text": ESSAY},
                             headers=AUTH | {"X-Request-ID": "int-1"})
            assert r.status_code == 200, r.text
            h = r.headers
            assert (h["x-ai-path"], h["x-ai-provider-key"]) == ("provider", "primary")
            assert h["x-request-id"] == "int-1"
            prompt, completion = int(h["x-ai-prompt-tokens"]), int(h["x-ai-completion-tokens"])
            cost = (prompt * Decimal("0.15") + completion * Decimal("0.60")) / 1_000_000
            assert Decimal(h["x-ai-provider-cost-usd"]) == cost
            assert Decimal(h["x-ai-billed-usd"]) == 4 * cost

            gen = await c.post("/api/ai/generate", json={"course_id": 4, "count": 5},
                               headers=AUTH)
            assert gen.status_code == 200 and len(gen.json()["questions"]) == 5

            # quota drill on the primary project: studyhall fails over to the secondary
            drill = await llm.post("/admin/projects/proj-primary/quota-exhausted",
                                   json={"on": True})
            assert drill.status_code == 200, drill.text
            r = await c.post("/api/ai/analyze", json={"student_id": 9, "text": "New text."},
                             headers=AUTH)
            assert (r.headers["x-ai-path"], r.headers["x-ai-provider-key"]) == (
                "provider", "secondary")
            # both projects out of quota: fallback, billed 0
            await llm.post("/admin/projects/proj-secondary/quota-exhausted", json={"on": True})
            r = await c.post("/api/ai/analyze", json={"student_id": 9, "text": "Other text."},
                             headers=AUTH)
            assert r.headers["x-ai-path"] == "extractive"
            assert r.headers["x-ai-billed-usd"] == "0"

            metrics = (await c.get("/metrics")).text
            assert 'studyhall_provider_requests_total{key="primary",outcome="quota"} 1.0' in metrics
            # the 2nd request failed over; the 3rd went to the secondary directly (primary
            # sidelined): both count as failovers
            assert "studyhall_failovers_total 2.0" in metrics

            # three ledgers, one total: studyhall's provider cost == llmsim's cost report
            rows = [json.loads(x) for x in
                    (await c.get("/admin/billing", headers=ADMIN)).text.splitlines()]
            ours = sum((Decimal(x["provider_cost_usd"]) for x in rows), Decimal(0))
            report = (await llm.get("/admin/cost-report")).json()
            assert Decimal(report["total"]["cost_usd"]) == ours
            assert report["total"]["calls"] == sum(1 for x in rows if x["path"] == "provider")
            billed = sum((Decimal(x["billed_usd"]) for x in rows), Decimal(0))
            assert billed == 4 * ours


@pytest.mark.integration
def test_cli_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    assert cli_main(["seed", "--database-url", url, "--students", "40", "--courses", "12",
                     "--seed", "5"]) == 0
    assert "seeded 40 students, 12 courses" in capsys.readouterr().out
    assert cli_main(["seed", "--database-url", "sqlite+aiosqlite:///:memory:"]) == 4


@pytest.mark.integration
@pytest.mark.asyncio
async def test_cli_serve_subprocess(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}"
    env = dict(os.environ, STUDYHALL_ADMIN_TOKEN=ADMIN_TOKEN)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "studyhall", "serve", "--port", "0", "--database-url", url,
        "--seed-if-empty", "--students", str(N_STUDENTS), "--courses", str(N_COURSES),
        "--provider-base-url", "http://127.0.0.1:9/v1",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )
    assert proc.stdout is not None
    try:
        base = None
        async with asyncio.timeout(20):
            while base is None:
                line = (await proc.stdout.readline()).decode()
                assert line, "studyhall exited before listening"
                if line.startswith("studyhall listening on "):
                    base = line.split(" on ", 1)[1].strip()
        async with httpx.AsyncClient(base_url=base, timeout=5) as c:
            assert (await c.get("/healthz")).json()["status"] == "ok"
            assert (await c.get("/api/students/1/profile", headers=AUTH)).status_code == 200
            assert (await c.get("/admin/status", headers=ADMIN)).status_code == 200
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):
            _, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr.decode()[-2000:]


@pytest.mark.integration
@pytest.mark.asyncio
async def test_llmsim_rate_limit_drill_and_breaker(sqlite_url: str) -> None:
    sim = llmsim_app.create_app(llmsim_config.SimConfig(latency_scale=0.0, seed=4))
    async with running(sim) as llm_url:
        settings = Settings(
            database_url=sqlite_url, provider_base_url=f"{llm_url}/v1", admin_token=ADMIN_TOKEN,
            rate_limit_retries=1, rate_limit_backoff_s=0.01, breaker_failure_threshold=2,
            breaker_reset_timeout_s=60,
        )
        async with running(create_app(settings)) as sh_url, \
                httpx.AsyncClient(base_url=sh_url, timeout=10) as c, \
                httpx.AsyncClient(base_url=llm_url, headers=LLMSIM_ADMIN, timeout=10) as llm:

            async def analyze(text: str) -> httpx.Headers:
                r = await c.post("/api/ai/analyze", json={"student_id": 3, "text": text},
                                 headers=AUTH)
                assert r.status_code == 200, r.text
                return r.headers

            # a persisting rate limit on the primary project: retried once, then failover
            await llm.post("/admin/projects/proj-primary/rate-limited", json={"on": True})
            h = await analyze("Rate limited essay.")
            assert (h["x-ai-path"], h["x-ai-provider-key"]) == ("provider", "secondary")
            metrics = (await c.get("/metrics")).text
            assert ('studyhall_provider_requests_total{key="primary",outcome="rate_limited"} 2.0'
                    in metrics)
            # provider 5xx: not failed over; two failures open the breaker
            r = await llm.post("/admin/faults", json={"error_rate": 1.0, "error_status": 503})
            assert r.status_code == 200, r.text
            reasons = [(await analyze(f"Essay {i}."))["x-ai-fallback-reason"] for i in range(3)]
            assert reasons == ["provider_error", "provider_error", "breaker_open"]
            metrics = (await c.get("/metrics")).text
            assert "studyhall_breaker_state 2.0" in metrics
            assert 'studyhall_breaker_transitions_total{to="open"} 1.0' in metrics
