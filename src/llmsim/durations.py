"""Go-style duration strings, as OpenAI's ``x-ratelimit-reset-*`` headers use them.

:func:`go_duration` is Go's ``time.Duration.String()`` for a whole number of
nanoseconds (``0s``, ``850ns``, ``1.5µs``, ``20ms``, ``1.5s``, ``6m0s``, ``1h0m0s``).

:func:`header_duration` is what goes into headers: the value is rounded *up* to a
whole millisecond first (a client waiting that long is never early), which also
keeps the header ASCII (no ``µs``).
"""

from __future__ import annotations

import math

_NS_PER_US = 1_000
_NS_PER_MS = 1_000_000
_NS_PER_S = 1_000_000_000


def _fixed(value: int, decimals: int) -> str:
    """``value / 10**decimals`` with trailing fractional zeros removed."""
    whole, frac = divmod(value, 10**decimals)
    if frac == 0:
        return str(whole)
    return f"{whole}.{str(frac).rjust(decimals, '0').rstrip('0')}"


def go_duration(ns: int) -> str:
    """Go's ``time.Duration(ns).String()``."""
    sign = "-" if ns < 0 else ""
    u = abs(ns)
    if u < _NS_PER_S:
        if u == 0:
            return "0s"
        if u < _NS_PER_US:
            return f"{sign}{u}ns"
        if u < _NS_PER_MS:
            return f"{sign}{_fixed(u, 3)}µs"
        return f"{sign}{_fixed(u, 6)}ms"
    total_s, frac_ns = divmod(u, _NS_PER_S)
    hours, rest = divmod(total_s, 3600)
    minutes, seconds = divmod(rest, 60)
    out = _fixed(seconds * _NS_PER_S + frac_ns, 9) + "s"
    if hours or minutes:
        out = f"{minutes}m" + out
    if hours:
        out = f"{hours}h" + out
    return sign + out


def header_duration(seconds: float) -> str:
    """A non-negative duration in seconds, rounded up to the millisecond, Go-formatted."""
    if seconds <= 0:
        return "0s"
    # round() first so float noise (0.1 + 0.2) does not push a value up a whole ms.
    ms = math.ceil(round(seconds * 1000, 6))
    return go_duration(ms * _NS_PER_MS)
