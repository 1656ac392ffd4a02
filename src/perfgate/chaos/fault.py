"""What every fault kind does, and how a fault is rebuilt from its state-file record.

A fault is synchronous on purpose: the same code applies it from the run (in a worker
thread, so the generator's loop never waits) and reverts leftovers from
``perfgate chaos cleanup`` or an ``atexit`` handler, where no event loop runs.
``apply``/``revert`` hold the fault's lock, so a revert requested while an apply is
still in progress waits for it and then removes what it added.

A fault's ``record()`` is JSON with everything needed to revert it in another process
(rules, toxic names, argv, URL templates; never an expanded secret).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["ChaosError", "Fault", "FaultEnv", "Outcome"]


class ChaosError(RuntimeError):
    """A fault could not be prepared, applied or reverted."""


@dataclass(frozen=True)
class FaultEnv:
    run_id: str
    env: Mapping[str, str] = field(default_factory=dict)
    allowed_hosts: tuple[str, ...] = ()

    @property
    def tag(self) -> str:
        """Marks everything a run adds (iptables comments, toxic names)."""
        return f"perfgate:{self.run_id}"


@dataclass
class Outcome:
    ok: bool
    evidence: dict[str, Any]


class Fault(Protocol):
    name: str
    kind: str
    lock: threading.Lock

    def prepare(self) -> None:
        """Before the run (e.g. the proxy starts listening); raises ChaosError."""

    def apply(self) -> dict[str, Any]: ...

    def revert(self) -> dict[str, Any]: ...

    def verify(self) -> Outcome:
        """ok when nothing of the fault is left."""

    def record(self) -> dict[str, Any]: ...

    def close(self) -> None:
        """After the run: release what ``prepare`` set up."""
