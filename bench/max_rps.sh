#!/bin/bash
# Figure (a): the highest open-model rate perfgate holds on ONE generator core against one
# nginx worker on the other core -- no drops, loop lag p99 <= 10 ms -- side by side with
# wrk, hey and Locust FastHttpUser (closed loop, 50 connections, as in bench-peers) in the
# same results folder, interleaved over ROUNDS rounds.
#
# Per round and per perfgate client (raw, aiohttp): --find-max (short trials, pinned to
# GEN_CPU) finds the rate, then a DUR-second run at that rate is measured by measure.py.
# If that run does not hold (a drop, or lag p99 > 10 ms), it is kept (tool "<name>_unheld")
# and the rate is retried 5% lower, TRIES times in all.
#
# Usage: bench/max_rps.sh [OUTDIR]    env: ROUNDS=3 DUR=15 CONNS=50 PG_CONNS=256 TRIES=4
#        PG_INFLIGHT=2000 (perfgate's in-flight cap: the plan default; arrivals past it drop)
#        TOOLS="wrk hey locust_fast perfgate_raw perfgate_aiohttp" TRIAL=5 (find-max trial s)
#        START_RAW=30000 START_AIOHTTP=8000 (find-max first trials)
# Needs: bench-peers setup.sh done, nginx started (bench-peers start_nginx.sh).
set -u
. "$(dirname "$0")/env.sh"
OUT=${1:-$RES/perfgate_max_rps_$(date +%Y%m%d_%H%M%S)}
ROUNDS=${ROUNDS:-3}; DUR=${DUR:-15}; C=${CONNS:-50}; PG_CONNS=${PG_CONNS:-256}
TRIAL=${TRIAL:-5}; TRIES=${TRIES:-4}; PG_INFLIGHT=${PG_INFLIGHT:-2000}; START_RAW=${START_RAW:-30000}; START_AIOHTTP=${START_AIOHTTP:-8000}
TOOLS=${TOOLS:-"wrk hey locust_fast perfgate_raw perfgate_aiohttp"}
URL=http://127.0.0.1:8080/
NP=$(alive "$RUN/nginx.master.pid") || { echo "nginx is not running: $BENCH_PEERS/start_nginx.sh" >&2; exit 1; }
mkdir -p "$OUT"
{ date -Is; uname -a; nproc; uptime; } > "$OUT/machine.txt"
echo "results: $OUT"; cat "$OUT/machine.txt"

held_rate() {  # held_rate CLIENT ROUND -> prints the max rate held by --find-max
  local start=$START_RAW; [ "$1" = aiohttp ] && start=$START_AIOHTTP
  taskset -c "$GEN_CPU" "$PY" "$PG_PEER" --url $URL --client "$1" --connections "$PG_CONNS" \
    --max-inflight "$PG_INFLIGHT" --find-max --trial-duration "$TRIAL" --start-rate "$start" > "$OUT/findmax_$1_r$2.out" 2> "$OUT/findmax_$1_r$2.err"
  tail -1 "$OUT/findmax_$1_r$2.out" | "$PY" -c 'import json,sys; print(int(json.load(sys.stdin)["max_rate_held"]))'
}

perfgate_round() {  # perfgate_round CLIENT ROUND
  local client=$1 r=$2 rate try
  rate=$(held_rate "$client" "$r")
  echo "round $r: perfgate $client --find-max held $rate RPS"
  if [ "${rate:-0}" -le 0 ]; then echo "  nothing held: see $OUT/findmax_${client}_r$r.err" >&2; return; fi
  for try in $(seq 1 "$TRIES"); do
    m "perfgate_${client}_r${r}_t${try}" json \
      "{\"tool\": \"perfgate_$client\", \"round\": $r, \"try\": $try, \"find_max_rps\": $rate}" "$NP" -- \
      "$PY" "$PG_PEER" --url $URL --client "$client" --connections "$PG_CONNS" --max-inflight "$PG_INFLIGHT" \
      --rate "$rate" --duration "$DUR" \
      > "$OUT/last.json"
    if "$PY" -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1])).get("held") else 1)' "$OUT/last.json"; then
      break
    fi
    # not held: relabel the row, retry lower
    "$PY" - "$OUT/results.jsonl" "perfgate_${client}_r${r}_t${try}" <<'PY'
import json, sys
path, name = sys.argv[1], sys.argv[2]
rows = [json.loads(x) for x in open(path) if x.strip()]
for row in rows:
    if row["name"] == name:
        row["tool"] += "_unheld"
open(path, "w").write("".join(json.dumps(row) + "\n" for row in rows))
PY
    rate=$(( rate * 95 / 100 ))
  done
  sleep 2
}

for r in $(seq 1 "$ROUNDS"); do
  for t in $TOOLS; do
    case $t in
      wrk) m wrk_r$r wrk "{\"tool\": \"wrk\", \"round\": $r}" "$NP" -- wrk -t1 -c$C -d${DUR}s --latency $URL; sleep 2 ;;
      hey) m hey_r$r hey "{\"tool\": \"hey\", \"round\": $r}" "$NP" -- hey -z ${DUR}s -c $C $URL; sleep 2 ;;
      locust_fast) (cd "$OUT" && m locust_fast_r$r locust "{\"tool\": \"locust_fast\", \"round\": $r}" "$NP" -- \
                      "$V" -m locust -f "$BENCH_PEERS/locustfile_max.py" FastUser --headless -u $C -r 1000 -t ${DUR}s \
                      -H http://127.0.0.1:8080 --only-summary --reset-stats --json); sleep 2 ;;
      perfgate_raw) perfgate_round raw "$r" ;;
      perfgate_aiohttp) perfgate_round aiohttp "$r" ;;
      *) echo "unknown tool $t" >&2 ;;
    esac
  done
done
rm -f "$OUT/last.json"
uptime >> "$OUT/machine.txt"
"$V" "$BENCH_PEERS/summarize.py" "$OUT"
echo
"$PY" "$BENCH/report.py" max "$OUT"
