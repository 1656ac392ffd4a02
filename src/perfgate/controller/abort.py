"""The perf lead's abort request, and the one abort path where the first reason wins.

``perfgate abort RUN_DIR`` (or the dashboard) writes ``abort.request`` (JSON: who, why,
when) into the run directory; the controller polls for it every tick. SIGINT/SIGTERM
take the same path. Whatever asks first is recorded; later requests are events only.
"""

from __future__ import annotations

import getpass
import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REQUEST_FILE = "abort.request"


@dataclass(frozen=True)
class AbortReason:
    kind: str  # "perf_lead", "signal", a trigger name, "cost_cap", ...
    message: str
    who: str = ""
    t: float = 0.0
    plateau: str | None = None
    evidence: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def request_abort(run_dir: Path, reason: str, who: str | None = None) -> Path:
    """Ask a running controller to abort; atomic write so it never reads half a file."""
    if not reason.strip():
        raise ValueError("an abort needs a reason")
    path = run_dir / REQUEST_FILE
    tmp = run_dir / f".{REQUEST_FILE}.{os.getpid()}"
    payload = {"who": who or getpass.getuser(), "reason": reason.strip(),
               "at": datetime.now(UTC).isoformat(timespec="seconds")}
    tmp.write_text(json.dumps(payload), encoding="utf-8")
    tmp.replace(path)
    return path


def read_abort_request(run_dir: Path) -> dict[str, str] | None:
    path = run_dir / REQUEST_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else None


class AbortController:
    """First reason wins; everything after it is only noted."""

    def __init__(self) -> None:
        self._reason: AbortReason | None = None

    @property
    def reason(self) -> AbortReason | None:
        return self._reason

    @property
    def aborted(self) -> bool:
        return self._reason is not None

    def abort(self, reason: AbortReason) -> bool:
        """Record the reason if it is the first; return True when it was."""
        if self._reason is not None:
            return False
        self._reason = reason
        return True
