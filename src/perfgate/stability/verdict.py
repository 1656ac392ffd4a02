"""One stability or resilience verdict: PASS, FAIL or INSUFFICIENT, with its evidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Status", "Verdict", "combine"]

Status = Literal["PASS", "FAIL", "INSUFFICIENT", "SKIPPED"]


@dataclass(frozen=True)
class Verdict:
    name: str
    status: Status
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "message": self.message,
                "evidence": self.evidence}


def combine(statuses: list[Status]) -> Status:
    """FAIL wins, then INSUFFICIENT; all SKIPPED stays SKIPPED."""
    real = [s for s in statuses if s != "SKIPPED"]
    if not real:
        return "SKIPPED"
    if "FAIL" in real:
        return "FAIL"
    return "INSUFFICIENT" if "INSUFFICIENT" in real else "PASS"
