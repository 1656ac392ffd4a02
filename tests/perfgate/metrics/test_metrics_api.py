import perfgate.metrics
from perfgate.metrics import histogram


def test_public_names_are_pinned() -> None:
    assert sorted(perfgate.metrics.__all__) == sorted(
        [
            "ERROR_OUTCOMES",
            "RECORD_FIELDS",
            "SLO_OUTCOMES",
            "Cell",
            "CellRecord",
            "Outcome",
            "Recorder",
            "SeriesKey",
            "SliStats",
            "Window",
            "by_family",
            "by_minute_family",
            "by_plateau_endpoint",
            "by_plateau_family",
            "by_plateau_mix_class",
            "classify_status",
            "group_windows",
            "merge_cells",
            "sli_stats",
        ]
    )
    for name in perfgate.metrics.__all__:
        assert hasattr(perfgate.metrics, name)


def test_histogram_module_surface() -> None:
    for name in histogram.__all__:
        assert hasattr(histogram, name)
    assert (histogram.LOWEST_US, histogram.HIGHEST_US, histogram.SIG_DIGITS) == (
        1,
        3_600_000_000,
        3,
    )
