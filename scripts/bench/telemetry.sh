#!/usr/bin/env bash
# Publish-only IoT Hub telemetry, like with like (issue 10). Not part of scripts/test.sh; about
# 5 minutes here (valgrind runs, 3 x 10,000 messages per client).
# The Embedded -Osize hub-minimal and hub-telemetry (dynamic Debian mbedTLS 2.28) publish to a local
# TLS mosquitto (scripts/standin/broker.sh; its CA through IOTHUB_TRUSTED_CA_FILE, SAS user name and
# password ignored by the broker) on devices/bench-device/messages/events/ with the property bag
# `$.ct=application%2Fjson&$.ce=utf-8` (hub-telemetry: --content-type application/json, plus the
# `$.mid` it always sends), QoS 1 (window 8) and QoS 0; mosquitto_pub publishes the same lines to the
# same topic (-M 8) beside them. Rows, per program:
#   - MQTT + hub protocol .text: scripts/lib/protocol_text.py (TinyMQTT + TinyHub functions, wherever
#     specialised, plus the standard-library and TinyHTTP functions they reach; transports, platform,
#     C shim, mbedTLS and libc excluded)
#   - instructions per message outside mbedTLS (or OpenSSL): callgrind, --count 1100 minus --count 100,
#     divided by 1,000; all objects but libmbed*/libssl/libcrypto
#   - heap peak (massif, --count 1) and the program's .bss (size -A; mbedTLS's own .bss is in its .so)
#   - 10,000 QoS 1 messages: wall and client CPU (user + sys, wait4), median of 11 interleaved runs
#   - syscalls per message: strace -f -c, --count 1100 minus --count 100, divided by 1,000
#   - the heap peak again with the hub as a literal address (127.0.0.1: no resolver)
#   - the libc resolver's share of the heap peak (massif tree under getaddrinfo), and the worst-case
#     stack of the main thread (painted before main by scripts/lib/stackpaint.c, --count 100), with
#     the hub as a name and as a literal address
# Replaces the block between the telemetry markers in docs/benchmarks.md (right after the
# hand-written marker, so the default mode keeps it). Raw output: .build-bench/telemetry/.
# BENCH_SKIP_BUILD=1 uses the binaries already in .build-embedded-dynamic.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$TINYHUB_ROOT"
install_deps
OUT=.build-bench/telemetry
DOC=docs/benchmarks.md
N=10000
RUNS=11
mkdir -p "$OUT"
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  for product in hub-minimal hub-telemetry; do
    build_embedded dynamic .build-embedded-dynamic "$OUT/build-$product.log" --product "$product"
  done
fi
BIN=.build-embedded-dynamic/release
PUB=$(command -v mosquitto_pub)

source "$TINYHUB_ROOT/scripts/standin/broker.sh"
at_exit stop_broker
DEVICE=bench-device
export IOTHUB_DEVICE_CONNECTION_STRING="HostName=localhost;DeviceId=$DEVICE;SharedAccessKey=$(head -c 32 /dev/urandom | base64)"
export IOTHUB_TRUSTED_CA_FILE="$BROKER_CA" IOTHUB_MQTT_PORT="$BROKER_PORT"
TOPIC="devices/$DEVICE/messages/events/\$.ct=application%2Fjson&\$.ce=utf-8"

# The clients, by label: the command without its message count.
declare -A CMD
CMD[minimal-q1]="$BIN/hub-minimal --qos 1"
CMD[minimal-q0]="$BIN/hub-minimal --qos 0"
CMD[telemetry-q1]="$BIN/hub-telemetry --content-type application/json --qos 1"
CMD[telemetry-q0]="$BIN/hub-telemetry --content-type application/json --qos 0"
CMD[pub-q1]="$PUB -h localhost -p $BROKER_PORT --cafile $BROKER_CA -i bench-pub -t $TOPIC -M 8 -q 1 -l"
CMD[pub-q0]="$PUB -h localhost -p $BROKER_PORT --cafile $BROKER_CA -i bench-pub -t $TOPIC -q 0 -l"
lines() { seq 1 "$1" | sed 's/^/{"seq":/; s/$/}/'; }
# run <label> <count> [wrapper…]: one run of a client with <count> messages (mosquitto_pub reads them on stdin).
run() {
  local label=$1 count=$2; shift 2
  lines "$count" >"$OUT/lines-$count.txt"
  # shellcheck disable=SC2086
  case $label in
    pub-*) "$@" ${CMD[$label]} <"$OUT/lines-$count.txt" ;;
    *) "$@" ${CMD[$label]} --count "$count" </dev/null ;;
  esac
}
LABELS=(minimal-q1 minimal-q0 telemetry-q1 telemetry-q0 pub-q1 pub-q0)

# ---- instructions per message outside the TLS library ------------------------------------------
TLS_LIBS='libmbed|libssl|libcrypto' # mbedTLS, and OpenSSL for mosquitto_pub
declare -A IPM
for label in "${LABELS[@]}"; do
  for count in 100 1100; do
    run "$label" "$count" valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind-$label-$count.out" \
      >"$OUT/callgrind-$label-$count.log" 2>&1
  done
  IPM[$label]=$(( ($(instructions_outside "$OUT/callgrind-$label-1100.out" "$TLS_LIBS") -
    $(instructions_outside "$OUT/callgrind-$label-100.out" "$TLS_LIBS")) / 1000 ))
done
# The hottest functions outside mbedTLS per message, hub-minimal at QoS 1 (self cost, same difference of runs).
python3 - "$OUT/callgrind-minimal-q1-100.out" "$OUT/callgrind-minimal-q1-1100.out" >"$OUT/hot.txt" <<'PY'
import re, subprocess, sys
sys.path.insert(0, "scripts/lib")
from callgrind_cost import self_costs
def fns(path):
    cost = {}
    for ob, fn, ir in self_costs(path):
        if not re.search(r"libmbed", ob): cost[fn] = cost.get(fn, 0) + ir
    return cost
a, b = fns(sys.argv[1]), fns(sys.argv[2])
rows = sorted(((b.get(k, 0) - a.get(k, 0)) / 1000, k) for k in set(a) | set(b))[::-1][:12]
pretty = subprocess.run(["swift-demangle", "--simplified"], input="\n".join(k for _, k in rows),
                        capture_output=True, text=True).stdout.splitlines()
for (per, _), name in zip(rows, pretty):
    if per >= 10: print(f"| `{name[:110]}` | {per:.0f} |")
PY

# ---- heap peak (massif) + .bss --------------------------------------------------------------------
bss() { size -A "$1" | awk '$1 == ".bss" {print $2}'; }
declare -A HEAP
for label in minimal-q1 telemetry-q1 pub-q1; do
  run "$label" 1 "${MASSIF[@]}" --massif-out-file="$OUT/massif-$label.out" \
    >"$OUT/massif-$label.log" 2>&1
  HEAP[$label]=$(massif_peak "$OUT/massif-$label.out")
done
# The same with the hub given as a literal address (HostName=127.0.0.1; the stand-in's certificate
# names it): tp_tcp_connect connects without the resolver, so nothing of libc's NSS state is in it.
declare -A HEAP_LITERAL
for label in minimal-q1 telemetry-q1; do
  IOTHUB_DEVICE_CONNECTION_STRING=${IOTHUB_DEVICE_CONNECTION_STRING/HostName=localhost/HostName=127.0.0.1} \
    run "$label" 1 "${MASSIF[@]}" --massif-out-file="$OUT/massif-$label-literal.out" >"$OUT/massif-$label-literal.log" 2>&1
  grep -q '^sent and acknowledged: 1$' "$OUT/massif-$label-literal.log" || { cat "$OUT/massif-$label-literal.log"; exit 1; }
  HEAP_LITERAL[$label]=$(massif_peak "$OUT/massif-$label-literal.out")
done
BSS_MIN=$(bss "$BIN/hub-minimal"); BSS_TEL=$(bss "$BIN/hub-telemetry"); BSS_PUB=$(bss "$PUB")
# The libc resolver's share of each peak: bytes of the peak snapshot allocated under getaddrinfo
# (its NSS configuration and address checks), named host (localhost) as measured.
RES_MIN=$(resolver_share "$OUT/massif-minimal-q1.out"); RES_TEL=$(resolver_share "$OUT/massif-telemetry-q1.out")
# Worst-case stack: the main thread's stack painted before main (scripts/lib/stackpaint.c).
gcc -O1 -shared -fPIC -o "$OUT/stackpaint.so" "$TINYHUB_LIB/stackpaint.c"
# painted_stack LABEL: the deepest stack of a 100-message run, bytes (the connection string as set).
painted_stack() {
  STACKPAINT_OUT="$OUT/stack-$1.txt" LD_BIND_NOW=1 run "$1" 100 env LD_PRELOAD="$OUT/stackpaint.so" >/dev/null 2>&1
  cat "$OUT/stack-$1.txt"
}
declare -A STACK STACK_LITERAL
for label in minimal-q1 telemetry-q1 pub-q1; do STACK[$label]=$(painted_stack "$label"); done
# Again with the hub as a literal address: with a name, glibc's getaddrinfo runs its AI_ADDRCONFIG
# probe (a netlink request whose buffer is on the stack), which is the deepest stack of the run.
for label in minimal-q1 telemetry-q1; do
  STACK_LITERAL[$label]=$(IOTHUB_DEVICE_CONNECTION_STRING=${IOTHUB_DEVICE_CONNECTION_STRING/HostName=localhost/HostName=127.0.0.1} \
    painted_stack "$label")
done

# ---- 10,000 QoS 1: wall and client CPU, median of RUNS interleaved runs --------------------------
# CPU from wait4 (scripts/lib/rusage.py: microseconds, where /usr/bin/time has 10 ms ticks); the
# clients take turns, so a change in the machine's speed during the runs falls on all of them alike.
declare -A WALL CPU
TIMED=(minimal-q1 telemetry-q1 pub-q1)
for label in "${TIMED[@]}"; do rm -f "$OUT/$label.times"; done
for _ in $(seq 1 $RUNS); do
  for label in "${TIMED[@]}"; do
    run "$label" "$N" python3 "$TINYHUB_LIB/rusage.py" "$OUT/t.txt" >"$OUT/$label.out" 2>&1 || { cat "$OUT/$label.out"; exit 1; }
    cat "$OUT/t.txt" >>"$OUT/$label.times"
    case $label in pub-*) ;; *) grep -q "^sent and acknowledged: $N$" "$OUT/$label.out" || { cat "$OUT/$label.out"; exit 1; } ;; esac
  done
done
for label in "${TIMED[@]}"; do
  WALL[$label]=$(cut -d' ' -f1 "$OUT/$label.times" | median); CPU[$label]=$(cut -d' ' -f2 "$OUT/$label.times" | median)
done

# ---- syscalls per message ---------------------------------------------------------------------------
declare -A SYS
for label in minimal-q1 minimal-q0 telemetry-q1 pub-q1; do
  for count in 100 1100; do run "$label" "$count" strace -f -c -o "$OUT/strace-$label-$count.txt" >/dev/null 2>&1; done
  SYS[$label]=$(awk -v a="$(strace_total "$OUT/strace-$label-100.txt")" -v b="$(strace_total "$OUT/strace-$label-1100.txt")" \
    'BEGIN {printf "%.2f", (b - a) / 1000}')
done

# ---- protocol .text -------------------------------------------------------------------------------
declare -A PT
for p in hub-minimal hub-telemetry; do
  python3 "$TINYHUB_LIB/protocol_text.py" "$BIN/$p" --symbols 12 --concerns >"$OUT/text-$p.txt"
  PT[$p]=$(awk '$1 == "protocol-total" {print $2}' "$OUT/text-$p.txt")
done
field() { awk -v k="$2" '$1 == k {print $2}' "$OUT/text-$1.txt"; }
# Every example, by owner: what each feature costs the programs that use it (and only them).
TARGETS=$(sed -n 's/^ *example("\([a-z0-9-]*\)".*/\1/p' Package.swift)
for p in $TARGETS; do
  [ -x "$BIN/$p" ] && [ ! -f "$OUT/text-$p.txt" -o "$BIN/$p" -nt "$OUT/text-$p.txt" ] && python3 "$TINYHUB_LIB/protocol_text.py" "$BIN/$p" >"$OUT/text-$p.txt"
done
target_rows() {
  for p in $TARGETS; do
    [ -f "$OUT/text-$p.txt" ] || continue
    local whole; whole=$(size -A "$BIN/$p" | awk '$1 == ".text" {print $2}')
    printf '| %s | %s | %s | %s | %s | **%s** | %s | %s | %s | %s | %s |\n' "$p" \
      "$(fmt "$(field "$p" TinyMQTT)")" "$(fmt "$(field "$p" TinyHub)")" "$(fmt "$(field "$p" protocol-http)")" \
      "$(fmt "$(field "$p" protocol-stdlib)")" "$(fmt "$(field "$p" protocol-total)")" \
      "$(fmt "$(field "$p" TinyTLS)")" "$(fmt "$(field "$p" TinyProvisioning)")" "$(fmt "$(field "$p" TinyWebSocket)")" \
      "$(fmt "$(field "$p" stdlib)")" "$(fmt "$whole")"
  done
}

# hub-minimal's protocol code by concern, x86-64 (this build) and Thumb-2 (scripts/build/cross-arm.sh's
# build, when it is there), beside the C reference by the same concerns: measured with
# scripts/bench/c-reference (the C sources are not on CI's machines), quoted as
# "default / small" (asserts and Azure preconditions on / -DNDEBUG -DAZ_NO_PRECONDITION_CHECKING
# -DAZ_NO_LOGGING); "0" where the C program leaves the concern to the application.
THUMB=.build-cross/armv7/text-hub-minimal.txt
# Bytes with asserts on, then off, by concern (the C program's other concerns are 0).
declare -A C_X86=(["SAS token and renewal"]="1725 1479" ["client id, user name, CONNECT fields"]="1202 920"
  ["telemetry topic and property bag"]="827 560" ["MQTT encode"]="1019 883" ["MQTT decode"]="1305 1233"
  ["MQTT session: connect, keep-alive, QoS 1 window, poll, I/O"]="6330 4950"
  ["standard library and TinyHTTP pulled in"]="1400 597")
declare -A C_THUMB=(["SAS token and renewal"]="1152 1012" ["client id, user name, CONNECT fields"]="864 726"
  ["telemetry topic and property bag"]="662 506" ["MQTT encode"]="732 620" ["MQTT decode"]="696 696"
  ["MQTT session: connect, keep-alive, QoS 1 window, poll, I/O"]="4464 3346"
  ["standard library and TinyHTTP pulled in"]="1136 664")
# concern_of FILE LABEL: the bytes of concern LABEL in a protocol_text.py --concerns output.
concern_of() { awk -v k="$2" '$1 == "concern" {n = $2; $1 = $2 = ""; sub(/^ +/, ""); if ($0 == k) print n}' "$1"; }
# c_pair "ON OFF": "ON / OFF", formatted; 0 when empty.
c_pair() { if [ -n "$1" ]; then set -- $1; echo "$(fmt "$1") / $(fmt "$2")"; else echo 0; fi; }
# c_total ARRAY-NAME: the formatted sums of an array's "ON OFF" values.
c_total() {
  local -n pairs=$1
  c_pair "$(printf '%s\n' "${pairs[@]}" | awk '{on += $1; off += $2} END {print on, off}')"
}
concern_rows() {
  local label x86 thumb
  while read -r label; do
    x86=$(concern_of "$OUT/text-hub-minimal.txt" "$label")
    thumb=–
    [ -f "$THUMB" ] && thumb=$(concern_of "$THUMB" "$label")
    [ "${x86:-0}" != 0 ] || [ "${thumb:-0}" != 0 ] || [ -n "${C_X86[$label]:-}" ] || continue # a feature it does not link
    [ "$thumb" = – ] || thumb=$(fmt "$thumb")
    printf '| %s | %s | %s | %s | %s |\n' "$label" "$(c_pair "${C_X86[$label]:-}")" "$(fmt "$x86")" "$(c_pair "${C_THUMB[$label]:-}")" "$thumb"
  done < <(awk '$1 == "concern" {$1 = $2 = ""; sub(/^ +/, ""); print}' "$OUT/text-hub-minimal.txt")
  thumb=–
  [ -f "$THUMB" ] && thumb=$(fmt "$(awk '$1 == "protocol-total" {print $2}' "$THUMB")")
  printf '| **total** | **%s** | **%s** | **%s** | **%s** |\n' "$(c_total C_X86)" "$(fmt "${PT[hub-minimal]}")" "$(c_total C_THUMB)" "$thumb"
}

# ---- report -----------------------------------------------------------------------------------------
fmt() { if [ -n "$1" ]; then echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; else echo –; fi; } # 12345 -> 12,345; nothing -> –
BEGIN_MARK='<!-- scripts/bench/telemetry.sh: begin -->'
END_MARK='<!-- scripts/bench/telemetry.sh: end -->'
{
echo "$BEGIN_MARK"
cat <<EOF
## Publish-only IoT Hub telemetry against the C reference (issue 10)

Generated by \`scripts/bench/telemetry.sh\` on $(date -u +%Y-%m-%d) at $(git rev-parse --short HEAD) ($(uname -m), $(nproc) cores shared
with other jobs). Embedded \`-Osize\` programs linked against Debian's shared mbedTLS 2.28, publishing to a local TLS
mosquitto on \`devices/$DEVICE/messages/events/\` with the property bag \`\$.ct=application%2Fjson&\$.ce=utf-8\`
(hub-telemetry: \`--content-type application/json\`, and its \`\$.mid\` message id on every message); QoS 1 with a window of 8,
and QoS 0. The C reference (coreMQTT v2.3.1 + Azure SDK for Embedded C 1.5.0, \`-Os\`, function sections, \`--gc-sections\`,
same mosquitto, same bag) is quoted from issue 10, not measured here (its code size was measured again with
\`scripts/bench/c-reference\`, below); mosquitto_pub is measured beside.

| figure | C reference (quoted) | hub-minimal | hub-telemetry | mosquitto_pub (OpenSSL) |
|---|---:|---:|---:|---:|
| MQTT + hub protocol \`.text\` (B) | 11,871 (\`scripts/bench/c-reference\`: 13,656 with asserts, 10,470 without) | $(fmt "${PT[hub-minimal]}") | $(fmt "${PT[hub-telemetry]}") | – |
| instructions / message outside mbedTLS, QoS 1 (window 8) | 2,426 | $(fmt "${IPM[minimal-q1]}") | $(fmt "${IPM[telemetry-q1]}") | $(fmt "${IPM[pub-q1]}") (outside OpenSSL) |
| instructions / message outside mbedTLS, QoS 0 | 1,286 | $(fmt "${IPM[minimal-q0]}") | $(fmt "${IPM[telemetry-q0]}") | $(fmt "${IPM[pub-q0]}") (outside OpenSSL) |
| heap peak (massif, one message) + \`.bss\` (B) | 48,003 + 5,856 = 53,859 | $(fmt "${HEAP[minimal-q1]}") + $(fmt "$BSS_MIN") = $(fmt $((HEAP[minimal-q1] + BSS_MIN))) | $(fmt "${HEAP[telemetry-q1]}") + $(fmt "$BSS_TEL") = $(fmt $((HEAP[telemetry-q1] + BSS_TEL))) | $(fmt "${HEAP[pub-q1]}") + $(fmt "$BSS_PUB") |
| of which the libc resolver (getaddrinfo for \`localhost\`, at the peak) (B) | – | $(fmt "$RES_MIN") | $(fmt "$RES_TEL") | – |
| heap peak + \`.bss\`, hub as a literal address (\`127.0.0.1\`: no resolver) (B) | – | $(fmt "${HEAP_LITERAL[minimal-q1]}") + $(fmt "$BSS_MIN") = $(fmt $((HEAP_LITERAL[minimal-q1] + BSS_MIN))) | $(fmt "${HEAP_LITERAL[telemetry-q1]}") + $(fmt "$BSS_TEL") = $(fmt $((HEAP_LITERAL[telemetry-q1] + BSS_TEL))) | – |
| worst-case stack, painted (whole process: mbedTLS handshake and libc included) (B) | 2.7 KB (\`scripts/bench/c-reference/measure.sh\`: 4,096) | $(fmt "${STACK[minimal-q1]}") | $(fmt "${STACK[telemetry-q1]}") | $(fmt "${STACK[pub-q1]}") |
| the same, hub as a literal address (no resolver) (B) | – | $(fmt "${STACK_LITERAL[minimal-q1]}") | $(fmt "${STACK_LITERAL[telemetry-q1]}") | – |
| 10,000 QoS 1: wall / client CPU (median of $RUNS) | 0.331 s / 0.143 s | ${WALL[minimal-q1]} s / ${CPU[minimal-q1]} s | ${WALL[telemetry-q1]} s / ${CPU[telemetry-q1]} s | ${WALL[pub-q1]} s / ${CPU[pub-q1]} s |
| syscalls / message, QoS 1 | 3 (1 send + 2 recv) | ${SYS[minimal-q1]} | ${SYS[telemetry-q1]} | ${SYS[pub-q1]} |
| syscalls / message, QoS 0 | – | ${SYS[minimal-q0]} | – | – |

Protocol \`.text\` by owner (B; \`python3 scripts/lib/protocol_text.py BINARY\`): hub-minimal TinyMQTT $(fmt "$(field hub-minimal TinyMQTT)"),
TinyHub $(fmt "$(field hub-minimal TinyHub)"), standard library it reaches $(fmt "$(field hub-minimal protocol-stdlib)"), TinyHTTP it reaches
$(fmt "$(field hub-minimal protocol-http)"); hub-telemetry TinyMQTT $(fmt "$(field hub-telemetry TinyMQTT)"), TinyHub $(fmt "$(field hub-telemetry TinyHub)"),
standard library $(fmt "$(field hub-telemetry protocol-stdlib)"), TinyHTTP $(fmt "$(field hub-telemetry protocol-http)") (its HTTPS client). Whole
program, all owners: hub-minimal stdlib $(fmt "$(field hub-minimal stdlib)") B (reached from the TLS and platform code), TinyTLS
$(fmt "$(field hub-minimal TinyTLS)") B.

hub-minimal's protocol code by concern (B; \`python3 scripts/lib/protocol_text.py BINARY --concerns\`; Thumb-2: the armv7
build of \`scripts/build/cross-arm.sh\`$([ -f "$THUMB" ] || echo ', not run here')) beside the C reference by the same concerns,
measured with \`scripts/bench/c-reference\` on 2026-12-04 and quoted here as "asserts and Azure preconditions on / off"
(\`-DNDEBUG -DAZ_NO_PRECONDITION_CHECKING -DAZ_NO_LOGGING\`); the C SAS row includes the program's HMAC and Base64 glue
(152 / 96 B), the last row is the Azure SDK's \`az_span\` helpers and logging hooks; 0: the C program leaves it to the application.

| concern | C x86-64 | hub-minimal x86-64 | C Thumb-2 | hub-minimal Thumb-2 |
|---|---:|---:|---:|---:|
$(concern_rows)

Per program (the Embedded examples, dynamic mbedTLS; bytes of \`.text\` by owner, \`python3 scripts/lib/protocol_text.py\`;
TinyHTTP and standard library: what the protocol code reaches; the last columns count the whole program):

| program | TinyMQTT | TinyHub | TinyHTTP | stdlib | **protocol** | TinyTLS | TinyProvisioning | TinyWebSocket | stdlib (all) | \`.text\` (all, with libc glue) |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
$(target_rows)

Hottest functions outside mbedTLS, hub-minimal at QoS 1 (self instructions per message):

| function | instructions / message |
|---|---:|
$(cat "$OUT/hot.txt")

Largest protocol functions in hub-minimal (B):

| function | owner | \`.text\` |
|---|---|---:|
$(awk '$1 == "symbol" {n = $2; o = $3; $1 = $2 = $3 = ""; sub(/^ +/, ""); printf "| `%s` | %s | %s |\n", substr($0, 1, 100), o, n}' "$OUT/text-hub-minimal.txt")
EOF
echo "$END_MARK"
} >"$OUT/section.md"
MARKER='<!-- hand-written below: kept by scripts/bench/mqtt-demo.sh -->'
python3 - "$DOC" "$OUT/section.md" "$MARKER" "$BEGIN_MARK" "$END_MARK" <<'PY'
import sys
doc, section, marker, begin, end = sys.argv[1:]
text, block = open(doc).read(), open(section).read().rstrip("\n")
if begin in text and end in text:
    text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
else:
    text = text.replace(marker, marker + "\n\n" + block, 1)
open(doc, "w").write(text)
PY
cat "$OUT/section.md"
