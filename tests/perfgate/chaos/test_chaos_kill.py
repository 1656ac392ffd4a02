"""A real `perfgate run` process with a fault applied: SIGTERM reverts it on the way out;
after SIGKILL (no handler runs) `perfgate report` / `perfgate chaos cleanup` revert it from
the state file. With root and iptables, the fault is a real iptables rule on a veth pair."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from perfgate.chaos.iptables import IptablesFault
from perfgate.chaos.netns import NetnsLink, netns_problem

pytestmark = pytest.mark.integration

LONG = {"plateaus": ((20, 20.0),), "warmup_s": 0.5}


def _command_chaos(marker: Path) -> str:
    py = sys.executable
    return f"""
chaos:
  faults:
    - name: marker
      kind: command
      plateau: p1
      at: 0.5s
      duration: 15s
      command:
        inject: ["{py}", "-c", "open('{marker}', 'w').write('on')"]
        revert: ["{py}", "-c", "import os; os.path.exists('{marker}') and os.remove('{marker}')"]
        verify: ["{py}", "-c", "import os, sys; sys.exit(os.path.exists('{marker}'))"]
"""


def _iptables_chaos(link: NetnsLink) -> str:
    return f"""
chaos:
  faults:
    - name: loss
      kind: iptables
      plateau: p1
      at: 0.5s
      duration: 15s
      loss: 0.2
      iptables: {{netns: {link.name}, host_if: {link.host_if}, ns_if: {link.ns_if}}}
"""


def _start(plan: Path, out: Path, applied: Callable[[], bool]) -> tuple[subprocess.Popen[bytes],
                                                                          Path]:
    out.mkdir(parents=True, exist_ok=True)
    with (out.parent / "perfgate.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "perfgate", "run", str(plan), "--out", str(out),
             "--skip-preflight", "--no-dashboard", "--metrics-port", "-1"],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if applied():
            dirs = list(out.glob("toyrun-*"))
            assert dirs
            return proc, dirs[0]
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise AssertionError((out.parent / "perfgate.log").read_text())


def _state(run_dir: Path) -> dict[str, object]:
    return dict(json.loads((run_dir / "chaos.state.json").read_text())["faults"])


@pytest.fixture
def veth() -> Iterator[NetnsLink]:
    problem = netns_problem()
    if problem:
        pytest.skip(f"iptables chaos needs root, ip and iptables: {problem}")
    link = NetnsLink.create("pgtest")
    try:
        yield link
    finally:
        link.destroy()
    assert not link.exists()


def test_sigterm_mid_fault_reverts_before_exit(make_toy_plan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "fault-on"
    plan = make_toy_plan(edit=lambda t: t + _command_chaos(marker), **LONG)
    proc, run_dir = _start(plan, tmp_path / "runs", marker.exists)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 130
    assert not marker.exists()
    assert _state(run_dir)["marker"]["status"] == "reverted"  # type: ignore[index]


def test_sigkill_mid_fault_then_report_and_cleanup_revert(make_toy_plan, tmp_path: Path
                                                          ) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "fault-on"
    plan = make_toy_plan(edit=lambda t: t + _command_chaos(marker), **LONG)
    proc, run_dir = _start(plan, tmp_path / "runs", marker.exists)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert marker.exists(), "SIGKILL runs no handler: the fault is still on"
    assert _state(run_dir)["marker"]["status"] == "applied"  # type: ignore[index]
    done = subprocess.run([sys.executable, "-m", "perfgate", "report", str(run_dir), "--json"],
                          capture_output=True, text=True, timeout=60)
    assert "chaos leftover marker: reverted and verified" in done.stderr
    assert not marker.exists()
    again = subprocess.run([sys.executable, "-m", "perfgate", "chaos", "cleanup", str(run_dir)],
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "no applied fault left" in again.stdout


def test_iptables_rules_on_both_ends_then_exactly_removed(veth: NetnsLink) -> None:
    fault = IptablesFault("loss", veth.name, veth.host_if, veth.ns_if, 0.2, "perfgate:t:loss")
    fault.prepare()
    fault.apply()
    try:
        rules = fault.listing()  # this fault's comment only
        assert len(rules[f"netns {veth.name}"]) == 1 and len(rules["host"]) == 1
        assert "--probability 0.2" in rules["host"][0] and "-j DROP" in rules["host"][0]
    finally:
        fault.revert()
    check = fault.verify()
    assert check.ok, check.evidence


def test_sigkill_mid_iptables_fault_then_cleanup_removes_the_rules(
        make_toy_plan, tmp_path: Path, veth: NetnsLink) -> None:  # type: ignore[no-untyped-def]
    probe = IptablesFault("loss", veth.name, veth.host_if, veth.ns_if, 0.2, "perfgate:")
    plan = make_toy_plan(edit=lambda t: t + _iptables_chaos(veth), **LONG)

    def ours() -> dict[str, list[str]]:  # other runs may have rules on their own veths
        return {k: [r for r in v if veth.host_if in r or veth.ns_if in r]
                for k, v in probe.listing().items()}

    def applied() -> bool:
        return all(len(v) == 1 for v in ours().values())

    proc, run_dir = _start(plan, tmp_path / "runs", applied)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert applied(), "SIGKILL runs no handler: the rules are still there"
    done = subprocess.run([sys.executable, "-m", "perfgate", "chaos", "cleanup", str(run_dir),
                           "--json"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)[0]
    assert result["verified"] and result["verify"]["rules_left"] == {
        f"netns {veth.name}": [], "host": []}
    assert ours() == {f"netns {veth.name}": [], "host": []}
