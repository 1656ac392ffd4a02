# Sourced by every bench script: where the bench-peers harness and perfgate live.
# BENCH_PEERS: the harness sources (default ../shared/bench-peers next to the repo).
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
BENCH_PEERS=${BENCH_PEERS:-$(cd "$ROOT/../shared/bench-peers" 2>/dev/null && pwd)}
[ -f "$BENCH_PEERS/env.sh" ] || { echo "bench-peers not found: set BENCH_PEERS" >&2; exit 1; }
B=$BENCH_PEERS
. "$BENCH_PEERS/env.sh"                 # PEERS, V (peers venv python), RUN, RES, GEN_CPU, SERVER_CPU, alive()
PY=${PY:-$ROOT/.venv/bin/python}       # perfgate's venv
PG_PEER="$BENCH/perfgate_peer.py"
# one measurement through the harness: m NAME PARSER META_JSON SERVER_PID -- CMD...
m() { local name=$1 parser=$2 meta=$3 spid=$4; shift 5
      "$V" "$BENCH_PEERS/measure.py" --name "$name" --parser "$parser" --cpu "$GEN_CPU" \
           --server-pid "$spid" --outdir "$OUT" --meta "$meta" -- "$@"; }
