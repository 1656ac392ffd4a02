import perfgate.store


def test_public_names_are_pinned() -> None:
    assert sorted(perfgate.store.__all__) == sorted(
        [
            "DB_NAME",
            "HLOG_NAME",
            "PLAN_NAME",
            "REDACTED",
            "EventRow",
            "GeneratorRow",
            "PlateauRow",
            "RunReader",
            "RunWriter",
            "SampleRow",
            "StoreError",
            "redact",
        ]
    )
    for name in perfgate.store.__all__:
        assert hasattr(perfgate.store, name)
