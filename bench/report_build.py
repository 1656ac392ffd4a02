"""Report build time and peak memory for a full perf-6b store and one ten times larger.

    python bench/report_build.py                  # full (~320k requests) and 10x requests
    python bench/report_build.py --larger duration  # 10x by ten times the run's length
    python bench/report_build.py --keep /tmp/stores # keep (and reuse) the stores

A store is the synthetic perf-6b run of ``perfgate.report.synthetic`` (85 minutes of
plateaus after a 5-minute warm-up, five endpoints, telemetry every 5 s, one ledger row per
AI call, criteria judged per plateau, captures), with the plateau rates x1.5 so that it
holds ~320,000 requests. The 10x store multiplies the rates by ten more (same windows,
denser histograms, ten times the ledger) or, with ``--larger duration``, the plateau
lengths (ten times the windows). Each build (summary.json, report.html, junit.xml) runs in
a fresh child process: wall time of ``write_deliverables`` and the child's peak RSS
(``VmHWM``; ``ru_maxrss`` would report the forking parent's peak after exec), beside the
RSS of a child that only imports the report (the interpreter and libraries: the floor
under any build). Goal for the full store: < 5 s, < 300 MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from perfgate.report.synthetic import SyntheticRun, write_store

CHILD = """
import json, resource, sys, time
from pathlib import Path
from perfgate.report.build import write_deliverables
t = time.perf_counter()
built = None if sys.argv[2] == "import-only" else write_deliverables(Path(sys.argv[1]))
seconds = time.perf_counter() - t
try:  # VmHWM: this process's own peak (ru_maxrss would carry the forking parent's over exec)
    status = open("/proc/self/status").read()
    rss = int(next(ln for ln in status.splitlines() if ln.startswith("VmHWM")).split()[1]) / 1024
except (OSError, StopIteration):
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out = {"seconds": seconds, "peak_rss_mb": rss}
if built is not None:
    out["html_mb"] = built.html_path.stat().st_size / 1e6
    out["requests"] = sum(f["requests"] for p in built.summary["plateaus"]
                          for f in p["families"].values())
print(json.dumps(out))
"""


def store(root: Path, name: str, rate_x: float, length_x: float) -> tuple[Path, float]:
    path = root / name
    if (path / "run.sqlite").exists():
        return path, 0.0
    base = SyntheticRun()
    run = replace(base, run_id=name, ramp_discipline=False,
                  warmup=(10.0 * rate_x, 300.0),
                  plateaus=tuple((rps * rate_x, dur * length_x) for rps, dur in base.plateaus))
    t = time.perf_counter()
    write_store(path, run)
    return path, time.perf_counter() - t


def child(path: Path, mode: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", CHILD, str(path), mode], capture_output=True,
                          text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, help="Directory for the stores (kept, reused)")
    ap.add_argument("--larger", choices=("rate", "duration"), default="rate")
    ap.add_argument("--only-full", action="store_true")
    args = ap.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="perfgate-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    cases = [("full", 1.5, 1.0)]
    if not args.only_full:
        cases.append(("x10-" + args.larger, 15.0 if args.larger == "rate" else 1.5,
                      10.0 if args.larger == "duration" else 1.0))
    floor = child(root, "import-only")
    print(f"import-only child: peak RSS {floor['peak_rss_mb']:.0f} MB", file=sys.stderr)
    results = []
    for name, rate_x, length_x in cases:
        path, made = store(root, name, rate_x, length_x)
        r = child(path, "build")
        r.update(name=name, store_build_s=made, store_mb=(path / "run.sqlite").stat().st_size
                 / 1e6, import_floor_mb=floor["peak_rss_mb"])
        results.append(r)
        print(f"{name:>14}: {r['requests']:>10,.0f} requests, store {r['store_mb']:.0f} MB; "
              f"report built in {r['seconds']:.2f} s, peak RSS {r['peak_rss_mb']:.0f} MB "
              f"(imports alone {floor['peak_rss_mb']:.0f} MB), report.html "
              f"{r['html_mb']:.1f} MB", file=sys.stderr)
    full = results[0]
    ok = full["seconds"] < 5 and full["peak_rss_mb"] < 300
    print(f"goal (full store < 5 s and < 300 MB): {'met' if ok else 'MISSED'}", file=sys.stderr)
    print(json.dumps({"results": results, "goal_met": ok}))


if __name__ == "__main__":
    main()
