#!/usr/bin/env bash
# Runs each libFuzzer harness of build/fuzz for SECONDS, from its seeds in fuzz/corpus/<h>.
# What it finds new goes to build/fuzz/corpus/<h>; a crash to build/fuzz/crashes/ (and this
# script fails, naming the input to reproduce it with: build/fuzz/fuzz/<h> <input>).
# Usage: scripts/fuzz.sh SECONDS HARNESS...
set -uo pipefail
seconds=$1
shift
status=0
mkdir -p build/fuzz/crashes
for h in "$@"; do
  mkdir -p "build/fuzz/corpus/$h"
  log="build/fuzz/$h.log"
  build/fuzz/fuzz/"$h" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="build/fuzz/crashes/$h-" \
    "build/fuzz/corpus/$h" "fuzz/corpus/$h" > "$log" 2>&1
  rc=$?
  execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  cov=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$log" | tail -1 | grep -o 'cov: [0-9]*')
  if [ $rc -eq 0 ]; then
    echo "fuzz: $h: ${execs:-?} runs in ${seconds} s, ${cov:-cov: ?}, no crash"
  else
    echo "fuzz: $h FAILED (exit $rc); the end of $log:"
    tail -40 "$log"
    status=1
  fi
done
exit $status
