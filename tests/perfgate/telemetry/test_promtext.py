"""Exposition text -> signals: rates, CPU %, gauges, windowed histogram quantiles, gaps."""

from __future__ import annotations

import pytest

from perfgate.telemetry.promtext import Extractor, TelemetryError, parse_exposition
from perfgate.telemetry.spec import SignalSpec

SIGNALS = {
    "cpu_percent": SignalSpec(metric="process_cpu_seconds_total", type="cpu"),
    "db_pool_size": SignalSpec(metric="studyhall_db_pool_size"),
    "db_pool_in_use": SignalSpec(metric="studyhall_db_pool_in_use"),
    "db_query_seconds": SignalSpec(metric="studyhall_db_query_seconds", type="histogram",
                                   quantiles=[0.95], over={"db_queries_over_50ms": 0.05}),
    "provider_requests_rate": SignalSpec(metric="studyhall_provider_requests_total",
                                         type="counter", by=["outcome"]),
}


def exposition(cpu: float, in_use: float, buckets: tuple[float, float, float, float],
               ok: float, quota: float) -> str:
    b = buckets
    return f"""\
# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total {cpu}
# TYPE studyhall_db_pool_size gauge
studyhall_db_pool_size 8.0
# TYPE studyhall_db_pool_in_use gauge
studyhall_db_pool_in_use {in_use}
# TYPE studyhall_db_query_seconds histogram
studyhall_db_query_seconds_bucket{{statement="search",le="0.01"}} {b[0]}
studyhall_db_query_seconds_bucket{{statement="search",le="0.05"}} {b[1]}
studyhall_db_query_seconds_bucket{{statement="search",le="0.1"}} {b[2]}
studyhall_db_query_seconds_bucket{{statement="search",le="+Inf"}} {b[3]}
studyhall_db_query_seconds_count{{statement="search"}} {b[3]}
studyhall_db_query_seconds_sum{{statement="search"}} 1.0
# TYPE studyhall_provider_requests_total counter
studyhall_provider_requests_total{{key="primary",outcome="ok"}} {ok}
studyhall_provider_requests_total{{key="secondary",outcome="ok"}} {ok}
studyhall_provider_requests_total{{key="primary",outcome="quota"}} {quota}
# TYPE studyhall_http_request_duration_seconds histogram
studyhall_http_request_duration_seconds_bucket{{route="/x",le="+Inf"}} 5
"""


def test_the_filter_keeps_only_what_the_plan_names() -> None:
    index = parse_exposition(exposition(1, 2, (1, 2, 3, 4), 5, 0),
                             ["studyhall_db_query_seconds", "process_cpu_seconds_total"])
    assert {k for k, v in index.items() if v} == {
        "studyhall_db_query_seconds_bucket", "studyhall_db_query_seconds_count",
        "studyhall_db_query_seconds_sum", "process_cpu_seconds_total"}
    assert set(parse_exposition(exposition(1, 2, (1, 2, 3, 4), 5, 0))) > set(index)


@pytest.mark.parametrize("text", [
    "metric_a{le=\"0.1\" 3\n",  # unclosed labels
    "metric_a{x=1} 3\n",  # unquoted label value
    "<html>502 Bad Gateway</html>\n",
    "metric_a not-a-number\n",
])
def test_malformed_text_raises(text: str) -> None:
    with pytest.raises(TelemetryError):
        parse_exposition(text)


def test_two_scrapes_make_rates_cpu_and_windowed_quantiles() -> None:
    ex = Extractor(SIGNALS, cores=2)
    first, snaps, missing = ex.extract(10.0, parse_exposition(
        exposition(cpu=100.0, in_use=2, buckets=(50, 90, 100, 100), ok=10, quota=0)))
    assert not missing and "db_query_seconds" in snaps
    # rates and bucket deltas need a second scrape; gauges do not
    assert {s.name for s in first} == {"db_pool_size", "db_pool_in_use", "db_pool_free_ratio"}
    second, _, _ = ex.extract(15.0, parse_exposition(
        exposition(cpu=108.0, in_use=6, buckets=(50, 100, 110, 120), ok=20,
                   quota=5)))
    got = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in second}
    assert got[("cpu_percent", ())] == pytest.approx(8 / 5 * 100 / 2)  # 1.6 cores of 2: 80%
    assert got[("db_pool_free_ratio", ())] == pytest.approx(0.25)
    assert got[("provider_requests_rate", (("outcome", "ok"),))] == pytest.approx(4.0)
    assert got[("provider_requests_rate", (("outcome", "quota"),))] == pytest.approx(1.0)
    # the window holds 20 queries: 0 <= 0.01, 10 in (0.01, 0.05], 0 in (0.05, 0.1], 10 above
    assert got[("db_queries_over_50ms", ())] == 10
    assert got[("db_query_p95_seconds", ())] == pytest.approx(0.1)  # rank 19: in +Inf


def test_a_counter_reset_is_an_increase_from_zero() -> None:
    ex = Extractor({"cpu_percent": SIGNALS["cpu_percent"]})
    ex.extract(0.0, parse_exposition("process_cpu_seconds_total 50\n"))
    samples, _, _ = ex.extract(2.0, parse_exposition("process_cpu_seconds_total 1\n"))
    assert samples[0].value == pytest.approx(50.0)  # 1 cpu-second in 2 s


def test_missing_and_nan_are_reported_never_zero() -> None:
    ex = Extractor(SIGNALS)
    samples, _, missing = ex.extract(0.0, parse_exposition(
        "# TYPE studyhall_db_pool_size gauge\nstudyhall_db_pool_size NaN\n"))
    assert samples == []
    assert "NaN" in missing["db_pool_size"]
    assert set(missing) == set(SIGNALS)


def test_no_observations_in_a_window_gives_no_quantile() -> None:
    spec = {"db_query_seconds": SIGNALS["db_query_seconds"]}
    ex = Extractor(spec)
    text = exposition(1, 1, (1, 2, 3, 4), 1, 0)
    ex.extract(0.0, parse_exposition(text))
    samples, _, missing = ex.extract(5.0, parse_exposition(text))
    assert not missing
    assert [s.name for s in samples] == ["db_queries_over_50ms"]  # 0 over, no P95


def test_reads_studyhall_s_real_exposition() -> None:
    from studyhall.metrics import Metrics

    m = Metrics()
    m.db_pool_size.set(8)
    m.db_pool_in_use.set(6)
    m.db_query.labels(statement="search").observe(0.004)
    signals = {k: v for k, v in SIGNALS.items() if k != "db_queries_over_50ms"}
    index = parse_exposition(m.exposition().decode(), Extractor(signals).metric_names())
    samples, snaps, missing = Extractor(signals).extract(0.0, index)
    assert missing == {}
    assert {s.name: s.value for s in samples}["db_pool_free_ratio"] == pytest.approx(0.25)
    assert snaps["db_query_seconds"][-1] == (float("inf"), 1.0)


def test_a_declared_metric_with_no_series_is_not_missing() -> None:
    ex = Extractor({"db_query_seconds": SIGNALS["db_query_seconds"],
                    "provider_requests_rate": SIGNALS["provider_requests_rate"]})
    text = ("# TYPE studyhall_db_query_seconds histogram\n"
            "# TYPE studyhall_provider_requests_total counter\n")
    samples, snaps, missing = ex.extract(0.0, parse_exposition(text))
    assert (samples, snaps, missing) == ([], {}, {})
