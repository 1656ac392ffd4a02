"""Bottleneck analysis: candidate hotspots from the evidence, ranked by *pressure*.

Pressure puts every kind of evidence on one scale: how close it brings a limit to
breaking at the highest load analysed (1.0 = at the limit, above = past it).

===============  ============================================================
evidence         pressure
===============  ============================================================
profile frame    self-time share x (CPU p95 / CPU limit); the share alone
                 when CPU was not measured
DB statement     its mean time at the top plateau / the DB p95 limit
endpoint         its P95 at the top plateau / its family's P95 SLO (only
                 endpoints whose P95 grew with load)
CPU              CPU p95 / limit
DB pool          peak share in use / (1 - minimum free share)
DB latency       DB query p95 / limit
queue            oldest message age (max) / drain limit
provider         peak RPM (or TPM) / the vendor limit; else 10 x the share of
                 provider calls rate-limited
spend            spend at the end / hard cap
GC               GC pause p99 (max) / limit
memory           RSS growth over a 4-hour soak (least-squares slope) / 25% of
                 the RSS
===============  ============================================================

Ties break by evidence kind in the table's order. Severity follows the plan's
severity policy (``critical`` >= 1.0), the owner comes from the roster by area, the ETA
from the policy's days for the severity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from perfgate.report.evidence import Evidence
from perfgate.report.facts import CostStats, SignalStats

__all__ = ["Candidate", "HotspotInputs", "Limits", "candidates", "rank"]

KINDS = ("profile", "db_statement", "endpoint", "cpu", "db_pool", "db_latency", "queue",
         "provider", "spend", "gc", "memory")
SOAK_S = 4 * 3600.0


@dataclass(frozen=True)
class Limits:
    """Each limit with where it came from (a plan criterion or the memo's default)."""

    cpu_percent: tuple[float, str] = (70.0, "memo default")
    db_p95_ms: tuple[float, str] = (50.0, "memo default")
    pool_free: tuple[float, str] = (0.2, "memo default")
    queue_age_s: tuple[float, str] = (60.0, "memo default")
    gc_pause_ms: tuple[float, str] = (100.0, "memo default")
    rpm: float | None = None
    tpm: float | None = None


@dataclass(frozen=True)
class Candidate:
    kind: str
    subject: str
    area: str
    pressure: float
    evidence: str
    hypothesis: str
    fix: str
    links: tuple[tuple[str, str], ...] = ()


@dataclass
class HotspotInputs:
    top_plateau: str | None
    top_rps: float | None
    evidence: Evidence = field(default_factory=Evidence)
    endpoint_p95: dict[str, list[tuple[str, float, float]]] = field(default_factory=dict)
    endpoint_family: dict[str, str] = field(default_factory=dict)
    slo_p95_ms: dict[str, float] = field(default_factory=dict)
    telemetry: Mapping[str, SignalStats] = field(default_factory=dict)  # top plateau's
    rss_points: list[tuple[float, float]] = field(default_factory=list)  # (run s, bytes)
    time_scale: float = 1.0
    cost: CostStats | None = None
    spend_usd: float | None = None
    hard_cap_usd: float | None = None
    limits: Limits = field(default_factory=Limits)


def _frame_area(frame: str) -> str:
    low = frame.lower()
    if any(k in low for k in ("openai", "httpx", "httpcore", "/ai/", "llm")):
        return "llm_platform"
    if any(k in low for k in ("sqlalchemy", "aiosqlite", "asyncpg", "sqlite3", "psycopg")):
        return "data"
    return "backend"


IDLE = ("select (selectors.py", "poll (selectors.py", "wait (threading.py", "get (queue.py",
        "_worker (concurrent/futures", "sleep (")


def _idle(frame: str) -> bool:
    """A frame that waits rather than works (the event loop in epoll, a worker on its
    queue): never a CPU hotspot, even when a profile without ``--gil`` samples it."""
    return any(marker in frame for marker in IDLE)


def _profiles(inp: HotspotInputs) -> list[Candidate]:
    ev = inp.evidence.profiles
    pid = next((p for p in sorted(ev, key=_pnum, reverse=True)), None)
    if pid is None:
        return []
    merged: dict[str, int] = {}
    total = 0
    for _, prof in ev[pid]:
        total += prof.samples
        for frame, n in prof.self_samples().items():
            if not _idle(frame):
                merged[frame] = merged.get(frame, 0) + n
    cpu = inp.telemetry.get("cpu_percent")
    limit, _ = inp.limits.cpu_percent
    out = []
    for frame, n in sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))[:3]:
        share = n / total if total else 0.0
        pressure = share * (cpu.p95 / limit) if cpu else share
        cpu_txt = f" with target CPU p95 {cpu.p95:.0f}%" if cpu else ""
        links = tuple((f"flamegraph {pid}", f) for f, _ in ev[pid])
        out.append(Candidate(
            "profile", frame, _frame_area(frame), pressure,
            f"{share:.0%} of {total} CPU samples at {pid} are in this frame's own code{cpu_txt}",
            f"CPU-bound work in `{frame}` takes {share:.0%} of the target's CPU samples at the "
            "highest load profiled",
            "Optimise or cache this work, or move it off the event loop (worker pool); "
            "confirm with the flamegraph that the share drops", links))
    return out


def _pnum(pid: str) -> int:
    return int(pid[1:]) if pid[1:].isdigit() else -1


def _statements(inp: HotspotInputs) -> list[Candidate]:
    st = inp.evidence.statements
    order = sorted((p for p in st if _pnum(p) > 0), key=_pnum)
    if not order:
        return []
    first, last = order[0], order[-1]
    top = st[last]
    db_total = sum(s.total_ms for s in top.values()) or 1.0
    limit, source = inp.limits.db_p95_ms
    out = []
    for stmt, s in sorted(top.items(), key=lambda kv: (-kv[1].total_ms, kv[0]))[:3]:
        if not s.calls or s.mean_ms is None:
            continue
        base = st[first].get(stmt)
        growth = s.mean_ms / base.mean_ms if base and base.mean_ms else None
        grew = f"; mean {base.mean_ms:.1f} ms at {first} -> {s.mean_ms:.1f} ms at {last} " \
               f"(x{growth:.1f})" if base and base.mean_ms and growth else ""
        hypothesis = (
            "This statement's cost grows with load: a scan (missing or unused index) or "
            "contention on the rows or the connection it holds" if growth and growth >= 1.2
            else "The biggest consumer of DB time, though its cost holds steady with load: "
                 "volume, not contention")
        out.append(Candidate(
            "db_statement", stmt[:200], "data", s.mean_ms / limit,
            f"{s.total_ms / db_total:.0%} of DB time at {last} ({s.calls:.0f} calls, "
            f"{s.total_ms / 1000:.1f} s){grew}; DB p95 limit {limit:g} ms ({source})",
            hypothesis,
            "EXPLAIN ANALYZE it at the top plateau's data; add or use the index, cache hot "
            "results, hold the connection for less time",
            (("statement trace", inp.evidence.statement_files.get(last, "")),)))
    return out


def _slope(points: list[tuple[float, float]]) -> float:
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0


def _endpoints(inp: HotspotInputs) -> list[Candidate]:
    rows = []
    for ep, pts in inp.endpoint_p95.items():
        if len(pts) < 2:
            continue
        (p1, r1, l1), (p2, r2, l2) = pts[0], pts[-1]
        growth = l2 / l1 if l1 else 0.0
        slo = inp.slo_p95_ms.get(inp.endpoint_family.get(ep, ""))
        if growth < 1.2 or slo is None:
            continue
        slope = _slope([(r, lat) for _, r, lat in pts])
        rows.append((slope, ep, p1, r1, l1, p2, r2, l2, growth, slo))
    out = []
    for slope, ep, p1, r1, l1, p2, r2, l2, growth, slo in sorted(rows, reverse=True)[:3]:
        fam = inp.endpoint_family.get(ep, "")
        out.append(Candidate(
            "endpoint", ep, "llm_platform" if fam == "ai" else "backend", l2 / slo,
            f"P95 {l1:.0f} ms at {p1} ({r1:.0f} RPS) -> {l2:.0f} ms at {p2} ({r2:.0f} RPS): "
            f"x{growth:.1f}, {slope:.2f} ms per RPS; {fam} P95 SLO {slo:g} ms",
            f"`{ep}` waits on something shared whose queue grows with load (DB pool, "
            "provider, event loop)",
            f"Trace `{ep}` at the top plateau to find the dominant wait and remove it "
            "(index, cache, concurrency limit)", (("latency chart", f"#chart-latency-{fam}"),)))
    return out


def _resources(inp: HotspotInputs) -> list[Candidate]:
    t, lim, at = inp.telemetry, inp.limits, inp.top_plateau or "the top plateau"
    out = []
    if (cpu := t.get("cpu_percent")) is not None:
        out.append(Candidate(
            "cpu", "target CPU", "sre", cpu.p95 / lim.cpu_percent[0],
            f"CPU p95 {cpu.p95:.0f}% (max {cpu.max:.0f}%) at {at}; limit "
            f"{lim.cpu_percent[0]:g}% ({lim.cpu_percent[1]})",
            "The service is CPU-bound at this load", "Profile the hot paths (flamegraph), "
            "add workers or cores, cap concurrency", (("CPU chart", "#chart-cpu"),)))
    size, used = t.get("db_pool_size"), t.get("db_pool_in_use")
    if size is not None and used is not None and size.max > 0:
        share = used.max / size.max
        out.append(Candidate(
            "db_pool", "DB connection pool", "sre", share / (1 - lim.pool_free[0]),
            f"up to {used.max:.0f} of {size.max:.0f} connections in use at {at} "
            f"({1 - share:.0%} free; limit >= {lim.pool_free[0]:.0%} free, {lim.pool_free[1]})",
            "Requests hold connections long enough that the pool runs dry under load",
            "Shorten transactions and hold times; raise the pool with DB headroom",
            (("DB chart", "#chart-db"),)))
    if (db := t.get("db_query_p95_seconds")) is not None:
        out.append(Candidate(
            "db_latency", "DB query latency", "data", db.max * 1000 / lim.db_p95_ms[0],
            f"DB query p95 up to {db.max * 1000:.1f} ms at {at}; limit {lim.db_p95_ms[0]:g} ms "
            f"({lim.db_p95_ms[1]})", "Slow statements or lock waits in the database",
            "Find the top statements by total time (statement traces) and index or cache them",
            (("DB chart", "#chart-db"),)))
    if (age := t.get("queue_oldest_age_seconds")) is not None:
        out.append(Candidate(
            "queue", "background queue", "backend", age.max / lim.queue_age_s[0],
            f"oldest message up to {age.max:.0f} s at {at}; backlog must clear < "
            f"{lim.queue_age_s[0]:g} s ({lim.queue_age_s[1]})",
            "Consumers drain slower than spikes arrive", "Add consumers, batch work, or "
            "shed non-essential producers", (("queue chart", "#chart-queue"),)))
    return out + _provider(inp) + _spend(inp)


def _provider(inp: HotspotInputs) -> list[Candidate]:
    c, lim = inp.cost, inp.limits
    rates = {k: s.mean for k, s in inp.telemetry.items()
             if k.startswith("provider_requests_rate")}
    total = sum(rates.values())
    limited = sum(v for k, v in rates.items() if "rate_limited" in k or "quota" in k)
    pressures = []
    if c is not None and lim.rpm:
        pressures.append((c.peak_rpm / lim.rpm, f"peak {c.peak_rpm} requests/min vs limit "
                                                f"{lim.rpm:g}"))
    if c is not None and lim.tpm:
        pressures.append((c.peak_tpm / lim.tpm, f"peak {c.peak_tpm} tokens/min vs limit "
                                                f"{lim.tpm:g}"))
    if total > 0:
        pressures.append((10 * limited / total, f"{limited / total:.1%} of provider calls "
                                                "rate-limited"))
    if not pressures:
        return []
    pressure, text = max(pressures)
    return [Candidate("provider", "AI provider limits", "llm_platform", pressure, text,
                      "The provider's rate or token limits bind before the service does",
                      "Raise the quota, spread load over keys, cache and trim prompts",
                      (("provider chart", "#chart-provider"),))]


def _spend(inp: HotspotInputs) -> list[Candidate]:
    if inp.spend_usd is None or not inp.hard_cap_usd:
        return []
    return [Candidate("spend", "AI spend", "finance", inp.spend_usd / inp.hard_cap_usd,
                      f"${inp.spend_usd:.2f} spent of the ${inp.hard_cap_usd:g} cap",
                      "AI cost per call or AI share above the plan's envelope",
                      "Check tokens per call and mix against the pricing model",
                      (("spend chart", "#chart-spend"),))]


def _memory(inp: HotspotInputs) -> list[Candidate]:
    out = []
    lim = inp.limits.gc_pause_ms
    if (gc := inp.telemetry.get("gc_pause_p99_seconds")) is not None:
        out.append(Candidate(
            "gc", "GC pauses", "backend", gc.max * 1000 / lim[0],
            f"GC pause p99 up to {gc.max * 1000:.0f} ms; limit {lim[0]:g} ms ({lim[1]})",
            "Allocation churn makes collections long", "Cut allocations on hot paths; tune "
            "gc thresholds; gc.freeze() after start-up", (("GC chart", "#chart-gc"),)))
    pts = inp.rss_points
    if len(pts) >= 3:
        slope = _slope(pts) / max(inp.time_scale, 1e-9)  # bytes per real second
        mean = sum(v for _, v in pts) / len(pts)
        growth = slope * SOAK_S
        heaps = inp.evidence.heaps
        site, links = "", [("RSS chart", "#chart-rss")]
        if len(heaps) >= 2:
            order = sorted(heaps, key=_pnum)
            (f1, h1), (f2, h2) = heaps[order[0]], heaps[order[-1]]
            grown = sorted(((h2[k] - h1.get(k, 0.0), k) for k in h2), reverse=True)
            if grown and grown[0][0] > 0:
                site = f"; top growing allocation site {grown[0][1]} (+{grown[0][0] / 1e6:.1f} " \
                       f"MB from {order[0]} to {order[-1]})"
            links += [(f"heap {order[0]}", f1), (f"heap {order[-1]}", f2)]
        if mean > 0:
            out.append(Candidate(
                "memory", "memory growth", "backend", max(0.0, growth / (0.25 * mean)),
                f"RSS grows {slope * 3600 / 1e6:.1f} MB/h (+{growth / 1e6:.0f} MB over a 4-h "
                f"soak on {mean / 1e6:.0f} MB){site}",
                "Memory that is never released (a cache without bound, a leak)",
                "Compare heap snapshots; bound or evict the growing structure; verify in the "
                "perf-7a soak", tuple(links)))
    return out


def candidates(inp: HotspotInputs) -> list[Candidate]:
    return (_profiles(inp) + _statements(inp) + _endpoints(inp) + _resources(inp)
            + _memory(inp))


def rank(cands: list[Candidate], top: int = 5) -> list[Candidate]:
    """The ``top`` candidates by pressure (none without any: zero pressure is no evidence)."""
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted((c for c in cands if c.pressure > 0),
                  key=lambda c: (-round(c.pressure, 9), order.get(c.kind, 99),
                                 c.subject))[:top]
