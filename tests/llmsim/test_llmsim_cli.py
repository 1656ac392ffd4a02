from __future__ import annotations

import argparse
import json
import selectors
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from llmsim.cli import build_config, main


def _args(**kw: object) -> argparse.Namespace:
    base: dict[str, object] = {"config": None, "latency_scale": None, "seed": None, "ledger": None}
    base.update(kw)
    return argparse.Namespace(**base)


def test_flags_override_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "sim.json"
    path.write_text(json.dumps({"seed": 1, "latency_scale": 2.0, "admin_token": "from-file"}))
    monkeypatch.setenv("LLMSIM_ADMIN_TOKEN", "from-env")
    cfg = build_config(_args(config=path, latency_scale=0.01, seed=9, ledger=tmp_path / "l.jsonl"))
    assert (cfg.seed, cfg.latency_scale, cfg.admin_token) == (9, 0.01, "from-env")
    assert cfg.ledger_path == tmp_path / "l.jsonl"
    monkeypatch.delenv("LLMSIM_ADMIN_TOKEN")
    assert build_config(_args(config=path)).admin_token == "from-file"


def test_bad_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("latency_scale: -1\n")
    assert main(["serve", "--config", str(path)]) == 2
    assert str(path) in capsys.readouterr().err
    assert main(["serve", "--config", str(tmp_path / "missing.json")]) == 2


@pytest.mark.integration
def test_python_m_llmsim_serves_and_announces_its_port(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    cmd = [sys.executable, "-m", "llmsim", "serve", "--port", "0", "--latency-scale", "0.001"]
    cmd += ["--ledger", str(ledger)]
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            with selectors.DefaultSelector() as sel:
                sel.register(proc.stdout, selectors.EVENT_READ)
                assert sel.select(timeout=15), "llmsim did not announce itself"
            line = proc.stdout.readline().strip()
            assert line.startswith("llmsim listening on http://127.0.0.1:")
            base = line.removeprefix("llmsim listening on ")
            with httpx.Client(base_url=base, timeout=5) as http:
                assert http.get("/healthz").json() == {"status": "ok"}
                r = http.post(
                    "/v1/chat/completions",
                    headers={"Authorization": "Bearer sk-sim-primary"},
                    json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
                )
                assert r.status_code == 200
        finally:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=15)
        assert proc.returncode in (0, -signal.SIGINT, 130)
    (row,) = [json.loads(x) for x in ledger.read_text().splitlines()]
    assert row["project"] == "proj-primary"
    assert "sk-sim-primary" not in ledger.read_text()
