#!/usr/bin/env bash
# What the crash-proof telemetry outbox (hub-telemetry's IOTHUB_OUTBOX_FILE) adds: code, heap, time.
# Prints a table for docs/benchmarks.md ("Crash-proof outbox"); raw logs in .build-bench-outbox/.
#   1. Code: hub-telemetry built as Embedded Swift -Osize with static mbedTLS (scripts/embedded-flags.sh,
#      as scripts/build-embedded.sh builds it) twice: as it is, and from a copy of the package whose
#      hub-telemetry has no outbox path (HubTelemetry+Outbox.swift and ExampleOutbox.swift left out, the IOTHUB_OUTBOX_FILE
#      branch of HubTelemetry.swift removed), so --gc-sections drops every byte of the outbox.
#      `size -A` of both binaries (.text, .rodata, .data, .bss) and their stripped sizes; `size -A` of
#      the outbox's own objects (TinyHub Outbox/*.o and CRC32.o, TinyPlatform StorageFile.o).
#   2. Heap: valgrind massif (peak, as scripts/bench.sh measures it) of hub-telemetry --count 20 against
#      the local stand-in (scripts/local-hub.sh), without and with IOTHUB_OUTBOX_FILE (a fresh store of
#      the default 65,536 bytes), the same binary.
#   3. Time: --count 500 without and with the outbox (one fdatasync per message), median of 3 (a figure
#      for this machine's disk, not a test).
# Usage: flock /tmp/swiftbuild.lock scripts/bench-outbox.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/.build-bench-outbox
mkdir -p "$OUT"
source scripts/embedded-flags.sh

build() { # <package dir> <scratch>
  (cd "$1" && TINYHUB_EMBEDDED=1 swift build -c release --scratch-path "$2" --traits StaticMbedTLS "${EMBEDDED_FLAGS[@]}" \
    --product hub-telemetry >"$OUT/build-$(basename "$2").log" 2>&1) || { cat "$OUT/build-$(basename "$2").log"; exit 1; }
}

# ---- 1. code --------------------------------------------------------------------------------------
build "$ROOT" "$ROOT/.build-embedded-static"
WITH=$ROOT/.build-embedded-static/release/hub-telemetry
COPY=$OUT/no-outbox
rm -rf "$COPY"; mkdir -p "$COPY"
cp -r Package.swift Sources Examples Tests "$COPY/"
rm "$COPY/Examples/hub-telemetry/HubTelemetry+Outbox.swift" "$COPY/Examples/hub-telemetry/ExampleOutbox.swift"
python3 - "$COPY/Examples/hub-telemetry/HubTelemetry.swift" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
# The settings and their usage checks, then the branch that sends through the outbox.
text, n1 = re.subn(r"\n        let store = ExampleOutbox\.read\(\)\n.*?(?=\n        let environment = )", "", text, flags=re.S)
text, n2 = re.subn(r"            if let store \{\n.*?\n            \} else \{\n(.*?)\n            \}\n", r"\1\n", text, flags=re.S)
assert n1 == 1 and n2 == 1, "bench-outbox: HubTelemetry.swift changed; update the patch"
open(path, "w").write(text)
PY
build "$COPY" "$OUT/.build-no-outbox"
WITHOUT=$OUT/.build-no-outbox/release/hub-telemetry
section() { size -A "$1" | awk -v s="$2" '$1 == s {print $2 + 0; f = 1} END {if (!f) print 0}'; }
text_of() { size -A "$1" | awk '$1 ~ /^\.text/ {s += $2} END {print s + 0}'; }
strip -o "$OUT/with.stripped" "$WITH"
strip -o "$OUT/without.stripped" "$WITHOUT"
OBJ=$ROOT/.build-embedded-static/x86_64-unknown-linux-gnu/release
objects=$(ls "$OBJ"/TinyHub.build/Outbox*.o "$OBJ"/TinyHub.build/TelemetryOutbox*.o "$OBJ"/TinyHub.build/CRC32*.o \
  "$OBJ"/TinyPlatform.build/StorageFile*.o 2>/dev/null | sort -u)
objects_text=0
for o in $objects; do objects_text=$((objects_text + $(text_of "$o"))); done

echo "| hub-telemetry (Embedded -Osize, static mbedTLS) | without outbox | with outbox | added |"
echo "|---|---:|---:|---:|"
for s in .text .rodata .data .bss; do
  a=$(section "$WITHOUT" "$s"); b=$(section "$WITH" "$s")
  echo "| \`size -A\` $s | $a | $b | $((b - a)) |"
done
a=$(stat -c %s "$OUT/without.stripped"); b=$(stat -c %s "$OUT/with.stripped")
echo "| stripped file | $a | $b | $((b - a)) |"
echo
echo "outbox objects (.text, size -A, before linking): $objects_text bytes in $(echo "$objects" | wc -w) objects"

# ---- 2. heap and 3. time against the local stand-in -------------------------------------------------
source scripts/local-hub.sh
trap stop_hub EXIT
massif_peak() { grep '^mem_heap_B=' "$1" | cut -d= -f2 | sort -n | tail -n 1; }
STORE=$OUT/outbox.bin
rm -f "$STORE"
env "${HUB_ENV[@]}" valgrind --tool=massif --pages-as-heap=no --peak-inaccuracy=0 --massif-out-file="$OUT/massif-plain.out" \
  "$WITH" --count 20 >"$OUT/massif-plain.log" 2>&1
env "${HUB_ENV[@]}" IOTHUB_OUTBOX_FILE="$STORE" valgrind --tool=massif --pages-as-heap=no --peak-inaccuracy=0 \
  --massif-out-file="$OUT/massif-outbox.out" "$WITH" --count 20 >"$OUT/massif-outbox.log" 2>&1
grep -q "sent and acknowledged: 20" "$OUT/massif-plain.log" && grep -q "sent and acknowledged: 20" "$OUT/massif-outbox.log" \
  || { cat "$OUT"/massif-*.log; echo "bench-outbox: a massif run failed" >&2; exit 1; }
a=$(massif_peak "$OUT/massif-plain.out"); b=$(massif_peak "$OUT/massif-outbox.out")
echo
echo "| hub-telemetry --count 20 | heap peak (massif) |"
echo "|---|---:|"
echo "| without IOTHUB_OUTBOX_FILE | $a B |"
echo "| with IOTHUB_OUTBOX_FILE (65,536-byte store) | $b B (+$((b - a)) B) |"

wall() { # prints seconds of the median of 3 runs
  local runs=()
  for _ in 1 2 3; do
    local t0; t0=$(date +%s.%N)
    env "${HUB_ENV[@]}" "$@" >/dev/null 2>&1
    runs+=("$(echo "$(date +%s.%N) - $t0" | bc)")
  done
  printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p
}
plain=$(wall "$WITH" --count 500)
rm -f "$STORE"
boxed=$(wall IOTHUB_OUTBOX_FILE="$STORE" "$WITH" --count 500)
echo
echo "| hub-telemetry --count 500 (median of 3) | wall |"
echo "|---|---:|"
printf '| without IOTHUB_OUTBOX_FILE | %.2f s |\n' "$plain"
printf '| with IOTHUB_OUTBOX_FILE (fdatasync per message, %s) | %.2f s |\n' "$(df -T "$OUT" | awk 'NR == 2 {print $2}')" "$boxed"
