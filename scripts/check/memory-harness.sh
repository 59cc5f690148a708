#!/usr/bin/env bash
# Memory-limit harness: runs the Embedded (static mbedTLS, dynamic libc) mqtt-demo against a
# local TLS mosquitto under a hard heap budget enforced by an LD_PRELOAD malloc shim
# (Tests/MemoryHarness/malloc_budget.c), and checks docs/memory.md:
#   1. measures the heap peak of `mqtt-demo --count 20` and binary-searches the smallest
#      budget at which it still succeeds;
#   (a) it succeeds at the documented budget (= peak rounded up to the next 4 KB; the script
#       fails when the measured peak no longer rounds up to the documented figure);
#   (b) one 4 KB step below, it fails cleanly: exit code 1..127 (no signal), a report from the
#       shim (so exit() ran), and an out-of-memory message on stderr; anything else (crash,
#       success, another message) fails the script;
#   (c) allocations are flat in the steady state: the allocations made after the demo prints
#       "subscribed to" are the same for --count 10 and --count 1000 (publishes don't allocate).
#       Total counts are printed too; they differ by a few between runs because mbedTLS's
#       bignum code allocates a data-dependent number of times during the handshake.
#   (d) every budget ends cleanly: each byte from 0 to 4,096 and every 512 bytes from there
#       up to the documented budget either completes or exits 1 with one "out of memory" line
#       (no signal, no hang, no retry); see sweep_run below. Runs two at a time.
#   (e) the same for the fully static device-profile binaries (scripts/build/device-profile.sh --sweep),
#       whose heap an LD_PRELOAD shim cannot reach: they link a budget allocator instead.
# Options: --profile  also runs valgrind massif (where the bytes go) and /usr/bin/time -v
#                     (peak RSS) for the dynamic-libc build and a fully static hand link.
# Output and logs: .build-memory/
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$TINYHUB_ROOT"
profile=0
[ "${1:-}" = "--profile" ] && profile=1
install_deps

OUT=.build-memory
mkdir -p "$OUT"
COUNT=20
DOC=docs/memory.md
BIN=.build-embedded-static/release/mqtt-demo

echo "-- building the Embedded mqtt-demo (static mbedTLS, -Osize)"
build_embedded static .build-embedded-static "$OUT/build.log" --product mqtt-demo
# LD_PRELOAD needs a dynamic libc; mbedTLS must be inside the binary (its calloc calls are ours too).
ldd "$BIN" | grep -q 'libc\.so\.6' || { echo "FAIL: $BIN does not link libc dynamically (LD_PRELOAD needs it)" >&2; exit 1; }
if ldd "$BIN" | grep -q mbed; then echo "FAIL: $BIN links mbedTLS dynamically" >&2; exit 1; fi

gcc -O2 -Wall -Wextra -Werror -shared -fPIC -o "$OUT/malloc_budget.so" Tests/MemoryHarness/malloc_budget.c
SHIM="$PWD/$OUT/malloc_budget.so"

source scripts/standin/broker.sh
at_exit stop_broker
export MQTT_HOST=localhost MQTT_PORT="$BROKER_PORT" MQTT_CA_FILE="$BROKER_CA"

# run <budget|""> <count> <tag>: sets RC, REPORT (shim line, empty if the process died by a signal).
# "" = no limit (the shim only measures). The group's 2>/dev/null keeps bash's "Segmentation fault" notice quiet.
run() {
  local budget=$1 count=$2 tag=$3
  rm -f "$OUT/$tag.report"
  set +e
  # `timeout` must not carry the shim (its own exit would overwrite the report): env sets it for the demo only.
  { timeout 60 env MALLOC_BUDGET_BYTES="$budget" MALLOC_BUDGET_REPORT="$OUT/$tag.report" MALLOC_BUDGET_MARK="subscribed to" \
      LD_PRELOAD="$SHIM" "$BIN" --count "$count" >"$OUT/$tag.out" 2>"$OUT/$tag.err"
    RC=$?; } 2>/dev/null
  set -e
  REPORT=$(cat "$OUT/$tag.report" 2>/dev/null || true)
}
field() { sed -n "s/.*\b$1=\([-0-9]*\).*/\1/p" <<<"$REPORT"; }
succeeded() { # <count>
  [ "$RC" -eq 0 ] && grep -q "^published $1, acknowledged $1, received back $1$" "$OUT/$tag_last.out"
}
outcome() { # human-readable result of the last run
  if [ "$RC" -eq 0 ]; then echo "exit 0 (completed)"
  elif [ "$RC" -ge 128 ]; then echo "killed by signal $((RC - 128)) ($(kill -l $((RC - 128)) 2>/dev/null || echo ?)), exit status $RC"
  else echo "exit $RC: $(tail -n 1 "$OUT/$tag_last.err")"; fi
}
attempt() { tag_last=$3; run "$@"; }

echo "-- unlimited run (measures the peak)"
attempt "" $COUNT unlimited
succeeded $COUNT || { echo "FAIL: mqtt-demo --count $COUNT does not succeed without a budget: $(outcome)" >&2; exit 1; }
peak=$(field peak)
echo "heap peak $peak bytes, $(field count) allocations"

echo "-- binary search for the smallest budget"
lo=0 hi=$peak  # lo fails (nothing fits in 0 bytes), hi succeeds (checked below)
attempt "$hi" $COUNT search
succeeded $COUNT || { echo "FAIL: run at budget = measured peak ($hi) failed: $(outcome)" >&2; exit 1; }
while [ $((hi - lo)) -gt 1 ]; do
  mid=$(((lo + hi) / 2))
  attempt "$mid" $COUNT search
  if succeeded $COUNT; then hi=$mid; else lo=$mid; fi
done
smallest=$hi
echo "smallest budget that completes: $smallest bytes"

documented=$(sed -n 's/^budget-bytes: *\([0-9][0-9]*\).*/\1/p' "$DOC" | head -n 1)
[ -n "$documented" ] || { echo "FAIL: no 'budget-bytes:' line in $DOC" >&2; exit 1; }
rounded=$(((peak + 4095) / 4096 * 4096))
echo "documented budget $documented bytes; measured peak $peak rounds up to $rounded"
[ "$rounded" -eq "$documented" ] || {
  echo "FAIL: $DOC says budget-bytes: $documented but the measured peak ($peak) rounds up to $rounded: update the doc" >&2; exit 1; }

status=0
echo "-- (a) completes at the documented budget ($documented bytes)"
attempt "$documented" $COUNT at-budget
if succeeded $COUNT; then echo "PASS (a): $(outcome), peak $(field peak), refused $(field refused)"
else echo "FAIL (a): $(outcome)" >&2; status=1; fi

below=$((documented - 4096))
echo "-- (b) fails cleanly at $below bytes (one 4 KB step below)"
attempt "$below" $COUNT below-budget
oom_pattern='out of memory|memory exhausted|allocation failed|cannot allocate|ENOMEM'
if [ "$RC" -eq 0 ]; then echo "FAIL (b): completed below the documented budget; the budget is not tight" >&2; status=1
elif [ "$RC" -ge 128 ] || [ -z "$REPORT" ]; then echo "FAIL (b): not a clean failure: $(outcome)" >&2; status=1
elif grep -qiE "$oom_pattern" "$OUT/below-budget.err"; then
  echo "PASS (b): $(outcome) (refused $(field refused) allocation(s), first $(field first_refused) bytes)"
else
  echo "FAIL (b): exit $RC without an out-of-memory message: '$(tail -n 1 "$OUT/below-budget.err")'" >&2; status=1
fi

echo "-- (c) steady state: allocations after \"subscribed to\", --count 10 vs --count 1000"
attempt "" 10 steady-10
succeeded 10 || { echo "FAIL (c): --count 10 failed: $(outcome)" >&2; exit 1; }
total10=$(field count); mark10=$(field count_at_mark)
attempt "" 1000 steady-1000
succeeded 1000 || { echo "FAIL (c): --count 1000 failed: $(outcome)" >&2; exit 1; }
total1000=$(field count); mark1000=$(field count_at_mark)
if [ "$mark10" -lt 0 ] || [ "$mark1000" -lt 0 ]; then echo "FAIL (c): the 'subscribed to' mark was not seen" >&2; status=1
else
  steady10=$((total10 - mark10)); steady1000=$((total1000 - mark1000))
  echo "--count 10: $total10 allocations in total, $steady10 after subscribing"
  echo "--count 1000: $total1000 allocations in total, $steady1000 after subscribing"
  if [ "$steady10" -eq "$steady1000" ]; then echo "PASS (c): flat ($steady10 = $steady1000; they are the handshake state mbedtls_ssl_session_reset re-arms on disconnect)"
  else echo "FAIL (c): steady-state allocations grow with the message count ($steady10 vs $steady1000)" >&2; status=1; fi
fi

# (d) every budget ends cleanly. One run per budget, two at a time (each has its own client id:
# the broker would otherwise drop the older of two sessions with the same id). Allowed outcomes
# (budget_outcome of scripts/lib): it completes, or a clean out-of-memory exit with one stderr
# line, no reconnect tried. Anything else fails.
sweep_run() { # <budget>: prints "<budget> ok|FAIL <detail>"
  local b=$1 dir=$OUT/sweep rc
  timeout 30 env MQTT_CLIENT_ID="oom-$b" MALLOC_BUDGET_BYTES="$b" MALLOC_BUDGET_REPORT="$dir/$b.report" \
    LD_PRELOAD="$SHIM" "$BIN" --count "$COUNT" >"$dir/$b.out" 2>"$dir/$b.err"
  rc=$?
  budget_outcome "$b" "$rc" "$dir/$b.out" "^published $COUNT, acknowledged $COUNT, received back $COUNT$" \
    "$dir/$b.err" "$dir/$b.report" 30
}
export -f sweep_run budget_outcome
export OUT SHIM BIN COUNT
echo "-- (d) every budget ends cleanly: each byte from 0 to 4,096, then every 512 bytes up to $documented"
rm -rf "$OUT/sweep"; mkdir -p "$OUT/sweep"
sweep_start=$SECONDS
# bash -c's own "Segmentation fault" notices go to /dev/null; sweep_run reports the signal itself.
{ seq 0 4096; seq 4608 512 "$documented"; } | xargs -P2 -n1 bash -c 'sweep_run "$1"' _ 2>/dev/null | sort -n >"$OUT/sweep.txt"
runs=$(wc -l <"$OUT/sweep.txt")
expected=$((4097 + (documented - 4096) / 512))
failures=$(grep -c ' FAIL ' "$OUT/sweep.txt" || true)
echo "$runs budgets in $((SECONDS - sweep_start)) s: $(grep -c ' ok completed$' "$OUT/sweep.txt" || true) completed," \
  "$(grep -c ' ok .*out of memory' "$OUT/sweep.txt" || true) clean out-of-memory exits, $failures failures"
echo "outcomes (last stderr line, how many budgets):"
sed -n 's/^[0-9]* ok //p' "$OUT/sweep.txt" | sort | uniq -c | sort -rn | sed 's/^/  /'
if [ "$runs" -ne "$expected" ]; then echo "FAIL (d): $runs results for $expected budgets" >&2; status=1
elif [ "$failures" -ne 0 ]; then
  echo "FAIL (d): $failures budget(s) did not end cleanly (logs: $OUT/sweep/<budget>.err):" >&2
  grep ' FAIL ' "$OUT/sweep.txt" | head -n 20 >&2; status=1
else echo "PASS (d): no budget traps, crashes, hangs or retries"; fi

if [ "$profile" -eq 1 ]; then
  echo "-- massif (heap at the peak, by category) and stack"
  valgrind --tool=massif --pages-as-heap=no --threshold=0 --peak-inaccuracy=0 --massif-out-file="$OUT/massif.out" \
    "$BIN" --count $COUNT >"$OUT/massif.log" 2>&1
  valgrind --tool=massif --pages-as-heap=no --stacks=yes --threshold=0 --peak-inaccuracy=0 \
    --massif-out-file="$OUT/massif-stacks.out" "$BIN" --count $COUNT >>"$OUT/massif.log" 2>&1
  ms_print "$OUT/massif.out" >"$OUT/massif.txt"
  python3 Tests/MemoryHarness/massif_breakdown.py "$OUT/massif.out" --markdown
  echo "stack peak (massif --stacks=yes): $(grep '^mem_stacks_B=' "$OUT/massif-stacks.out" | cut -d= -f2 | sort -n | tail -n 1) bytes"
  echo "-- peak RSS (/usr/bin/time -v), mqtt-demo --count $COUNT"
  gcc -static -Wl,--defsym,main=mqtt_demo_main -o "$OUT/mqtt-demo-fullstatic" \
    $(example_objects .build-embedded-static mqtt-demo) "${MBEDTLS_STATIC[@]}" 2>"$OUT/fullstatic-link.log"
  for bin in "$BIN" "$OUT/mqtt-demo-fullstatic"; do
    /usr/bin/time -v "$bin" --count $COUNT >/dev/null 2>"$OUT/time.log"
    printf '%-50s %6s KB max RSS  (%s)\n' "$bin" "$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$OUT/time.log")" \
      "$(ldd "$bin" >/dev/null 2>&1 && echo 'dynamic libc' || echo 'fully static')"
  done
fi

echo "-- (e) the device profile (fully static musl build, linked budget allocator): every budget ends cleanly"
scripts/build/device-profile.sh --sweep || status=1

[ "$status" -eq 0 ] && echo "memory harness passed" || echo "memory harness FAILED" >&2
exit "$status"
