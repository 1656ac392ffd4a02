"""The plateau-by-plateau table: one row per plateau and family, each cell coloured by
its criterion.

A cell with a criterion result shows the judged value (the criterion's own statistic)
and its verdict: ``pass``, ``fail``, ``marginal`` (a PASS at >= ``marginal`` of its
limit), ``insufficient`` (too few samples: shown as such); its tooltip carries the
criterion's sentence with the confidence interval. A cell without a criterion shows the
measured value, uncoloured (``unjudged``); nothing measured shows "not measured".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from perfgate.report.criteria import PlanCriterion, Result
from perfgate.report.facts import CostStats, SignalStats

__all__ = ["FAMILY_COLUMNS", "PLATEAU_COLUMNS", "Cell", "Row", "plateau_rows"]

NA = "—"  # not measured (the legend says so)
FAMILY_COLUMNS = ("P50 ms", "P90 ms", "P95 ms", "P99 ms", "errors", "timeouts", "requests")
PLATEAU_COLUMNS = ("CPU", "DB p95 ms", "pool free", "queue age s", "AI RPM", "AI TPM",
                   "429s", "fail-overs", "breaker", "$/1k req", "$/AI call")
Show = Callable[[float], str]


def _ms(v: float) -> str:  # seconds -> "44.5"
    return f"{v * 1000:.1f}" if v < 10 else f"{v * 1000:,.0f}"


def _secs(v: float) -> str:
    return f"{v:.1f}"


def _ratio(v: float) -> str:
    return f"{v * 100:.2f}%"


def _share(v: float) -> str:
    return f"{v * 100:.0f}%"


def _percent(v: float) -> str:
    return f"{v:.0f}%"


def _usd(v: float) -> str:
    return f"${v:.4f}"


@dataclass(frozen=True)
class Cell:
    text: str
    state: str = "unjudged"  # pass | fail | marginal | insufficient | unjudged | missing
    title: str = ""


@dataclass
class Row:
    plateau: str
    name: str
    target_rps: float
    achieved_rps: float | None
    valid: bool
    verdict: str | None
    warmup: bool
    families: list[tuple[str, list[Cell]]] = field(default_factory=list)
    shared: list[Cell] = field(default_factory=list)


def _judged(results: Sequence[Result], match: Callable[[Result], bool],
            criteria: Mapping[str, PlanCriterion], marginal: float
            ) -> tuple[Result | None, str, str]:
    hits = [r for r in results if match(r)]
    if not hits:
        return None, "unjudged", ""
    rank = {"FAIL": 0, "INSUFFICIENT": 1, "PASS": 2}
    worst = min(hits, key=lambda r: rank.get(r.verdict, 3))
    state = {"FAIL": "fail", "INSUFFICIENT": "insufficient", "PASS": "pass"}.get(
        worst.verdict, "unjudged")
    c = criteria.get(worst.name)
    if state == "pass" and c is not None and worst.value is not None:
        room = c.headroom(float(worst.value))
        if room is not None and room >= marginal:
            state = "marginal"
    return worst, state, "\n".join(r.sentence or f"{r.name}: {r.verdict}" for r in hits)


def _cell(results: Sequence[Result], match: Callable[[Result], bool],
          measured: float | Decimal | None, show: Show,
          criteria: Mapping[str, PlanCriterion], marginal: float) -> Cell:
    """``measured`` and the criterion's value are in the same unit; ``show`` formats."""
    text = NA if measured is None else show(float(measured))
    r, state, title = _judged(results, match, criteria, marginal)
    if r is None:
        return Cell(text, "missing", "not measured") if measured is None else Cell(text)
    if r.verdict == "INSUFFICIENT":
        return Cell(f"INSUFFICIENT (n={r.n}/{r.min_samples})", state, title)
    return Cell(show(float(r.value)) if r.value is not None else text, state, title)


def _sig(*names: str) -> Callable[[Result], bool]:
    return lambda r: any(r.statistic.startswith(n + ":") or r.statistic == n for n in names)


def _is(statistic: str, family: str) -> Callable[[Result], bool]:
    return lambda r: r.statistic == statistic and r.family == family


def _sec(ms: Any) -> float | None:
    return None if ms is None else float(ms) / 1000


def _family_cells(sli: Mapping[str, Any], fam: str, results: Sequence[Result],
                  criteria: Mapping[str, PlanCriterion], marginal: float) -> list[Cell]:
    cells = []
    for q in ("p50", "p90", "p95", "p99"):
        cells.append(_cell(results, _is(q, fam),
                           _sec(sli.get(f"{q}_ms")), _ms, criteria, marginal))
    for metric in ("error_rate", "timeout_rate"):
        cells.append(_cell(results, _is(metric, fam),
                           sli.get(metric), _ratio, criteria, marginal))
    cells.append(Cell(f"{sli.get('requests', 0):,}"))
    return cells


def _stat(tele: Mapping[str, SignalStats], name: str, attr: str) -> float | None:
    s = tele.get(name)
    return None if s is None else float(getattr(s, attr))


def _shared_cells(tele: Mapping[str, SignalStats], cost: CostStats | None,
                  requests: int, limits: tuple[float | None, float | None],
                  results: Sequence[Result], criteria: Mapping[str, PlanCriterion],
                  marginal: float) -> list[Cell]:
    def cell(match: Callable[[Result], bool], measured: float | Decimal | None,
             show: Show) -> Cell:
        return _cell(results, match, measured, show, criteria, marginal)

    rates = {k: s.mean for k, s in tele.items() if k.startswith("provider_requests_rate")}
    limited = sum(v for k, v in rates.items() if "rate_limited" in k or "quota" in k)
    total = sum(rates.values())
    rpm, tpm = limits
    breaker = _stat(tele, "breaker_state", "max")
    per_1k = cost.provider_cost / requests * 1000 if cost is not None and requests else None
    per_call = cost.usd_per_ai_call if cost is not None else None
    return [
        cell(_sig("cpu_percent"), _stat(tele, "cpu_percent", "p95"), _percent),
        cell(_sig("db_query_p95_seconds", "db_query_seconds"),
             _stat(tele, "db_query_p95_seconds", "max"), _ms),
        cell(_sig("db_pool_free_ratio"), _stat(tele, "db_pool_free_ratio", "min"), _share),
        cell(_sig("queue_oldest_age_seconds"), _stat(tele, "queue_oldest_age_seconds", "max"),
             _secs),
        Cell(NA if cost is None else f"{cost.peak_rpm:,}" + (f" / {rpm:,.0f}" if rpm else ""),
             "fail" if cost is not None and rpm and cost.peak_rpm > rpm else "unjudged"),
        Cell(NA if cost is None else f"{cost.peak_tpm / 1000:,.0f}k"
             + (f" / {tpm / 1000:,.0f}k" if tpm else ""),
             "fail" if cost is not None and tpm and cost.peak_tpm > tpm else "unjudged"),
        Cell(f"{limited / total:.1%}" if total else NA),
        Cell(NA if cost is None else str(cost.failovers)),
        cell(_sig("breaker_state"), breaker,
             lambda b: "open" if b >= 2 else "half-open" if b >= 1 else "closed"),
        cell(lambda r: r.statistic == "usd_per_1k_requests", per_1k, _usd),
        cell(lambda r: r.statistic == "usd_per_ai_call", per_call, lambda v: f"${v:.5f}"),
    ]


def _missing(cell: Cell) -> Cell:
    return Cell(NA, "missing", cell.title or "not measured") if cell.text == NA else cell


def plateau_rows(summary: Mapping[str, Any], telemetry: Mapping[str, Mapping[str, SignalStats]],
                 cost: Mapping[str, CostStats], results: Mapping[str, list[Result]],
                 criteria: Sequence[PlanCriterion], marginal: float,
                 vendor: tuple[float | None, float | None] = (None, None)) -> list[Row]:
    by_name = {c.name: c for c in criteria}
    rows = []
    for p in summary.get("plateaus", []):
        pid = p["id"]
        res = results.get(pid, [])
        verdicts = {r.verdict for r in res}
        verdict = "FAIL" if "FAIL" in verdicts else "PASS" if "PASS" in verdicts else \
            "INSUFFICIENT" if verdicts else None
        judged = p.get("verdict")  # the judge's own verdict_json, when stored
        if isinstance(judged, dict) and judged.get("verdict"):
            verdict = str(judged["verdict"])
        row = Row(pid, p["name"], p["target_rps"], p.get("achieved_rps"), bool(p["valid"]),
                  verdict, bool(p["warmup"]))
        fams = p.get("families", {})
        for fam in sorted(fams):
            row.families.append((fam, _family_cells(fams[fam], fam, res, by_name, marginal)))
        requests = sum(int(f.get("requests") or 0) for f in fams.values())
        row.shared = [_missing(c) for c in _shared_cells(
            telemetry.get(pid, {}), cost.get(pid), requests, vendor, res, by_name, marginal)]
        rows.append(row)
    return rows
