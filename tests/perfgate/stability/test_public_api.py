"""The public names of the stability, chaos and preflight packages (changing them is an API
change)."""

from __future__ import annotations

import perfgate.chaos
import perfgate.preflight
import perfgate.stability


def test_public_names() -> None:
    assert sorted(perfgate.stability.__all__) == [
        "AiCall", "CascadeSpec", "ErrorCount", "GcSpec", "LeakSpec", "PlateauSeries",
        "SlopeEstimate", "StabilitySpec", "Verdict", "breaker_verdict", "cascade_verdict",
        "failover_verdict", "gc_verdict", "leak_verdict", "theil_sen"]
    assert sorted(perfgate.chaos.__all__) == ["ChaosSpec", "FaultSpec", "host_port"]
    assert sorted(perfgate.preflight.__all__) == ["FlagsCheckSpec", "PreflightSpec",
                                                  "VendorKeySpec", "VendorSpec"]
    for module in (perfgate.stability, perfgate.chaos, perfgate.preflight):
        assert all(hasattr(module, name) for name in module.__all__)
