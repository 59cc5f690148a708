#!/usr/bin/env bash
# Builds and runs Tests/ConsumerPackage, which depends on TinyHub by path and uses every library
# product. First checks that each ```swift block of README.md is preceded by a
# `<!-- snippet: PATH … -->` line and is, byte for byte, the file PATH of the consumer package,
# so the README's code is code that compiles. Then runs the consumer (no network needed) and
# checks its output lines.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$TINYHUB_ROOT"

# --- README snippets == consumer sources -------------------------------------------------------
fences=$(grep -c '^```swift$' README.md || true)
snippets=$(grep -c '^<!-- snippet: ' README.md || true)
[ "$fences" -gt 0 ] || { echo "README.md has no swift snippet" >&2; exit 1; }
[ "$fences" -eq "$snippets" ] \
  || { echo "README.md: $fences swift blocks but $snippets snippet markers: mark each block with <!-- snippet: PATH -->" >&2; exit 1; }
make_temp_dir tmp consumer
# Writes the block after marker N (1-based) to $tmp/N and prints its PATH.
extract() {
  awk -v want="$1" -v out="$tmp/$1" '
    /^<!-- snippet: / { n++; if (n == want) { path = $3; getline; if ($0 != "```swift") exit 2; grab = 1; next } }
    grab && /^```$/ { grab = 0; print path; exit }
    grab { print > out }
  ' README.md
}
for n in $(seq 1 "$snippets"); do
  path=$(extract "$n") || { echo "README.md: snippet marker $n is not followed by a \`\`\`swift block" >&2; exit 1; }
  [ -n "$path" ] && [ -f "$path" ] || { echo "README.md: snippet $n names a missing file '$path'" >&2; exit 1; }
  case "$path" in Tests/ConsumerPackage/Sources/*) ;; *) echo "README.md: snippet $n is not a consumer source: $path" >&2; exit 1;; esac
  diff -u "$path" "$tmp/$n" >&2 || { echo "README.md snippet $n differs from $path (diff above: - file, + README)" >&2; exit 1; }
  echo "README snippet $n is $path ($(wc -l <"$path") lines)"
done

# --- build and run -----------------------------------------------------------------------------
cd Tests/ConsumerPackage
swift build -c release --scratch-path ../../.build-consumer >/tmp/tinyhub-consumer.log 2>&1 \
  || { cat /tmp/tinyhub-consumer.log; echo "consumer package failed to build" >&2; exit 1; }
if grep -q "warning:" /tmp/tinyhub-consumer.log; then grep "warning:" /tmp/tinyhub-consumer.log | sort -u >&2; fi
out=$(../../.build-consumer/release/Consumer) || { echo "$out"; echo "consumer exited non-zero" >&2; exit 1; }
echo "$out"
# Expected lines, from the specs rather than the code: CONNECT for client id "consumer" is
# 2 (fixed header) + 10 (variable header) + 2 + 8 (client id) = 22 bytes; the GET is
# "GET <path> HTTP/1.1\r\nHost: <host>\r\n\r\n" = 119 bytes for this path and host.
expected="CONNECT bytes: 22
TLS client ready
hub client ready: consumer-device at consumer.azure-devices.net, SAS token signed, not connected
connection string without DeviceId refused
HTTP request bytes: 119
HTTP status: 204"
[ "$out" = "$expected" ] || { diff <(echo "$expected") <(echo "$out") >&2; echo "consumer output differs (diff above: < expected, > got)" >&2; exit 1; }
echo "consumer package: README snippets compiled, $(wc -l <<<"$out") checks passed"
