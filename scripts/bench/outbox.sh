#!/usr/bin/env bash
# What the crash-proof telemetry outbox (hub-telemetry's IOTHUB_OUTBOX_FILE) adds: code, heap, time.
# Prints a table for docs/benchmarks.md ("Crash-proof outbox"); raw logs in .build-bench-outbox/.
#   1. Code: hub-telemetry built as Embedded Swift -Osize with static mbedTLS (build_embedded of
#      scripts/lib, as scripts/build/embedded.sh builds it) twice: as it is, and from a copy of the package whose
#      hub-telemetry has no outbox path (HubTelemetry+Outbox.swift and ExampleOutbox.swift left out, the IOTHUB_OUTBOX_FILE
#      branch of HubTelemetry.swift removed), so --gc-sections drops every byte of the outbox.
#      `size -A` of both binaries (.text, .rodata, .data, .bss) and their stripped sizes; `size -A` of
#      the outbox's own objects (TinyHub Outbox/*.o and CRC32.o, TinyPlatform StorageFile.o).
#   2. Heap: valgrind massif (peak, as scripts/bench/mqtt-demo.sh measures it) of hub-telemetry --count 20 against
#      the local stand-in (scripts/standin/hub.sh), without and with IOTHUB_OUTBOX_FILE (a fresh store of
#      the default 65,536 bytes), the same binary.
#   3. Time: --count 500 without and with the outbox (one fdatasync per message), median of 3 (a figure
#      for this machine's disk, not a test).
# Usage: flock /tmp/swiftbuild.lock scripts/bench/outbox.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$TINYHUB_ROOT"
ROOT=$PWD
OUT=$ROOT/.build-bench-outbox

# ---- 1. code --------------------------------------------------------------------------------------
feature_with "$OUT" no-outbox
rm "$COPY/Examples/hub-telemetry/HubTelemetry+Outbox.swift" "$COPY/Examples/hub-telemetry/ExampleOutbox.swift"
python3 - "$COPY/Examples/hub-telemetry/HubTelemetry.swift" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
# The settings and their usage checks, then the branch that sends through the outbox.
text, n1 = re.subn(r"\n        let store = ExampleOutbox\.read\(\)\n.*?(?=\n        let environment = )", "", text, flags=re.S)
text, n2 = re.subn(r"            if let store \{\n.*?\n            \} else \{\n(.*?)\n            \}\n", r"\1\n", text, flags=re.S)
assert n1 == 1 and n2 == 1, "bench/outbox.sh: HubTelemetry.swift changed; update the patch"
open(path, "w").write(text)
PY
feature_without "$OUT" no-outbox
OBJ=$ROOT/.build-embedded-static/x86_64-unknown-linux-gnu/release
objects=$(ls "$OBJ"/TinyHub.build/Outbox*.o "$OBJ"/TinyHub.build/TelemetryOutbox*.o "$OBJ"/TinyHub.build/CRC32*.o \
  "$OBJ"/TinyPlatform.build/StorageFile*.o 2>/dev/null | sort -u)
# shellcheck disable=SC2086  # one object a word
objects_text=$(objects_text_size $objects)

size_comparison "hub-telemetry (Embedded -Osize, static mbedTLS)" "without outbox" "with outbox" "$WITHOUT" "$WITH" "$OUT"
echo
echo "outbox objects (.text, size -A, before linking): $objects_text bytes in $(echo "$objects" | wc -w) objects"

# ---- 2. heap and 3. time against the local stand-in -------------------------------------------------
source scripts/standin/hub.sh
at_exit stop_hub
STORE=$OUT/outbox.bin
rm -f "$STORE"
env "${HUB_ENV[@]}" "${MASSIF[@]}" --massif-out-file="$OUT/massif-plain.out" "$WITH" --count 20 >"$OUT/massif-plain.log" 2>&1
env "${HUB_ENV[@]}" IOTHUB_OUTBOX_FILE="$STORE" "${MASSIF[@]}" --massif-out-file="$OUT/massif-outbox.out" \
  "$WITH" --count 20 >"$OUT/massif-outbox.log" 2>&1
grep -q "sent and acknowledged: 20" "$OUT/massif-plain.log" && grep -q "sent and acknowledged: 20" "$OUT/massif-outbox.log" \
  || { cat "$OUT"/massif-*.log; echo "bench/outbox.sh: a massif run failed" >&2; exit 1; }
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
  printf '%s\n' "${runs[@]}" | median
}
plain=$(wall "$WITH" --count 500)
rm -f "$STORE"
boxed=$(wall IOTHUB_OUTBOX_FILE="$STORE" "$WITH" --count 500)
echo
echo "| hub-telemetry --count 500 (median of 3) | wall |"
echo "|---|---:|"
printf '| without IOTHUB_OUTBOX_FILE | %.2f s |\n' "$plain"
printf '| with IOTHUB_OUTBOX_FILE (fdatasync per message, %s) | %.2f s |\n' "$(df -T "$OUT" | awk 'NR == 2 {print $2}')" "$boxed"
