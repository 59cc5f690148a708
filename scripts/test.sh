#!/usr/bin/env bash
# Runs every test: unit + integration tests (swift test, real mosquitto over real TLS),
# the Embedded -Osize builds of every target and example (static and dynamic mbedTLS),
# a consumer package that depends on TinyHub, the fuzz smoke, and the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

echo "== swift test"
swift test 2>&1 | tee /tmp/tinyhub-swift-test.log | grep -vE '^(\[[0-9]+/[0-9]+\]|✔ Test|◇ Test|Test Case .*(started|passed))' || true
grep -qE "Test run with [0-9]+ tests? in [0-9]+ suites? passed" /tmp/tinyhub-swift-test.log \
  || { echo "swift test failed" >&2; exit 1; }

echo "== Embedded Swift builds (-Osize)"
scripts/build-embedded.sh

echo "== consumer package"
scripts/check-consumer.sh

echo "== fuzz smoke"
FUZZ_SECONDS="${FUZZ_SECONDS:-60}" scripts/fuzz.sh

echo "== demo against a local TLS broker"
scripts/demo.sh

echo "== memory-limit harness (heap budget, clean out-of-memory, flat allocations)"; scripts/memory-harness.sh
echo "== ARM cross-builds (armv7, aarch64) + smoke test under qemu"; scripts/cross-arm.sh
echo "all checks passed"
