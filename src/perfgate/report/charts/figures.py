"""Plotly figure dicts from :class:`ChartData`: one per chart, all on one time axis.

Every figure's x axis is seconds since the run started, with the same full range, so
zooming one (``assets/charts.js`` syncs ``xaxis.range``) lines them all up. Plateau
bands, the shaded warm-up and chaos windows are layout shapes behind the data, with a
label on top; warnings, alerts and the abort are vertical lines on every chart. A trace's
``meta`` is its stable key (``rps.achieved``, ``latency.core.p95``, ``telemetry.cpu_percent``,
``spend``...): the live dashboard extends traces by key. A chart with nothing measured
says "not measured" and draws no line (never a zero).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from perfgate.report.charts.data import ChartData

__all__ = ["MARKER_STYLE", "figures", "series_keys"]

Fig = dict[str, Any]
PALETTE = ("#1f6feb", "#d1242f", "#8250df", "#1a7f37", "#bf8700", "#0a7ea4", "#cf222e",
           "#6e7781")
BAND_FILL = {"warmup": "rgba(110,119,129,0.16)", "plateau": ("rgba(31,111,235,0.05)",
                                                           "rgba(31,111,235,0.11)"),
             "chaos": "rgba(209,36,47,0.20)"}
MARKER_STYLE = {"warning": ("#bf8700", "dot"), "gap": ("#8c959f", "dot"),
                "alert": ("#bc4c00", "dash"), "abort": ("#d1242f", "solid"),
                "fail": ("#d1242f", "solid")}


def _trace(key: str, name: str, x: list[float], y: list[float | None], color: str, *,
           dash: str = "solid", axis: str = "y", shape: str = "linear",
           scale: float = 1.0) -> dict[str, Any]:
    return {"type": "scatter", "mode": "lines", "name": name, "meta": key,
            "x": x, "y": [None if v is None else v * scale for v in y], "yaxis": axis,
            "line": {"color": color, "width": 1.5, "dash": dash, "shape": shape},
            "connectgaps": False, "hovertemplate": f"{name}: %{{y:.4g}}<extra></extra>"}


def _shapes(data: ChartData, end: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    shapes: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    n = 0
    for band in data.bands:
        fill = BAND_FILL[band.kind]
        if isinstance(fill, tuple):
            fill, n = fill[n % 2], n + 1
        shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": band.start_s,
                       "x1": min(band.end_s, end), "y0": 0, "y1": 1, "fillcolor": fill,
                       "line": {"width": 0}, "layer": "below", "name": band.id})
        chaos = band.kind == "chaos"
        notes.append({"x": (band.start_s + min(band.end_s, end)) / 2,
                      "y": 0.99 if chaos else 1.0, "xref": "x", "yref": "paper",
                      "yanchor": "top" if chaos else "bottom", "showarrow": False,
                      "name": f"band-{band.id}",
                      "text": band.id if band.kind != "chaos" else "chaos",
                      "font": {"size": 10, "color": "#57606a" if band.kind != "chaos"
                               else "#d1242f"}})
    for m in data.markers:
        color, dash = MARKER_STYLE.get(m.kind, ("#57606a", "dot"))
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": m.t, "x1": m.t,
                       "y0": 0, "y1": 1, "line": {"color": color, "width": 1.5, "dash": dash},
                       "name": f"marker-{m.kind}"})
        if m.kind in ("abort", "fail"):
            notes.append({"x": m.t, "y": 0.95, "xref": "x", "yref": "paper",
                          "showarrow": False, "xanchor": "right", "text": m.kind.upper(),
                          "font": {"size": 10, "color": color}})
    return shapes, notes


def _threshold_lines(data: ChartData, key: str, axis: str = "y") -> list[dict[str, Any]]:
    return [{"type": "line", "xref": "paper", "yref": axis, "x0": 0, "x1": 1,
             "y0": th["value"], "y1": th["value"], "name": "threshold",
             "line": {"color": "#d1242f", "width": 1, "dash": "dash"}}
            for th in data.thresholds.get(key, [])]


def _figure(data: ChartData, fig_id: str, title: str, y_title: str,
            traces: list[dict[str, Any]], *, y2_title: str | None = None,
            missing: str = "", threshold_key: str | None = None) -> Fig:
    end = max([data.total_s, data.t[-1] + data.step_s if data.t else 0.0,
               *(b.end_s for b in data.bands)])
    shapes, notes = _shapes(data, end)
    if threshold_key:
        shapes += _threshold_lines(data, threshold_key)
    if not traces:
        notes.append({"text": f"not measured{': ' + missing if missing else ''}",
                      "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
                      "showarrow": False, "font": {"size": 13, "color": "#57606a"}})
    layout: dict[str, Any] = {
        "title": {"text": title, "font": {"size": 13}, "x": 0.01, "xanchor": "left",
                  "y": 0.985, "yanchor": "top"},
        "height": 260, "margin": {"l": 58, "r": 58 if y2_title else 16, "t": 58, "b": 36},
        "xaxis": {"range": [0, end], "title": {"text": "seconds since start",
                                               "font": {"size": 10}},
                  "showspikes": True, "spikemode": "across", "spikethickness": 1},
        "yaxis": {"title": {"text": y_title, "font": {"size": 10}}, "rangemode": "tozero",
                  "fixedrange": True},
        "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.09,
                   "yanchor": "bottom", "font": {"size": 10}},
        "hovermode": "x unified", "shapes": shapes, "annotations": notes,
        "plot_bgcolor": "#ffffff", "paper_bgcolor": "#ffffff", "uirevision": "pg",
    }
    if y2_title:
        layout["yaxis2"] = {"title": {"text": y2_title, "font": {"size": 10}},
                            "overlaying": "y", "side": "right", "rangemode": "tozero",
                            "fixedrange": True, "showgrid": False, "tickmode": "auto"}
    return {"id": fig_id, "data": traces, "layout": layout}


def _tele(data: ChartData, name: str, key_name: str, color: str, *, scale: float = 1.0,
          axis: str = "y", shape: str = "linear", dash: str = "solid") -> list[dict[str, Any]]:
    out = []
    for labels, s in sorted(data.telemetry.get(name, {}).items()):
        label = f"{key_name} {labels}" if labels else key_name
        out.append(_trace(f"telemetry.{name}" + (f"{{{labels}}}" if labels else ""), label,
                          s.x, s.y, color, scale=scale, axis=axis, shape=shape, dash=dash))
    return out


def _load(d: ChartData) -> Fig:
    traces = [_trace("rps.target", "target", d.t, d.target_rps, "#6e7781", dash="dash",
                     shape="hv"),
              _trace("rps.achieved", "achieved", d.t, d.achieved_rps, PALETTE[0])]
    return _figure(d, "load", "Load: target vs achieved RPS", "requests/s",
                   traces if d.t else [], missing="no windows stored")


def _latency(d: ChartData, family: str) -> Fig:
    lat = d.latency_ms.get(family, {})
    colors = {"p99": "#c297ff", "p95": PALETTE[1], "p50": PALETTE[0]}
    traces = [_trace(f"latency.{family}.{q}", q.upper(), d.t, lat[q], colors[q])
              for q in ("p99", "p95", "p50") if q in lat]  # P50 drawn last, on top
    return _figure(d, f"latency-{family}", f"Latency, {family} (from intended send time)",
                   "ms", traces, missing=f"no {family} requests",
                   threshold_key=f"latency.{family}")


def _errors(d: ChartData) -> Fig:
    traces = []
    for i, fam in enumerate(sorted(d.error_rate)):
        traces.append(_trace(f"errors.{fam}", f"{fam} errors", d.t, d.error_rate[fam],
                             PALETTE[1 + 2 * i], scale=100))
        traces.append(_trace(f"timeouts.{fam}", f"{fam} timeouts", d.t, d.timeout_rate[fam],
                             PALETTE[1 + 2 * i], scale=100, dash="dot"))
    return _figure(d, "errors", f"Error and timeout rates (trailing {d.rate_window_s} s)",
                   "% of SLO requests", traces, threshold_key="errors")


def _simple(fig_id: str, title: str, unit: str, signal: str, scale: float = 1.0
            ) -> Callable[[ChartData], Fig]:
    def build(d: ChartData) -> Fig:
        traces = _tele(d, signal, signal, PALETTE[0], scale=scale)
        return _figure(d, fig_id, title, unit, traces, missing=f"no {signal} samples",
                       threshold_key=f"telemetry.{signal}")
    return build


def _gc(d: ChartData) -> Fig:
    traces = _tele(d, "gc_pause_p99_seconds", "GC pause p99", PALETTE[2], scale=1000)
    traces += _tele(d, "gc_pauses_over_100ms", "pauses > 100 ms", PALETTE[1], axis="y2",
                    shape="hv")
    return _figure(d, "gc", "GC pauses", "ms", traces, y2_title="count",
                   missing="no GC samples", threshold_key="telemetry.gc_pause_p99_seconds")


def _db(d: ChartData) -> Fig:
    traces = _tele(d, "db_query_p95_seconds", "DB query p95", PALETTE[2], scale=1000)
    traces += _tele(d, "db_pool_in_use", "pool in use", PALETTE[3], axis="y2", shape="hv")
    traces += _tele(d, "db_pool_size", "pool size", "#6e7781", axis="y2", shape="hv",
                    dash="dash")
    return _figure(d, "db", "Database: query p95 and pool", "ms", traces,
                   y2_title="connections", missing="no DB samples",
                   threshold_key="telemetry.db_query_p95_seconds")


def _queue(d: ChartData) -> Fig:
    traces = _tele(d, "queue_depth", "depth", PALETTE[0], shape="hv")
    traces += _tele(d, "queue_oldest_age_seconds", "oldest age", PALETTE[4], axis="y2")
    return _figure(d, "queue", "Queue: depth and oldest message age", "messages", traces,
                   y2_title="seconds", missing="no queue samples")


def _provider(d: ChartData) -> Fig:
    traces = []
    for i, (labels, s) in enumerate(sorted(d.telemetry.get("provider_requests_rate",
                                                           {}).items())):
        traces.append(_trace(f"telemetry.provider_requests_rate{{{labels}}}",
                             labels or "all", s.x, s.y, PALETTE[i % len(PALETTE)]))
    traces += _tele(d, "breaker_state", "breaker", "#24292f",
                    axis="y2", shape="hv", dash="dot")
    fig = _figure(d, "provider", "AI provider: calls by key and outcome, breaker state",
                  "calls/s", traces, y2_title="breaker", missing="no provider samples")
    fig["layout"]["yaxis2"].update(range=[0, 2.2], tickmode="array", tickvals=[0, 1, 2],
                                   ticktext=["closed", "half", "open"])
    return fig


def _spend(d: ChartData) -> Fig:
    traces = []
    if d.spend_usd.x:
        traces.append(_trace("spend", "spend", d.spend_usd.x, d.spend_usd.y, PALETTE[3],
                             shape="hv"))
    fig = _figure(d, "spend", "Cumulative AI spend against the caps", "USD", traces,
                  missing="no cost samples (budget off)")
    if traces and d.spend_usd.y[-1] is not None:
        fig["layout"]["annotations"].append(
            {"x": d.spend_usd.x[-1], "y": d.spend_usd.y[-1], "xref": "x", "yref": "y",
             "text": f"${d.spend_usd.y[-1]:,.2f}", "showarrow": True, "arrowhead": 0,
             "ax": -30, "ay": -24, "font": {"size": 11, "color": PALETTE[3]}})
    for value, label, dash in ((d.soft_cap_usd, "soft alert", "dot"),
                               (d.hard_cap_usd, "hard cap", "dash")):
        if value is not None:
            fig["layout"]["shapes"].append(
                {"type": "line", "xref": "paper", "yref": "y", "x0": 0, "x1": 1, "y0": value,
                 "y1": value, "name": "threshold",
                 "line": {"color": "#d1242f", "width": 1, "dash": dash}})
            fig["layout"]["annotations"].append(
                {"xref": "paper", "yref": "y", "x": 0.0, "y": value, "xanchor": "left",
                 "yanchor": "bottom", "showarrow": False, "text": f"{label} ${value:g}",
                 "font": {"size": 10, "color": "#d1242f"}})
    return fig


def _generator(d: ChartData) -> Fig:
    traces = [_trace("generator.loop_lag_p99", "loop lag p99", d.loop_lag_ms.x,
                     d.loop_lag_ms.y, PALETTE[5])] if d.loop_lag_ms.x else []
    fig = _figure(d, "generator", "Load generator health: event-loop lag p99", "ms", traces,
                  missing="no generator samples")
    fig["layout"]["shapes"].append({"type": "line", "xref": "paper", "yref": "y", "x0": 0,
                                    "x1": 1, "y0": 10, "y1": 10, "name": "threshold",
                                    "line": {"color": "#d1242f", "width": 1, "dash": "dash"}})
    return fig


KNOWN = {"cpu_percent", "rss_bytes", "gc_pause_p99_seconds", "gc_pauses_over_100ms",
         "db_query_p95_seconds", "db_pool_in_use", "db_pool_size", "queue_depth",
         "queue_oldest_age_seconds", "provider_requests_rate", "breaker_state"}


def _others(d: ChartData) -> list[Fig]:
    extra = sorted(set(d.telemetry) - KNOWN - {"db_pool_free_ratio"})
    if not extra:
        return []
    traces: list[dict[str, Any]] = []
    for i, name in enumerate(extra):
        traces += _tele(d, name, name, PALETTE[i % len(PALETTE)])
    return [_figure(d, "other", "Other telemetry", "value", traces)]


def figures(data: ChartData) -> list[Fig]:
    """Every chart of the report, in order (each ``{"id", "data", "layout"}``)."""
    figs = [_load(data)]
    families = sorted(data.latency_ms) or ["core", "ai"]
    figs += [_latency(data, fam) for fam in families]
    figs += [_errors(data),
             _simple("cpu", "Target CPU", "%", "cpu_percent")(data),
             _simple("rss", "Target memory (RSS)", "MB", "rss_bytes", 1e-6)(data),
             _gc(data), _db(data), _queue(data), _provider(data), _spend(data),
             _generator(data)]
    return figs + _others(data)


def series_keys(fig: Fig) -> list[str]:
    """The ``meta`` keys of a figure's traces, in trace order (for ``extendTraces``)."""
    return [str(t.get("meta")) for t in fig["data"]]

