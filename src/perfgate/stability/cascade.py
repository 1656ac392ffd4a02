"""Error cascades in per-window error rates, per endpoint family.

Per-second counts are summed into windows of ``window`` seconds from the analysis
start; a window's rate is errors / SLO requests (401s excluded). Two rules:

* **rise**: in one family, ``rises`` consecutive windows (three by default) each with
  a rate at least ``factor`` (2x) the window before and at least ``min_errors``
  errors: ``w0 -> w1 -> w2 -> w3`` with ``r1 >= 2 r0``, ``r2 >= 2 r1``, ``r3 >= 2 r2``.
  Windows overlapping an ``exclude`` interval (a chaos fault and its recovery, where
  errors are the point) break a sequence.
* **spread**: a family *has errors* in a window at ``spread_rate`` or more with at least
  ``min_errors``; errors spread when family A has errors first and family B, clean
  until then, starts having errors while A still has them (same or next window).

The evidence names the windows (index and seconds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from perfgate.stability.spec import CascadeSpec
from perfgate.stability.verdict import Verdict

__all__ = ["ErrorCount", "cascade_verdict"]


@dataclass(frozen=True)
class ErrorCount:
    second: int
    family: str
    errors: int
    requests: int  # SLO requests (401s excluded)


def _windows(counts: Sequence[ErrorCount], start: float, end: float, width: float
             ) -> dict[str, list[tuple[int, int]]]:
    n = max(1, int((end - start) // width) + (1 if (end - start) % width else 0))
    out: dict[str, list[list[int]]] = {}
    for c in counts:
        if not start <= c.second < end:
            continue
        k = min(n - 1, int((c.second - start) // width))
        cells = out.setdefault(c.family, [[0, 0] for _ in range(n)])
        cells[k][0] += c.errors
        cells[k][1] += c.requests
    return {fam: [(e, r) for e, r in cells] for fam, cells in out.items()}


def _rate(cell: tuple[int, int]) -> float:
    return cell[0] / cell[1] if cell[1] else 0.0


def cascade_verdict(counts: Sequence[ErrorCount], spec: CascadeSpec, *, start_s: float,
                    end_s: float, window_s: float | None = None,
                    exclude: Sequence[tuple[float, float]] = ()) -> Verdict:
    width = window_s or spec.window
    fams = _windows(counts, start_s, end_s, width)
    if not fams:
        return Verdict("error_cascade", "INSUFFICIENT", "no requests in the analysed span")

    def span(k: int) -> dict[str, object]:
        return {"window": k, "from_s": round(start_s + k * width, 3),
                "to_s": round(start_s + (k + 1) * width, 3)}

    def excluded(k: int) -> bool:
        a, b = start_s + k * width, start_s + (k + 1) * width
        return any(a < hi and lo < b for lo, hi in exclude)

    findings: list[dict[str, object]] = []
    for fam, cells in sorted(fams.items()):
        for k0 in range(len(cells) - spec.rises):
            seq = list(range(k0, k0 + spec.rises + 1))
            if any(excluded(k) for k in seq):
                continue
            ok = all(cells[k][0] >= spec.min_errors and _rate(cells[k]) > 0
                     and _rate(cells[k]) >= spec.factor * _rate(cells[k - 1]) for k in seq[1:])
            if ok:
                findings.append({"rule": "rise", "family": fam, "windows": [
                    {**span(k), "errors": cells[k][0], "requests": cells[k][1],
                     "rate": round(_rate(cells[k]), 6)} for k in seq]})
                break

    def erroring(cell: tuple[int, int]) -> bool:
        return cell[0] >= spec.min_errors and _rate(cell) >= spec.spread_rate

    first = {fam: next((k for k, c in enumerate(cells) if erroring(c)), None)
             for fam, cells in fams.items()}
    for a, ka in sorted(first.items()):
        for b, kb in sorted(first.items()):
            if a == b or ka is None or kb is None or kb <= ka:
                continue
            if erroring(fams[a][kb]) or erroring(fams[a][kb - 1]):
                findings.append({"rule": "spread", "from_family": a, "to_family": b,
                                 "from_window": span(ka), "to_window": span(kb)})
    evidence: dict[str, object] = {"window_s": width, "findings": findings,
                                   "excluded": [list(x) for x in exclude]}
    if not findings:
        return Verdict("error_cascade", "PASS", "no error cascade", evidence)
    parts = []
    for f in findings:
        if f["rule"] == "rise":
            ws = f["windows"]
            assert isinstance(ws, list)
            parts.append(f"{f['family']} error rate doubled {spec.rises}x in a row over "
                         f"windows {ws[0]['window']}-{ws[-1]['window']} "
                         f"({ws[0]['from_s']}-{ws[-1]['to_s']} s)")
        else:
            fw, tw = f["from_window"], f["to_window"]
            assert isinstance(fw, dict) and isinstance(tw, dict)
            parts.append(f"errors spread from {f['from_family']} (window {fw['window']}, "
                         f"{fw['from_s']} s) to {f['to_family']} (window {tw['window']}, "
                         f"{tw['from_s']} s)")
    return Verdict("error_cascade", "FAIL", "error cascade: " + "; ".join(parts), evidence)
