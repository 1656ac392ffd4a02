"""Fixtures for llmsim tests: fast configs and a real server on a free port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from llmsim.config import SimConfig
from llmsim.server import BackgroundServer

ADMIN_TOKEN = "test-admin-token"
PRIMARY_KEY = "sk-sim-primary"
SECONDARY_KEY = "sk-sim-secondary"


def fast_config(**overrides: Any) -> SimConfig:
    """Default config with latencies scaled to almost nothing."""
    data: dict[str, Any] = {"latency_scale": 0.001, "admin_token": ADMIN_TOKEN, "seed": 7}
    data.update(overrides)
    return SimConfig.model_validate(data)


@pytest.fixture
def sim_server() -> Iterator[Callable[..., BackgroundServer]]:
    """Start a simulator (``sim_server(**config_overrides)``); all are stopped at teardown."""
    started: list[BackgroundServer] = []

    def start(**overrides: Any) -> BackgroundServer:
        server = BackgroundServer(fast_config(**overrides)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"X-Admin-Token": ADMIN_TOKEN}


@pytest.fixture
def make_config() -> Callable[..., SimConfig]:
    return fast_config
