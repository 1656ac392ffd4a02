#!/bin/bash
# All three figures in one go, each after the machine is quiet (wait_quiet.sh), into
# OUT (default ~/.cache/perfgate-peers/results/perfgate_all_<date>/{max_rps,hiccup,memory}).
# Starts and stops the targets it needs. Usage: bench/run_all.sh [OUT]
set -u
. "$(dirname "$0")/env.sh"
OUT=${1:-$RES/perfgate_all_$(date +%Y%m%d_%H%M%S)}
mkdir -p "$OUT"
"$BENCH/wait_quiet.sh"
"$BENCH_PEERS/start_nginx.sh" > /dev/null
bash "$BENCH/max_rps.sh" "$OUT/max_rps" | tee "$OUT/max_rps.txt"
"$BENCH_PEERS/stop_nginx.sh" > /dev/null
"$BENCH/wait_quiet.sh"
"$BENCH_PEERS/start_hiccup.sh" > /dev/null
bash "$BENCH/hiccup.sh" "$OUT/hiccup" | tee "$OUT/hiccup.txt"
"$BENCH_PEERS/stop_hiccup.sh" > /dev/null
"$BENCH/wait_quiet.sh"
taskset -c "$SERVER_CPU" "$PY" "$BENCH/catchall_server.py" --port 8090 --uvloop > "$OUT/catchall.log" 2>&1 &
CATCHALL=$!
sleep 2
(cd "$ROOT" && "$PY" "$BENCH/memory_probe.py" --plan plans/perf-6b.yaml --time-scale 0.02,0.1 \
   --target http://127.0.0.1:8090 --cpu "$GEN_CPU" --out "$OUT/memory") | tee "$OUT/memory.txt"
kill "$CATCHALL"
echo "all results: $OUT"
