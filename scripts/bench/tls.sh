#!/usr/bin/env bash
# Benchmark of TinyTLS's read-ahead and session resumption: hub-telemetry (Embedded -Osize, static
# mbedTLS, from scripts/build/embedded.sh) against a local TLS mosquitto (scripts/standin/broker.sh),
# mosquitto_pub beside it in the same run. Writes its section of docs/benchmarks.md (between the
# scripts/bench/tls.sh markers; the rest of the file is left alone) and raw output to .build-bench-tls/.
#   - syscalls per QoS 1 message (strace -f -c): --count 11000 minus --count 1000, / 10,000; and
#     untraced with perf's syscall tracepoints (strace changes the timing: see below)
#   - client CPU (user + sys) for 10,000 QoS 1 messages, median of 5
#   - one wake's instructions (callgrind, --count 1: start, handshake, MQTT connect, one message,
#     exit), with a full handshake and with a resumed session (IOTHUB_TLS_SESSION_FILE)
#   - heap peak (massif, --count 1) and stripped size
# BENCH_SKIP_BUILD=1 uses the binaries already built. BASELINE=DIR also measures DIR/hub-telemetry
# (for example a build of the commit before) in the same run, for the ratios.
# Not part of scripts/test.sh; about 3 minutes here after the build.
# Usage: [BASELINE=DIR] [BENCH_SKIP_BUILD=1] flock /tmp/swiftbuild.lock scripts/bench/tls.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$TINYHUB_ROOT"
install_deps
install_packages strace
OUT=.build-bench-tls
DOC=docs/benchmarks.md
mkdir -p "$OUT"
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then scripts/build/embedded.sh >"$OUT/build.log"; fi
NEW=.build-embedded-static/release/hub-telemetry
[ -x "$NEW" ] || { echo "missing $NEW (run scripts/build/embedded.sh)" >&2; exit 1; }
BASE=${BASELINE:+$BASELINE/hub-telemetry}
PUB=$(command -v mosquitto_pub)
N=10000
RUNS=5

source scripts/standin/broker.sh
at_exit stop_broker
KEY=$(printf 'bench key' | base64)
export IOTHUB_DEVICE_CONNECTION_STRING="HostName=localhost;DeviceId=bench;SharedAccessKey=$KEY"
export IOTHUB_TRUSTED_CA_FILE=$BROKER_CA IOTHUB_MQTT_PORT=$BROKER_PORT
TELEMETRY=(--content-type application/json)
PUBARGS=(-h localhost -p "$BROKER_PORT" --cafile "$BROKER_CA" -i tinyhub-bench-pub -t "devices/bench/messages/events/" -q 1)

run_ok() { # label cmd...: runs, fails the script when the command fails
  "${@:2}" >"$OUT/$1.out" 2>&1 || { cat "$OUT/$1.out"; echo "bench run $1 failed" >&2; exit 1; }
}

# ---- syscalls per message -----------------------------------------------------------------------
syscalls() { # binary count -> "send recv poll total" (network syscalls: sendto/recvfrom/poll)
  strace -f -c -o "$OUT/strace.txt" "$1" --count "$2" "${TELEMETRY[@]}" >/dev/null 2>&1
  awk '$NF == "sendto" {s = $4} $NF == "recvfrom" {r = $4} $NF == "poll" {p = $4}
       END {printf "%d %d %d %d\n", s, r, p, s + r + p}' "$OUT/strace.txt"
}
per_message() { # "a b c d" "e f g h" -> per-message differences over 10,000 messages
  awk -v a="$1" -v b="$2" 'BEGIN {split(a, x); split(b, y); for (i = 1; i <= 4; i++) printf "%.2f ", (y[i] - x[i]) / 10000; print ""}'
}
read -r new_s new_r new_p new_t <<<"$(per_message "$(syscalls "$NEW" 1000)" "$(syscalls "$NEW" 11000)")"
if [ -n "$BASE" ]; then
  read -r base_s base_r base_p base_t <<<"$(per_message "$(syscalls "$BASE" 1000)" "$(syscalls "$BASE" 11000)")"
fi
# The same count without a tracer (perf's syscall tracepoints, when perf can use them): strace
# slows every system call of the client, so the broker is never the slower side and the client
# never waits; untraced, a client faster than the broker waits for most PUBACKs (a recv that finds
# nothing, a poll, a recv).
untraced() { # binary -> "send recv poll total" per message, or "– – – –"
  if ! command -v perf >/dev/null; then echo "– – – –"; return; fi
  local f=$OUT/perf.txt
  perf stat -x, -e syscalls:sys_enter_sendto,syscalls:sys_enter_recvfrom,syscalls:sys_enter_poll -o "$f" \
    "$1" --count "$N" "${TELEMETRY[@]}" >/dev/null 2>&1 || { echo "– – – –"; return; }
  awk -F, -v n="$N" '/sendto/ {s = $1} /recvfrom/ {r = $1} /sys_enter_poll/ {p = $1}
       END {if (s == "" || s ~ /not/) print "– – – –"; else printf "%.2f %.2f %.2f %.2f\n", s / n, r / n, p / n, (s + r + p) / n}' "$f"
}
read -r unt_s unt_r unt_p unt_t <<<"$(untraced "$NEW")"
if [ -n "$BASE" ]; then read -r unb_s unb_r unb_p unb_t <<<"$(untraced "$BASE")"; fi
strace -f -c -o "$OUT/strace-pub.txt" "$PUB" "${PUBARGS[@]}" -l < <(seq 1 "$N" | sed 's/^/{"seq":/; s/$/}/') >/dev/null 2>&1
pub_t=$(awk '$NF == "sendto" || $NF == "recvfrom" || $NF == "poll" || $NF == "read" || $NF == "write" || $NF == "select" || $NF == "pselect6" || $NF == "epoll_wait" {t += $4}
             END {printf "%.2f", t / 10000}' "$OUT/strace-pub.txt")

# ---- client CPU, 10,000 QoS 1 messages ----------------------------------------------------------
seq 1 "$N" | sed 's/^/{"seq":/; s/$/}/' >"$OUT/lines.txt"
rm -f "$OUT"/*.times
timed() { # label cmd...
  /usr/bin/time -f '%e %U %S' -o "$OUT/t.txt" "${@:2}" >"$OUT/$1.out" 2>&1 || { cat "$OUT/$1.out"; echo "bench run $1 failed" >&2; exit 1; }
  awk '{printf "%s %.3f\n", $1, $2 + $3}' "$OUT/t.txt" >>"$OUT/$1.times"
}
for _ in $(seq 1 $RUNS); do
  timed new "$NEW" --count "$N" "${TELEMETRY[@]}"
  [ -n "$BASE" ] && timed base "$BASE" --count "$N" "${TELEMETRY[@]}"
  timed pub "$PUB" "${PUBARGS[@]}" -l <"$OUT/lines.txt"
done
cpu() { cut -d' ' -f2 "$OUT/$1.times" | median; }
wall() { cut -d' ' -f1 "$OUT/$1.times" | median; }
raw() { tr '\n' ';' <"$OUT/$1.times" | sed 's/;$//; s/;/; /g'; }

# ---- one wake: full handshake vs resumed ----------------------------------------------------------
ir() { awk '/^summary:/ {print $2}' "$1"; }
SESSION=$OUT/tls-session
rm -f "$SESSION"
valgrind --tool=callgrind --callgrind-out-file="$OUT/wake-full.out" "$NEW" --count 1 >"$OUT/wake-full.log" 2>&1
IOTHUB_TLS_SESSION_FILE=$SESSION run_ok prime "$NEW" --count 1
IOTHUB_TLS_SESSION_FILE=$SESSION valgrind --tool=callgrind --callgrind-out-file="$OUT/wake-resumed.out" "$NEW" --count 1 >"$OUT/wake-resumed.log" 2>&1
wake_full=$(ir "$OUT/wake-full.out"); wake_resumed=$(ir "$OUT/wake-resumed.out")
if [ -n "$BASE" ]; then
  valgrind --tool=callgrind --callgrind-out-file="$OUT/wake-base.out" "$BASE" --count 1 >"$OUT/wake-base.log" 2>&1
  wake_base=$(ir "$OUT/wake-base.out")
fi
# The same two wakes counted in system calls.
wake_calls() { strace -f -c -o "$OUT/strace-wake.txt" "$@" >/dev/null 2>&1; awk '$NF == "total" {print $4}' "$OUT/strace-wake.txt"; }
calls_full=$(wake_calls "$NEW" --count 1)
calls_resumed=$(IOTHUB_TLS_SESSION_FILE=$SESSION wake_calls "$NEW" --count 1)

# ---- heap peak and size ---------------------------------------------------------------------------
heap_peak() { # out-file cmd...
  valgrind --tool=massif --pages-as-heap=no --peak-inaccuracy=0 --massif-out-file="$1" "${@:2}" >/dev/null 2>&1
  massif_peak "$1"
}
heap_new=$(heap_peak "$OUT/massif-new.out" "$NEW" --count 1)
heap_session=$(IOTHUB_TLS_SESSION_FILE=$SESSION heap_peak "$OUT/massif-session.out" "$NEW" --count 1)
strip -o "$OUT/new.stripped" "$NEW"
size_new=$(stat -c %s "$OUT/new.stripped")
if [ -n "$BASE" ]; then
  heap_base=$(heap_peak "$OUT/massif-base.out" "$BASE" --count 1)
  strip -o "$OUT/base.stripped" "$BASE"
  size_base=$(stat -c %s "$OUT/base.stripped")
fi

# ---- report -------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", (b > 0 ? a / b : 0)}'; }
fmt() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; } # 1234567 -> 1,234,567
BEGIN_MARK='<!-- scripts/bench/tls.sh: begin -->'
END_MARK='<!-- scripts/bench/tls.sh: end -->'
base() { if [ -n "$BASE" ]; then echo "$1"; fi; } # a line only when there is a baseline
{
echo "$BEGIN_MARK"
echo "## TLS read-ahead and session resumption (scripts/bench/tls.sh)"
echo
echo "Generated by \`scripts/bench/tls.sh\` on $(date -u +%Y-%m-%d) at $(git rev-parse --short HEAD) ($(uname -m), $(nproc) cores shared"
echo "with other jobs): Embedded \`-Osize\` \`hub-telemetry\` (static mbedTLS) against a local TLS mosquitto,"
echo "\`--content-type application/json\`, QoS 1, window 8, no outbox; mosquitto_pub in the same run."
base "Baseline: \`$BASE\`, given as \`BASELINE=\` (for example the same program built at an earlier commit)."
echo
echo "| per QoS 1 message (strace -f -c, --count 11000 minus 1000) | send | recv | poll | total |"
echo "|---|---:|---:|---:|---:|"
echo "| hub-telemetry | $new_s | $new_r | $new_p | **$new_t** |"
base "| hub-telemetry, baseline | $base_s | $base_r | $base_p | $base_t |"
echo "| hub-telemetry, untraced (perf tracepoints, 10,000 messages) | $unt_s | $unt_r | $unt_p | $unt_t |"
base "| hub-telemetry, baseline, untraced | $unb_s | $unb_r | $unb_p | $unb_t |"
echo "| mosquitto_pub -q 1 -l (every read, write, send, recv, poll and select) | | | | $pub_t |"
echo "| C reference (coreMQTT + Azure SDK for Embedded C, quoted) | 1 | 2 | | 3 |"
echo
echo "| 10,000 QoS 1 messages, median of $RUNS | wall | client CPU (user + sys) |"
echo "|---|---:|---:|"
echo "| hub-telemetry | $(wall new) s | $(cpu new) s$(base " ($(ratio "$(cpu new)" "$(cpu base)") of the baseline)") |"
base "| hub-telemetry, baseline | $(wall base) s | $(cpu base) s |"
echo "| mosquitto_pub -q 1 -l | $(wall pub) s | $(cpu pub) s |"
echo
echo "Raw runs (wall, CPU): hub-telemetry $(raw new)$(base "; baseline $(raw base)"); mosquitto_pub $(raw pub)."
echo
echo "| one wake: \`hub-telemetry --count 1\` (start, handshake, MQTT connect, one message, exit) | instructions (callgrind) | system calls (strace) |"
echo "|---|---:|---:|"
echo "| full handshake | $(fmt "$wake_full") | $calls_full |"
echo "| resumed session (\`IOTHUB_TLS_SESSION_FILE\` from the run before) | $(fmt "$wake_resumed") ($(ratio "$wake_resumed" "$wake_full")) | $calls_resumed |"
base "| baseline, full handshake | $(fmt "${wake_base:-0}") | |"
echo
echo "| \`hub-telemetry --count 1\` | heap peak (massif) | stripped size |"
echo "|---|---:|---:|"
echo "| this build | $(fmt "$heap_new") B | $(fmt "$size_new") B |"
echo "| this build, with \`IOTHUB_TLS_SESSION_FILE\` | $(fmt "$heap_session") B | |"
base "| baseline | $(fmt "${heap_base:-0}") B | $(fmt "${size_base:-0}") B |"
echo "$END_MARK"
} >"$OUT/section.md"
python3 - "$DOC" "$OUT/section.md" "$BEGIN_MARK" "$END_MARK" <<'PY'
import sys
doc, section, begin, end = sys.argv[1], open(sys.argv[2]).read(), sys.argv[3], sys.argv[4]
text = open(doc).read()
if begin in text and end in text:
    text = text[:text.index(begin)] + section.rstrip("\n") + text[text.index(end) + len(end):]
else:
    text = text.rstrip("\n") + "\n\n" + section
open(doc, "w").write(text if text.endswith("\n") else text + "\n")
PY
cat "$OUT/section.md"
