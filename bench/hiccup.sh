#!/bin/bash
# Figure (b): coordinated omission. The bench-peers stalling target (1 s stall every 10 s,
# ~1 ms otherwise) at a fixed RATE=200 RPS for DUR=60 s; every run starts at wall-clock
# phase 2.0 s (wait_phase.py), so it meets DUR/10 full stalls. Truth for an open model:
# 10% of requests wait U(0, 1 s): P95 ~500 ms, P99 ~900 ms.
#
# perfgate (raw and aiohttp clients, uniform arrivals, no warm-up) beside hey and Locust
# FastHttpUser at the same nominal rate, in one results folder.
#
# Usage: bench/hiccup.sh [OUTDIR]   env: DUR=60 RATE=200 ROUNDS=1
#        TOOLS="perfgate_raw perfgate_aiohttp hey_c10_q20 hey_c50_q4 locust_fast_u10x20 locust_fast_u50x4"
# Needs: bench-peers start_hiccup.sh (port 8081).
set -u
. "$(dirname "$0")/env.sh"
OUT=${1:-$RES/perfgate_hiccup_$(date +%Y%m%d_%H%M%S)}
ROUNDS=${ROUNDS:-1}; DUR=${DUR:-60}; RATE=${RATE:-200}
TOOLS=${TOOLS:-"perfgate_raw perfgate_aiohttp hey_c10_q20 hey_c50_q4 locust_fast_u10x20 locust_fast_u50x4"}
URL=http://127.0.0.1:8081/
HP=$(alive "$RUN/hiccup.pid") || { echo "hiccup server is not running: $BENCH_PEERS/start_hiccup.sh" >&2; exit 1; }
mkdir -p "$OUT"
{ date -Is; uname -a; nproc; uptime; } > "$OUT/machine.txt"
echo "results: $OUT"; cat "$OUT/machine.txt"
h() { local tool=$1 parser=$2; shift 2
      "$V" "$BENCH_PEERS/wait_phase.py" 10 2.0
      m "${tool}_r$r" "$parser" "{\"tool\": \"$tool\", \"mode\": \"hiccup\", \"round\": $r}" "$HP" -- "$@"; }
for r in $(seq 1 "$ROUNDS"); do
  for t in $TOOLS; do
    case $t in
      perfgate_raw|perfgate_aiohttp)
        h $t json "$PY" "$PG_PEER" --url $URL --client "${t#perfgate_}" --rate $RATE --duration $DUR \
          --warmup 0 --arrival uniform --connections 256 ;;
      hey_c50_q4)  h $t hey hey -z ${DUR}s -c 50 -q $((RATE/50)) $URL ;;
      hey_c10_q20) h $t hey hey -z ${DUR}s -c 10 -q $((RATE/10)) $URL ;;
      locust_fast_u50x4)  (cd "$OUT" && PER_USER_RPS=$((RATE/50)) h $t locust "$V" -m locust -f "$BENCH_PEERS/locustfile_rate.py" \
                            FastRateUser --headless -u 50 -r 1000 -t ${DUR}s -H http://127.0.0.1:8081 --only-summary --json) ;;
      locust_fast_u10x20) (cd "$OUT" && PER_USER_RPS=$((RATE/10)) h $t locust "$V" -m locust -f "$BENCH_PEERS/locustfile_rate.py" \
                            FastRateUser --headless -u 10 -r 1000 -t ${DUR}s -H http://127.0.0.1:8081 --only-summary --json) ;;
      *) echo "unknown tool $t" >&2 ;;
    esac
  done
done
uptime >> "$OUT/machine.txt"
"$V" "$BENCH_PEERS/summarize.py" "$OUT"
echo
"$PY" "$BENCH/report.py" hiccup "$OUT"
