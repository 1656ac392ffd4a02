#!/bin/bash
# Wait until the machine is quiet: the 1-minute load average below MAX_LOAD (0.5) and
# both cores mostly idle over a 5 s sample, checking every 15 s for at most MAX_WAIT s
# (default 1800). Exit 0 when quiet, 1 on timeout (the caller decides whether to go on).
MAX_LOAD=${MAX_LOAD:-0.5}; MAX_WAIT=${MAX_WAIT:-1800}; MAX_BUSY=${MAX_BUSY:-15}
start=$(date +%s)
busy() {  # % of all CPUs busy over 5 s, from /proc/stat
  read -r _ a b c d e f g _ < /proc/stat; t1=$((a+b+c+d+e+f+g)); i1=$((d+e))
  sleep 5
  read -r _ a b c d e f g _ < /proc/stat; t2=$((a+b+c+d+e+f+g)); i2=$((d+e))
  echo $(( 100 * ((t2-t1) - (i2-i1)) / (t2-t1) ))
}
while true; do
  load=$(cut -d' ' -f1 /proc/loadavg); b=$(busy)
  if awk -v l="$load" -v m="$MAX_LOAD" 'BEGIN{exit !(l < m)}' && [ "$b" -le "$MAX_BUSY" ]; then
    echo "quiet: load $load, busy ${b}%"; exit 0
  fi
  if [ $(( $(date +%s) - start )) -ge "$MAX_WAIT" ]; then
    echo "still busy after ${MAX_WAIT}s: load $load, busy ${b}%"; exit 1
  fi
  sleep 10
done
