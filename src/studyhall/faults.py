"""Fault toggles for rehearsals and tests (all off by default).

Set them at startup (``Settings.faults``) or live with ``POST /admin/faults`` (a partial
JSON object; ``DELETE /admin/faults`` resets everything and frees leaked memory):

``slow_search`` (bool)
    ``/api/courses/search`` ignores the full-text index and scans ``courses`` with
    ``LIKE '%term%'``, then sleeps ``slow_search_sleep_ms`` while still holding the pool
    connection: a slow, unindexed statement that also starves the pool.
``slow_search_sleep_ms`` (int, default 50)
    extra time for ``slow_search`` (0 for the bare scan).
``memory_leak_kb`` (int)
    every ``/api`` request retains this many KiB forever (until reset): RSS grows.
``cpu_burn_ms`` (int)
    every ``/api`` request busy-loops this many ms on the event loop: CPU saturates and
    every request queues behind it.
``fallback_bills`` (bool)
    a deliberate bug: cache and extractive fallbacks bill the student (4x the price of
    the tokens the answer would have cost) although no provider call was made. perfgate
    must flag it (billed must be 0 for every fallback).
``db_hold_ms`` (int)
    every DB-backed request keeps its pool connection this many ms longer: pool in-use
    climbs, then requests wait for a connection.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FaultConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    slow_search: bool = False
    slow_search_sleep_ms: int = Field(default=50, ge=0, le=60_000)
    memory_leak_kb: int = Field(default=0, ge=0, le=100_000)
    cpu_burn_ms: int = Field(default=0, ge=0, le=10_000)
    fallback_bills: bool = False
    db_hold_ms: int = Field(default=0, ge=0, le=60_000)


class Faults:
    """The live fault toggles plus what the memory-leak fault has retained."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self.config = (config or FaultConfig()).model_copy()
        self._leaked: list[bytearray] = []

    def update(self, changes: dict[str, Any]) -> FaultConfig:
        merged = self.config.model_dump() | changes
        self.config = FaultConfig.model_validate(merged)
        return self.config

    def reset(self) -> FaultConfig:
        self.config = FaultConfig()
        self._leaked.clear()
        return self.config

    @property
    def leaked_bytes(self) -> int:
        return sum(len(b) for b in self._leaked)

    def on_request(self) -> None:
        """Per-request faults (memory leak, CPU burn); cheap when both are off."""
        cfg = self.config
        if cfg.memory_leak_kb:
            self._leaked.append(bytearray(cfg.memory_leak_kb * 1024))
        if cfg.cpu_burn_ms:
            deadline = time.perf_counter() + cfg.cpu_burn_ms / 1000
            x = 0
            while time.perf_counter() < deadline:
                x += 1

    def snapshot(self) -> dict[str, Any]:
        return self.config.model_dump() | {"leaked_bytes": self.leaked_bytes}
