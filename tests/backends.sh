#!/usr/bin/env bash
# backends.sh -- the cross-check of the event kernel's backends: a shipped
# scenario gives byte-identical results JSON on native and on SystemC.
# usage: backends.sh PVSIM SCENARIO
# Each scenario is one CTest test (tests/CMakeLists.txt). It is shortened
# (the same settings on both backends) so the sanitizer build stays quick,
# and runs two replications so the merge of replications is compared too.
set -euo pipefail
pvsim=$1
scenario=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

short=(--set run.warmup=0.5ms --set run.duration=3ms --replications 2 --quiet)
for backend in native systemc; do
  "$pvsim" run "$scenario" "${short[@]}" --backend "$backend" --out "$work/$backend"
done
native=("$work"/native/*.json)
[ ${#native[@]} -eq 1 ] || { echo "FAIL: expected one results file, found ${#native[@]}" >&2; exit 1; }
if ! cmp "${native[0]}" "$work/systemc/$(basename "${native[0]}")"; then
  diff <(tr ',' '\n' <"${native[0]}") <(tr ',' '\n' <"$work/systemc/$(basename "${native[0]}")") |
    head -20 >&2
  echo "FAIL: $scenario: the backends' results differ" >&2
  exit 1
fi
echo "ok: $(basename "$scenario"): native and systemc give the same bytes"
