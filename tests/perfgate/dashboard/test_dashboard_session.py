"""Starting and ending a run's dashboard; the CLI flags."""

from __future__ import annotations

import socket
from pathlib import Path

import aiohttp
import pytest
from typer.testing import CliRunner

from perfgate.cli.main import app, dashboard_options
from perfgate.dashboard.bind import Bind
from perfgate.dashboard.session import Dashboard, DashboardOptions, end_payload


def _dash(tmp_path: Path, bind: Bind) -> Dashboard:
    return Dashboard(DashboardOptions(bind=bind, linger_s=1), run_id="r", run_dir=tmp_path / "r",
                     plan="p", target="http://127.0.0.1:1", total_s=10, time_scale=1)


@pytest.mark.asyncio
async def test_loopback_needs_no_token_and_a_busy_port_is_not_fatal(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        dash = _dash(tmp_path, Bind("127.0.0.1", port))
        line = await dash.start_and_describe()
        assert line.startswith("dashboard not started") and "run goes on" in line
        await dash.finish({"verdict": "PASS"})  # no server: nothing to do
        await dash.close()
    dash = _dash(tmp_path, Bind("127.0.0.1", 0))
    dash.extras = {}
    try:
        line = await dash.start_and_describe()
        assert dash.token is None and line == f"dashboard http://127.0.0.1:{dash.port}/"
        assert dash.extras == {"dashboard": {"url": dash.url}}
        async with aiohttp.ClientSession() as s, s.get(dash.url + "api/state") as r:
            assert r.status == 200
        await dash.finish(end_payload({"verdict": "PASS", "status": "completed"}, 0,
                                      tmp_path / "r"))
        assert dash.hub.end is not None and dash.hub.end["report_url"] == "/report"
    finally:
        await dash.close()


@pytest.mark.asyncio
async def test_non_loopback_bind_prints_the_token_once_and_keeps_it_off_the_url(
        tmp_path: Path) -> None:
    dash = _dash(tmp_path, Bind("0.0.0.0", 0))
    dash.extras = {}
    try:
        line = await dash.start_and_describe()
        assert dash.token and f"?token={dash.token}" in line and "never stored" in line
        assert dash.token not in dash.url and dash.token not in str(dash.extras)
        local = f"http://127.0.0.1:{dash.port}/api/state"
        async with aiohttp.ClientSession() as s:
            async with s.get(local) as r:
                assert r.status == 401
            async with s.get(local, headers={"Authorization": f"Bearer {dash.token}"}) as r:
                assert r.status == 200
    finally:
        await dash.close()


def test_cli_flags() -> None:
    assert dashboard_options("127.0.0.1:8089", off=True) is None
    assert dashboard_options(":0", off=False) == DashboardOptions(bind=Bind("127.0.0.1", 0))
    result = CliRunner().invoke(app, ["run", "plan.yaml", "--dashboard-bind", "nowhere"])
    assert result.exit_code == 4
    assert "HOST:PORT" in result.output
