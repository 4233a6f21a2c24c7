#!/usr/bin/env bash
# Issue 10's proof that the suite does not depend on a quiet machine: `npm test` N times in a row
# (default 3) while two busy-loop processes hog both cores. The busy loops are this script's own
# children, killed by PID when it ends (also on Ctrl-C). Each run's output goes to a log file.
#
#   bash test/prove-under-load.sh [runs]        LOG_DIR=/some/dir to keep the logs elsewhere (default /tmp)
set -u
runs=${1:-3}
logdir=${LOG_DIR:-/tmp}
hogs=()
cleanup() {
  for p in "${hogs[@]}"; do kill "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for _ in 1 2; do
  sh -c 'while :; do :; done' &
  hogs+=("$!")
done
echo "busy loops: PIDs ${hogs[*]}"
failed=0
for r in $(seq 1 "$runs"); do
  log="$logdir/haconfd-under-load-$r.log"
  start=$(date +%s)
  if npm test >"$log" 2>&1; then result=pass; else result=FAIL; failed=$((failed + 1)); fi
  summary=$(grep -E '^ℹ (tests|pass|fail) ' "$log" | tr -d 'ℹ' | tr '\n' ' ')
  echo "run $r: $result in $(($(date +%s) - start)) s —$summary(log $log)"
done
echo "$((runs - failed)) of $runs runs passed"
[ "$failed" -eq 0 ]
