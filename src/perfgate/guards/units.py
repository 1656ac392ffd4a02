"""Thresholds with units: every threshold in a plan says what it measures.

==========  ==========================  ========================================
unit        written as                  value used
==========  ==========================  ========================================
seconds     ``120ms``, ``2s``, ``1m``   seconds (float)
ratio       ``0.5%``                    a fraction: 0.005 (error rates, free pool)
percent     ``80%``                     percentage points: 80.0 (``cpu_percent``)
usd         ``$0.0004``, ``0.5 USD``    exact ``Decimal``
bytes       ``512MiB``, ``2GB``, ``1024B``  bytes (float)
count       ``0``, ``3``                the number
==========  ==========================  ========================================

A bare number for a unit that needs one is an error: ``threshold: 120`` could be ms or
seconds, so it must say ``120ms``. A signal's unit follows its name's suffix
(``_seconds``, ``_ratio``, ``_percent``, ``_bytes``, ``_usd``; anything else is a count).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from perfgate.plan.durations import format_duration, parse_duration

__all__ = ["Unit", "format_value", "parse_threshold", "unit_of_signal"]


class Unit(StrEnum):
    SECONDS = "seconds"
    RATIO = "ratio"
    PERCENT = "percent"
    USD = "usd"
    BYTES = "bytes"
    COUNT = "count"


_SUFFIX_UNIT = (("_seconds", Unit.SECONDS), ("_ratio", Unit.RATIO), ("_percent", Unit.PERCENT),
                ("_bytes", Unit.BYTES), ("_usd", Unit.USD))
_BYTES = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "kib": 1024, "mib": 1024**2,
          "gib": 1024**3}
_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_EXAMPLE = {Unit.SECONDS: "'120ms' or '2s'", Unit.RATIO: "'0.5%'", Unit.PERCENT: "'80%'",
            Unit.USD: "'$0.0004'", Unit.BYTES: "'512MiB'", Unit.COUNT: "a number like 0"}


def unit_of_signal(name: str) -> Unit:
    for suffix, unit in _SUFFIX_UNIT:
        if name.endswith(suffix):
            return unit
    return Unit.COUNT


def parse_threshold(raw: object, unit: Unit) -> float | Decimal:
    """The value of ``raw`` in ``unit``'s terms; ValueError says what was expected."""
    expected = f"expected {unit.value}, written like {_EXAMPLE[unit]}"
    if isinstance(raw, bool):
        raise ValueError(f"{raw!r}: {expected}")
    text = str(raw).strip()
    if unit is Unit.COUNT:
        if not re.fullmatch(_NUMBER, text):
            raise ValueError(f"{raw!r}: {expected}")
        return float(text)
    if isinstance(raw, int | float):
        raise ValueError(f"{raw!r} has no unit: {expected}")
    if unit is Unit.SECONDS:
        try:
            return parse_duration(text)
        except ValueError:
            raise ValueError(f"{raw!r}: {expected}") from None
    if unit in (Unit.RATIO, Unit.PERCENT):
        match = re.fullmatch(rf"({_NUMBER})\s*%", text)
        if not match:
            raise ValueError(f"{raw!r}: {expected}")
        pct = float(match.group(1))
        return pct / 100 if unit is Unit.RATIO else pct
    if unit is Unit.USD:
        match = re.fullmatch(rf"\$\s*({_NUMBER})|({_NUMBER})\s*USD", text, re.IGNORECASE)
        if not match:
            raise ValueError(f"{raw!r}: {expected}")
        try:
            return Decimal(match.group(1) or match.group(2))
        except InvalidOperation:  # pragma: no cover (the regex admits only numbers)
            raise ValueError(f"{raw!r}: {expected}") from None
    match = re.fullmatch(rf"({_NUMBER})\s*([KMG]i?B|B)", text, re.IGNORECASE)
    if not match:
        raise ValueError(f"{raw!r}: {expected}")
    return float(match.group(1)) * _BYTES[match.group(2).lower()]


def format_value(value: float | Decimal | None, unit: Unit) -> str:
    """Display form: ``0.1862 s`` -> ``186.2ms``, ratio 0.0012 -> ``0.12%``."""
    if value is None:
        return "-"
    if unit is Unit.SECONDS:
        v = float(value)
        return f"{v * 1000:.1f}ms" if abs(v) < 10 else format_duration(round(v, 1))
    if unit is Unit.RATIO:
        return f"{float(value) * 100:.3g}%"
    if unit is Unit.PERCENT:
        return f"{float(value):.1f}%"
    if unit is Unit.USD:
        return f"${Decimal(value).normalize():f}" if isinstance(value, Decimal) \
            else f"${value:.6g}"
    if unit is Unit.BYTES:
        return f"{float(value) / 1024**2:.1f}MiB"
    return f"{float(value):g}"
