#!/usr/bin/env bash
# cli.sh -- end-to-end tests of the real `pvsim` executable.
# usage: cli.sh PVSIM SOURCE_DIR CASE
# Each CASE is one CTest test (tests/CMakeLists.txt); it exits non-zero with
# a message on the first failed expectation.
set -uo pipefail
pvsim=$1
src=$2
case_name=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$src" || exit 1

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_status WANT CMD...: runs CMD with output in $work/out, $work/err.
expect_status() {
  local want=$1; shift
  "$@" >"$work/out" 2>"$work/err"
  local got=$?
  [ "$got" -eq "$want" ] || { cat "$work/out" "$work/err" >&2; fail "$* exited $got, want $want"; }
}

contains() { grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$1 lacks: $2"; }; }

case_help() {
  expect_status 0 "$pvsim" --help
  contains "$work/out" "usage: pvsim <command>"
  contains "$work/out" "examples:"
  expect_status 0 "$pvsim" run --help
  contains "$work/out" "--set PATH=VALUE"
  contains "$work/out" "examples:"
  expect_status 0 "$pvsim" check --help
  expect_status 0 "$pvsim" bench --help
  expect_status 0 "$pvsim" --version
  grep -Eq '^pvsim [0-9]+\.[0-9]+\.[0-9]+$' "$work/out" || fail "bad --version"
}

case_usage_errors() {
  expect_status 2 "$pvsim"
  expect_status 2 "$pvsim" frobnicate
  contains "$work/err" "unknown command 'frobnicate'"
  expect_status 2 "$pvsim" run --no-such-flag
  expect_status 2 "$pvsim" run --seed -4
  contains "$work/err" "--seed: expected an unsigned integer, found '-4'"
  expect_status 2 "$pvsim" run a.yaml b.yaml
  expect_status 2 "$pvsim" check
  expect_status 2 "$pvsim" run "$work/missing.yaml"
  contains "$work/err" "missing.yaml"
  expect_status 2 "$pvsim" bench kernel --pending 0
}

case_run_default() {
  expect_status 0 "$pvsim" run --out "$work/o"
  grep -Eq '^mean latency, us +linear$' "$work/out" || fail "no latency table"
  grep -Eq '^total +[0-9.]+$' "$work/out" || fail "no total row"
  contains "$work/out" "results: $work/o/default.json"
  python3 - "$work/o/default.json" <<'PY' || fail "results JSON"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema"] == "pvsim-results/1", r["schema"]
assert [v["name"] for v in r["variants"]] == ["linear"]
v = r["variants"][0]
t = v["totals"]
assert t["requests"] > 1000, t["requests"]
assert t["exits_per_request"] == 2.0  # kick + EOI: interrupts are posted
b = t["breakdown_cycles"]
parts = sum(b.values())
assert abs(parts - t["latency_cycles"]["mean"]) < 1e-6 * parts, (parts, t["latency_cycles"])
assert [c["name"] for c in v["classes"]] == ["small", "large"]
PY
  [ -z "$(ls "$work/o" | grep -v '^default.json$')" ] || fail "temporary files left in $work/o"
  expect_status 0 "$pvsim" run scenarios/loopback.yaml --quiet --out "$work/q"
  [ ! -s "$work/out" ] || fail "--quiet printed output"
  [ -s "$work/q/loopback.json" ] || fail "no results for loopback.yaml"
}

case_determinism() {
  expect_status 0 "$pvsim" run scenarios/loopback.yaml --quiet --out "$work/a"
  expect_status 0 "$pvsim" run scenarios/loopback.yaml --quiet --out "$work/b"
  cmp "$work/a/loopback.json" "$work/b/loopback.json" || fail "same seed, different bytes"
  expect_status 0 "$pvsim" run scenarios/loopback.yaml --quiet --seed 2 --out "$work/c"
  if cmp -s "$work/a/loopback.json" "$work/c/loopback.json"; then fail "seed had no effect"; fi
  # --seed N equals --set seed=N, and --seed wins whatever the order.
  expect_status 0 "$pvsim" run scenarios/loopback.yaml --quiet --seed 2 --set seed=9 --out "$work/d"
  cmp "$work/c/loopback.json" "$work/d/loopback.json" || fail "--seed did not win over --set seed"
}

# Every tests/bad/*.yaml names the exact stderr of `pvsim check` in its
# `# expect:` lines ({file} stands for the path given on the command line).
case_bad_scenarios() {
  local n=0 f want
  for f in tests/bad/*.yaml; do
    want=$(sed -n 's/^# expect: //p' "$f" | sed "s|{file}|$f|g")
    [ -n "$want" ] || fail "$f has no '# expect:' line"
    expect_status 2 "$pvsim" check "$f"
    [ "$(cat "$work/err")" = "$want" ] || {
      printf 'want:\n%s\ngot:\n%s\n' "$want" "$(cat "$work/err")" >&2; fail "$f"; }
    n=$((n + 1))
  done
  [ "$n" -ge 10 ] || fail "only $n bad scenarios"
  # --set errors name the override, not a file position.
  expect_status 2 "$pvsim" check scenarios/loopback.yaml --set guests.0.workload.depth=0
  contains "$work/err" "guests.0.workload.depth"
  expect_status 2 "$pvsim" check scenarios/loopback.yaml --set guests.0.wrokload.depth=1
  contains "$work/err" "did you mean 'workload'?"
}

case_good_scenarios() {
  local f
  for f in scenarios/*.yaml; do
    expect_status 0 "$pvsim" check "$f"
    contains "$work/out" "$f: ok"
  done
}

# docs/scenarios.md embeds `pvsim reference` between two markers.
case_reference_docs() {
  expect_status 0 "$pvsim" reference
  sed -n '/^<!-- BEGIN pvsim reference -->$/,/^<!-- END pvsim reference -->$/p' \
    docs/scenarios.md | sed '1d;$d' >"$work/doc"
  diff -u "$work/doc" "$work/out" >&2 ||
    fail "docs/scenarios.md is stale: run .ci/update-docs PATH/TO/pvsim"
}

case_presets() {
  expect_status 0 "$pvsim" presets
  contains "$work/out" "x86-kvm-2012"
  contains "$work/out" "outl_to_kernel"
  # Every preset value printed by the tool appears in docs/costs.md.
  local key val unit
  while read -r key val unit _; do
    [ "$unit" = ns ] && val="$val ns"
    grep -q "| \`$key\` | $val |" docs/costs.md || fail "docs/costs.md lacks $key = $val"
  done < <(grep -E '^  [a-z_]+ +[0-9.]+ (cycles|ns) ' "$work/out")
}

# The flagship comparison: each difference the docs explain is asserted.
case_schemes() {
  expect_status 0 "$pvsim" run scenarios/schemes.yaml --quiet --out "$work/s"
  python3 - "$work/s/schemes.json" <<'PY' || fail "schemes.json"
import json, sys
r = json.load(open(sys.argv[1]))
v = {x["name"]: x for x in r["variants"]}
assert list(v) == ["linear", "linear-256", "page-list", "physical", "phys-split", "sg"], list(v)
def cls(name, c):
    return next(k for k in v[name]["classes"] if k["name"] == c)["metrics"]
for name, x in v.items():
    t = x["totals"]
    parts = sum(t["breakdown_cycles"].values())
    assert abs(parts - t["latency_cycles"]["mean"]) < 1e-6 * parts, name
    assert t["scheme"]["failed_requests"] == 0, name
# physical: contiguous runs exist in lightly fragmented memory, not in the other
assert cls("physical", "1m-low")["scheme"]["alloc_failures"] == 0
assert cls("physical", "1m-high")["scheme"]["bounce_bytes"] > 0
assert cls("phys-split", "1m-high")["scheme"]["kicks_per_request"] > 1
assert cls("physical", "4k-high")["scheme"]["alloc_failures"] == 0
# sg: 256 pages need 16 descriptors of 16 sections, one hypercall each
assert cls("sg", "1m-low")["scheme"]["kicks_per_request"] == 16
# linear: a cache smaller than the working set walks; a large one hits
assert cls("linear", "1m-low")["scheme"]["tcache_hit_ratio"] > 0.9
assert cls("linear-256", "1m-low")["scheme"]["walks_per_request"] > 100
lat = lambda n, c: cls(n, c)["latency_ns"]["mean"]
assert lat("linear-256", "1m-low") > lat("linear", "1m-low")
# page-list copies its 10% of requests not in a registered buffer
pl = v["page-list"]["totals"]["scheme"]
assert pl["copy_bytes"] > 0 and pl["registrations"] >= 0
# every 4 KiB request costs about the same whatever the scheme
small = [lat(n, "4k-low") for n in v]
assert max(small) / min(small) < 1.1, small
PY
  # With 2 MiB guest pages a 1 MiB buffer is one page: one walk at most.
  expect_status 0 "$pvsim" run scenarios/schemes.yaml --quiet --out "$work/h" \
    --set guests.2.memory.page_size=2MiB
  python3 - "$work/h/schemes.json" <<'PY' || fail "schemes.json with 2 MiB pages"
import json, sys
r = json.load(open(sys.argv[1]))
v = {x["name"]: x for x in r["variants"]}
m = next(k for k in v["linear-256"]["classes"] if k["name"] == "1m-low")["metrics"]
assert m["scheme"]["walks_per_request"] <= 1.0, m["scheme"]
assert m["scheme"]["page_refs_per_request"] <= 3.0, m["scheme"]
PY
}

case_bench() {
  expect_status 0 "$pvsim" bench kernel --pending 64 --events 100000
  contains "$work/out" "ns/event"
}

"case_$case_name"
echo "cli $case_name: ok"
