"""The plan's ``captures`` section: what to capture, how, and at which plateaus.

Kinds:

* ``pyspy``: ``py-spy record`` of the target's process for ``duration`` seconds (capped
  to what is left of the plateau); raw collapsed stacks plus an SVG flamegraph. The
  process is ``pid``, or the number in ``pid_file``, or in ``$pid_env``, else the process
  listening on the target's port (a loopback target).
* ``http``: GET (or ``method``) ``url`` (a path is relative to ``target.base_url``) and
  save the body, e.g. the target's ``/metrics`` (DB statement and queue traces) or
  ``/admin/heap?top=25``. Captures due at the same point run in plan order.
* ``pg_stat_statements``: reset at the plateau's start, read at its end (statement,
  calls, total and mean time); ``dsn`` usually ``${PG_DSN}``.
* ``command``: run ``argv`` and save its output. ``{plateau}``, ``{out}`` (the file to
  write) and ``{run_dir}`` are substituted.

``${ENV}`` in ``url``, ``headers``, ``dsn`` and ``argv`` is expanded at run time and never
stored. ``optional: true`` turns a missing variable into a "skipped" note instead of a
failure (e.g. pg_stat_statements only when a PostgreSQL DSN is given). ``at`` says when
in the plateau: ``start``, ``mid``, ``end`` or a fraction of its duration (several
points are allowed; ``pg_stat_statements`` always spans the whole plateau). Example::

    captures:
      - {name: cpu_profile, kind: pyspy, duration: 30s, at: [0.5]}
      - {name: db_queue_trace, kind: http, url: /metrics, at: [start, end]}
      - {name: heap, kind: http, url: "/admin/heap?top=25", plateaus: [p4, p5],
         headers: {X-Admin-Token: "${STUDYHALL_ADMIN_TOKEN}"}}
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from perfgate.plan.durations import Duration

__all__ = ["CaptureKind", "CaptureSpec", "Point", "point_fraction"]

CaptureKind = Literal["pyspy", "http", "pg_stat_statements", "command"]
Point = Literal["start", "mid", "end"] | float
_POINTS = {"start": 0.0, "mid": 0.5, "end": 1.0}


class _Strict(BaseModel):
    # Same rules as perfgate.plan.models.StrictModel (not imported: that module imports us).
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _at_end() -> list[Point]:
    return ["end"]


def point_fraction(point: Point) -> float:
    return _POINTS[point] if isinstance(point, str) else float(point)


class CaptureSpec(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: CaptureKind
    plateaus: Literal["all"] | list[str] = Field(
        default="all", description="Plateau ids (p1..pN), or all (the warm-up excluded)")
    at: list[Point] = Field(default_factory=_at_end,
                            description="start, mid, end or a fraction of the plateau")
    optional: bool = Field(default=False,
                           description="A missing ${ENV} skips the capture (not a failure)")
    timeout: Duration = Field(default=30.0, gt=0, description="For one capture (http, command)")
    # pyspy
    duration: Duration = Field(default=30.0, gt=0, description="pyspy: seconds to sample")
    rate: int = Field(default=100, ge=1, le=10_000, description="pyspy: samples per second")
    gil: bool = Field(default=True, description="pyspy: only samples holding the GIL (CPU "
                                                "work, not threads waiting in epoll or a queue)")
    pid: int | None = Field(default=None, ge=1)
    pid_file: str | None = None
    pid_env: str | None = None
    executable: str = Field(default="py-spy", description="pyspy: the py-spy binary")
    # http
    url: str | None = None
    method: Literal["GET", "POST", "DELETE"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    # pg_stat_statements
    dsn: str | None = None
    top: int = Field(default=50, ge=1, le=10_000)
    # command
    argv: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> CaptureSpec:
        needs = {"http": ("url", self.url), "pg_stat_statements": ("dsn", self.dsn),
                 "command": ("argv", self.argv)}
        if self.kind in needs and not needs[self.kind][1]:
            raise ValueError(f"a {self.kind} capture needs `{needs[self.kind][0]}`")
        for p in self.at:
            if not 0.0 <= point_fraction(p) <= 1.0:
                raise ValueError(f"at: {p!r} is outside the plateau (0..1)")
        if isinstance(self.plateaus, list):
            bad = [p for p in self.plateaus if not re.fullmatch(r"p[1-9][0-9]*", p)]
            if bad:
                raise ValueError(f"plateaus: {bad} are not plateau ids like p4")
        return self

    def applies_to(self, plateau_id: str) -> bool:
        if plateau_id == "p0":
            return False
        return self.plateaus == "all" or plateau_id in self.plateaus
