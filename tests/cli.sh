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
  expect_status 2 "$pvsim" run --out ''
  contains "$work/err" "pvsim: --out: expected a directory, found ''"
  expect_status 2 "$pvsim" sweep scenarios/loopback.yaml --sweep device.workers=1 --out ''
  contains "$work/err" "pvsim: --out: expected a directory, found ''"
  expect_status 2 "$pvsim" regress ''
  contains "$work/err" "pvsim: DIR: expected a directory, found ''"
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
# One exit per request, the kick: completions are polled. Requests in
# flight at the window's edges may have their kick on the other side.
assert abs(t["exits_per_request"] - 1.0) < 0.001, t["exits_per_request"]
assert abs(t["vcpus"]["exits"]["pio"] - t["requests"]) <= 12, t["vcpus"]
assert r["costs_cycles"]["host_ipi"] is None  # no figure: null, never 0
assert r["costs_cycles"]["kernel_device"] == 0  # a stand-in of 0 stays 0
b = t["breakdown_cycles"]
parts = sum(b.values())
assert abs(parts - t["latency_cycles"]["mean"]) < 1e-6 * parts, (parts, t["latency_cycles"])
assert [c["name"] for c in v["classes"]] == ["small", "large"]
PY
  [ -z "$(ls "$work/o" | grep -v '^default.json$')" ] || fail "temporary files left in $work/o"
  # Names in tables cannot drive the terminal: control bytes show as '?'.
  printf 'name: esc\nguests: [{name: "a\\eb", workload: {size: 4KiB}}]\nvariants: [{name: "v\\e[2J", fabric: {vcpu_idle: poll, backend: poll, completion: poll}}]\n' >"$work/esc.yaml"
  expect_status 0 "$pvsim" run "$work/esc.yaml" --out "$work/esc"
  if grep -q "$(printf '\033')" "$work/out"; then fail "a control byte reached the table"; fi
  contains "$work/out" "a?b"
  expect_status 0 "$pvsim" run scenarios/loopback.yaml --quiet --out "$work/q"
  [ ! -s "$work/out" ] || fail "--quiet printed output"
  [ -s "$work/q/loopback.json" ] || fail "no results for loopback.yaml"
}

# Ctrl-C stops a long run between events: a message, status 130, and no
# results file, not even a partial one.
case_interrupt() {
  cat >"$work/long.yaml" <<'YAML'
name: long
costs: {host_ipi: 500ns}
run: {duration: 3600s}
guests: [{name: g, workload: {size: 4KiB}}]
variants: [{fabric: {vcpu_idle: poll, backend: poll, posted_interrupts: true}}]
YAML
  "$pvsim" run "$work/long.yaml" --quiet --out "$work/i" >"$work/out" 2>"$work/err" &
  local pid=$! i
  sleep 1
  kill -INT "$pid"
  for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { kill -9 "$pid"; fail "the run did not stop on SIGINT"; }
  wait "$pid"
  local got=$?
  [ "$got" -eq 130 ] || { cat "$work/err" >&2; fail "interrupted run exited $got, want 130"; }
  contains "$work/err" "stopped by Ctrl-C; no results written"
  contains "$work/err" "warning: $work/long.yaml: up to"
  [ -z "$(ls -A "$work/i" 2>/dev/null)" ] || fail "an interrupted run left files in $work/i"
}

# run -j N: the JSON is the same bytes at any N, with replications too; a
# worker that dies fails the run, naming its variant, and Ctrl-C stops the
# workers; neither writes anything. Bad counts are refused.
# --variant runs one variant of a scenario: the results hold it alone, the
# same object as in the run of all of them; an unknown name lists the
# scenario's names.
case_run_variant() {
  local short=(scenarios/schemes.yaml --quiet --set run.duration=1ms --set run.warmup=0.2ms)
  expect_status 0 "$pvsim" run "${short[@]}" --out "$work/all"
  expect_status 0 "$pvsim" run "${short[@]}" --variant phys-split --out "$work/one"
  python3 - "$work/all/schemes.json" "$work/one/schemes.json" <<'PY' || fail "--variant results"
import json, sys
full, one = (json.load(open(f)) for f in sys.argv[1:])
[v] = one["variants"]
assert v["name"] == "phys-split", v["name"]
assert v == [w for w in full["variants"] if w["name"] == "phys-split"][0]
PY
  expect_status 2 "$pvsim" run "${short[@]}" --variant nope
  contains "$work/err" "has no variant 'nope'; it has: linear, linear-256, page-list, physical, phys-split, sg"
  expect_status 2 "$pvsim" check scenarios/schemes.yaml --variant sg
}

# With backend systemc every variant's job runs in a process of its own
# and sends its recording back: the files are the native run's bytes, with
# several variants and replications, and with a TLM device.
case_systemc_traces() {
  local short=(--quiet --set run.duration=2ms --set run.warmup=0.5ms) b f
  mkdir -p "$work/tmp"
  for b in native systemc; do
    TMPDIR="$work/tmp" expect_status 0 "$pvsim" run scenarios/ivshmem-pingpong.yaml \
      "${short[@]}" --replications 2 --backend "$b" --out "$work/$b" --trace "$work/$b.json" \
      --vcd "$work/$b.vcd" --requests "$work/$b.csv"
  done
  [ -z "$(ls "$work/tmp")" ] || fail "a recording file was left in TMPDIR"
  for f in native.json native.vcd native.csv native/ivshmem-pingpong.json; do
    cmp "$work/$f" "$work/${f/native/systemc}" || fail "systemc recorded other bytes: $f"
  done
  expect_status 0 "$pvsim" run scenarios/loopback.yaml "${short[@]}" --backend systemc \
    --set device.model=tlm --out "$work/tlm" --trace "$work/tlm.json"
  contains "$work/tlm.json" '"name":"serve"'
}

case_run_jobs() {
  local short=(scenarios/load-latency.yaml --quiet --set run.duration=2ms --set run.warmup=0.5ms) j
  for j in 1 2 3; do
    expect_status 0 "$pvsim" run "${short[@]}" -j "$j" --out "$work/j$j"
    expect_status 0 "$pvsim" run "${short[@]}" --jobs "$j" --replications 2 --out "$work/r$j"
  done
  for j in 2 3; do
    cmp "$work/j1/load-latency.json" "$work/j$j/load-latency.json" || fail "-j $j: other bytes"
    cmp "$work/r1/load-latency.json" "$work/r$j/load-latency.json" ||
      fail "-j $j --replications 2: other bytes"
  done
  expect_status 0 "$pvsim" run "${short[@]}" --out "$work/default"
  cmp "$work/j1/load-latency.json" "$work/default/load-latency.json" || fail "default -j: other bytes"
  local bad
  for bad in 0 1025 abc ''; do
    expect_status 2 "$pvsim" run "${short[@]}" -j "$bad"
    contains "$work/err" "pvsim run: --jobs: expected 1 to 1024, found '$bad'"
  done
  cat >"$work/long2.yaml" <<'YAML'
name: long2
costs: {host_ipi: 500ns}
run: {duration: 3600s}
guests: [{name: g, workload: {size: 4KiB}}]
variants: [{name: a, fabric: {vcpu_idle: poll, backend: poll, posted_interrupts: true}},
           {name: b, fabric: {vcpu_idle: poll, backend: poll, posted_interrupts: true}}]
YAML
  # A worker killed: the run fails naming the variant, and writes nothing.
  "$pvsim" run "$work/long2.yaml" --quiet -j 2 --out "$work/k" >"$work/out" 2>"$work/err" &
  local pid=$! kids st=0 i
  for i in $(seq 100); do kids=$(pgrep -P "$pid"); [ -n "$kids" ] && break; sleep 0.1; done
  [ -n "$kids" ] || fail "no workers"
  kill -9 $(echo "$kids" | head -1)
  wait "$pid" || st=$?
  [ "$st" -eq 1 ] || { cat "$work/err" >&2; fail "a run whose worker died exited $st, want 1"; }
  grep -Eq "^pvsim: run failed: variant [ab]: worker [0-9] \(pid [0-9]+\) was killed by signal 9" \
    "$work/err" || { cat "$work/err" >&2; fail "no variant named for the dead worker"; }
  [ -z "$(ls -A "$work/k" 2>/dev/null)" ] || fail "a failed run left files in $work/k"
  # Ctrl-C: 130, no results, and no worker left behind.
  "$pvsim" run "$work/long2.yaml" --quiet -j 2 --out "$work/i" >"$work/out" 2>"$work/err" &
  pid=$!
  for i in $(seq 100); do kids=$(pgrep -P "$pid"); [ -n "$kids" ] && break; sleep 0.1; done
  [ -n "$kids" ] || fail "no workers"
  kill -INT "$pid"
  st=0
  wait "$pid" || st=$?
  [ "$st" -eq 130 ] || { cat "$work/err" >&2; fail "an interrupted run -j 2 exited $st, want 130"; }
  contains "$work/err" "interrupted with 0 of 2 jobs done: stopped by Ctrl-C; no results written"
  for i in $kids; do ! kill -0 "$i" 2>/dev/null || fail "worker $i outlived an interrupted run"; done
  [ -z "$(ls -A "$work/i" 2>/dev/null)" ] || fail "an interrupted run left files in $work/i"
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

# --replications N: means and "_ci95" intervals, the same bytes twice; one
# replication is the plain run; bad counts are refused before anything runs.
case_replications() {
  local short=(scenarios/loopback.yaml --quiet --set run.duration=5ms --set run.warmup=1ms)
  expect_status 0 "$pvsim" run "${short[@]}" --replications 3 --out "$work/a"
  expect_status 0 "$pvsim" run "${short[@]}" --replications 3 --out "$work/b"
  cmp "$work/a/loopback.json" "$work/b/loopback.json" || fail "--replications 3: different bytes"
  python3 - "$work/a/loopback.json" <<'PY' || fail "replicated results"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["replications"]["count"] == 3 and r["replications"]["seeds"][0] == r["seed"], r
t = r["variants"][0]["totals"]
for k in ("mean", "p99"):
    ci = t["latency_ns_ci95"][k]
    assert ci["lower"] <= t["latency_ns"][k] <= ci["upper"], (k, ci, t["latency_ns"])
assert "throughput_rps_ci95" in t and "latency_cycles_ci95" not in t
c = r["variants"][0]["classes"][0]["metrics"]
assert "latency_ns_ci95" in c, sorted(c)
PY
  expect_status 0 "$pvsim" run scenarios/loopback.yaml --set run.duration=2ms \
    --set run.warmup=1ms --replications 2 --out "$work/t"
  contains "$work/out" "2 replications: the tables show their means"
  expect_status 0 "$pvsim" run "${short[@]}" --out "$work/plain"
  expect_status 0 "$pvsim" run "${short[@]}" --replications 1 --out "$work/one"
  cmp "$work/plain/loopback.json" "$work/one/loopback.json" || fail "--replications 1 is not a plain run"
  # --replications wins over --set run.replications, whatever the order.
  expect_status 0 "$pvsim" run "${short[@]}" --replications 1 --set run.replications=3 --out "$work/c"
  cmp "$work/plain/loopback.json" "$work/c/loopback.json" || fail "--replications did not win"
  local bad
  for bad in 0 1001 abc -1 ''; do
    expect_status 2 "$pvsim" run "${short[@]}" --replications "$bad"
    contains "$work/err" "pvsim: --replications: expected 1 to 1000, found '$bad'"
    expect_status 2 "$pvsim" sweep "${short[@]}" --sweep device.workers=1,2 --replications "$bad"
    contains "$work/err" "pvsim: --replications: expected 1 to 1000, found '$bad'"
  done
  expect_status 2 "$pvsim" check scenarios/loopback.yaml --set run.replications=0
  contains "$work/err" "run.replications: expected an integer from 1 to 1000, found '0'"
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
# page-list copies its 10% of requests not in a registered buffer, and
# re-registers a buffer when the guest remapped one of its pages: each
# instance registered its one buffer at go-live, then again after remaps
pl = v["page-list"]["totals"]["scheme"]
assert pl["copy_bytes"] > 0
assert 0 < pl["registrations"] <= pl["remaps"], pl
assert all(c["setup"]["registrations"] == 2 for c in v["page-list"]["classes"])
# every 4 KiB request costs about the same whatever the scheme, but sg's
# kick is a hypercall: its handler (1898) is cheaper than a PIO's (2451)
small = [lat(n, "4k-low") for n in v if n != "sg"]
assert max(small) / min(small) < 1.1, small
kick_gap_ns = (2451 - 1898) / 3.0
assert abs(lat("physical", "4k-low") - lat("sg", "4k-low") - kick_gap_ns) < 10, kick_gap_ns
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
  expect_status 2 "$pvsim" bench kernel --backend fast
  # The SystemC side runs where pvsim has it and is a clear error where not;
  # this build's answer decides which the rest expects.
  local systemc=1
  "$pvsim" bench kernel --pending 16 --events 1000 --backend systemc >"$work/out" 2>"$work/err" ||
    { contains "$work/err" "built without SystemC"; systemc=0; }
  [ "$systemc" = 0 ] || contains "$work/out" "hold model (systemc): 16 pending"
  # bench all: a native row per hold size and per scenario of the
  # directory, each followed by its SystemC row (with the ratio) when
  # built; no figure is checked (benchmarks are not tests).
  mkdir -p "$work/s"
  cp scenarios/ivshmem-pingpong.yaml "$work/s/"
  expect_status 0 "$pvsim" bench all --runs 1 --events 10000 --scenarios "$work/s" --large ''
  contains "$work/out" "hold, 65536 pending"
  local row='[0-9]+ +[0-9.]+ \[[0-9.]+-[0-9.]+\] +[0-9.]+ \[[0-9.]+-[0-9.]+\]( +[0-9.]+){3}'
  grep -Eq "^ivshmem-pingpong.yaml +native +$row *\$" "$work/out" ||
    { cat "$work/out" >&2; fail "no native ivshmem-pingpong row"; }
  local sc_rows
  sc_rows=$(grep -Ec "^ +systemc +$row +[0-9.]+\$" "$work/out")
  [ "$sc_rows" -eq $((4 * systemc)) ] ||
    { cat "$work/out" >&2; fail "$sc_rows SystemC rows, not $((4 * systemc))"; }
  expect_status 0 "$pvsim" bench all --runs 1 --events 10000 --scenarios "$work/s" --large '' \
    --no-systemc
  grep -Eq "^ivshmem-pingpong.yaml +native +$row *\$" "$work/out" ||
    { cat "$work/out" >&2; fail "--no-systemc: no native ivshmem-pingpong row"; }
  [ "$(grep -Ec '^ +systemc' "$work/out")" = 0 ] ||
    { cat "$work/out" >&2; fail "--no-systemc: SystemC rows"; }
  expect_status 2 "$pvsim" bench all --runs 0
  expect_status 0 "$pvsim" bench all --help
  contains "$work/out" "examples:"
}

# Every shipped scenario has a baseline, and every baseline still holds.
case_regress_shipped() {
  python3 - <<'PY' || fail "scenarios without a baseline (pvsim regress --add FILE)"
import glob, json, os
named = set()
for b in glob.glob("results/baselines/*.json"):
    scenario = json.load(open(b))["scenario"]
    named.add(os.path.realpath(os.path.join(os.path.dirname(b), scenario)))
missing = [f for f in sorted(glob.glob("scenarios/*.yaml")) if os.path.realpath(f) not in named]
assert not missing, missing
PY
  expect_status 0 "$pvsim" regress results/baselines
  local n
  n=$(ls results/baselines/*.json | wc -l)
  [ "$(grep -c '^ok  ' "$work/out")" -eq "$n" ] || { cat "$work/out" >&2; fail "not $n ok lines"; }
}

# A baseline in a temporary directory: --add, pass, a moved metric caught
# and named, --bless, tolerances, and a broken baseline.
case_regress() {
  local b="$work/b" f="$work/b/ivshmem-pingpong.json"
  local metric=variants.msi-kernel.ivshmem.counts.messages
  expect_status 0 "$pvsim" regress --help
  contains "$work/out" "examples:"
  mkdir -p "$work/none"
  expect_status 2 "$pvsim" regress "$work/none"
  contains "$work/err" "no baselines (*.json) in $work/none"
  expect_status 0 "$pvsim" regress "$b" --add scenarios/ivshmem-pingpong.yaml \
    --set run.duration=3ms
  contains "$work/out" "added  $f"
  python3 - "$f" <<'PY' || fail "baseline made by --add"
import json, os, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "pvsim-baseline/1", d["schema"]
path = os.path.join(os.path.dirname(sys.argv[1]), d["scenario"])
assert os.path.samefile(path, "scenarios/ivshmem-pingpong.yaml"), d["scenario"]
assert d["sets"] == ["run.duration=3ms"] and d["tolerances"] == {}, d
assert d["results"]["scenario"] == "ivshmem-pingpong"
PY
  expect_status 2 "$pvsim" regress "$b" --add scenarios/ivshmem-pingpong.yaml
  contains "$work/err" "exists"
  # Unchanged passes, whatever the current directory.
  (cd / && expect_status 0 "$pvsim" regress "$b") || exit 1
  contains "$work/out" "ok  ivshmem-pingpong ("
  # One count moved: caught, and the table names it.
  local want
  want=$(python3 - "$f" "$metric" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
c = d["results"]["variants"][0]["ivshmem"]["counts"]
print(c["messages"])
c["messages"] += 1
json.dump(d, open(sys.argv[1], "w"), indent=2)
PY
  )
  expect_status 1 "$pvsim" regress "$b"
  contains "$work/out" "REGRESSED  ivshmem-pingpong: 1 of"
  grep -Eq "^ +$metric +$((want + 1)) +$want +-[0-9.]+% +exact\$" "$work/out" ||
    { cat "$work/out" >&2; fail "the diff table does not name $metric"; }
  expect_status 0 "$pvsim" regress "$b" --bless
  contains "$work/out" "blessed  $f: 1 of"
  expect_status 0 "$pvsim" regress "$b"
  # A real moves within its tolerance and not beyond; counts never do.
  python3 - "$f" 1.005 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["tolerances"] = {"*.one_way_latency_ns.*": 0.01}
d["results"]["variants"][0]["ivshmem"]["one_way_latency_ns"]["mean"] *= float(sys.argv[2])
json.dump(d, open(sys.argv[1], "w"), indent=2)
PY
  expect_status 0 "$pvsim" regress "$b"
  python3 - "$f" 1.02 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["results"]["variants"][0]["ivshmem"]["one_way_latency_ns"]["mean"] *= float(sys.argv[2])
json.dump(d, open(sys.argv[1], "w"), indent=2)
PY
  expect_status 1 "$pvsim" regress "$b" --quiet
  contains "$work/out" "one_way_latency_ns.mean"
  contains "$work/out" " 1%"
  expect_status 0 "$pvsim" regress "$b" --bless --quiet
  grep -q '"\*\.one_way_latency_ns\.\*": 0.01' "$f" || fail "--bless lost the tolerances"
  # A scenario that no longer runs fails its baseline.
  mkdir "$work/c"
  python3 - "$f" "$work/c/gone.json" "$src/scenarios/ivshmem-pingpong.yaml" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["scenario"] = sys.argv[3]
d["sets"] = ["run.warmup=1s"]
json.dump(d, open(sys.argv[2], "w"), indent=2)
PY
  expect_status 1 "$pvsim" regress "$work/c"
  contains "$work/out" "FAILED  gone:"
  contains "$work/err" "run.warmup"
  # A broken baseline: exit 2, naming the file and the fault.
  echo '{"schema": "pvsim-baseline/1", "results": {}}' >"$b/zz.json"
  expect_status 2 "$pvsim" regress "$b"
  contains "$work/err" "$b/zz.json: 'scenario'"
  rm "$b/zz.json"
  expect_status 2 "$pvsim" regress "$work/empty"
  expect_status 2 "$pvsim" regress "$b" --set run.duration=1ms
}

# `pvsim plot` on tests/data/sweep.csv (2 variants x 4 sizes): a PNG and an
# SVG through the real gnuplot, and the errors users meet.
case_plot() {
  local csv=tests/data/sweep.csv x=guests.0.workload.size y=totals.latency_ns.mean
  expect_status 0 "$pvsim" plot --help
  contains "$work/out" "examples:"
  mkdir "$work/p"
  expect_status 0 "$pvsim" plot "$csv" --x $x --y $y --log-x -o "$work/p/lat.png"
  contains "$work/out" "plot: $work/p/lat.png (2 lines, 8 points)"
  [ -s "$work/p/lat.png" ] || fail "no PNG"
  [ "$(head -c 8 "$work/p/lat.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
    fail "lat.png is not a PNG"
  expect_status 0 "$pvsim" plot "$csv" --x $x --y totals.throughput_rps --log-x --log-y \
    --where point=1 --where variant=linear --by point --title "throughput" -o "$work/p/tp.svg"
  contains "$work/out" "(1 line, 1 point)"
  expect_status 0 "$pvsim" plot "$csv" --x $x --y classes.io.metrics.latency_ns.p99 \
    -o "$work/p/p99.svg"
  [ -s "$work/p/p99.svg" ] || fail "no SVG"
  contains "$work/p/p99.svg" "<svg"
  contains "$work/p/p99.svg" "page-list"
  contains "$work/p/p99.svg" "p99 latency vs request size"
  contains "$work/p/p99.svg" "p99 latency (us)"
  [ "$(ls "$work/p" | tr '\n' ' ')" = "lat.png p99.svg tp.svg " ] ||
    fail "temporary files left: $(ls "$work/p")"
  # Several y, one panel per point, error bars from .lower/.upper columns;
  # --script writes what gnuplot runs, the same bytes every time.
  python3 - "$csv" "$work/ci.csv" <<'PY' || fail "a CSV with bounds"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
at = rows[0].index("totals.latency_ns.mean") + 1
out = [r[:at] + (["totals.latency_ns.mean.lower", "totals.latency_ns.mean.upper"] if i == 0
       else [str(float(r[at - 1]) * 0.9), str(float(r[at - 1]) * 1.1)]) + r[at:]
       for i, r in enumerate(rows)]
csv.writer(open(sys.argv[2], "w", newline=""), lineterminator="\n").writerows(out)
PY
  local multi=("$work/ci.csv" --x $x --y $y --y classes.io.metrics.latency_ns.p99 --facet point
               --log-x -o "$work/m.png")
  expect_status 0 "$pvsim" plot "${multi[@]}" --script "$work/m1.gp"
  contains "$work/out" "plot: $work/m.png (16 lines, 16 points)"
  [ "$(head -c 8 "$work/m.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
    fail "m.png is not a PNG"
  expect_status 0 "$pvsim" plot "${multi[@]}" --script "$work/m2.gp"
  cmp "$work/m1.gp" "$work/m2.gp" || fail "the same CSV gave two scripts"
  contains "$work/m1.gp" "set multiplot layout 2,2 title 'latency vs request size'"
  contains "$work/m1.gp" "set title 'point = 3'"
  contains "$work/m1.gp" "set xlabel 'request size (KiB)'"
  contains "$work/m1.gp" "set ylabel 'latency (us)'"
  contains "$work/m1.gp" "using (\$1/1024):(\$2/1000):(\$3/1000):(\$4/1000) with yerrorlines linetype 1 dashtype 1 title 'linear, mean latency'"
  contains "$work/m1.gp" "using (\$1/1024):(\$2/1000) with linespoints linetype 2 dashtype 2 title 'page-list, p99 latency'"
  expect_status 0 "$pvsim" plot "$csv" --x $x --y totals.throughput_rps --xlabel "size" \
    --ylabel "IOPS" -o "$work/t.png" --script "$work/t.gp"
  contains "$work/t.gp" "set xlabel 'size'"
  contains "$work/t.gp" "set ylabel 'IOPS'"
  expect_status 2 "$pvsim" plot "$csv" --x $x --y $y --y $y --y $y --y $y --y $y --y $y \
    --y $y --y $y --y $y -o "$work/e.png"
  contains "$work/err" "pvsim plot: at most 8 --y options"
  expect_status 2 "$pvsim" plot "$csv" --x $x --y $y --facet pointt -o "$work/e.png"
  contains "$work/err" "--facet: no column 'pointt' in $csv (did you mean 'point'?)"
  # Usage and data errors: one line on stderr, exit 2.
  expect_status 2 "$pvsim" plot "$csv" --x $x --y totals.latency_ns.maen -o "$work/p/e.png"
  contains "$work/err" "--y: no column 'totals.latency_ns.maen' in $csv (did you mean '$y'?)"
  expect_status 2 "$pvsim" plot "$csv" --x size --y $y -o "$work/p/e.png"
  contains "$work/err" "did you mean '$x'?"
  expect_status 2 "$pvsim" plot "$csv" --x $x --y $y -o "$work/p/e.jpg"
  contains "$work/err" "pvsim plot: -o $work/p/e.jpg: the image must be a .png or .svg file"
  expect_status 2 "$pvsim" plot "$csv" --x $x --y $y
  contains "$work/err" "pvsim plot: -o FILE.png|FILE.svg is required"
  expect_status 2 "$pvsim" plot "$csv" --x $x --y $y --where variant=sg -o "$work/p/e.png"
  contains "$work/err" "no rows left after --where: no row of $csv has variant=sg"
  expect_status 2 "$pvsim" plot "$csv" --x $x --y $y --by point -o "$work/p/e.png"
  contains "$work/err" "lines 2 and 3 share x=4096 in group '0': add --where or --by"
  expect_status 2 "$pvsim" plot "$work/missing.csv" --x $x --y $y -o "$work/p/e.png"
  contains "$work/err" "cannot read $work/missing.csv"
  printf 'variant,x,y\nlinear,1,2\nlinear,2\n' >"$work/ragged.csv"
  expect_status 2 "$pvsim" plot "$work/ragged.csv" --x x --y y -o "$work/p/e.png"
  contains "$work/err" "ragged.csv:3: 2 cells where the header has 3"
  [ "$(wc -l <"$work/err")" -eq 1 ] || fail "more than one line on stderr"
  # No gnuplot: exit 1 and say what to install; nothing written.
  expect_status 1 env PATH=/nonexistent "$pvsim" plot "$csv" --x $x --y $y -o "$work/p/e.png"
  contains "$work/err" "gnuplot not found: install gnuplot-nox"
  [ "$(ls "$work/p" | wc -l)" -eq 3 ] || fail "files left after failures: $(ls "$work/p")"
}

# The packet port's shipped scenario: the rogue guest's wrong packets are
# refused and counted by reason, and the other guests' results are those
# they have when the rogue behaves.
case_packet_port() {
  expect_status 0 "$pvsim" run scenarios/packet-port.yaml --quiet --out "$work/bad"
  local off=()
  for k in bad_magic outside_packet outside_return unknown_channel small_return; do
    off+=(--set "guests.2.packet_port.misbehave.$k=0")
  done
  expect_status 0 "$pvsim" run scenarios/packet-port.yaml --quiet --out "$work/good" "${off[@]}"
  expect_status 0 "$pvsim" run scenarios/packet-port.yaml --out "$work/t"
  contains "$work/out" "rogue refused"
  python3 - "$work/bad/packet-port.json" "$work/good/packet-port.json" <<'PY' ||
import json, sys
bad, good = (json.load(open(f)) for f in sys.argv[1:3])
for vb, vg in zip(bad["variants"], good["variants"]):
    cb = {c["name"]: c for c in vb["classes"]}
    cg = {c["name"]: c for c in vg["classes"]}
    for name in ("display", "input"):
        assert cb[name] == cg[name], (vb["name"], name)
    t = cb["rogue"]["transport"]
    assert all(t["refused"][k] > 0 for k in
               ("bad_magic", "outside_guest", "unknown_channel", "small_return")), t["refused"]
    # The host counts a refusal when it refuses, the guest when its OUT
    # returns: one may be on its way at the end.
    seen = cb["rogue"]["metrics"]["refused_requests"]
    assert 0 <= sum(t["refused"].values()) - seen <= 1, (t["refused"], seen)
    assert cg["rogue"]["metrics"]["refused_requests"] == 0
    for name in ("display", "input"):
        ph = cb[name]["transport"]["phases"]
        assert ph["fast"]["latency_cycles"]["mean"] < ph["emulated"]["latency_cycles"]["mean"]
        n = cb[name]["instances"]     # live at 1 and 11 ms, down at 8 and 18
        assert cb[name]["transport"]["switches"]["go_live"]["count"] == 2 * n
        assert cb[name]["transport"]["switches"]["shut_down"]["count"] == 2 * n
PY
    fail "packet-port.json"
}

# lguest's shipped scenario: the rogue's wrong lguest_dmas are refused and
# counted, the other guests' results are those they have when it behaves,
# the pings run out of their pongs' buffers, and the console is removed.
case_lguest() {
  expect_status 0 "$pvsim" run scenarios/lguest.yaml --quiet --out "$work/bad"
  expect_status 0 "$pvsim" run scenarios/lguest.yaml --quiet --out "$work/good" \
    --set guests.4.lguest.misbehave.page_crossing=0 \
    --set guests.4.lguest.misbehave.outside_section=0 \
    --set guests.4.lguest.misbehave.unbound_key=0
  expect_status 0 "$pvsim" run scenarios/lguest.yaml --quiet --out "$work/kept" \
    --set guests.3.lguest.remove_at=0
  expect_status 0 "$pvsim" run scenarios/lguest.yaml --out "$work/t"
  contains "$work/out" "ping no buffer"
  python3 - "$work/bad/lguest.json" "$work/good/lguest.json" "$work/kept/lguest.json" <<'PY' ||
import json, sys
bad, good, kept = (json.load(open(f)) for f in sys.argv[1:4])
cb = {c["name"]: c for c in bad["variants"][0]["classes"]}
cg = {c["name"]: c for c in good["variants"][0]["classes"]}
for name in ("ping", "pong", "disk", "tty"):
    assert cb[name] == cg[name], name
t = cb["rogue"]["transport"]["refused"]
assert all(t[k] > 0 for k in ("bad_section", "outside_guest", "unbound_key")), t
assert cg["rogue"]["metrics"]["refused_requests"] == 0
assert cb["ping"]["transport"]["refused"]["no_buffer"] > 0
assert cb["disk"]["metrics"]["requests"] > 0
# The console went at 15 ms of 20: it wrote in 14 ms of the 19 measured.
ck = {c["name"]: c for c in kept["variants"][0]["classes"]}
ratio = cb["tty"]["metrics"]["requests"] / ck["tty"]["metrics"]["requests"]
assert 0.6 < ratio < 0.85, ratio
PY
    fail "lguest.json"
}

# virtio-pci's shipped scenario: at low load every request kicks and
# interrupts; at high load EVENT_IDX needs no kick, and the decoded kicks
# with the older flags fall into lockstep bursts (docs/transports.md).
case_virtio() {
  expect_status 0 "$pvsim" run scenarios/virtio-kicks.yaml --out "$work/v"
  contains "$work/out" "pio-idx-high kicks/req"
  python3 - "$work/v/virtio-kicks.json" <<'PY' || fail "virtio-kicks.json"
import json, sys
r = json.load(open(sys.argv[1]))
c = {x["name"]: x for x in r["variants"][0]["classes"]}
for kick in ("pio", "mmio", "hypercall"):
    for mode in ("idx", "flags"):
        low = c[f"{kick}-{mode}-low"]["transport"]
        assert abs(low["kicks_per_request"] - 1) < 0.01, (kick, mode, low)
        assert abs(low["interrupts_per_request"] - 1) < 0.01, (kick, mode, low)
    assert c[f"{kick}-idx-high"]["transport"]["kicks_per_request"] < 0.01, kick
    eff = c[f"{kick}-idx-low"]["transport"]["features"]["effective"]
    assert eff == ["event_idx", "hypercall_kick"], eff
    assert c[f"{kick}-idx-low"]["transport"]["kick"] == kick
assert c["pio-flags-high"]["transport"]["kicks_per_request"] > 0.5
assert c["hypercall-idx-low"]["metrics"]["vcpus"]["exits"]["hypercall"] > 0
# A hypercall kick is cheaper than a decoded port write (1898 against 2451).
assert (c["hypercall-idx-low"]["metrics"]["breakdown_cycles"]["notify"] <
        c["pio-idx-low"]["metrics"]["breakdown_cycles"]["notify"])
PY
}

# The shared device's scenario: the rogue, which ignores its upcalls, is
# stopped at slice + grace every time it owns the device and loses what it
# had on it; nobody else loses a request. With the rogue behaving, nobody
# is stopped; round robin runs too.
case_shared_device() {
  expect_status 0 "$pvsim" run scenarios/shared-device.yaml --out "$work/bad"
  contains "$work/out" "rogue forced stops"
  contains "$work/out" "fairness (Jain)"
  expect_status 0 "$pvsim" run scenarios/shared-device.yaml --quiet --out "$work/good" \
    --set guests.2.vpio.misbehave.ignore_upcall=false
  expect_status 0 "$pvsim" run scenarios/shared-device.yaml --quiet --out "$work/rr" \
    --set shared_device.policy=round_robin
  python3 - "$work/bad/shared-device.json" "$work/good/shared-device.json" \
    "$work/rr/shared-device.json" <<'PY' ||
import json, sys
for path in sys.argv[1:4]:
    v = json.load(open(path))["variants"][0]
    c = {k["name"]: k for k in v["classes"]}
    for name in ("web", "batch"):
        t = c[name]["transport"]
        assert t["forced_stops"] == 0 and t["lost_requests"] == 0, (path, name, t)
        assert c[name]["metrics"]["refused_requests"] == 0, (path, name)
    sd = v["shared_device"]
    assert sd["policy"] == ("round_robin" if "/rr/" in path else "fifo"), sd["policy"]
    assert sum(i["lost_requests"] for i in sd["instances"][:3]) == 0, sd["instances"]
    rogue, stops = c["rogue"]["transport"], sd["instances"][3]
    if "/good/" in path:
        assert rogue["forced_stops"] == 0 and rogue["lost_requests"] == 0, rogue
        continue
    # Stopped every time it owned the device, at slice + grace exactly.
    slice_grace = sd["slice_cycles"] + sd["grace_cycles"]
    assert rogue["forced_stops"] > 10, rogue
    assert stops["forced_stop_after_cycles"] == {"min": slice_grace, "max": slice_grace}, stops
    assert 0 < rogue["lost_requests"] <= 8 * rogue["forced_stops"], rogue
    assert rogue["refused"]["forced_stop"] == rogue["lost_requests"], rogue
    # The guest counts its refusals when the revocation's interrupt is
    # handled: the last stop's may be on its way at the end.
    seen = c["rogue"]["metrics"]["refused_requests"]
    assert 0 <= rogue["lost_requests"] - seen <= 8, (rogue, seen)
    assert 0.9 < sd["jain_index"] < 1, sd["jain_index"]
PY
    fail "shared-device.json"
  # docs/transports.md works the first request and the handovers by hand.
  expect_status 0 "$pvsim" run scenarios/shared-device.yaml --quiet --out "$work/first" \
    --set run.warmup=0 --set run.max_requests=1 --set shared_device.receive.rate=0
  expect_status 0 "$pvsim" run scenarios/shared-device.yaml --quiet --out "$work/quiet" \
    --set shared_device.receive.rate=0
  python3 - "$work/first/shared-device.json" "$work/quiet/shared-device.json" <<'PY' ||
import json, sys
first, quiet = (json.load(open(f))["variants"][0] for f in sys.argv[1:3])
web = first["classes"][0]["metrics"]
assert web["requests"] == 1 and web["latency_cycles"]["max"] == 22784, web["latency_cycles"]
assert web["breakdown_cycles"]["exit"] == 9898, web["breakdown_cycles"]
assert [c["transport"]["handover_latency_cycles"] for c in quiet["classes"]] == [12286] * 3
PY
    fail "shared-device.json: the docs' worked numbers"
}

# ---- sweeps ------------------------------------------------------------------

# A 10 x 10 grid of short loopback runs: 100 points, one variant each.
SWEEP100=(scenarios/loopback.yaml --set run.duration=2ms --set run.warmup=200us
  --sweep guests.0.workload.size=512B,1KiB,2KiB,4KiB,8KiB,16KiB,32KiB,64KiB,128KiB,256KiB
  --sweep device.workers=1,2,3,4,5,6,7,8,9,10)

# check_csv CSV POINTS VARIANTS: the CSV has a row per point and variant,
# in point order, with the parameters and metrics as columns.
check_csv() {
  python3 - "$@" <<'PY' || fail "$1"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
points, variants = int(sys.argv[2]), int(sys.argv[3])
assert len(rows) == points * variants, (len(rows), points, variants)
assert [int(r["point"]) for r in rows] == sorted(int(r["point"]) for r in rows)
for col in ("variant", "config_hash", "totals.latency_ns.mean", "totals.requests"):
    assert col in rows[0], col
assert all(float(r["totals.requests"]) > 0 for r in rows)
PY
}

case_sweep() {
  expect_status 0 "$pvsim" sweep --help
  contains "$work/out" "examples:"
  # --list: the grid's order, the last parameter fastest.
  expect_status 0 "$pvsim" sweep scenarios/loopback.yaml --list \
    --sweep guests.0.workload.size=4KiB,64KiB --sweep device.workers=1,2,4
  [ "$(wc -l <"$work/out")" -eq 6 ] || fail "--list: not 6 points"
  grep -Eq '^ +1  [0-9a-f]{32}  guests.0.workload.size=4KiB device.workers=2$' "$work/out" ||
    { cat "$work/out" >&2; fail "--list: point 1"; }
  expect_status 0 "$pvsim" sweep scenarios/loopback.yaml --list --mode zip \
    --sweep guests.0.workload.size=4KiB,64KiB,1MiB --sweep device.workers=1,2,4
  [ "$(wc -l <"$work/out")" -eq 3 ] || fail "--list --mode zip: not 3 points"
  contains "$work/out" "guests.0.workload.size=1MiB device.workers=4"
  # The shipped sweep: its block and its CSV, the same bytes at -j 1 and -j 2.
  expect_status 0 "$pvsim" sweep scenarios/schemes-sweep.yaml --list
  [ "$(wc -l <"$work/out")" -eq 12 ] || fail "schemes-sweep.yaml: not 12 points"
  expect_status 0 "$pvsim" sweep "${SWEEP100[@]}" -j 1 --out "$work/j1"
  contains "$work/out" "ran 100 in"
  expect_status 0 "$pvsim" sweep "${SWEEP100[@]}" -j 2 --out "$work/j2"
  cmp "$work/j1/sweep.csv" "$work/j2/sweep.csv" || fail "-j 1 and -j 2 differ"
  check_csv "$work/j1/sweep.csv" 100 1
  # The 100-point CSV plots: latency against size, a line per worker count.
  expect_status 0 "$pvsim" plot "$work/j1/sweep.csv" --x guests.0.workload.size \
    --y totals.latency_ns.mean --by device.workers --log-x -o "$work/j1.png"
  contains "$work/out" "(10 lines, 100 points)"
  [ "$(head -c 4 "$work/j1.png" | od -An -c | tr -d ' ')" = '211PNG' ] || fail "not a PNG"
  [ "$(ls "$work/j1/points" | grep -c '^[0-9a-f]\{32\}\.json$')" -eq 100 ] ||
    fail "not 100 point files"
  python3 - "$work/j1" <<'PY' || fail "point files"
import glob, json, sys
for f in glob.glob(sys.argv[1] + "/points/*"):
    d = json.load(open(f))
    assert d["schema"] == "pvsim-point/1" and f.endswith(d["config_hash"] + ".json"), f
    assert set(d["parameters"]) == {"guests.0.workload.size", "device.workers"}
    assert d["results"]["schema"] == "pvsim-results/1"
PY
  # Metrics only later points have (ivshmem's) become columns, and the
  # earlier rows get empty cells for them.
  expect_status 0 "$pvsim" sweep scenarios/loopback.yaml --set run.duration=1ms \
    --set run.warmup=0 --sweep ivshmem.peers=0,2 --out "$work/iv"
  python3 - "$work/iv/sweep.csv" <<'PY' || fail "columns that join later"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert all(len(r) == len(rows[0]) for r in rows), [len(r) for r in rows]
at = rows[0].index("ivshmem.counts.messages")
assert rows[1][at] == "" and int(rows[2][at]) > 0, (rows[1][at], rows[2][at])
PY
  # Equal configurations run once: 4KiB and 4096 bytes are one point.
  expect_status 0 "$pvsim" sweep scenarios/loopback.yaml --set run.duration=1ms \
    --set run.warmup=100us --sweep guests.0.workload.size=4KiB,4096 -j 2 --out "$work/d"
  contains "$work/out" "2 points (1 distinct)"
  contains "$work/out" "ran 1 in"
  check_csv "$work/d/sweep.csv" 2 1
}

# A sweep with replications: each metric's .lower and .upper columns follow
# it, the same bytes at -j 1 and -j 2; one replication gives the plain CSV.
case_sweep_replications() {
  local sw=(scenarios/loopback.yaml --quiet --set run.duration=2ms --set run.warmup=500us
            --sweep device.workers=1,2)
  expect_status 0 "$pvsim" sweep "${sw[@]}" --replications 2 -j 1 --out "$work/j1"
  expect_status 0 "$pvsim" sweep "${sw[@]}" --replications 2 -j 2 --out "$work/j2"
  cmp "$work/j1/sweep.csv" "$work/j2/sweep.csv" || fail "-j 1 and -j 2 differ"
  python3 - "$work/j1/sweep.csv" <<'PY' || fail "bound columns"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
h = rows[0]
for m in ("totals.latency_ns.mean", "totals.latency_ns.p99", "totals.throughput_rps",
          "classes.small.metrics.latency_ns.p99"):
    at = h.index(m)
    assert h[at + 1: at + 3] == [m + ".lower", m + ".upper"], h[at: at + 3]
    for r in rows[1:]:
        assert float(r[at + 1]) <= float(r[at]) <= float(r[at + 2]), (m, r[at: at + 3])
assert not any("_ci95" in c for c in h), [c for c in h if "_ci95" in c]
assert "totals.latency_cycles.mean.lower" not in h
PY
  expect_status 0 "$pvsim" sweep "${sw[@]}" --out "$work/plain"
  expect_status 0 "$pvsim" sweep "${sw[@]}" --replications 1 --out "$work/one"
  cmp "$work/plain/sweep.csv" "$work/one/sweep.csv" || fail "--replications 1 changed the CSV"
  if grep -q '\.lower' "$work/one/sweep.csv"; then fail "bounds without replications"; fi
}

# The shipped latency-against-load figure, short: the sweep over the
# arrival rate with its replications, and its plot with error bars.
case_load_latency() {
  expect_status 0 "$pvsim" sweep scenarios/load-latency.yaml --quiet --set run.duration=2ms \
    --set run.warmup=500us --set run.replications=2 --out "$work/load"
  python3 - "$work/load/sweep.csv" <<'PY' || fail "load-latency CSV"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert len(rows) == 9 * 4, len(rows)
assert {r["variant"] for r in rows} == {"linear", "page-list", "physical", "sg"}
for r in rows:
    rate = float(r["guests.0.workload.rate"])
    # Two guests offer twice the rate, within the Poisson counts' noise.
    assert abs(float(r["totals.offered_rps"]) / (2 * rate) - 1) < 0.25, r["totals.offered_rps"]
    assert float(r["totals.dropped_arrivals"]) == 0
    for m in ("totals.latency_ns.p50", "totals.latency_ns.p99"):
        assert float(r[m + ".lower"]) <= float(r[m]) <= float(r[m + ".upper"]), m
PY
  expect_status 0 "$pvsim" plot "$work/load/sweep.csv" --x totals.offered_rps \
    --y totals.latency_ns.p50 --y totals.latency_ns.p99 --log-y -o "$work/load.png" \
    --script "$work/load.gp"
  contains "$work/load.gp" "yerrorlines"
  contains "$work/load.gp" "offered load (M requests/s)"
  [ "$(head -c 8 "$work/load.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
    fail "load.png is not a PNG"
}

case_sweep_errors() {
  expect_status 2 "$pvsim" sweep
  contains "$work/err" "a scenario FILE is required"
  expect_status 2 "$pvsim" sweep scenarios/loopback.yaml
  contains "$work/err" "scenarios/loopback.yaml: error: a sweep needs at least one parameter"
  expect_status 2 "$pvsim" sweep scenarios/loopback.yaml --sweep guests.0.workload.sise=1,2
  contains "$work/err" "--sweep:1: error: sweep: 'guests.0.workload.sise' is not a scenario key"
  expect_status 2 "$pvsim" sweep scenarios/loopback.yaml --sweep guests.0.workload.size=4KiB,4KB
  contains "$work/err" "point 1 (guests.0.workload.size=4KB) is not a valid scenario"
  contains "$work/err" "--sweep:1: error: guests.0.workload.size: expected a size in B, KiB"
  contains "$work/err" "(did you mean '4KiB'?)"
  expect_status 2 "$pvsim" sweep scenarios/loopback.yaml --sweep device.workers=1 --mode spiral
  contains "$work/err" "--mode: expected grid or zip, found 'spiral'"
  expect_status 2 "$pvsim" sweep scenarios/loopback.yaml --sweep device.workers=1 -j 0
  # One path in two --sweep options: an error naming both, not the last one.
  expect_status 2 "$pvsim" sweep scenarios/loopback.yaml --list --sweep device.workers=1,2 \
    --sweep guests.0.workload.size=4KiB --sweep device.workers=4
  contains "$work/err" "--sweep:3: error: sweep: 'device.workers' is given by both --sweep:1 and --sweep:3"
  # A value in the sweep block that the scenario refuses is reported where it is.
  cat >"$work/bad.yaml" <<'YAML'
name: bad-sweep
guests:
  - {name: g, workload: {size: 4KiB}}
variants:
  - {fabric: {vcpu_idle: poll, backend: poll, completion: poll}}
sweep:
  parameters:
    guests.0.workload.depth: [1, 0]
YAML
  expect_status 2 "$pvsim" sweep "$work/bad.yaml"
  contains "$work/err" "$work/bad.yaml:8:34: error: guests.0.workload.depth: expected an integer from 1 to"
  expect_status 0 "$pvsim" run "$work/bad.yaml" --set run.duration=1ms --set run.warmup=0 \
    --quiet --out "$work/o"
  # pvsim check reads the sweep block as pvsim sweep does.
  sed 's/^  parameters:$/  mode: cross\n  parameters:/' "$work/bad.yaml" >"$work/cross.yaml"
  expect_status 2 "$pvsim" check "$work/cross.yaml"
  contains "$work/err" "$work/cross.yaml:7:9: error: sweep.mode: expected one of 'grid', 'zip', found cross"
  expect_status 0 "$pvsim" check scenarios/schemes-sweep.yaml
}

# Every shipped validation case passes, each is listed in the docs, and a
# missed consistency check or a prediction that got worse fails the run.
case_validate() {
  expect_status 0 "$pvsim" validate
  contains "$work/out" "consistency checks: a figure that went into the presets"
  contains "$work/out" "predictions: published figures that no primitive was derived from"
  grep -Eq '^[0-9]+ cases, 0 failed$' "$work/out" || fail "validate summary"
  local f name
  for f in scenarios/validation/*.yaml; do
    name=$(basename "$f" .yaml)
    grep -qF -- "\`$name\`" docs/validation.md || fail "docs/validation.md lacks $name"
    grep -Eq "^$name " "$work/out" || fail "validate did not list $name"
  done
  expect_status 0 "$pvsim" validate --help
  contains "$work/out" "examples:"
  mkdir -p "$work/v"
  sed 's/^  published: 3898$/  published: 4000/' scenarios/validation/kut2012-vmcall.yaml \
    >"$work/v/off.yaml"
  expect_status 1 "$pvsim" validate "$work/v/off.yaml"
  grep -Eq '^off .* FAILED$' "$work/out" || { cat "$work/out" >&2; fail "no FAILED row"; }
  sed 's/^  kind: consistency$/  kind: prediction/; s/^  published: 3898$/  published: 4000/' \
    scenarios/validation/kut2012-vmcall.yaml >"$work/v/new.yaml"
  expect_status 1 "$pvsim" validate "$work/v/new.yaml"
  contains "$work/out" "record it in $work/v/new.yaml as \`recorded_error: -0.0255\`"
  printf '  recorded_error: -0.01\n' >>"$work/v/new.yaml"
  expect_status 1 "$pvsim" validate "$work/v/new.yaml"
  grep -Eq '^new .* WORSE$' "$work/out" || { cat "$work/out" >&2; fail "no WORSE row"; }
  # Missed, but no worse than recorded: listed, and the run passes.
  sed -i 's/^  recorded_error: -0.01$/  recorded_error: -0.0255/' "$work/v/new.yaml"
  rm "$work/v/off.yaml"
  expect_status 0 "$pvsim" validate "$work/v"
  grep -Eq '^new .* missed$' "$work/out" || { cat "$work/out" >&2; fail "no missed row"; }
}

# wait_points DIR N: until DIR/points holds N files (at most ~60 s).
wait_points() {
  local i
  for i in $(seq 600); do
    [ "$(ls "$1/points" 2>/dev/null | grep -c 'json$')" -ge "$2" ] && return 0
    sleep 0.1
  done
  fail "no $2 points in $1"
}

# kill_busy_worker PID: SIGKILL to a worker of sweep PID that is running a
# point (state R); an idle one, blocked reading its next point, would only
# be found dead when given one, and no point would be lost.
kill_busy_worker() {
  local i k
  for i in $(seq 2000); do
    for k in $(pgrep -P "$1"); do
      if [ "$(ps -o stat= -p "$k" | cut -c1)" = R ]; then
        kill -9 "$k" && return 0
      fi
    done
  done
  fail "no busy worker to kill"
}

# A killed worker, then a killed master: --resume finishes what is left,
# repeats nothing, and the CSV equals an uninterrupted sweep's.
case_sweep_resume() {
  local args=("${SWEEP100[@]}" --set run.duration=10ms -j 2)
  expect_status 0 "$pvsim" sweep "${args[@]}" --out "$work/full" --quiet
  "$pvsim" sweep "${args[@]}" --out "$work/k" --quiet >"$work/out" 2>"$work/err" &
  local pid=$!
  wait_points "$work/k" 2
  kill_busy_worker "$pid"
  wait "$pid" && fail "a sweep that lost a point exited 0"
  contains "$work/err" "was killed by signal 9"
  contains "$work/err" "run again with --resume"
  # Rows are missing, so the CSV says it is partial, and which points lack.
  contains "$work/err" "1 of 100 points have no results (points "
  [ ! -e "$work/k/sweep.csv" ] || fail "a CSV missing a point is named sweep.csv"
  [ "$(wc -l <"$work/k/sweep.partial.csv")" -eq 100 ] || fail "partial CSV: not 99 rows"
  local done_before
  done_before=$(ls "$work/k/points" | wc -l)
  [ "$done_before" -lt 100 ] || fail "the killed point has results"
  expect_status 0 "$pvsim" sweep "${args[@]}" --out "$work/k" --resume
  contains "$work/out" "ran $((100 - done_before)) in"
  contains "$work/out" "$done_before found done"
  cmp "$work/full/sweep.csv" "$work/k/sweep.csv" || fail "resumed CSV differs"
  [ ! -e "$work/k/sweep.partial.csv" ] || fail "the partial CSV outlived the whole one"
  # The master killed: its workers go too, and --resume finishes.
  "$pvsim" sweep "${args[@]}" --out "$work/m" --quiet &
  pid=$!
  wait_points "$work/m" 2
  local kids
  kids=$(pgrep -P "$pid")
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
  sleep 0.5
  for k in $kids; do
    [ "$(ps -o stat= -p "$k" 2>/dev/null | cut -c1)" = Z ] || ! kill -0 "$k" 2>/dev/null ||
      fail "worker $k outlived its master"
  done
  expect_status 0 "$pvsim" sweep "${args[@]}" --out "$work/m" --resume
  cmp "$work/full/sweep.csv" "$work/m/sweep.csv" || fail "CSV after a killed master differs"
  # Resuming a finished sweep runs nothing.
  expect_status 0 "$pvsim" sweep "${args[@]}" --out "$work/m" --resume
  contains "$work/out" "ran 0 in"
}

# A cost given as 0 and one left unset hash apart: the results write them
# as 0 and null, so --resume must not take one's point for the other's.
case_sweep_known_costs() {
  local args=(scenarios/loopback.yaml --set run.duration=1ms --set run.warmup=0
    --sweep device.workers=1 --quiet)
  expect_status 0 "$pvsim" sweep "${args[@]}" --out "$work/unset"
  expect_status 0 "$pvsim" sweep "${args[@]}" --set costs.ipi_send=0 --out "$work/zero"
  python3 - "$work/unset" "$work/zero" <<'PY' || fail "a cost given as 0 shared a key with an unset one"
import glob, json, sys
unset, zero = ([json.load(open(f)) for f in glob.glob(d + "/points/*.json")] for d in sys.argv[1:])
[u], [z] = unset, zero
assert u["config_hash"] != z["config_hash"], u["config_hash"]
assert u["results"]["costs_cycles"]["ipi_send"] is None
assert z["results"]["costs_cycles"]["ipi_send"] == 0
PY
}

# A sweep claims its directory: a second one at the same time is refused,
# the CSV of the sweep before is gone as soon as a new one starts (so a
# killed sweep leaves none), and the lock of a killed sweep blocks nothing.
case_sweep_claim() {
  local args=("${SWEEP100[@]}" --set run.duration=10ms -j 2)
  expect_status 0 "$pvsim" sweep scenarios/loopback.yaml --set run.duration=1ms \
    --set run.warmup=0 --sweep device.workers=1,2 --out "$work/d" --quiet
  [ -s "$work/d/sweep.csv" ] || fail "no CSV from the first sweep"
  "$pvsim" sweep "${args[@]}" --out "$work/d" --quiet >"$work/out2" 2>"$work/err2" &
  local pid=$!
  wait_points "$work/d" 4
  expect_status 1 "$pvsim" sweep "${args[@]}" --out "$work/d"
  contains "$work/err" "pvsim sweep: $work/d is in use by another sweep (pid $pid holds $work/d/sweep.lock)"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
  [ ! -e "$work/d/sweep.csv" ] || fail "a killed sweep left the CSV of the sweep before"
  [ ! -e "$work/d/sweep.partial.csv" ] || fail "a killed sweep left a partial CSV"
  expect_status 0 "$pvsim" sweep "${args[@]}" --out "$work/d" --resume --quiet
  check_csv "$work/d/sweep.csv" 100 1
  [ ! -e "$work/d/sweep.lock" ] || fail "the lock outlived its sweep"
}

# Ctrl-C: no more points, the workers gone, what is done in the partial
# CSV, exit 130, and the command that finishes the sweep, which does.
case_sweep_interrupt() {
  local args=("${SWEEP100[@]}" --set run.duration=10ms -j 2 --out "$work/i")
  # A script's background job ignores SIGINT; a terminal's does not.
  env --default-signal=INT "$pvsim" sweep "${args[@]}" >"$work/out" 2>"$work/err" &
  local pid=$! kids k
  wait_points "$work/i" 2
  kids=$(pgrep -P "$pid")
  kill -INT "$pid"
  local st=0
  wait "$pid" || st=$?
  [ "$st" -eq 130 ] || { cat "$work/err" >&2; fail "an interrupted sweep exited $st, want 130"; }
  for k in $kids; do
    ! kill -0 "$k" 2>/dev/null || fail "worker $k outlived an interrupted sweep"
  done
  grep -Eq "^pvsim sweep: interrupted: [0-9]+ of 100 points done, in $work/i/sweep.partial.csv; no results for points [0-9]" \
    "$work/err" || { cat "$work/err" >&2; fail "no count of the points done"; }
  local done_before
  done_before=$(ls "$work/i/points" | wc -l)
  [ "$done_before" -lt 100 ] || fail "the sweep was not interrupted"
  contains "$work/err" "interrupted: $done_before of 100 points done"
  [ ! -e "$work/i/sweep.csv" ] || fail "an interrupted sweep wrote sweep.csv"
  [ "$(wc -l <"$work/i/sweep.partial.csv")" -eq $((done_before + 1)) ] ||
    fail "partial CSV: not $done_before rows"
  local cmd
  cmd=$(sed -n 's/^pvsim sweep: to finish the sweep, run: //p' "$work/err")
  [[ "$cmd" == "$pvsim sweep "*" --resume" ]] || fail "resume command: $cmd"
  expect_status 0 eval "$cmd"
  contains "$work/out" "ran $((100 - done_before)) in"
  contains "$work/out" "$done_before found done"
  check_csv "$work/i/sweep.csv" 100 1
}

# Points are keyed on a hash of sim/ and models/: the build's hash is the
# one the point files carry, and the script the build runs follows every
# .c/.h/.cc/.in file there, and the user's TLM targets, and nothing else,
# as docs/sweeps.md computes it by hand.
case_sweep_sources() {
  local header built
  header="$(dirname "$pvsim")/generated/sim/sweep_sources.h"
  built=$(sed -n 's/^#define PVSIM_SOURCES_SHA256 "\([0-9a-f]\{64\}\)"$/\1/p' "$header")
  [ -n "$built" ] || fail "no source hash in $header"
  expect_status 0 "$pvsim" sweep scenarios/loopback.yaml --set run.duration=1ms \
    --set run.warmup=0 --sweep device.workers=1 --out "$work/s" --quiet
  python3 - "$work/s" "$built" <<'PY' || fail "point file sources"
import glob, json, sys
[f] = glob.glob(sys.argv[1] + "/points/*.json")
assert json.load(open(f))["sources"] == sys.argv[2]
PY
  mkdir -p "$work/tree"
  cp -r sim models "$work/tree/"
  hash_of() {
    cmake -DROOT="$work/tree" -DOUT="$work/h" "$@" -P sim/sweep_sources.cmake ||
      fail "sweep_sources.cmake failed"
    sed -n 's/^#define PVSIM_SOURCES_SHA256 "\(.*\)"$/\1/p' "$work/h"
  }
  local h0 h1
  h0=$(hash_of)
  [ "$h0" = "$(cd "$work/tree" && find sim models -name '*.[ch]' -o -name '*.cc' -o \
    -name '*.in' | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1)" ] ||
    fail "not the documented hash"
  echo "// a change" >>"$work/tree/models/tlm_dma_block.cc"
  [ "$(hash_of)" != "$h0" ] || fail "a changed TLM target kept the hash"
  cp models/tlm_dma_block.cc "$work/tree/models/"
  echo "// mine" >"$work/mine.cc"
  local h_user
  h_user=$(hash_of -DEXTRA="$work/mine.cc")
  [ "$h_user" != "$h0" ] || fail "a user's TLM target did not move the hash"
  echo "// mine, changed" >"$work/mine.cc"
  [ "$(hash_of -DEXTRA="$work/mine.cc")" != "$h_user" ] ||
    fail "a changed user's TLM target kept the hash"
  [ "$(hash_of)" = "$h0" ] || fail "restoring the tree did not restore the hash"
  echo "notes" >"$work/tree/models/NOTES.md"
  [ "$(hash_of)" = "$h0" ] || fail "a file that is not a source moved the hash"
  echo "/* a change */" >>"$work/tree/models/vcpu.c"
  h1=$(hash_of)
  [ "$h1" != "$h0" ] || fail "a changed model kept the hash"
  echo "/* new */" >"$work/tree/sim/new.h"
  [ "$(hash_of)" != "$h1" ] || fail "a new header kept the hash"
}

# mpirun -np 2 and -np 3 give the bytes of -j 1.
case_sweep_mpi() {
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  # Open MPI keeps memory to the end on purpose, in components it has
  # unloaded by then (no symbols to suppress): LeakSanitizer is off for the
  # ranks; the same sweep code is leak-checked by the -j cases.
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
  expect_status 0 "$pvsim" sweep "${SWEEP100[@]}" -j 1 --out "$work/j1" --quiet
  expect_status 0 mpirun -np 2 "$pvsim" sweep "${SWEEP100[@]}" --out "$work/np2"
  contains "$work/out" "ran 100 in"
  cmp "$work/j1/sweep.csv" "$work/np2/sweep.csv" || fail "mpirun -np 2 differs from -j 1"
  expect_status 0 mpirun -np 3 --oversubscribe "$pvsim" sweep "${SWEEP100[@]}" \
    --out "$work/np3" --quiet
  cmp "$work/j1/sweep.csv" "$work/np3/sweep.csv" || fail "mpirun -np 3 differs from -j 1"
  # Under mpirun, errors come once, from rank 0, and every rank stops.
  expect_status 2 mpirun -np 2 "$pvsim" sweep scenarios/loopback.yaml --sweep device.wrokers=1
  [ "$(grep -c "is not a scenario key" "$work/err")" -eq 1 ] || { cat "$work/err" >&2; fail "errors not once"; }
}

# pvsim run --trace, --vcd, --requests, --trace-limit (docs/traces.md):
# the files, their summary, the same bytes twice, the cut and its note,
# and the usage errors. tests/test_recording.c reads the contents.
case_traces() {
  local pp=(scenarios/ivshmem-pingpong.yaml --set run.duration=200us --set run.warmup=50us
            --out "$work/o")
  expect_status 0 "$pvsim" run "${pp[@]}" --trace "$work/a.json" --vcd "$work/a.vcd" \
    --requests "$work/a.csv"
  contains "$work/out" "recorded: $work/a.json ("
  contains "$work/out" "value changes) $work/a.csv ("
  contains "$work/a.json" '"traceEvents"'
  contains "$work/a.json" '"name":"thread_name","args":{"name":"peer 0"}'
  contains "$work/a.json" '"flow_out":true'
  contains "$work/a.vcd" '$enddefinitions $end'
  contains "$work/a.csv" "variant,source,what,issue_cycle,completion_cycle,latency_cycles"
  expect_status 0 "$pvsim" run "${pp[@]}" --quiet --trace "$work/b.json" --vcd "$work/b.vcd" \
    --requests "$work/b.csv"
  [ ! -s "$work/out" ] || fail "--quiet printed"
  for f in json vcd csv; do cmp "$work/a.$f" "$work/b.$f" || fail "same run, different $f"; done
  expect_status 0 "$pvsim" run "${pp[@]}" --trace "$work/c.json" --trace-limit 20
  contains "$work/out" "cut by --trace-limit in 4 variants"
  contains "$work/c.json" "variant msi-kernel: slices cut at cycle"
  expect_status 0 "$pvsim" run "${pp[@]}" --vcd "$work/d.vcd" --trace-limit 10us..20us
  contains "$work/d.vcd" '#10000000'
  expect_status 2 "$pvsim" run "${pp[@]}" --trace "$work/e.json" --trace-limit 0
  contains "$work/err" "--trace-limit 0: expected a number of events above 0"
  expect_status 2 "$pvsim" run "${pp[@]}" --trace "$work/e.json" --trace-limit 20us..10us
  contains "$work/err" "--trace-limit 20us..10us: expected a window FROM..TO"
  expect_status 2 "$pvsim" run "${pp[@]}" --trace "$work/e.json" --trace-limit 1parsec..
  expect_status 2 "$pvsim" run "${pp[@]}" --trace-limit 100
  contains "$work/err" "--trace-limit bounds --trace, --vcd or --requests"
  expect_status 2 "$pvsim" check scenarios/ivshmem-pingpong.yaml --trace "$work/e.json"
  expect_status 2 "$pvsim" run "${pp[@]}" --trace-limit 5 --trace-limit 7 --trace "$work/e.json"
  contains "$work/err" "give at most a count and a window, one each"
  # Refused before the run, not after it.
  expect_status 2 "$pvsim" run "${pp[@]}" --trace "$work/no/such/dir/e.json"
  contains "$work/err" "cannot write $work/no/such/dir/e.json: $work/no/such/dir:"
  [ ! -e "$work/e.json" ] || fail "a refused run wrote its trace"
}

"case_$case_name"
echo "cli $case_name: ok"
