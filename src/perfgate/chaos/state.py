"""The run directory's record of applied faults, and the cleanup that reads it.

``chaos.state.json`` (atomic rewrites) lists every fault with its status
(``prepared`` -> ``applying`` -> ``applied`` -> ``reverted`` | ``revert_failed``) and
the record needed to revert it from another process. A fault is marked ``applying``
*before* its first change is made, so a perfgate killed mid-apply still leaves the
instructions to undo it.

A SIGKILL runs no handler: the leftovers are reverted later by
``perfgate chaos cleanup RUN_DIR``, by ``perfgate report RUN_DIR``, and by the next
``perfgate run`` into the same ``--out`` directory (``cleanup_stale``). None of them
touches a run whose process is still alive (unless forced).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psutil

from perfgate.chaos.actions import CommandFault, HttpFault
from perfgate.chaos.fault import ChaosError, Fault, FaultEnv
from perfgate.chaos.iptables import IptablesFault
from perfgate.chaos.proxy import ProxyFault
from perfgate.chaos.spec import FaultSpec
from perfgate.chaos.toxiproxy import ToxiproxyFault

__all__ = ["PENDING", "STATE_FILE", "ChaosState", "build_fault", "cleanup", "cleanup_stale",
           "pending_faults"]

STATE_FILE = "chaos.state.json"
PENDING = frozenset({"applying", "applied", "revert_failed"})


def build_fault(spec: FaultSpec, fenv: FaultEnv) -> Fault:
    kinds: dict[str, Any] = {"iptables": IptablesFault, "toxiproxy": ToxiproxyFault,
                             "proxy": ProxyFault, "command": CommandFault, "http": HttpFault}
    fault: Fault = kinds[spec.kind].from_spec(spec, fenv)
    return fault


def fault_from_record(rec: Mapping[str, Any], env: Mapping[str, str],
                      allowed: tuple[str, ...]) -> Fault | None:
    """The fault a record describes, ready to revert; None for an in-process proxy
    (it ended with its process, and its fault with it)."""
    kind, r = rec.get("kind"), dict(rec)
    if kind == "iptables":
        return IptablesFault.from_record(r)
    if kind == "toxiproxy":
        return ToxiproxyFault.from_record(r, allowed)
    if kind == "command":
        return CommandFault.from_record(r)
    if kind == "http":
        return HttpFault.from_record(r, env, allowed)
    return None


class ChaosState:
    def __init__(self, run_dir: Path, run_id: str, allowed_hosts: tuple[str, ...]) -> None:
        self.path = Path(run_dir) / STATE_FILE
        self.data: dict[str, Any] = {"run_id": run_id, "pid": os.getpid(),
                                     "pid_started": psutil.Process().create_time(),
                                     "allowed_hosts": list(allowed_hosts), "faults": {}}

    def set(self, fault: Fault, status: str, **extra: Any) -> None:
        entry = self.data["faults"].setdefault(fault.name, {})
        entry.update(status=status, record=fault.record(), **extra)
        self.write()

    def write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{STATE_FILE}.{os.getpid()}")
        tmp.write_text(json.dumps(self.data, indent=2, default=str), encoding="utf-8")
        tmp.replace(self.path)


def _load(run_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((Path(run_dir) / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def pending_faults(run_dir: Path) -> list[str]:
    data = _load(run_dir) or {}
    return [name for name, e in data.get("faults", {}).items() if e.get("status") in PENDING]


def _alive(data: Mapping[str, Any]) -> bool:
    """Is the run's process still running (the same process: pids get reused)?"""
    pid = data.get("pid")
    if not isinstance(pid, int) or pid == os.getpid():
        return False
    try:
        return bool(psutil.Process(pid).create_time() == data.get("pid_started"))
    except psutil.Error:
        return False


def cleanup(run_dir: Path, env: Mapping[str, str] | None = None, *, force: bool = False
            ) -> list[dict[str, Any]]:
    """Revert and verify every fault the state file still lists as applied; one result
    per such fault. Raises ChaosError when the run's process is still alive (unless
    ``force``): its own handlers revert its faults."""
    data = _load(run_dir)
    if data is None:
        return []
    pend = {n: e for n, e in data.get("faults", {}).items() if e.get("status") in PENDING}
    if not pend:
        return []
    if _alive(data) and not force:
        raise ChaosError(f"run process {data.get('pid')} is still alive; it reverts its own "
                         "faults (use --force only if it is stuck)")
    source = os.environ if env is None else env
    allowed = tuple(data.get("allowed_hosts", []))
    results = []
    for name, entry in pend.items():
        result: dict[str, Any] = {"fault": name, "kind": entry.get("record", {}).get("kind")}
        fault = fault_from_record(entry.get("record", {}), source, allowed)
        if fault is None:
            result.update(reverted=True, verified=True,
                          note="in-process fault: ended with its process")
            entry["status"] = "reverted"
        else:
            try:
                result["revert"] = fault.revert()
                check = fault.verify()
                result.update(reverted=True, verified=check.ok, verify=check.evidence)
            except ChaosError as exc:
                result.update(reverted=False, verified=False, error=str(exc))
            entry["status"] = "reverted" if result["verified"] else "revert_failed"
        entry["cleanup"] = result
        results.append(result)
    path = Path(run_dir) / STATE_FILE
    tmp = path.with_name(f".{STATE_FILE}.cleanup")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
    return results


def cleanup_stale(out_dir: Path, env: Mapping[str, str] | None = None
                  ) -> dict[str, list[dict[str, Any]]]:
    """``cleanup`` for every run directory under ``out_dir`` whose process is gone."""
    done: dict[str, list[dict[str, Any]]] = {}
    if not Path(out_dir).is_dir():
        return done
    for state in sorted(Path(out_dir).glob(f"*/{STATE_FILE}")):
        data = _load(state.parent) or {}
        if _alive(data):
            continue
        results = cleanup(state.parent, env)
        if results:
            done[str(state.parent)] = results
    return done
