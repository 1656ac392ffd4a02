"""perfgate's engine as a bench-peers generator: a fixed open-model rate against one URL.

This is the product's own machinery, not a stripped-down loop: ``build_shard`` (schedule,
mix, request factory, tags: every request carries X-Perf-Run, X-Perf-Plateau, baggage,
traceparent and X-Request-ID), the ``Shard`` dispatcher, the ``Recorder`` with its
per-second windows closed every second as the controller does, and the
``LoopLagMonitor``. Only the store and the console are left out (``--controller`` runs
the full ``Controller`` with its store as well).

    python bench/perfgate_peer.py --url http://127.0.0.1:8080/ --rate 20000 --duration 15
    python bench/perfgate_peer.py --url http://127.0.0.1:8080/ --find-max

The last stdout line is one JSON object in the bench-peers common form (``measure.py
--parser json``): rps, requests, errors, p50/p90/p95/p99/p99.9/max_ms (latency from the
INTENDED send time), plus sent, dropped, loop_lag_p99_ms (p99 of the per-second p99s,
as the plateau validity rule reads it), uncorrected_p99_ms (service time).
A ``--warmup`` second (default 1 s at the same rate: sockets are opened) comes first and
is left out of every figure, as perf-6b's warm-up is.

``--find-max`` steps the rate up (x1.25) with short runs until one fails, then bisects;
a rate is *held* when nothing was dropped, nothing failed, the send rate reached 97% of
the schedule's and the loop lag p99 was <= 10 ms, in one of ``--attempts`` (2) trials (a
hold cannot be luck; a failure can be a busy neighbour). It prints each trial on stderr
and the best held run as the JSON line (with ``max_rate_held``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from perfgate.engine.build import build_shard
from perfgate.engine.client import AiohttpTransport, Transport
from perfgate.engine.loop import select_loop
from perfgate.engine.looplag import LoopLagMonitor
from perfgate.engine.mix import EndpointRef
from perfgate.metrics import histogram as hist
from perfgate.metrics.outcome import Outcome
from perfgate.metrics.recorder import Recorder
from perfgate.metrics.window import Cell, SeriesKey
from perfgate.plan.loader import parse_plan
from perfgate.plan.models import Plan

MAX_LAG_MS = 10.0
MIN_SENT_SHARE = 0.97


def make_plan(url: str, rate: float, duration: float, warmup: float, arrival: str,
              connections: int, max_inflight: int, timeout: float, loop: str) -> Plan:
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("perfgate_peer sends to loopback only")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    warm = f"  warmup: {{rps: {rate}, duration: {warmup}s}}\n" if warmup > 0 else ""
    text = (
        "name: bench\nrun_tag: bench\n"
        f"target: {{base_url: \"{parts.scheme}://{parts.netloc}\"}}\n"
        f"schedule:\n  arrival: {arrival}\n  seed: 1\n{warm}"
        f"  plateaus: [{{rps: {rate}, duration: {duration}s}}]\n"
        f"families:\n  core: {{timeout: {timeout}s}}\n"
        "mix:\n  get:\n    family: core\n    weight: 1\n"
        f"    endpoints: [{{name: get, path: {json.dumps(path)}}}]\n"
        f"engine: {{max_inflight: {max_inflight}, connections: {connections}, loop: {loop}}}\n"
    )
    return parse_plan(text, "<perfgate_peer>")


def _series_key(plateau_id: str, ref: EndpointRef) -> SeriesKey:
    return SeriesKey(plateau_id, ref.family, ref.mix_class, ref.name)


def make_transport(client: str, connections: int) -> Transport:
    if client in ("raw", "raw-buffered", "raw-stream"):
        from perfgate.engine.rawhttp import RawHttpTransport

        reader = {"raw": "auto", "raw-buffered": "buffered", "raw-stream": "stream"}[client]
        return RawHttpTransport(connections, reader=reader)  # type: ignore[arg-type]
    return AiohttpTransport(connections)


class GcPauses:
    """Counts and times the collector's pauses per generation (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.total_s = [0.0, 0.0, 0.0]
        self.max_s = [0.0, 0.0, 0.0]
        self._t = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._t = time.perf_counter()
            return
        took = time.perf_counter() - self._t
        g = info["generation"]
        self.count[g] += 1
        self.total_s[g] += took
        self.max_s[g] = max(self.max_s[g], took)

    def summary(self) -> dict[str, Any]:
        return {f"gc_gen{g}": {"n": self.count[g], "total_ms": round(self.total_s[g] * 1e3, 1),
                               "max_ms": round(self.max_s[g] * 1e3, 2)} for g in range(3)}


def apply_gc_mode(shard: Any, mode: str) -> None:
    """``engine``: the Shard's own handling (gc.freeze for the run; the product's default).
    ``nofreeze``: the collector left alone, to show what the freeze is worth."""
    if mode == "nofreeze":
        shard._freeze_gc = False


async def run_engine(plan: Plan, client: str, measured: str, verbose: bool = False,
                     gc_mode: str = "engine") -> dict[str, Any]:
    """Shard + Recorder + loop lag, windows closed every second (the controller's tick)."""
    transport = make_transport(client, plan.engine.connections)
    recorder = Recorder()
    loop = asyncio.get_running_loop()
    clock = time.monotonic  # the controller's clock (uvloop's loop.time() ticks in ms)
    t0 = clock() + 0.05
    shard = build_shard(plan, transport=transport, sink=recorder, key_for=_series_key,
                        request_id_prefix="bench-0", clock=clock, t0=t0)
    apply_gc_mode(shard, gc_mode)
    lag = LoopLagMonitor(clock=clock)
    stop = asyncio.Event()
    total = Cell()
    lag_p99s: list[tuple[int, int, int]] = []  # (second, p99 us, max us)
    inflight_max = 0
    await asyncio.sleep(max(0.0, t0 - clock()))
    lag.start()
    task = loop.create_task(shard.run(stop))
    tick = 1
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=max(0.0, t0 + tick - clock()))
            now = clock() - t0
            for window in recorder.close_before(int(now)):
                if window.key.plateau == measured:
                    total.merge(window.cell)
            stats = lag.snapshot_and_reset()
            if stats.samples:
                lag_p99s.append((tick - 1, stats.p99_us, stats.max_us))
            live = shard.live()
            inflight_max = max(inflight_max, live.inflight)
            if verbose:
                print(f"t={tick - 1:3d}s sent={live.sent} dropped={live.dropped} "
                      f"inflight={live.inflight} lag_p99={stats.p99_us / 1000:.1f}ms "
                      f"lag_max={stats.max_us / 1000:.1f}ms", file=sys.stderr, flush=True)
            tick += 1
            if done:
                break
        result = task.result()
    finally:
        await lag.stop()
        if not task.done():
            task.cancel()
        await transport.close()
    for window in recorder.close_all():
        if window.key.plateau == measured:
            total.merge(window.cell)
    return {"cell": total, "lag": lag_p99s, "result": result, "inflight_max": inflight_max}


async def run_controller(plan: Plan, client: str, measured: str, verbose: bool = False,
                         gc_mode: str = "engine") -> dict[str, Any]:
    """The full Controller (store, ticks, hooks seam); figures read back from the store."""
    from perfgate.controller.runner import Controller, RunConfig
    from perfgate.store.reader import RunReader

    with tempfile.TemporaryDirectory() as tmp:
        transport = make_transport(client, plan.engine.connections)
        controller = Controller(RunConfig(plan=plan, out_dir=Path(tmp)), transport=transport)
        try:
            outcome = await controller.run()
        finally:
            await transport.close()
        total = Cell()
        with RunReader(outcome.run_dir) as reader:
            for window in reader.windows():
                if window.key.plateau == measured:
                    total.merge(window.cell)
            lag = [(g.second, g.loop_lag_p99_us or 0, g.loop_lag_max_us or 0)
                   for g in reader.generator_samples()]
    return {"cell": total, "lag": lag, "result": None, "inflight_max": None}


def summarize(run: dict[str, Any], plan: Plan, duration: float, warmup: float
              ) -> dict[str, Any]:
    cell: Cell = run["cell"]
    lag = [p99 for second, p99, _ in run["lag"] if warmup <= second < warmup + duration]
    lag_max = [mx for second, _, mx in run["lag"] if warmup <= second < warmup + duration]
    lag.sort()
    lat = hist.percentiles_ms(cell.latency, (50, 90, 95, 99, 99.9))
    svc = hist.percentiles_ms(cell.service, (50, 99))
    intended = cell.sent + cell.dropped
    rate = plan.schedule.plateaus[0].rps
    out: dict[str, Any] = {
        "rps": round(cell.completed / duration, 1),
        "requests": cell.completed,
        "errors": cell.errors,
        "p50_ms": lat["p50"], "p90_ms": lat["p90"], "p95_ms": lat["p95"],
        "p99_ms": lat["p99"], "p99.9_ms": lat["p99.9"], "max_ms": lat["max"],
        "target_rps": rate,
        "sent": cell.sent,
        "sent_rps": round(cell.sent / duration, 1),
        "intended": intended,
        "dropped": cell.dropped,
        "timeouts": cell.counts[Outcome.TIMEOUT],
        "connect_errors": cell.counts[Outcome.CONNECT],
        "loop_lag_p99_ms": lag[min(len(lag) - 1, int(0.99 * len(lag)))] / 1000 if lag else None,
        "loop_lag_max_ms": max(lag_max) / 1000 if lag_max else None,
        "uncorrected_p50_ms": svc["p50"],
        "uncorrected_p99_ms": svc["p99"],
        "max_inflight": run["inflight_max"],
        "client": None, "loop": None,
    }
    result = run["result"]
    if result is not None:
        out["abandoned"] = result.abandoned
        out["max_send_lag_ms"] = round(result.max_send_lag_s * 1000, 3)
    return out


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies over every CPU, from /proc/stat (0, 0 where there is none)."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:8]]
    except OSError:
        return 0, 0
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def held(out: dict[str, Any]) -> bool:
    """The plateau validity rule, strict: no drops, no errors, 97% sent, lag p99 <= 10 ms."""
    lag = out["loop_lag_p99_ms"]
    return (out["dropped"] == 0 and out["errors"] == 0 and lag is not None
            and lag <= MAX_LAG_MS
            and out["sent"] >= MIN_SENT_SHARE * out["target_rps"] * out["duration_s"])


def measure(args: argparse.Namespace, rate: float, duration: float) -> dict[str, Any]:
    plan = make_plan(args.url, rate, duration, args.warmup, args.arrival, args.connections,
                     args.max_inflight, args.timeout, args.loop)
    choice = select_loop(plan.engine.loop)
    runner_fn = run_controller if args.controller else run_engine
    measured = "p1"  # the plateau; the warm-up, if any, is p0
    pauses = GcPauses()
    gc.callbacks.append(pauses)
    busy0 = machine_busy()
    times0 = os.times()
    try:
        with asyncio.Runner(loop_factory=choice.factory) as runner:
            run = runner.run(runner_fn(plan, args.client, measured, args.verbose, args.gc))
    finally:
        times1 = os.times()
        busy1 = machine_busy()
        gc.callbacks.remove(pauses)
    user, system = times1.user - times0.user, times1.system - times0.system
    cpu = user + system
    out = summarize(run, plan, duration, args.warmup)
    total = rate * (duration + args.warmup)
    out["cpu_s"] = round(cpu, 3)
    out["cpu_user_s"], out["cpu_sys_s"] = round(user, 3), round(system, 3)
    out.update(pauses.summary())
    ncpu = os.cpu_count() or 1
    jiffies = busy1[1] - busy0[1]
    if jiffies > 0:  # everything else on the machine (the target included), % of one core
        machine = 100 * ncpu * (busy1[0] - busy0[0]) / jiffies
        out["others_cpu_pct"] = round(machine - 100 * cpu / (times1.elapsed - times0.elapsed), 1)
    out["cpu_us_per_request"] = round(cpu / total * 1e6, 2) if total else None
    out.update(client=args.client, loop=choice.name, duration_s=duration,
               connections=args.connections, arrival=args.arrival, gc=args.gc,
               controller=args.controller)
    out["held"] = held(out)
    return out


def find_max(args: argparse.Namespace) -> dict[str, Any]:
    def trial(rate: float) -> dict[str, Any]:
        """A rate holds when one of ``--attempts`` trials holds: a hold cannot be luck
        (the rule is strict), a failure can be a busy neighbour on the machine."""
        for attempt in range(1, args.attempts + 1):
            out = measure(args, rate, args.trial_duration)
            print(json.dumps({"trial_rate": rate, "attempt": attempt, **{k: out.get(k) for k in (
                "held", "sent_rps", "dropped", "errors", "loop_lag_p99_ms", "p99_ms",
                "max_inflight", "cpu_us_per_request", "others_cpu_pct")}}),
                file=sys.stderr, flush=True)
            if out["held"]:
                break
        return out

    best: dict[str, Any] | None = None
    lo, hi = 0.0, math.inf  # the highest rate held, the lowest rate that failed
    rate = args.start_rate
    while hi == math.inf or best is None:  # bracket: x1.25 up from a hold, /2 down
        out = trial(rate)
        if out["held"]:
            best, lo = out, rate
            if rate >= args.max_rate:
                break
            rate = min(args.max_rate, round(rate * 1.25, -2))
        else:
            hi = rate
            if rate <= 100:
                break
            rate = max(100.0, round(rate / 2, -2))
        if best is not None and hi < math.inf:
            break
    while best is not None and hi < math.inf and hi - lo > max(200.0, 0.03 * lo):
        mid = round((lo + hi) / 2, -2)
        out = trial(mid)
        if out["held"]:
            best, lo = out, mid
        else:
            hi = mid
    if best is None:
        return {"max_rate_held": 0, "first_failed_rate": hi, "held": False}
    best["max_rate_held"] = lo
    best["first_failed_rate"] = None if hi == math.inf else hi
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:8080/")
    ap.add_argument("--rate", type=float, default=1000.0)
    ap.add_argument("--duration", type=float, default=15.0)
    ap.add_argument("--warmup", type=float, default=1.0, help="seconds excluded first")
    ap.add_argument("--arrival", choices=["uniform", "poisson"], default="uniform")
    ap.add_argument("--client", choices=["raw", "aiohttp", "raw-buffered", "raw-stream"],
                    default="raw", help="raw: RawHttpTransport (its reader chosen by the loop)")
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--max-inflight", type=int, default=2000)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto")
    ap.add_argument("--gc", choices=["engine", "nofreeze"], default="engine",
                    help="engine: the Shard freezes the collector for the run (default)")
    ap.add_argument("--controller", action="store_true",
                    help="run the full Controller (with its store) instead of the engine")
    ap.add_argument("--verbose", action="store_true", help="one line per second on stderr")
    ap.add_argument("--find-max", action="store_true")
    ap.add_argument("--start-rate", type=float, default=5000.0)
    ap.add_argument("--max-rate", type=float, default=200_000.0)
    ap.add_argument("--trial-duration", type=float, default=5.0)
    ap.add_argument("--attempts", type=int, default=2, help="trials per rate before it fails")
    args = ap.parse_args(argv)
    started = time.monotonic()
    out = find_max(args) if args.find_max else measure(args, args.rate, args.duration)
    out["wall_s"] = round(time.monotonic() - started, 2)
    print(json.dumps({k: (round(v, 3) if isinstance(v, float) and math.isfinite(v) else v)
                      for k, v in out.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
