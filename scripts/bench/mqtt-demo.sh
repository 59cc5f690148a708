#!/usr/bin/env bash
# Benchmark: TinyHub's Embedded mqtt-demo vs mosquitto_pub, against the same local TLS mosquitto
# with the same CA. Writes docs/benchmarks.md (and raw logs to .build-bench/). Not part of
# scripts/test.sh. Takes about 2 minutes here (two incremental Embedded builds, valgrind runs).
#   - stripped sizes of the Embedded examples (static / dynamic mbedTLS) and of mosquitto_pub
#   - .text of TinyHub's own code per module (size -A on the module objects of the build dir),
#     and the linked mqtt-demo's .text split by input file (linker map of a hand re-link)
#   - heap peak of one session (massif) and peak RSS (/usr/bin/time -v): mqtt-demo --count 1
#     vs mosquitto_pub -q 1 with one message
#   - 10,000 QoS 1 messages, median of 3: wall, msgs/s, client CPU (user+sys)
#   - callgrind: instructions per message (marginal: --count 1100 minus --count 100, / 1000),
#     split by object: TinyHub (the mqtt-demo binary) / mbedTLS (.so) / libc; dynamic-mbedTLS
#     build so the split is by shared object
# Publish-only IoT Hub telemetry (hub-minimal and hub-telemetry vs mosquitto_pub, with the C reference
# figures of issue 10): scripts/bench/telemetry.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$TINYHUB_ROOT"
install_deps
OUT=.build-bench
mkdir -p "$OUT" docs
N=10000
RUNS=3
DOC=docs/benchmarks.md

# BENCH_SKIP_BUILD=1 uses the binaries already in .build-embedded-static (e.g. while another
# build runs); the dynamic-mbedTLS binary is then re-linked from the same objects (the
# two variants differ only in linker settings).
for variant in static dynamic; do
  [ "${BENCH_SKIP_BUILD:-0}" = 1 ] && break
  build_embedded "$variant" ".build-embedded-$variant" "$OUT/build-$variant.log"
done
S=.build-embedded-static/release/mqtt-demo
D=.build-embedded-dynamic/release/mqtt-demo
OBJ=.build-embedded-static/x86_64-unknown-linux-gnu/release
if [ "${BENCH_SKIP_BUILD:-0}" = 1 ] && [ ! -x "$D" ]; then
  D=$OUT/mqtt-demo-dynamic-relinked
  gcc -Wl,--gc-sections -Wl,--defsym,main=mqtt_demo_main -o "$D" $(example_objects .build-embedded-static mqtt-demo) -lmbedtls -lmbedx509 -lmbedcrypto
fi
PUB=$(command -v mosquitto_pub)

# ---- sizes -----------------------------------------------------------------------------------
strip -o "$OUT/mqtt-demo-static.stripped" "$S"
strip -o "$OUT/mqtt-demo-dynamic.stripped" "$D"
strip -o "$OUT/mosquitto_pub.stripped" "$PUB"
lib() { ldconfig -p | awk -v n="$1" '$1 == n {print $NF; exit}'; }
mbed_so=$(( $(file_size "$(lib libmbedtls.so.14)") + $(file_size "$(lib libmbedx509.so.1)") + $(file_size "$(lib libmbedcrypto.so.7)") ))
mosq_so=$(file_size "$(lib libmosquitto.so.1)")
ossl_so=$(( $(file_size "$(lib libssl.so.3)") + $(file_size "$(lib libcrypto.so.3)") ))
module_text() { objects_text_size "$OBJ/$1.build"/*.o; }

# Re-link mqtt-demo from SwiftPM's objects (with --gc-sections, as SwiftPM links) with a map to split the binary's .text by input file.
gcc -Wl,--gc-sections -Wl,--defsym,main=mqtt_demo_main -Wl,-Map,"$OUT/mqtt-demo.map" -o "$OUT/mqtt-demo-relinked" \
  $(example_objects .build-embedded-static mqtt-demo) "${MBEDTLS_STATIC[@]}"
map_split=$(python3 - "$OUT/mqtt-demo.map" <<'PY'
import re, sys
sys.path.insert(0, "scripts/lib")
from linkmap_text import text_sections
groups = {"tinyhub": 0, "mbedtls": 0, "other": 0}
for path, n in text_sections(sys.argv[1]):
    if "libmbed" in path: groups["mbedtls"] += n
    elif re.search(r"/(TinyBytes|TinyPlatform|TinyMQTT|TinyHTTP|TinyTLS|TinyHub|CTinyPlatform|mqtt_demo)\.build/", path): groups["tinyhub"] += n
    else: groups["other"] += n
print(groups["tinyhub"], groups["mbedtls"], groups["other"])
PY
)
read -r map_tinyhub map_mbedtls map_other <<<"$map_split"
# The same binary by sized function symbol (nm -S): who owns TinyHub's share.
nm -S --size-sort "$OUT/mqtt-demo-relinked" | awk '$3 ~ /^[tTwW]$/' | python3 -c '
import re, sys
g = {}
for line in sys.stdin:
    p = line.split()
    if len(p) < 4: continue
    n, s = int(p[1], 16), p[3]
    if s.startswith(("$es", "$eS")): k = "Swift stdlib, specialised into the binary"
    elif re.match(r"\$e\d+TinyMQTT", s): k = "TinyMQTT (incl. MQTTSession specialised for TLSTransport)"
    elif re.match(r"\$e\d+TinyTLS", s): k = "TinyTLS"
    elif re.match(r"\$e\d+TinyPlatform", s): k = "TinyPlatform"
    elif re.match(r"\$e\d+TinyBytes", s): k = "TinyBytes"
    elif re.match(r"\$e\d+mqtt_demo", s) or s == "mqtt_demo_main": k = "the example (mqtt-demo)"
    elif s.startswith("tp_"): k = "C shim (CTinyPlatform)"
    elif s.startswith(("swift_", "_swift")): k = "Swift runtime (Embedded)"
    else: continue
    g[k] = g.get(k, 0) + n
for k, v in sorted(g.items(), key=lambda kv: -kv[1]):
    print(f"| {k} | {v / 1024:.1f} KB |")
print(f"| **sized Swift + C shim symbols** | **{sum(g.values()) / 1024:.1f} KB** |")
' >"$OUT/symbols.md"

# ---- broker-backed runs ------------------------------------------------------------------------
source scripts/standin/broker.sh
at_exit stop_broker
export MQTT_HOST=localhost MQTT_PORT="$BROKER_PORT" MQTT_CA_FILE="$BROKER_CA"
PUBARGS=(-h localhost -p "$BROKER_PORT" --cafile "$BROKER_CA" -i tinyhub-bench-pub -t tinyhub/bench -q 1)

mb() { awk -v k="$1" 'BEGIN {printf "%.1f MB", k / 1024}'; }
"${MASSIF[@]}" --massif-out-file="$OUT/massif-demo.out" "$S" --count 1 >"$OUT/massif-demo.log" 2>&1
"${MASSIF[@]}" --massif-out-file="$OUT/massif-pub.out" "$PUB" "${PUBARGS[@]}" -m '{"seq":1}' >"$OUT/massif-pub.log" 2>&1
heap_demo=$(massif_peak "$OUT/massif-demo.out"); heap_pub=$(massif_peak "$OUT/massif-pub.out")

rss() { /usr/bin/time -f '%M' -o "$OUT/rss.txt" "$@" >/dev/null 2>&1; cat "$OUT/rss.txt"; }
rss_demo=$(rss "$S" --count 1); rss_demo_dyn=$(rss "$D" --count 1); rss_pub=$(rss "$PUB" "${PUBARGS[@]}" -m '{"seq":1}')
# Fully static links of the same objects (scripts/build/static.sh): glibc, and musl when musl-gcc exists.
STATIC_SKIP_BUILD=1 scripts/build/static.sh >"$OUT/build-static.log" 2>&1
rss_glibc_static=$(rss .build-embedded-static/release/mqtt-demo-fully-static --count 1)
rss_musl_static="–"
if command -v musl-gcc >/dev/null && STATIC_SKIP_BUILD=1 scripts/build/static.sh --musl >>"$OUT/build-static.log" 2>&1; then
  rss_musl_static=$(mb "$(rss .build-embedded-static/release/mqtt-demo-musl-static --count 1)")
fi

# ---- 10,000 sequential QoS 1 messages, median of 3 ----------------------------------------------
seq 1 "$N" | sed 's/^/{"seq":/; s/$/}/' >"$OUT/lines.txt"
timed() { # <label> cmd… ; appends "wall cpu" to $OUT/<label>.times
  /usr/bin/time -f '%e %U %S' -o "$OUT/t.txt" "${@:2}" >"$OUT/$1.out" 2>&1 || { cat "$OUT/$1.out"; echo "bench run $1 failed" >&2; exit 1; }
  awk '{printf "%s %.3f\n", $1, $2 + $3}' "$OUT/t.txt" >>"$OUT/$1.times"
}
rm -f "$OUT"/*.times
for _ in $(seq 1 $RUNS); do
  timed demo "$S" --count "$N" </dev/null
  grep -q "^published $N, acknowledged $N, received back $N$" "$OUT/demo.out" || { echo "mqtt-demo did not finish" >&2; exit 1; }
  timed pub "$PUB" "${PUBARGS[@]}" -l <"$OUT/lines.txt"
done
demo_wall=$(cut -d' ' -f1 "$OUT/demo.times" | median); demo_cpu=$(cut -d' ' -f2 "$OUT/demo.times" | median)
pub_wall=$(cut -d' ' -f1 "$OUT/pub.times" | median); pub_cpu=$(cut -d' ' -f2 "$OUT/pub.times" | median)
rate() { awk -v n="$N" -v w="$1" 'BEGIN {printf "%d", (w > 0 ? n / w : 0)}'; }

# ---- callgrind: instructions per message ----------------------------------------------------------
split_by_object() { # callgrind.out -> "tinyhub mbedtls libc other" (self cost, Ir)
  python3 - "$1" <<'PY'
import sys
sys.path.insert(0, "scripts/lib")
from callgrind_cost import self_costs
tot = {"tinyhub": 0, "mbedtls": 0, "libc": 0, "other": 0}
for o, _, ir in self_costs(sys.argv[1]):
    if "mqtt-demo" in o: tot["tinyhub"] += ir
    elif "libmbed" in o: tot["mbedtls"] += ir
    elif "libc.so" in o: tot["libc"] += ir
    else: tot["other"] += ir
print(tot["tinyhub"], tot["mbedtls"], tot["libc"], tot["other"])
PY
}
valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind-100.out" "$D" --count 100 >"$OUT/callgrind.log" 2>&1
valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind-1100.out" "$D" --count 1100 >>"$OUT/callgrind.log" 2>&1
callgrind_annotate --inclusive=no "$OUT/callgrind-1100.out" >"$OUT/callgrind-1100.txt" 2>/dev/null || true
read -r a_t a_m a_c a_o <<<"$(split_by_object "$OUT/callgrind-100.out")"
read -r b_t b_m b_c b_o <<<"$(split_by_object "$OUT/callgrind-1100.out")"
per() { echo $(( ($2 - $1) / 1000 )); }
python3 - "$OUT/callgrind-100.out" "$OUT/callgrind-1100.out" >"$OUT/hot.md" <<'PY'
import re, sys
sys.path.insert(0, "scripts/lib")
from callgrind_cost import self_costs
def fns(path):
    cost = {}
    for ob, fn, ir in self_costs(path):
        if "mqtt-demo" in ob: cost[fn] = cost.get(fn, 0) + ir
    return cost
a, b = fns(sys.argv[1]), fns(sys.argv[2])
diff = sorted(((b.get(k, 0) - a.get(k, 0)) / 1000, k) for k in set(a) | set(b))
diff.reverse()
def short(k):
    m = re.search(r"\$e\d+(\w+?)\d+(\w+?)(V|C|O)\d*", k)
    return k if len(k) < 60 else k[:57] + "..."
for per, k in diff[:8]:
    if per < 20: break
    print(f"| `{short(k)}` | {per:.0f} |")
PY
ipm_t=$(per "$a_t" "$b_t"); ipm_m=$(per "$a_m" "$b_m"); ipm_c=$(per "$a_c" "$b_c"); ipm_o=$(per "$a_o" "$b_o")
ipm_total=$((ipm_t + ipm_m + ipm_c + ipm_o))
session_total=$((a_t + a_m + a_c + a_o - 100 * ipm_total))

# ---- report ---------------------------------------------------------------------------------------
MARKER='<!-- hand-written below: kept by scripts/bench/mqtt-demo.sh -->'
KEEP=$( [ -f "$DOC" ] && awk -v m="$MARKER" 'f || $0 == m {f = 1; print}' "$DOC" || true)
{
cat <<EOF
# Benchmarks

Generated by \`scripts/bench/mqtt-demo.sh\` on $(date -u +%Y-%m-%d) ($(uname -m), $(nproc) cores shared with other jobs,
Swift $(swift --version 2>/dev/null | sed -n 's/.*Swift version \([0-9.]*\).*/\1/p' | head -n 1), Debian mbedTLS 2.28, mosquitto $(mosquitto -h 2>/dev/null | sed -n 's/.*version \([0-9.]*\).*/\1/p' | head -n 1)).
Both clients talk to the same local TLS mosquitto (RSA-2048 test CA, TLS 1.2, \`localhost\`).
TinyHub = the Embedded \`-Osize\` \`mqtt-demo\`. C reference figures are quoted, not measured here.
$([ "$D" = "$OUT/mqtt-demo-dynamic-relinked" ] && echo "
This run used BENCH_SKIP_BUILD=1: the dynamic-mbedTLS binary was re-linked by hand from the static build's objects
(same Swift code; the two variants differ only in linker settings).")

## Size

| binary | stripped | needs at run time |
|---|---:|---|
| mqtt-demo, static mbedTLS | $(kb "$(file_size "$OUT/mqtt-demo-static.stripped")") | libc |
| mqtt-demo, dynamic mbedTLS | $(kb "$(file_size "$OUT/mqtt-demo-dynamic.stripped")") | libc + libmbedtls/x509/crypto .so ($(kb "$mbed_so")) |
| mosquitto_pub (Debian) | $(kb "$(file_size "$OUT/mosquitto_pub.stripped")") | libc + libmosquitto.so ($(kb "$mosq_so")) + OpenSSL 3 libssl/libcrypto ($(mb $((ossl_so / 1024)))) |

\`.text\` of TinyHub's own code (\`size -A\` on the module objects in \`.build-embedded-static\`; Embedded Swift
objects include the stdlib code each module specialises):

| module | .text |
|---|---:|
EOF
total=0
for m in TinyBytes TinyPlatform TinyMQTT TinyTLS TinyHub; do t=$(module_text "$m"); total=$((total + t)); echo "| $m | $(kb "$t") |"; done
t=$(module_text CTinyPlatform); total=$((total + t)); echo "| CTinyPlatform (C shim) | $(kb "$t") |"
echo "| **all modules** | **$(kb "$total")** |"
echo "| mqtt-demo (example) | $(kb "$(module_text mqtt_demo)") |"
cat <<EOF

Linked \`mqtt-demo\` (static mbedTLS; map of a re-link of SwiftPM's objects): .text from TinyHub's objects
(TinyBytes, TinyPlatform, TinyMQTT, TinyHTTP, TinyTLS, C shim, the example) **$(kb "$map_tinyhub")**, from mbedTLS $(kb "$map_mbedtls"),
other (crt, libc_nonshared) $(kb "$map_other"). mqtt-demo does not use the TinyHub (IoT Hub) module.
Reference (issue 10, quoted): coreMQTT v2.3.1 + Azure SDK for Embedded C 1.5.0, 11,871 B .text on x86-64 (coreMQTT 8,654 +
Azure SDK 3,217; MQTT + hub layer, no TLS, no sockets); see the telemetry section below for the like-with-like comparison.

The same binary by sized function symbols (\`nm -S\`; the map total above also counts unsized
local code and alignment):

| owner | .text |
|---|---:|
$(cat "$OUT/symbols.md")

## Memory of one session

| | heap peak (massif) | peak RSS (time -v) |
|---|---:|---:|
| mqtt-demo --count 1, static mbedTLS | $(kb "$heap_demo") ($heap_demo B) | $(mb "$rss_demo") |
| mqtt-demo --count 1, dynamic mbedTLS | (same code) | $(mb "$rss_demo_dyn") |
| mqtt-demo --count 1, fully static, glibc (\`scripts/build/static.sh\`) | (same code) | $(mb "$rss_glibc_static") |
| mqtt-demo --count 1, fully static, musl (\`scripts/build/static.sh --musl\`, experiment) | (same code) | $rss_musl_static |
| mosquitto_pub -q 1, one message | $(kb "$heap_pub") ($heap_pub B) | $(mb "$rss_pub") |
| C reference (issue 10): coreMQTT + Azure SDK for Embedded C, Debian mbedTLS, one telemetry session | 48,003 B (+ 5,856 B .bss) | – |
| C reference: mosquitto_pub | 411 KB | 6.9 MB |

Heap peak counts everything the process allocates (libc resolver included); see docs/memory.md for where
TinyHub's bytes go and the enforced budget.

## 10,000 sequential QoS 1 messages (median of $RUNS)

| client | what it does | wall | msgs/s | client CPU (user+sys) |
|---|---|---:|---:|---:|
| mqtt-demo --count $N | publishes $N QoS 1 (window 16), **and** is subscribed to its topic: receives all $N back (QoS 1, acks them) | ${demo_wall} s | $(rate "$demo_wall") | ${demo_cpu} s |
| mosquitto_pub -q 1 -l | publishes $N lines as QoS 1 (max in-flight 20), nothing received | ${pub_wall} s | $(rate "$pub_wall") | ${pub_cpu} s |
| C reference (issue 10): coreMQTT + Azure SDK for Embedded C | 10,000 QoS 1 telemetry publishes over TLS, window 8 | 0.331 s | – | 0.143 s |

Each figure includes process start, TCP + TLS handshake and disconnect. mqtt-demo does twice the
protocol work of a pure publisher (every message also comes back and is acknowledged); there is no
publish-only mode in the example, so this is measured as it exists. Raw runs (wall, CPU):
demo $(tr '\n' ';' <"$OUT/demo.times" | sed 's/;$//; s/;/; /g'), mosquitto_pub $(tr '\n' ';' <"$OUT/pub.times" | sed 's/;$//; s/;/; /g').

## Instructions per message (callgrind)

Marginal cost: \`mqtt-demo --count 1100\` minus \`--count 100\`, divided by 1,000 (handshake and start-up
cancel out); dynamic-mbedTLS build so each instruction is attributed to the shared object it ran in
(self cost, i.e. \`callgrind_annotate --inclusive=no\` grouped by object). One "message" = publish + PUBACK
in + the same message received back + PUBACK out.

| where | instructions / message |
|---|---:|
| TinyHub (Swift session, codec, transport + C shim, the example) | $ipm_t |
| mbedTLS (AES-GCM records, 4 TLS records per message) | $ipm_m |
| libc (send/recv/poll wrappers, memcpy) | $ipm_c |
| other (ld.so) | $ipm_o |
| **total** | **$ipm_total** |
| C reference (issue 10): coreMQTT + Azure SDK, outside mbedTLS, publish only (QoS 1 / QoS 0) | 2,426 / 1,286 |

Hottest TinyHub functions per message (self instructions, same difference of runs):

| function (mangled, shortened) | instructions / message |
|---|---:|
$(cat "$OUT/hot.md")

One session's fixed cost (start-up, TLS handshake, subscribe, disconnect): about $(awk -v n="$session_total" 'BEGIN {printf "%.1f", n / 1e6}') M instructions.
EOF
# Hand-written analysis below the marker in the previous docs/benchmarks.md is kept.
if [ -n "$KEEP" ]; then printf '\n%s\n' "$KEEP"; fi
} >"$DOC"
cat "$DOC"
