"""The chart layer, shared by the report and the live dashboard.

Pure functions: :func:`series_from_store` reads a store into :class:`ChartData`
(JSON-ready), :func:`figures` turns it into plotly figure dicts on one time axis, and
``assets/charts.js`` (``PerfgateCharts.mount / sync / extend / addMarkers``) draws them
with zoom synced across every chart and grows them live. :func:`plotly_js` and
:func:`charts_js` return the scripts to embed (no network at view time).
"""

from __future__ import annotations

from importlib import resources

from perfgate.report.charts.data import Band, ChartData, Marker, Series, series_from_store
from perfgate.report.charts.figures import figures, series_keys

__all__ = [
    "Band",
    "ChartData",
    "Marker",
    "Series",
    "charts_js",
    "figures",
    "plotly_js",
    "series_from_store",
    "series_keys",
]


def plotly_js() -> str:
    """plotly.js from the installed ``plotly`` package (embedded inline by the report)."""
    return resources.files("plotly").joinpath("package_data", "plotly.min.js").read_text(
        "utf-8")


def charts_js() -> str:
    return resources.files("perfgate.report").joinpath("assets", "charts.js").read_text(
        "utf-8")
