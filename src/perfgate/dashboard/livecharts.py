"""The report's charts, live: whole figures on page load, then new points every second.

The page mounts :func:`perfgate.report.charts.figures` of
:func:`~perfgate.report.charts.series_from_store` (the very charts the report will
show), and each tick extends them (``PerfgateCharts.extend``): :class:`LivePoints`
turns the tick's new store rows into a small :class:`ChartData` holding only the new
seconds and samples, runs it through the same ``figures`` (so keys, units and scales are
the report's own) and keeps each trace's points by its ``meta`` key, plus the shapes
of plateaus that started and of new warning/abort markers.

Error and timeout rates are over the same trailing window as the report's
(``round(60 s x time scale)``), from the per-second counts this object keeps.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

from perfgate.dashboard.tail import last_window_second
from perfgate.report.charts import Band, ChartData, Marker, Series, figures, series_from_store
from perfgate.report.charts.data import MARKER_KINDS
from perfgate.store.reader import RunReader, StoreError

__all__ = ["LivePoints", "full_figures"]


#: Traces on the report's per-step time axis; for a live run it runs to the planned end
#: with empty steps ahead, which the page must not mistake for measured zeros.
MEASURED_STEPS = ("rps.achieved", "latency.", "errors.", "timeouts.")


def _trim(fig: dict[str, Any], through: float) -> None:
    for trace in fig["data"]:
        if str(trace.get("meta", "")).startswith(MEASURED_STEPS):
            keep = [i for i, x in enumerate(trace["x"]) if x <= through]
            trace["x"] = [trace["x"][i] for i in keep]
            trace["y"] = [trace["y"][i] for i in keep]


def full_figures(run_dir: Path) -> dict[str, Any]:
    """Every chart of the run so far (blocking: call it in a worker thread).

    While the run goes, the measured per-step series stop at the last second the store
    had when this started (later seconds reach the page as tick points)."""
    try:
        through = last_window_second(run_dir)
        with RunReader(run_dir) as reader:
            live = not reader.is_complete
            data = series_from_store(reader)
    except (StoreError, OSError):
        return {"figures": [], "step_s": 1, "rate_window_s": None}
    figs = figures(data)
    if live:
        for fig in figs:
            _trim(fig, through)
    return {"figures": figs, "step_s": data.step_s, "rate_window_s": data.rate_window_s,
            "through_s": through if live else None}


def _labels(labels: dict[str, str] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items()))


class LivePoints:
    def __init__(self, total_s: float, time_scale: float) -> None:
        self.total_s = total_s
        self.window = max(1, round(60 * time_scale))
        self._counts: dict[str, deque[tuple[int, int, int, int]]] = {}
        self._last = -1  # last second turned into points
        self._bands: set[str] = set()
        self._chaos_start: float | None = None

    def _rates(self, family: str, second: int, row: dict[str, Any] | None
               ) -> tuple[float | None, float | None]:
        q = self._counts.setdefault(family, deque())
        if row is not None:
            q.append((second, row["err"], row["timeouts"], row["slo"]))
        while q and q[0][0] <= second - self.window:
            q.popleft()
        err = sum(c[1] for c in q)
        tmo = sum(c[2] for c in q)
        slo = sum(c[3] for c in q)
        return (err / slo, tmo / slo) if slo else (None, None)

    def _new_shapes(self, tail: dict[str, Any]) -> tuple[list[Band], list[Marker]]:
        bands = []
        for p in tail["plateaus"]:
            if p["status"] in ("running", "done", "cut") and p["id"] not in self._bands:
                self._bands.add(p["id"])
                end = p["end_s"] if p["end_s"] is not None else self.total_s
                bands.append(Band(p["id"], "warmup" if p["id"] == "p0" else "plateau",
                                  f"{p['id']} {p['target_rps']:g} RPS", p["start_s"], end))
        markers = []
        for e in tail["events"]:
            if e["kind"] == "chaos_start" and self._chaos_start is None:
                self._chaos_start = e["t"]
            elif e["kind"] in ("chaos_end", "chaos_revert") and self._chaos_start is not None:
                bands.append(Band(f"chaos-{e['id']}", "chaos", "chaos", self._chaos_start,
                                  e["t"]))
                self._chaos_start = None
            if e["kind"] in MARKER_KINDS:
                markers.append(Marker(e["t"], MARKER_KINDS[e["kind"]], e["message"][:80],
                                      e["plateau"]))
        return bands, markers

    def points(self, tail: dict[str, Any]) -> dict[str, Any]:
        """``{"points": {trace key: {x, y}}, "shapes": [...], "annotations": [...]}``."""
        rows = {r["s"]: r for r in tail["seconds"]}
        upto = max(rows, default=self._last)
        seconds = list(range(self._last + 1, upto + 1))
        self._last = max(self._last, upto)
        families = sorted({f for r in rows.values() for f in r["fam"]} | set(self._counts))
        t = [float(s) for s in seconds]
        target: list[float | None] = []
        for s in seconds:
            phase = next((p for p in tail["plateaus"] if p["start_s"] <= s <
                          (p["end_s"] if p["end_s"] is not None else float("inf"))), None)
            target.append(phase["target_rps"] if phase else None)
        latency: dict[str, dict[str, list[float | None]]] = {}
        err: dict[str, list[float | None]] = {}
        tmo: dict[str, list[float | None]] = {}
        for fam in families:
            latency[fam] = {q: [] for q in ("p50", "p95", "p99")}
            err[fam], tmo[fam] = [], []
            for s in seconds:
                row = rows[s]["fam"].get(fam) if s in rows else None
                for q, values in latency[fam].items():
                    values.append(row[q] if row else None)
                e, o = self._rates(fam, s, row)
                err[fam].append(e)
                tmo[fam].append(o)
        telemetry: dict[str, dict[str, Series]] = {}
        spend = Series()
        for smp in tail["samples"]:
            if smp["src"] == "telemetry":
                series = telemetry.setdefault(smp["name"], {}).setdefault(
                    _labels(smp["labels"]), Series())
            elif smp["src"] == "cost" and smp["name"] == "spend_usd":
                series = spend
            else:
                continue
            series.x.append(smp["t"])
            series.y.append(smp["v"])
        lag = Series([float(g["s"]) for g in tail["generator"]],
                     [g["lag_p99_ms"] for g in tail["generator"]])
        bands, markers = self._new_shapes(tail)
        data = ChartData(
            run_id="", total_s=self.total_s, step_s=1, t=t, target_rps=target,
            achieved_rps=[float(rows[s]["sent"]) if s in rows else 0.0 for s in seconds],
            latency_ms=latency, error_rate=err, timeout_rate=tmo, rate_window_s=self.window,
            loop_lag_ms=lag, telemetry=telemetry, spend_usd=spend, soft_cap_usd=None,
            hard_cap_usd=None, thresholds={}, bands=bands, markers=markers)
        figs = figures(data)
        points: dict[str, dict[str, list[Any]]] = {}
        for fig in figs:
            for trace in fig["data"]:
                if trace["x"]:
                    points[str(trace["meta"])] = {"x": trace["x"], "y": trace["y"]}
        layout = figs[0]["layout"]
        notes = [a for a in layout["annotations"]
                 if not str(a.get("text", "")).startswith("not measured")]
        return {"points": points, "shapes": layout["shapes"], "annotations": notes}
