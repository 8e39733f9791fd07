#!/usr/bin/env bash
# tlm.sh -- the TLM-2.0 device bridge gives the loopback's results: the
# example target (dma-block) charges the loopback's costs, so a scenario
# run with `device.model: tlm` writes the same results JSON, byte for
# byte, as with the loopback itself.
# usage: tlm.sh PVSIM SCENARIO
# One worker for 4 x 4 + 2 requests in flight, so requests queue at the
# device (the check below insists), and both runs are on SystemC, the
# only backend a TLM target runs under.
set -euo pipefail
pvsim=$1
scenario=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

same=(--set run.warmup=0.5ms --set run.duration=3ms --set device.workers=1 --replications 2
      --backend systemc --quiet)
"$pvsim" run "$scenario" "${same[@]}" --out "$work/loopback"
"$pvsim" run "$scenario" "${same[@]}" --set device.model=tlm --out "$work/tlm"
name=$(basename "$work"/loopback/*.json)
if ! cmp "$work/loopback/$name" "$work/tlm/$name"; then
  diff <(tr ',' '\n' <"$work/loopback/$name") <(tr ',' '\n' <"$work/tlm/$name") | head -20 >&2
  echo "FAIL: $scenario: the TLM device's results differ from the loopback's" >&2
  exit 1
fi
python3 - "$work/tlm/$name" <<'PY'
import json, sys
for v in json.load(open(sys.argv[1]))["variants"]:
    q = v["device"]["peak_queue_len"]
    if q < 2:
        sys.exit("FAIL: variant %s: requests did not queue at the device (peak %d)" % (v["name"], q))
PY
echo "ok: $(basename "$scenario"): the dma-block target gives the loopback's bytes, queueing included"
