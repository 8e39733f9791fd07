#!/usr/bin/env bash
# bench/sweep.sh -- sweep throughput at -j 1 and -j 2, and the start-up
# cost of a point: the median of three runs each (docs/sweeps.md reports
# the figures).
#   throughput  100 points of loopback.yaml (10 sizes x 10 worker counts,
#               20 ms simulated each);
#   start-up    the same 100 points simulating 1 us each, so a point's
#               wall time is loading, hashing, building the host and
#               writing its file, at -j 1.
# usage: bench/sweep.sh [PVSIM]
set -euo pipefail
pvsim=${1:-build/release/pvsim}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
grid=(scenarios/loopback.yaml --quiet
  --sweep guests.0.workload.size=512B,1KiB,2KiB,4KiB,8KiB,16KiB,32KiB,64KiB,128KiB,256KiB
  --sweep device.workers=1,2,3,4,5,6,7,8,9,10)

# seconds ARGS...: the median wall time of three sweeps into fresh dirs.
seconds() {
  for i in 1 2 3; do
    rm -rf "$out/s"
    local t0 t1
    t0=$(date +%s.%N)
    "$pvsim" sweep "$@" --out "$out/s"
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
  done | sort -n | sed -n 2p
}

j1=$(seconds "${grid[@]}" --set run.duration=20ms --set run.warmup=1ms -j 1)
j2=$(seconds "${grid[@]}" --set run.duration=20ms --set run.warmup=1ms -j 2)
st=$(seconds "${grid[@]}" --set run.duration=1us --set run.warmup=0 -j 1)
printf 'throughput -j 1: %.1f points/s (%.2f s for 100)\n' "$(echo "100 / $j1" | bc -l)" "$j1"
printf 'throughput -j 2: %.1f points/s (%.2f s for 100), speed-up %.2fx\n' \
  "$(echo "100 / $j2" | bc -l)" "$j2" "$(echo "$j1 / $j2" | bc -l)"
printf 'start-up: %.2f ms per point (100 points of 1 us in %.2f s)\n' \
  "$(echo "$st * 10" | bc -l)" "$st"
