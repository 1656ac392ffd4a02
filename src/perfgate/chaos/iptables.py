"""Real packet loss with iptables' ``statistic`` match on both ends of a veth pair.

The AI egress (the provider, or the target's way to it) lives in a network namespace
reached over a veth pair. Loss is applied on **ingress at both ends**: requests are
dropped as they arrive in the namespace, responses as they arrive on the host::

    ip netns exec NS iptables -w -A INPUT -i NS_IF -m statistic --mode random \
        --probability 0.2 -m comment --comment perfgate:RUN:FAULT -j DROP
    iptables -w -A INPUT -i HOST_IF  (same match) -j DROP

TCP retransmits what is lost, so 20% loss shows as added latency, stalls and some
timeouts, as on a real lossy link. The revert deletes exactly the rules added (``-D``
with the same specification, once per ``-A``), then lists both chains
(``iptables -S INPUT``) and is verified only when no rule carries the fault's comment.
Needs root, ``ip`` and ``iptables``.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import threading
from typing import Any

from perfgate.chaos.fault import ChaosError, FaultEnv, Outcome
from perfgate.chaos.spec import FaultSpec

__all__ = ["IptablesFault", "iptables_problem"]

TIMEOUT_S = 15.0


def iptables_problem() -> str | None:
    """Why iptables faults cannot run here, or None."""
    if os.geteuid() != 0:
        return "iptables faults need root (use kind: proxy otherwise)"
    missing = [t for t in ("ip", "iptables") if shutil.which(t) is None]
    return f"missing {', '.join(missing)}" if missing else None


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


class IptablesFault:
    kind = "iptables"

    def __init__(self, name: str, netns: str, host_if: str, ns_if: str, loss: float,
                 comment: str) -> None:
        self.name = name
        self.netns, self.host_if, self.ns_if = netns, host_if, ns_if
        self.loss = loss
        self.comment = comment
        self.lock = threading.Lock()
        # rules whose -A ran (or may have): {"prefix": netns exec argv or [], "rule": spec}
        self.added: list[dict[str, list[str]]] = []

    @classmethod
    def from_spec(cls, spec: FaultSpec, fenv: FaultEnv) -> IptablesFault:
        assert spec.iptables is not None
        s = spec.iptables
        return cls(spec.name, s.netns, s.host_if, s.ns_if, spec.loss,
                   f"{fenv.tag}:{spec.name}")

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> IptablesFault:
        fault = cls(rec["name"], rec["netns"], rec["host_if"], rec["ns_if"], rec["loss"],
                    rec["comment"])
        fault.added = [{"prefix": list(r["prefix"]), "rule": list(r["rule"])}
                       for r in rec.get("rules", [])]
        return fault

    def _targets(self) -> list[tuple[list[str], str]]:
        return [(["ip", "netns", "exec", self.netns], self.ns_if), ([], self.host_if)]

    def _rule(self, iface: str) -> list[str]:
        return ["INPUT", "-i", iface, "-m", "statistic", "--mode", "random", "--probability",
                f"{self.loss:.6f}", "-m", "comment", "--comment", self.comment, "-j", "DROP"]

    def planned(self) -> list[dict[str, list[str]]]:
        return [{"prefix": prefix, "rule": self._rule(iface)} for prefix, iface in self._targets()]

    def prepare(self) -> None:
        problem = iptables_problem()
        if problem:
            raise ChaosError(problem)
        got = _run(["ip", "netns", "exec", self.netns, "true"])
        if got.returncode != 0:
            raise ChaosError(f"network namespace {self.netns!r} not usable: "
                             f"{got.stderr.strip()}")

    def apply(self) -> dict[str, Any]:
        with self.lock:
            for rule in self.planned():
                # recorded before it runs: a crash in between still knows what to delete
                self.added.append(rule)
                got = _run(_argv(rule, "-A"))
                if got.returncode != 0:
                    raise ChaosError(f"iptables -A failed: {got.stderr.strip()}")
            return {"rules": [" ".join(_argv(r, "-A")) for r in self.added]}

    def revert(self) -> dict[str, Any]:
        """Delete the recorded rules, then sweep every rule still carrying the fault's
        comment. The sweep covers a crash between ``-A`` and the state file's update (the
        record then lists no rules) and any formatting drift in what iptables stored."""
        with self.lock:
            deleted, errors = [], []
            for rule in list(self.added):
                got = _run(_argv(rule, "-D"))
                if got.returncode == 0 or "does a matching rule exist" in got.stderr \
                        or "Bad rule" in got.stderr:
                    deleted.append(" ".join(_argv(rule, "-D")))
                    self.added.remove(rule)
                else:
                    errors.append(got.stderr.strip())
            for prefix, _ in self._targets():
                listed = _run([*prefix, "iptables", "-w", "-S", "INPUT"])
                if listed.returncode != 0:
                    continue  # the namespace is gone, and its rules with it
                for line in listed.stdout.splitlines():
                    if self.comment not in line or not line.startswith("-A "):
                        continue
                    argv = [*prefix, "iptables", "-w", "-D", *shlex.split(line)[1:]]
                    got = _run(argv)
                    if got.returncode == 0:
                        deleted.append(" ".join(argv))
                    else:
                        errors.append(got.stderr.strip())
            if errors:
                raise ChaosError("iptables -D failed: " + "; ".join(errors))
            return {"deleted": deleted}

    def listing(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for prefix, _ in self._targets():
            got = _run([*prefix, "iptables", "-w", "-S", "INPUT"])
            where = f"netns {self.netns}" if prefix else "host"
            if got.returncode != 0:
                raise ChaosError(f"iptables -S INPUT in {where} failed: {got.stderr.strip()}")
            out[where] = [line for line in got.stdout.splitlines() if self.comment in line]
        return out

    def verify(self) -> Outcome:
        try:
            left = self.listing()
        except ChaosError as exc:
            if "Cannot open network namespace" in str(exc):  # namespace gone: so are its rules
                return Outcome(True, {"note": str(exc)})
            return Outcome(False, {"error": str(exc)})
        return Outcome(not any(left.values()), {"rules_left": left})

    def record(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "netns": self.netns,
                "host_if": self.host_if, "ns_if": self.ns_if, "loss": self.loss,
                "comment": self.comment, "rules": self.added}

    def close(self) -> None:
        return None


def _argv(rule: dict[str, list[str]], op: str) -> list[str]:
    return [*rule["prefix"], "iptables", "-w", op, *rule["rule"]]
