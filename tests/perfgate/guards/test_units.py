"""Thresholds carry their units; a bare number where a unit is needed is an error."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from perfgate.guards.spec import CriterionSpec, TriggerSpec
from perfgate.guards.units import Unit, format_value, parse_threshold, unit_of_signal


@pytest.mark.parametrize(("raw", "unit", "value"), [
    ("120ms", Unit.SECONDS, 0.12), ("2m", Unit.SECONDS, 120.0), ("0.5%", Unit.RATIO, 0.005),
    ("80%", Unit.PERCENT, 80.0), ("$0.0004", Unit.USD, Decimal("0.0004")),
    ("500 USD", Unit.USD, Decimal(500)), ("512MiB", Unit.BYTES, 512 * 1024**2),
    (0, Unit.COUNT, 0.0), ("3", Unit.COUNT, 3.0),
])
def test_parse(raw: object, unit: Unit, value: object) -> None:
    assert parse_threshold(raw, unit) == value


@pytest.mark.parametrize(("raw", "unit"), [
    (120, Unit.SECONDS), ("0.5", Unit.RATIO), ("80", Unit.PERCENT), ("120ms", Unit.RATIO),
    ("0.0004", Unit.USD), ("lots", Unit.COUNT), (True, Unit.COUNT), ("12 parsecs", Unit.BYTES),
])
def test_missing_or_wrong_units_are_refused(raw: object, unit: Unit) -> None:
    with pytest.raises(ValueError, match="expected"):
        parse_threshold(raw, unit)


def test_signal_units_follow_the_name() -> None:
    assert unit_of_signal("db_query_p95_seconds") is Unit.SECONDS
    assert unit_of_signal("db_pool_free_ratio") is Unit.RATIO
    assert unit_of_signal("cpu_percent") is Unit.PERCENT
    assert unit_of_signal("queue_depth") is Unit.COUNT


def test_models_validate_thresholds_against_their_metric() -> None:
    assert CriterionSpec(name="p", metric="p95", threshold="120ms").value == 0.12
    assert CriterionSpec(name="c", signal="cpu_percent", stat="p95", threshold="70%").value == 70
    assert TriggerSpec.model_validate({"name": "e", "signal": "error_rate",
                                       "threshold": "0.5%", "for": "2m"}).for_ == 120
    with pytest.raises(ValidationError, match="has no unit"):
        CriterionSpec(name="p", metric="p95", threshold=120)
    with pytest.raises(ValidationError, match="exactly one"):
        CriterionSpec(name="p", metric="p95", signal="cpu_percent", threshold="1s")
    with pytest.raises(ValidationError, match="unknown metric"):
        CriterionSpec(name="p", metric="p97", threshold="1s")


def test_format() -> None:
    assert format_value(0.1862, Unit.SECONDS) == "186.2ms"
    assert format_value(0.0012, Unit.RATIO) == "0.12%"
    assert format_value(Decimal("0.000250"), Unit.USD) == "$0.00025"
    assert format_value(None, Unit.COUNT) == "-"
