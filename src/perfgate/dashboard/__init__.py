"""The live dashboard for the war room: one page, fed once a second over SSE from the
run's snapshot stream and its store, with an abort control (``server`` lists the
endpoints). Public names are re-exported here (pinned by
tests/perfgate/dashboard/test_dashboard_api.py).

What the page reads, besides the ``Snapshot`` fields and the store's rows:

* ``plan.resolved.json``: ``criteria``, ``triggers.rules``, ``budget`` caps, ``chaos``;
* ``snapshot.extras`` (each optional; absent means "not measured", never a zero):
  ``guards`` = {mode, triggers: {name: {state inactive|pending|firing, value, since,
  for_s, window_s}}, criteria: {plateau: {name: PASS|FAIL|INSUFFICIENT}}, current:
  {name: {text|value, verdict}} (value so far on the running plateau)};
  ``cost`` = {spend_usd, reserved_usd, billed_usd, ai_calls, usd_per_1k_requests,
  usd_per_ai_call, cap_usd, refused}; ``telemetry`` = {values: {signal: latest},
  gaps: [signal]}; ``provider`` = {rpm, rpm_limit, tpm, tpm_limit, http_429, failovers,
  breaker_state} (else derived from the ``provider_requests_rate`` and
  ``breaker_state`` samples); ``chaos`` = {active: [name], faults: [{name, kind, loss,
  plateau, planned_start_s, planned_end_s, applied_at_s, reverted_at_s, status,
  verified, error}]}. The dashboard itself adds ``dashboard`` = {url} (no token).
"""

from perfgate.dashboard.bind import DEFAULT_BIND, Bind, BindError, is_loopback, parse_bind
from perfgate.dashboard.hub import Hub
from perfgate.dashboard.session import Dashboard, DashboardOptions, end_payload
from perfgate.dashboard.tail import Cursor, read_tail

__all__ = [
    "DEFAULT_BIND",
    "Bind",
    "BindError",
    "Cursor",
    "Dashboard",
    "DashboardOptions",
    "Hub",
    "end_payload",
    "is_loopback",
    "parse_bind",
    "read_tail",
]
