from __future__ import annotations

import perfgate.telemetry


def test_public_names_are_pinned() -> None:
    assert sorted(perfgate.telemetry.__all__) == [
        "SignalSpec", "SignalStore", "SourceSpec", "TelemetrySpec", "bucket_deltas",
        "count_over", "histogram_quantile", "quantile_sample_name",
    ]
    for name in perfgate.telemetry.__all__:
        assert getattr(perfgate.telemetry, name) is not None
