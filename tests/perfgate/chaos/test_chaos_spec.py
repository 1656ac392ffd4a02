"""The plan's chaos section: validation and where a fault sits in its plateau."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from perfgate.chaos.spec import ChaosSpec, FaultSpec, host_port

PROXY = {"name": "loss", "kind": "proxy", "plateau": "p4", "duration": "1m", "loss": 0.2,
         "egress": "127.0.0.1:8100", "proxy": {"listen": "127.0.0.1:18100"}}


def test_middle_centres_the_fault_in_the_scaled_plateau() -> None:
    f = FaultSpec.model_validate(PROXY)
    # perf-6b plateau 4 at x1/30: 34 s long, fault 2 s -> starts 16 s in
    assert f.offset(34.0, 1 / 30) == pytest.approx(16.0)
    assert FaultSpec.model_validate({**PROXY, "at": "25%"}).offset(34.0, 1.0) == 8.5
    assert FaultSpec.model_validate({**PROXY, "at": "8m"}).offset(1020, 0.5) == 240


@pytest.mark.parametrize("change, message", [
    ({"kind": "iptables"}, "exactly its own `iptables:`"),
    ({"loss": 0}, "needs loss > 0"),
    ({"at": "soon"}, "use middle"),
    ({"egress": "nohost"}, "is not host:port"),
    ({"plateau": "4"}, "String should match"),
])
def test_bad_faults_say_what_is_wrong(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FaultSpec.model_validate({**PROXY, **change})


def test_fault_names_are_unique_and_host_port_parses_ipv6() -> None:
    with pytest.raises(ValidationError, match="unique"):
        ChaosSpec.model_validate({"faults": [PROXY, PROXY]})
    assert host_port("[::1]:8100") == ("::1", 8100)
