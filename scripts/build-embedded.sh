#!/usr/bin/env bash
# Builds every library target and every example as Embedded Swift with -Osize, once with
# static mbedTLS (device build) and once with the shared libraries. Any error fails it.
# Prints the stripped size of each example binary.
# Output: .build-embedded-static/release, .build-embedded-dynamic/release
set -euo pipefail
cd "$(dirname "$0")/.."
# One section per function (Swift and the C shim), so the linker's --gc-sections (SwiftPM passes
# it in release) drops every function the program does not reach: unused public API and stdlib
# specialisations. Linked mqtt-demo: TinyHub's share of .text 93.5 KB -> 46.0 KB. Measured and
# left out: -Xllvm -enable-merge-functions (no change: Swift already merges at -Osize) and gold
# --icf=all (-0.2 KB). The flags live in scripts/embedded-flags.sh, shared by every script.
source scripts/embedded-flags.sh
examples=$(sed -n 's/^ *example("\([a-z0-9-]*\)".*/\1/p' Package.swift)
for variant in static dynamic; do
  if [ "$variant" = static ]; then traits=StaticMbedTLS; else traits=DynamicMbedTLS; fi
  scratch=".build-embedded-$variant"
  mkdir -p "$scratch"
  TINYHUB_EMBEDDED=1 swift build -c release --scratch-path "$scratch" --traits "$traits" "${EMBEDDED_FLAGS[@]}" >"$scratch/build.log" 2>&1 \
    || { cat "$scratch/build.log"; echo "Embedded build ($variant mbedTLS) failed" >&2; exit 1; }
  if grep -q "warning:" "$scratch/build.log"; then grep "warning:" "$scratch/build.log" | sort -u >&2; fi
  for e in $examples; do
    bin="$scratch/release/$e"
    [ -x "$bin" ] || { echo "missing example binary $bin" >&2; exit 1; }
    strip -o "$bin.stripped" "$bin"
    printf 'embedded %-8s mbedTLS  %-16s %8d bytes stripped\n' "$variant" "$e" "$(stat -c %s "$bin.stripped")"
  done
done
