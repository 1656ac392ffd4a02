"""The reference system for the end-to-end stability/resilience tests: studyhall (and
llmsim) as child processes on 127.0.0.1, always stopped."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from perfgate.cli.services import Service, ServiceGroup, free_port

TOKEN = "sh-test-stability"
ADMIN = "stability-admin"


@dataclass
class Reference:
    app_url: str
    llm_url: str | None
    work: Path
    token: str = TOKEN
    admin_token: str = ADMIN


Start = Callable[..., Reference]


@pytest.fixture
def reference(tmp_path: Path) -> Iterator[Start]:
    group = ServiceGroup()

    def start(*, llmsim: bool = False, provider_url: str | None = None,
              extra: tuple[str, ...] = ()) -> Reference:
        work = tmp_path / "services"
        llm_url = None
        if llmsim:
            port = free_port()
            llm_url = f"http://127.0.0.1:{port}"
            group.start(Service("llmsim", [
                sys.executable, "-m", "llmsim", "serve", "--port", str(port), "--seed", "5",
                "--latency-scale", "0.2", "--log-level", "warning"],
                health_url=f"{llm_url}/metrics", log_path=work / "llmsim.log"))
        app_port = free_port()
        app_url = f"http://127.0.0.1:{app_port}"
        group.start(Service("studyhall", [
            sys.executable, "-m", "studyhall", "serve", "--port", str(app_port),
            "--database-url", f"sqlite+aiosqlite:///{work / 'sh.db'}", "--seed-if-empty",
            "--students", "500", "--courses", "100",
            "--provider-base-url", provider_url or f"{llm_url or 'http://127.0.0.1:9'}/v1",
            "--log-level", "warning", *extra],
            health_url=f"{app_url}/healthz", log_path=work / "studyhall.log",
            env={"STUDYHALL_TOKEN": TOKEN, "STUDYHALL_ADMIN_TOKEN": ADMIN}))
        return Reference(app_url, llm_url, work)

    try:
        yield start
    finally:
        group.stop_all()
