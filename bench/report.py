"""perfgate's own reading of a bench-peers results folder (beside summarize.py's tables).

    python bench/report.py max OUTDIR       # figure (a): rate held per core vs the peers
    python bench/report.py hiccup OUTDIR    # figure (b): P95/P99 against the truth

``max``: per tool the median RPS over rounds; for perfgate the rate held (rows whose run
held: no drop, loop lag p99 <= 10 ms, 97% sent), its loop lag, drops and CPU; then per
round the highest rate held over the measured run (a round where nothing held counts as
0 in the median), the floor check (perfgate >= Locust FastHttpUser) and the 50k goal.
``hiccup``: every row's P50/P95/P99/P99.9/max beside the truth (P95 ~500 ms, P99 ~900 ms),
and whether P95 and P99 are within 5% of it.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

TRUTH_P95_MS, TRUTH_P99_MS, TOLERANCE = 500.0, 900.0, 0.05
GOAL_RPS = 50_000


def load(folder: str) -> list[dict[str, Any]]:
    path = Path(folder) / "results.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def fmt(x: object, digits: int = 1) -> str:
    if x is None:
        return "-"
    if isinstance(x, float | int) and not isinstance(x, bool):
        return f"{x:,.{digits}f}"
    return str(x)


def max_table(rows: list[dict[str, Any]]) -> None:
    by_tool: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row.get("mode") != "hiccup" and "rps" in row:
            by_tool[row.get("tool", row["name"])].append(row)
    print("| tool | runs | RPS median [min-max] | held (no drop, lag p99 <= 10 ms) | "
          "dropped | loop lag p99 ms | p50 ms | p99 ms | gen CPU % | RPS per core-sec | "
          "peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    medians: dict[str, float] = {}
    for tool, rs in by_tool.items():
        rps = [r["rps"] for r in rs]
        medians[tool] = statistics.median(rps)
        perfgate = "held" in rs[0]
        held = f"{sum(1 for r in rs if r.get('held'))}/{len(rs)}" if perfgate else "n/a"
        lag = statistics.median(r["loop_lag_p99_ms"] for r in rs) if perfgate else None
        dropped = sum(r.get("dropped", 0) for r in rs) if perfgate else None
        eff = statistics.median(r["rps"] / (r["gen_cpu_pct"] / 100) for r in rs
                                if r.get("gen_cpu_pct"))
        print(f"| {tool} | {len(rs)} | {fmt(medians[tool], 0)} [{fmt(min(rps), 0)}-"
              f"{fmt(max(rps), 0)}] | {held} | {fmt(dropped, 0)} | {fmt(lag, 2)} | "
              f"{fmt(statistics.median(r.get('p50_ms') or 0 for r in rs), 2)} | "
              f"{fmt(statistics.median(r.get('p99_ms') or 0 for r in rs), 2)} | "
              f"{fmt(statistics.median(r['gen_cpu_pct'] for r in rs))} | {fmt(eff, 0)} | "
              f"{fmt(max(r['gen_maxrss_mb'] for r in rs))} |")
    locust = medians.get("locust_fast")
    print()
    for tool in ("perfgate_raw", "perfgate_aiohttp"):
        rounds: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            if r.get("tool", "").removesuffix("_unheld") == tool:
                rounds[r.get("round", 1)].append(r)
        if not rounds:
            continue
        per_round: list[float] = []
        parts = []
        for rnd in sorted(rounds):
            held = [r["rps"] for r in rounds[rnd] if r.get("held")]
            tried = [r["target_rps"] for r in rounds[rnd] if not r.get("held")]
            if held:
                per_round.append(max(held))
                parts.append(f"r{rnd} {max(held):,.0f}")
            else:  # nothing held: counted below the lowest rate tried
                per_round.append(0.0)
                parts.append(f"r{rnd} none (< {min(tried):,.0f})")
        median = statistics.median(per_round)
        line = (f"{tool}: rate held over 15 s per round: {', '.join(parts)}; "
                f"median {median:,.0f} RPS")
        if locust:
            line += (f"; {median / locust:.2f}x Locust FastHttpUser ({locust:,.0f}): floor "
                     f"{'MET' if median >= locust else 'NOT met'}")
        line += f"; goal {GOAL_RPS:,}: {100 * median / GOAL_RPS:.0f}%"
        print(line)


def hiccup_table(rows: list[dict[str, Any]]) -> None:
    print(f"Truth: P95 ~{TRUTH_P95_MS:g} ms, P99 ~{TRUTH_P99_MS:g} ms "
          f"(within {TOLERANCE:.0%}: P95 {TRUTH_P95_MS * (1 - TOLERANCE):g}-"
          f"{TRUTH_P95_MS * (1 + TOLERANCE):g}, P99 {TRUTH_P99_MS * (1 - TOLERANCE):g}-"
          f"{TRUTH_P99_MS * (1 + TOLERANCE):g})")
    print()
    print("| tool | round | achieved RPS | requests | P50 ms | P90 ms | P95 ms | P99 ms | "
          "P99.9 ms | max ms | service P99 ms | P95, P99 within 5% |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r.get("mode") != "hiccup":
            continue
        p95, p99 = r.get("p95_ms"), r.get("p99_ms")
        ok = (p95 is not None and p99 is not None
              and abs(p95 - TRUTH_P95_MS) <= TOLERANCE * TRUTH_P95_MS
              and abs(p99 - TRUTH_P99_MS) <= TOLERANCE * TRUTH_P99_MS)
        print(f"| {r.get('tool', r['name'])} | {r.get('round', 1)} | {fmt(r.get('rps'))} | "
              f"{r.get('requests', '-')} | {fmt(r.get('p50_ms'), 2)} | {fmt(r.get('p90_ms'), 2)} | "
              f"{fmt(p95, 1)} | {fmt(p99, 1)} | {fmt(r.get('p99.9_ms'), 1)} | "
              f"{fmt(r.get('max_ms'), 1)} | {fmt(r.get('uncorrected_p99_ms'), 2)} | "
              f"{'yes' if ok else 'NO'} |")


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("max", "hiccup"):
        print(__doc__, file=sys.stderr)
        return 2
    rows = load(argv[2])
    (max_table if argv[1] == "max" else hiccup_table)(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
