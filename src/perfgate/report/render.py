"""``report.html``: the model rendered with one Jinja2 template into one self-contained file.

Everything the page needs is inline: the CSS, plotly.js from the installed ``plotly``
package, the chart layer's ``charts.js`` and the figures as JSON (``<script
type="application/json">``), so the file opens offline from anywhere (``file://``, an
e-mail attachment) and never touches the network.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from perfgate.report.capacity import Capacity
from perfgate.report.charts import charts_js, plotly_js
from perfgate.report.model import ReportModel
from perfgate.report.table import FAMILY_COLUMNS, PLATEAU_COLUMNS

__all__ = ["capacity_figures", "render_html"]


def _json_script(value: Any) -> Markup:
    text = json.dumps(value, separators=(",", ":"), default=str, allow_nan=False)
    return Markup(text.replace("</", "<\\/"))  # nosec: JSON inside a script tag


def _money(value: Decimal | float | None, digits: int = 2) -> str:
    return "not measured" if value is None else f"${float(value):,.{digits}f}"


def _pct(value: Decimal | float | None) -> str:
    return "not measured" if value is None else f"{float(value):.1%}"


def _f(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def capacity_figures(cap: Capacity) -> list[dict[str, Any]]:
    """Cost per 1k requests and gross margin against load (one point per plateau)."""
    pts = [p for p in cap.cost_curve if p.rps]
    if not pts:
        return []
    x = [p.rps for p in pts]
    text = [p.plateau for p in pts]
    base = {"height": 280, "margin": {"l": 58, "r": 16, "t": 58, "b": 40},
            "xaxis": {"title": {"text": "achieved RPS", "font": {"size": 10}}},
            "legend": {"orientation": "h", "y": 1.04, "yanchor": "bottom", "x": 1,
                       "xanchor": "right", "font": {"size": 10}},
            "hovermode": "x unified"}

    def title(text: str) -> dict[str, Any]:
        return {"text": text, "font": {"size": 13}, "x": 0.01, "xanchor": "left",
                "y": 0.985, "yanchor": "top"}

    def line(name: str, y: list[float | None], color: str, dash: str = "solid"
             ) -> dict[str, Any]:
        return {"type": "scatter", "mode": "lines+markers", "name": name, "x": x, "y": y,
                "text": text, "line": {"color": color, "dash": dash}}

    cost = {"id": "cost-curve", "data": [
        line("AI $/1k", [_f(p.ai_per_1k) for p in pts], "#8250df"),
        line("infra $/1k", [_f(p.infra_per_1k) for p in pts], "#6e7781", "dot"),
        line("COGS $/1k", [_f(p.cogs_per_1k) for p in pts], "#d1242f"),
        line("revenue $/1k", [_f(p.revenue_per_1k) for p in pts], "#1a7f37", "dash")],
        "layout": {**base, "title": title("Cost curve: $ per 1k requests vs load (log)"),
                   "yaxis": {"title": {"text": "USD per 1k requests"}, "type": "log"}}}
    margins = [float(m) * 100 for p in pts for m in (p.margin, p.ai_margin) if m is not None]
    margin = {"id": "margin-curve", "data": [
        line("gross margin (all revenue)", [None if p.margin is None else float(p.margin) * 100
                                            for p in pts], "#1a7f37"),
        line("AI margin (billed)", [None if p.ai_margin is None else float(p.ai_margin) * 100
                                    for p in pts], "#8250df", "dash")],
        "layout": {**base, "title": title("Gross margin vs load"),
                   "yaxis": {"title": {"text": "%"},
                             "range": [min([0.0, *margins]) - 2, 102]}}}
    return [cost, margin]


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("perfgate.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters.update(money=_money, pct=_pct, json_script=_json_script,
                       pretty=lambda v: json.dumps(v, indent=2, default=str))
    return env


def render_html(model: ReportModel) -> str:
    template = _environment().get_template("report.html.j2")
    return template.render(
        m=model, family_columns=FAMILY_COLUMNS, plateau_columns=PLATEAU_COLUMNS,
        figures=_json_script(model.figures),
        capacity_figures=_json_script(capacity_figures(model.capacity)),
        plotly_js=Markup(plotly_js()), charts_js=Markup(charts_js()))
