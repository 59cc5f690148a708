#!/usr/bin/env bash
# Runs every test: unit + integration tests (swift test, real mosquitto over real TLS),
# the normal-Swift example binaries against the local stand-in,
# the Embedded -Osize builds of every target and example (static and dynamic mbedTLS),
# the examples' CLI contract (scripts/check/cli-contract.sh),
# a consumer package that depends on TinyHub, the DocC documentation (scripts/build/docs.sh), the fuzz smoke, the demo, the memory-limit
# harness (with the device profile's budget sweep), the device profile (scripts/build/device-profile.sh) and the ARM cross-builds under qemu. Ends with "swift test: N passed, 0 failed".
# First installs the Debian packages it needs (install_deps).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$TINYHUB_ROOT"
install_deps

echo "== swift test"
swift test >/tmp/tinyhub-swift-test.log 2>&1 || { tail -n 200 /tmp/tinyhub-swift-test.log; echo "swift test failed" >&2; exit 1; }
# Suites, failures and Swift Testing's closing line (XCTest's "Executed 0 tests" is noise: every test
# here is a Swift Testing test).
grep -E '^(✔|✘) (Suite|Test run)|recorded an issue' /tmp/tinyhub-swift-test.log || true
tests=$(sed -nE 's/.*Test run with ([0-9]+) tests? in [0-9]+ suites? passed.*/\1/p' /tmp/tinyhub-swift-test.log | tail -n 1)
[ -n "$tests" ] && [ "$tests" -gt 0 ] || { echo "swift test ran no test" >&2; exit 1; }

echo "== normal-Swift example binaries (swift build) against the local stand-in"
# The default build's examples must run too (README "Builds"): a happy-path run of each hub
# example, over MQTT and HTTPS, from .build/debug.
swift build >/tmp/tinyhub-swift-build.log 2>&1 || { tail -n 100 /tmp/tinyhub-swift-build.log; echo "swift build failed" >&2; exit 1; }
CLI_CONTRACT_BIN=.build/debug scripts/check/cli-contract.sh -k test_messages_properties_and_ids \
  -k test_messages_printed_byte_for_byte -k test_messages_received_and_completed \
  -k test_report_is_one_patch -k test_echo_with_status_200

echo "== Embedded Swift builds (-Osize)"
scripts/build/embedded.sh

echo "== CLI contract (the examples' README contract, against the local stand-in)"
scripts/check/cli-contract.sh

echo "== consumer package"
scripts/check/consumer.sh

echo "== documentation (DocC)"; scripts/build/docs.sh   # docc --warnings-as-errors per module, coverage

echo "== fuzz smoke"
FUZZ_SECONDS="${FUZZ_SECONDS:-15}" scripts/check/fuzz.sh   # every Fuzz/ target, 15 s each; FUZZ_SECONDS=600 for a long run

echo "== demo against a local TLS broker"
scripts/demo.sh
scripts/demo.sh --dps   # the device named by the local DPS stand-in (individual, cached, group, X.509)
scripts/demo.sh --outbox   # hub-telemetry killed with messages unacknowledged, restarted over its IOTHUB_OUTBOX_FILE

echo "== memory-limit harness (heap budget, clean out-of-memory, flat allocations)"; scripts/check/memory-harness.sh
echo "== device profile (fully static musl, custom mbedTLS) against the local stand-in"; scripts/build/device-profile.sh
echo "== ARM cross-builds (armv7, aarch64) + smoke test under qemu"; scripts/build/cross-arm.sh
echo "all checks passed"
echo "swift test: $tests passed, 0 failed"
