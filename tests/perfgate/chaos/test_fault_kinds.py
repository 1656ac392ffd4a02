"""Each fault kind applies, reverts and verifies the revert (proxy, toxiproxy, command,
http), and a state file lets another process revert what a killed one applied."""

from __future__ import annotations

import json
import socket
import sys
import urllib.request
from pathlib import Path

import pytest

from perfgate.chaos.actions import CommandFault, HttpFault
from perfgate.chaos.fault import ChaosError, FaultEnv
from perfgate.chaos.proxy import ProxyFault
from perfgate.chaos.spec import FaultSpec
from perfgate.chaos.state import ChaosState, build_fault, cleanup, pending_faults
from perfgate.chaos.toxiproxy import ToxiproxyFault


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, timeout: float = 1.0) -> str:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=timeout) as resp:
        return str(resp.read().decode())


def test_proxy_forwards_then_black_holes_then_heals(upstream) -> None:  # type: ignore[no-untyped-def]
    port = _free_port()
    fault = ProxyFault("loss", ("127.0.0.1", port), ("127.0.0.1", upstream.port), loss=1.0)
    fault.prepare()
    try:
        url = f"http://127.0.0.1:{port}/v1/models"
        assert json.loads(_get(url)) == {"ok": True}  # no fault: bytes pass untouched
        fault.apply()
        with pytest.raises(OSError):  # loss 1.0: every connection stalls -> client timeout
            _get(url, timeout=0.5)
        assert fault.proxy.stats["stalled"] >= 1
        evidence = fault.revert()
        check = fault.verify()
        assert check.ok, check.evidence
        assert evidence["stats"]["lost_chunks"] >= 1
        assert json.loads(_get(url)) == {"ok": True}  # healed
    finally:
        fault.close()


def test_proxy_loses_about_the_given_share(upstream) -> None:  # type: ignore[no-untyped-def]
    port = _free_port()
    fault = ProxyFault("loss", ("127.0.0.1", port), ("127.0.0.1", upstream.port), loss=0.3,
                       seed=3)
    fault.prepare()
    fault.apply()
    failed = 0
    try:
        for _ in range(40):
            try:
                _get(f"http://127.0.0.1:{port}/", timeout=0.15)
            except OSError:
                failed += 1
    finally:
        fault.revert()
        fault.close()
    assert 4 <= failed <= 28  # ~30% of 40 requests (each meets the loss at least once)


def test_toxiproxy_adds_and_deletes_exactly_its_toxics(fake_toxiproxy) -> None:  # type: ignore[no-untyped-def]
    api = fake_toxiproxy.url
    fake_toxiproxy.state["toxics"]["someone_elses"] = {"name": "someone_elses"}
    fault = ToxiproxyFault("loss", api, "llm", 0.2, 200, 100)
    fault.prepare()
    evidence = fault.apply()
    toxics = fake_toxiproxy.state["toxics"]
    assert {"perfgate_loss_stall", "perfgate_loss_delay"} <= set(toxics)
    stall = toxics["perfgate_loss_stall"]
    assert (stall["type"], stall["stream"], stall["toxicity"]) == ("timeout", "downstream", 0.2)
    assert toxics["perfgate_loss_delay"]["attributes"] == {"latency": 200, "jitter": 100}
    assert len(evidence["toxics"]) == 2
    fault.revert()
    assert fault.verify().ok
    assert set(toxics) == {"someone_elses"}  # only ours are gone
    fault.revert()  # again: 404s are fine
    with pytest.raises(ChaosError, match="HTTP 404"):
        ToxiproxyFault("loss", api, "nope", 0.2, 0, 0).prepare()


def test_toxiproxy_refuses_hosts_the_plan_does_not_allow() -> None:
    fault = ToxiproxyFault("loss", "http://192.0.2.10:8474", "llm", 0.2, 0, 0)
    with pytest.raises(ChaosError, match="neither loopback"):
        fault.prepare()


def _marker_spec(marker: Path) -> FaultSpec:
    return FaultSpec.model_validate({
        "name": "marker", "kind": "command", "plateau": "p1", "duration": "1s",
        "command": {"inject": [sys.executable, "-c", f"open({str(marker)!r}, 'w').write('x')"],
                    "revert": [sys.executable, "-c",
                               f"import os; os.path.exists({str(marker)!r}) and "
                               f"os.remove({str(marker)!r})"],
                    "verify": [sys.executable, "-c",
                               f"import os, sys; sys.exit(os.path.exists({str(marker)!r}))"]}})


def test_command_fault_and_cleanup_from_the_state_file(tmp_path: Path) -> None:
    marker = tmp_path / "fault-on"
    fault = build_fault(_marker_spec(marker), FaultEnv("run1"))
    state = ChaosState(tmp_path, "run1", ())
    state.set(fault, "applying")
    fault.apply()
    state.set(fault, "applied")
    assert marker.exists() and pending_faults(tmp_path) == ["marker"]
    # our own pid is "alive" only for other processes: cleanup here reverts it
    results = cleanup(tmp_path)
    assert results[0]["verified"] and not marker.exists()
    assert pending_faults(tmp_path) == [] and cleanup(tmp_path) == []


def test_cleanup_leaves_a_live_run_alone(tmp_path: Path) -> None:
    fault = CommandFault("c", ["true"], ["true"], None, 5, {})
    state = ChaosState(tmp_path, "r", ())
    state.set(fault, "applied")
    data = json.loads(state.path.read_text())
    data["pid"] = 1  # init: alive, and not us
    import psutil

    data["pid_started"] = psutil.Process(1).create_time()
    state.path.write_text(json.dumps(data))
    with pytest.raises(ChaosError, match="still alive"):
        cleanup(tmp_path)
    assert cleanup(tmp_path, force=True)[0]["verified"]


def test_http_fault_verifies_the_revert_answer(upstream) -> None:  # type: ignore[no-untyped-def]
    call = {"url": f"{upstream.url}/toggle", "method": "GET", "headers": {}, "body": None}
    fault = HttpFault("drill", call, call, {"ok": True}, {}, ())
    fault.prepare()
    fault.apply()
    fault.revert()
    assert fault.verify().ok
    wrong = HttpFault("drill", call, call, {"ok": False}, {}, ())
    wrong.revert()
    assert not wrong.verify().ok
    with pytest.raises(ChaosError, match="LLMSIM_ADMIN"):
        HttpFault("d", {**call, "url": "${LLMSIM_ADMIN}/x"}, call, {}, {}, ()).prepare()


def test_the_next_run_reverts_what_a_dead_run_left(tmp_path: Path) -> None:
    import subprocess

    marker = tmp_path / "fault-on"
    run_dir = tmp_path / "runs" / "r1"
    fault = build_fault(_marker_spec(marker), FaultEnv("r1"))
    state = ChaosState(run_dir, "r1", ())
    fault.apply()
    state.set(fault, "applied")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    data = json.loads(state.path.read_text())
    data["pid"] = dead.pid  # the run's process is gone (SIGKILLed)
    state.path.write_text(json.dumps(data))
    from perfgate.chaos.state import cleanup_stale

    done = cleanup_stale(tmp_path / "runs")
    assert list(done) == [str(run_dir)] and done[str(run_dir)][0]["verified"]
    assert not marker.exists()
