"""The verdict banner and the executive summary paragraph, both built from the data.

The banner says the call (PASS / FAIL / ABORTED / INVALID / INCOMPLETE / INTERRUPTED),
the first reason and the plateau it happened at. The summary paragraph is a sequence of
sentences, each present only when its numbers were measured (nothing is made up).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from perfgate.report.capacity import Capacity
from perfgate.report.criteria import Result

__all__ = ["Banner", "banner", "executive_summary"]

CSS = {"PASS": "pass", "FAIL": "fail", "ABORTED": "fail", "INVALID": "warn",
       "INCOMPLETE": "warn", "INTERRUPTED": "warn"}


@dataclass(frozen=True)
class Banner:
    verdict: str
    css: str
    reason: str
    plateau: str | None


def banner(summary: Mapping[str, Any], meta: Mapping[str, Any],
           results: Mapping[str, list[Result]]) -> Banner:
    verdict = str(summary.get("verdict"))
    abort = meta.get("abort") if isinstance(meta.get("abort"), dict) else None
    plateau: str | None = None
    reason = ""
    if abort:
        reason = f"{abort.get('kind', 'abort')}: {abort.get('message', '')}".strip(": ")
        plateau = abort.get("plateau")
    elif meta.get("failed_plateau"):
        plateau = str(meta["failed_plateau"])
        reds = [r for r in results.get(plateau, []) if r.verdict == "FAIL"]
        reason = str(meta.get("reason") or (reds[0].sentence if reds else "a criterion is red"))
    elif verdict == "INVALID":
        bad = next((p for p in summary.get("plateaus", [])
                    if not p["warmup"] and not p["valid"]), None)
        if bad is not None:
            plateau = bad["id"]
            reason = "the generator could not hold the planned load: " + \
                "; ".join(bad.get("invalid_reasons") or [])
    elif verdict in ("INCOMPLETE", "INTERRUPTED"):
        last = [p for p in summary.get("plateaus", []) if p.get("sent")]
        plateau = last[-1]["id"] if last else None
        reason = str(meta.get("reason") or "the run stopped before its end (store not "
                     "closed: a crash or a kill); numbers up to the last stored second")
    elif verdict == "PASS":
        analysed = [p for p in summary.get("plateaus", []) if not p["warmup"]]
        top = max((p["target_rps"] for p in analysed), default=0)
        judged = sum(1 for p in analysed if results.get(p["id"]))
        reason = f"all {len(analysed)} plateaus held up to {top:g} RPS" + (
            "" if judged else " (no pass criteria were judged)")
    if not reason:
        reason = str(meta.get("reason") or "")
    return Banner(verdict, CSS.get(verdict, "warn"), reason, plateau)


def _ms(v: Any) -> str:
    return f"{float(v):.0f} ms" if isinstance(v, int | float) else "not measured"


def executive_summary(summary: Mapping[str, Any], b: Banner, cap: Capacity,
                      slo: Mapping[str, float], hotspots: Sequence[str],
                      spend_usd: float | None, margin_12m: str | None) -> str:
    analysed = [p for p in summary.get("plateaus", []) if not p["warmup"]]
    ran = [p for p in analysed if p.get("sent")]
    parts = []
    requests = sum(int(f.get("requests") or 0) for p in ran for f in p["families"].values())
    if ran:
        top = ran[-1]
        parts.append(
            f"{summary.get('plan')} drove {len(ran)} of {len(analysed)} plateaus against "
            f"{summary.get('target')}, up to {top.get('achieved_rps') or 0:.1f} RPS achieved "
            f"(target {top['target_rps']:g}), {requests:,} requests after the warm-up.")
    where = f" at {b.plateau}" if b.plateau else ""
    parts.append(f"The call is {b.verdict}{where}" + (f": {b.reason}." if b.reason else "."))
    if ran:
        top = ran[-1]
        fams = []
        for fam, sli in sorted(top["families"].items()):
            target = f" (SLO {slo[fam]:g} ms)" if fam in slo else ""
            err = sli.get("error_rate")
            fams.append(f"{fam} P95 {_ms(sli.get('p95_ms'))}{target}, errors "
                        + (f"{err:.2%}" if isinstance(err, float) else "not measured"))
        parts.append(f"At {top['id']}: " + "; ".join(fams) + ".")
    if cap.safe_rps is not None:
        head = next((h for h in reversed(cap.headroom) if h.headroom_x), None)
        extra = f", {head.headroom_x:.1f}x the {head.label} peak of {head.peak_rps:.1f} RPS" \
            if head and head.headroom_x else ""
        parts.append(f"Safe RPS is {cap.safe_rps:g} ({cap.safe_plateau}){extra}.")
    else:
        parts.append(f"No safe RPS can be called: {cap.safe_note}.")
    est = cap.estimate
    if est is not None and est.rps_at_slo is not None and est.low is not None:
        parts.append(f"The latency fit puts {cap.estimate_family} P95 at its {est.slo_ms:g} ms "
                     f"SLO near {est.rps_at_slo:.0f} RPS (95% CI {max(est.low, 0):.0f}-"
                     f"{est.high:.0f}).")
    if spend_usd is not None:
        per = f", ${cap.usd_per_ai_call:.4f} per AI call" if cap.usd_per_ai_call else ""
        parts.append(f"AI spend was ${spend_usd:.2f}{per}.")
    if margin_12m:
        parts.append(margin_12m)
    if hotspots:
        parts.append(f"Top hotspot: {hotspots[0]}.")
    return " ".join(parts)
