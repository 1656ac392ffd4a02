"""Each capture kind against real sockets and processes (a toy HTTP target, a fake
py-spy, a fake PostgreSQL): files saved, failures are results with a reason."""

import asyncio
import json
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from perfgate.capture import runners
from perfgate.capture.runners import CaptureEnv, MissingEnv
from perfgate.capture.spec import CaptureSpec

pytestmark = pytest.mark.integration


def spec(**kw: Any) -> CaptureSpec:
    return CaptureSpec.model_validate({"name": "cap", **kw})


def env(tmp: Path, base: str = "http://127.0.0.1:1", **vars: str) -> CaptureEnv:
    (tmp / "captures").mkdir(exist_ok=True)
    return CaptureEnv(tmp, base, vars)


def test_http_saves_the_body_and_keeps_secrets_out(toy_target: Any, tmp_path: Path) -> None:
    e = env(tmp_path, toy_target.url, TOKEN="sh-test-fixture-token")
    s = spec(kind="http", url="/admin/heap?top=5",
             headers={"Authorization": "Bearer ${TOKEN}"})
    got = asyncio.run(runners.run_http(s, e, tmp_path / "captures" / "heap.end"))
    assert got.ok and got.files == ["captures/heap.end.json"]
    assert json.loads((tmp_path / "captures" / "heap.end.json").read_text())["path"] == \
        "/admin/heap"
    assert e.secrets == {"sh-test-fixture-token"}
    denied = asyncio.run(runners.run_http(spec(kind="http", url="/metrics"), e,
                                          tmp_path / "captures" / "m.end"))
    assert not denied.ok and denied.reason == "HTTP 401" and denied.files


def test_http_refused_and_missing_env(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    e = env(tmp_path, f"http://127.0.0.1:{port}")
    got = asyncio.run(runners.run_http(spec(kind="http", url="/metrics"), e,
                                       tmp_path / "captures" / "m"))
    assert not got.ok and "GET /metrics" in got.reason and not got.files
    with pytest.raises(MissingEnv, match="ADMIN is not set"):
        asyncio.run(runners.run_http(spec(kind="http", url="/x", headers={"X": "${ADMIN}"}),
                                     e, tmp_path / "captures" / "x"))


def test_command_output_and_placeholders(tmp_path: Path) -> None:
    e = env(tmp_path)
    got = asyncio.run(runners.run_command(spec(kind="command", argv=[
        sys.executable, "-c", "import sys; print('plateau', sys.argv[1])", "{plateau}"]),
        e, tmp_path / "captures" / "cmd.end", "p3"))
    assert got.ok and (tmp_path / "captures" / "cmd.end.txt").read_text() == "plateau p3\n"
    bad = asyncio.run(runners.run_command(spec(kind="command", argv=["/no/such/tool"]), e,
                                          tmp_path / "captures" / "bad", "p3"))
    assert not bad.ok and "/no/such/tool" in bad.reason
    slow = asyncio.run(runners.run_command(spec(kind="command", timeout=0.2, argv=[
        sys.executable, "-c", "import time; time.sleep(5)"]), e, tmp_path / "captures" / "s",
        "p3"))
    assert not slow.ok and "timed out" in slow.reason


def test_pyspy_profile_and_flamegraph(tmp_path: Path, fake_pyspy: str) -> None:
    e = env(tmp_path)
    s = spec(kind="pyspy", pid=4242, executable=fake_pyspy)
    got = asyncio.run(runners.run_pyspy(s, e, tmp_path / "captures" / "cpu.mid", 1.0))
    assert got.ok, got.reason
    assert got.files == ["captures/cpu.mid.collapsed.txt", "captures/cpu.mid.svg"]
    assert got.data == {"pid": 4242, "seconds": 1.0, "samples": 100}
    assert "<svg" in (tmp_path / "captures" / "cpu.mid.svg").read_text()


def test_pyspy_missing_is_a_failed_capture(tmp_path: Path) -> None:
    got = asyncio.run(runners.run_pyspy(spec(kind="pyspy", pid=1, executable="/no/py-spy"),
                                        env(tmp_path), tmp_path / "captures" / "cpu", 1.0))
    assert not got.ok and "not installed" in got.reason


def test_pyspy_finds_the_process_listening_on_the_target_port(toy_target: Any,
                                                                tmp_path: Path) -> None:
    import os

    e = env(tmp_path, toy_target.url)
    assert runners.target_pid(spec(kind="pyspy"), e) == os.getpid()  # the toy serves here
    assert runners.target_pid(spec(kind="pyspy", pid_env="PID"), CaptureEnv(
        tmp_path, toy_target.url, {"PID": "77"})) == 77


def test_pg_stat_statements_reset_and_read(tmp_path: Path, fake_pg: Any,
                                           pg_log: list[str]) -> None:
    e = env(tmp_path, DSN="postgresql://u:secret@db/x")
    e.pg_connect = fake_pg
    s = spec(kind="pg_stat_statements", dsn="${DSN}", top=10)
    assert asyncio.run(runners.pg_reset(s, e)).ok
    got = asyncio.run(runners.pg_read(s, e, tmp_path / "captures" / "pg"))
    assert got.ok and got.files == ["captures/pg.json"]
    rows = json.loads((tmp_path / "captures" / "pg.json").read_text())["statements"]
    assert rows[0]["total_ms"] == 3400.5 and rows[0]["calls"] == 120
    assert pg_log[1] == "SELECT pg_stat_statements_reset()" and "fetch (10,)" in pg_log
    assert "postgresql://u:secret@db/x" in e.secrets


def test_pg_unreachable_is_a_failed_capture(tmp_path: Path) -> None:
    async def refuse(dsn: str) -> Any:
        raise ConnectionRefusedError("no server")

    e = env(tmp_path, DSN="postgresql://db/x")
    e.pg_connect = refuse
    got = asyncio.run(runners.pg_reset(spec(kind="pg_stat_statements", dsn="${DSN}"), e))
    assert not got.ok and "ConnectionRefusedError" in got.reason
