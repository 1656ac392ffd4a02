"""How one request ended, and which outcomes count against an SLO.

Rules (the memo's): 2xx/3xx are OK; 401 is EXCLUDED from every SLO (kept and shown);
every other 4xx and 5xx, a timeout, a connection failure or any other transport error
is an error, each counted by its kind.
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    OK = "ok"
    EXCLUDED = "excluded_401"
    HTTP_4XX = "http_4xx"
    HTTP_5XX = "http_5xx"
    TIMEOUT = "timeout"
    CONNECT = "connect"
    OTHER = "other"


ERROR_OUTCOMES: frozenset[Outcome] = frozenset(
    {Outcome.HTTP_4XX, Outcome.HTTP_5XX, Outcome.TIMEOUT, Outcome.CONNECT, Outcome.OTHER}
)
#: Outcomes that enter SLO statistics (latency percentiles and the error-rate denominator).
SLO_OUTCOMES: frozenset[Outcome] = frozenset(Outcome) - {Outcome.EXCLUDED}


def classify_status(status: int) -> Outcome:
    if status == 401:
        return Outcome.EXCLUDED
    if 200 <= status < 400:
        return Outcome.OK
    if 400 <= status < 500:
        return Outcome.HTTP_4XX
    if status >= 500:
        return Outcome.HTTP_5XX
    return Outcome.OTHER
