#!/usr/bin/env bash
# Builds and runs Tests/ConsumerPackage, which depends on TinyHub by path.
set -euo pipefail
cd "$(dirname "$0")/../Tests/ConsumerPackage"
swift build -c release --scratch-path ../../.build-consumer >/tmp/tinyhub-consumer.log 2>&1 \
  || { cat /tmp/tinyhub-consumer.log; echo "consumer package failed to build" >&2; exit 1; }
out=$(../../.build-consumer/release/Consumer)
echo "$out"
grep -q "^CONNECT bytes: 22$" <<<"$out" && grep -q "^TLS client ready$" <<<"$out"
