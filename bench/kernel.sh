#!/usr/bin/env bash
# bench/kernel.sh -- the event kernel's hold-model figures at the pending
# counts docs/kernel.md reports: the median ns/event of three runs each.
# usage: bench/kernel.sh [PVSIM] [EVENTS]
set -euo pipefail
pvsim=${1:-build/release/pvsim}
events=${2:-20000000}
printf '%10s %12s\n' pending ns/event
for p in 16 1024 65536; do
  for i in 1 2 3; do
    "$pvsim" bench kernel --pending "$p" --events "$events" |
      sed -n 's/.*, \([0-9.]*\) ns\/event/\1/p'
  done | sort -n | sed -n 2p | xargs printf '%10s %12s\n' "$p"
done
