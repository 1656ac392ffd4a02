import perfgate.engine as engine


def test_public_names_are_pinned() -> None:
    assert sorted(engine.__all__) == [
        "AiohttpTransport", "EndpointRef", "LagStats", "LiveCounters", "LoopChoice",
        "LoopLagMonitor", "MixSampler", "MockTransport", "Phase", "PreparedRequest",
        "RequestFactory", "Response", "ResultSink", "Shard", "ShardResult", "Tagger",
        "Transport", "TransportConnectError", "TransportError", "TransportTimeout",
        "arrivals", "build_endpoints", "build_shard", "build_timeline", "phase_at",
        "plain_key", "select_loop", "timeline_arrivals", "total_duration",
    ]
    for name in engine.__all__:
        assert getattr(engine, name) is not None
