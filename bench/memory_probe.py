"""Figure (c): runner RSS and store size of a time-scaled perf-6b run, extrapolated.

    python bench/memory_probe.py --plan plans/perf-6b.yaml --time-scale 0.02,0.1 \\
        --target http://127.0.0.1:8090 [--drop chaos,captures] [--cpu 0] [--out DIR]

For each scale F, runs ``perfgate run PLAN --time-scale F --target URL`` as a child
(pinned with taskset), samples the child's RSS every second (psutil, the whole process
tree), and at the end measures the run directory. A run is F times the full length
(perf-6b: 5,400 s) at the full rates, so it has the full run's mix of plateaus; the
full-length figures are extrapolated:

- store: per file, size = fixed + per-run-second x length, fitted over the scales (the
  report and summary are mostly fixed, run.sqlite and latency.hlog grow with time);
- RSS: the peak RSS of each run fitted the same way (``rss_fit_full_length_mb``), and
  the peak of the longest run plus the slope of its second half carried to the full
  length (``rss_full_length_mb``). A time-scaled run passes through all six phases in a
  tenth of the time, so memory that grows per phase rather than per second makes both
  extrapolations pessimistic.

Top-level plan sections named in ``--drop`` are removed first (into OUT/plan.yaml):
``chaos`` (iptables in a network namespace) and ``captures`` (py-spy attached to the
target) act on the machine and need the real system; they are not the runner's memory.
The last stdout line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import yaml

FULL_LENGTH_S = 5 * 60 + 5 * 17 * 60  # perf-6b: warm-up 5 min + five 17-minute plateaus


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total


def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def slope_mb_per_h(samples: list[tuple[float, int]]) -> float:
    """Least-squares slope of RSS over the second half of the samples, MB per hour."""
    half = samples[len(samples) // 2:]
    if len(half) < 3:
        return 0.0
    n = len(half)
    mx = sum(t for t, _ in half) / n
    my = sum(r for _, r in half) / n
    var = sum((t - mx) ** 2 for t, _ in half)
    cov = sum((t - mx) * (r - my) for t, r in half)
    return (cov / var) * 3600 / 2**20 if var else 0.0


def run_once(args: argparse.Namespace, plan_path: Path, scale: float, out: Path
             ) -> dict[str, Any]:
    runs = out / f"runs-{scale:g}"
    cmd = ["taskset", "-c", args.cpu, args.perfgate, "run", str(plan_path),
           "--time-scale", str(scale), "--target", args.target, "--out", str(runs),
           *args.extra.split()]
    env = {**os.environ, "STUDYHALL_TOKEN": os.environ.get("STUDYHALL_TOKEN", "bench-token")}
    print(" ".join(cmd), file=sys.stderr, flush=True)
    started = time.monotonic()
    samples: list[tuple[float, int]] = []
    name = f"perfgate-{scale:g}"
    with open(out / f"{name}.out", "wb") as stdout, open(out / f"{name}.err", "wb") as stderr:
        child = subprocess.Popen(cmd, stdout=stdout, stderr=stderr, env=env)
        proc = psutil.Process(child.pid)
        while child.poll() is None:
            try:
                samples.append((time.monotonic() - started, tree_rss(proc)))
            except psutil.NoSuchProcess:
                break
            time.sleep(1.0)
    wall = time.monotonic() - started
    with open(out / f"rss-{scale:g}.csv", "w") as f:
        f.write("t_s,rss_bytes\n" + "".join(f"{t:.1f},{r}\n" for t, r in samples))
    run_dirs = [d for d in runs.iterdir() if d.is_dir()] if runs.exists() else []
    run_dir = max(run_dirs, key=lambda d: d.stat().st_mtime) if run_dirs else None
    run_s = FULL_LENGTH_S * scale
    peak = max((r for _, r in samples), default=0)
    files = ({f.name: f.stat().st_size for f in sorted(run_dir.rglob("*")) if f.is_file()}
             if run_dir else {})
    return {
        "time_scale": scale, "exit_code": child.returncode, "run_length_s": run_s,
        "wall_s": round(wall, 1), "run_dir": str(run_dir) if run_dir else None,
        "store_bytes": sum(files.values()), "files": files,
        "rss_peak_mb": round(peak / 2**20, 1),
        "rss_end_mb": round(samples[-1][1] / 2**20, 1) if samples else None,
        "rss_slope_mb_per_run_h": round(slope_mb_per_h(samples), 2),
    }


def fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """size = fixed + per_s x run_seconds, least squares over (run_s, size) points."""
    if len(points) == 1:
        return 0.0, points[0][1] / points[0][0]
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    per_s = sum((x - mx) * (y - my) for x, y in points) / var
    return my - per_s * mx, per_s


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--plan", default="plans/perf-6b.yaml")
    ap.add_argument("--time-scale", default="0.02,0.1",
                    help="one or more scales, comma-separated (two or more: a fitted "
                         "fixed + per-second store cost)")
    ap.add_argument("--target", default="http://127.0.0.1:8090")
    ap.add_argument("--drop", default="chaos,captures")
    ap.add_argument("--cpu", default="0")
    ap.add_argument("--out", default=None)
    ap.add_argument("--perfgate", default=str(Path(sys.executable).parent / "perfgate"))
    ap.add_argument("--extra", default="--skip-preflight --no-dashboard --metrics-port -1",
                    help="more `perfgate run` options")
    args = ap.parse_args()

    out = Path(args.out or f"/tmp/perfgate-memory-{time.strftime('%Y%m%d-%H%M%S')}")
    out.mkdir(parents=True, exist_ok=True)
    plan = yaml.safe_load(Path(args.plan).read_text())
    dropped = [k for k in args.drop.split(",") if k and plan.pop(k, None) is not None]
    plan_path = out / "plan.yaml"
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False))
    scales = [float(x) for x in args.time_scale.split(",")]
    runs = [run_once(args, plan_path, scale, out) for scale in scales]
    names = sorted({name for r in runs for name in r["files"]})
    per_file = {}
    for name in names:
        fixed, per_s = fit([(r["run_length_s"], r["files"].get(name, 0)) for r in runs])
        per_file[name] = {"fixed_kb": round(fixed / 1024, 1),
                          "per_run_s_bytes": round(per_s, 1),
                          "full_length_mb": round((fixed + per_s * FULL_LENGTH_S) / 2**20, 2)}
    fixed, per_s = fit([(r["run_length_s"], r["store_bytes"]) for r in runs])
    longest = max(runs, key=lambda r: r["run_length_s"])
    remaining_h = (FULL_LENGTH_S - longest["run_length_s"]) / 3600
    rss_fixed, rss_per_s = fit([(r["run_length_s"], r["rss_peak_mb"]) for r in runs])
    result: dict[str, Any] = {
        "full_length_s": FULL_LENGTH_S, "dropped_sections": dropped,
        "store_fixed_mb": round(fixed / 2**20, 2),
        "store_per_run_s_kb": round(per_s / 1024, 2),
        "store_full_length_mb": round((fixed + per_s * FULL_LENGTH_S) / 2**20, 1),
        "rss_peak_mb": max(r["rss_peak_mb"] for r in runs),
        "rss_slope_mb_per_run_h": longest["rss_slope_mb_per_run_h"],
        "rss_full_length_mb": round(longest["rss_peak_mb"] + max(
            0.0, longest["rss_slope_mb_per_run_h"]) * remaining_h, 1),
        # peak RSS = fixed + per-run-second x length, over the scales (two or more)
        "rss_fit_full_length_mb": (round(rss_fixed + rss_per_s * FULL_LENGTH_S, 1)
                                   if len(runs) > 1 else None),
        "per_file": per_file,
        "runs": [{k: v for k, v in r.items() if k != "files"} for r in runs],
    }
    print(json.dumps(result))
    return 0 if all(r["exit_code"] in (0, 1, 2, 3) for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
