#!/usr/bin/env bash
# Builds every library target and every example as Embedded Swift with -Osize (EMBEDDED_FLAGS of
# scripts/lib/embedded.sh, shared by every script), once with static mbedTLS (device build) and once
# with the shared libraries. Any error fails it. Prints the stripped size of each example binary.
# Output: .build-embedded-static/release, .build-embedded-dynamic/release
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$TINYHUB_ROOT"
examples=$(sed -n 's/^ *example("\([a-z0-9-]*\)".*/\1/p' Package.swift)
for variant in static dynamic; do
  scratch=".build-embedded-$variant"
  mkdir -p "$scratch"
  build_embedded "$variant" "$scratch" "$scratch/build.log" \
    || { echo "Embedded build ($variant mbedTLS) failed" >&2; exit 1; }
  if grep -q "warning:" "$scratch/build.log"; then grep "warning:" "$scratch/build.log" | sort -u >&2; fi
  for e in $examples; do
    bin="$scratch/release/$e"
    [ -x "$bin" ] || { echo "missing example binary $bin" >&2; exit 1; }
    stripped=$(stripped_size "$bin")
    printf 'embedded %-8s mbedTLS  %-16s %8d bytes stripped\n' "$variant" "$e" "$stripped"
  done
done
