#!/usr/bin/env bash
# The 1 MB device profile (docs/device-profile.md): hub-minimal and hub-telemetry as Embedded
# Swift, linked fully static against musl with an mbedTLS 2.28 built from Debian's own source
# package under TinyHub's configuration (scripts/build/device-profile/mbedtls_config.h), and a heap
# budget allocator linked in (scripts/build/device-profile/budget_alloc.c).
#
#   scripts/build/device-profile.sh           build, run both programs against the local stand-in
#                                             (scripts/standin/hub.sh), report sizes, heap and RSS
#   scripts/build/device-profile.sh --sweep   build, then run hub-minimal at every heap budget from 0 to
#                                             4,096 bytes and every 256 bytes up to its peak (hub-telemetry
#                                             every 512 bytes): each must complete or exit 1 with one
#                                             "out of memory" line; run by scripts/check/memory-harness.sh
#
# Steps (a second run skips what is already there):
#   1. musl-tools (musl-gcc), installed if missing.
#   2. mbedTLS: a temporary deb-src entry for this Debian release, `apt-get source mbedtls` (the
#      package behind libmbedtls-dev: 2.28.3 on bookworm), the entry removed and apt's lists
#      refreshed; the configuration header replaces include/mbedtls/config.h and the three
#      libraries are built with musl-gcc -Os and one section per function. The archives and
#      headers are cached in .build-device-profile/mbedtls-<hash of the header>/ (~1 min once).
#   3. The Swift objects: TINYHUB_EMBEDDED=1 swift build -c release -Osize (build_embedded of scripts/lib)
#      against those headers (-Xcc -I), so both sides agree on mbedTLS's struct layouts, into
#      .build-device-profile/swift.
#   4. Per program: the C shim compiled with musl-gcc (scripts/build/device-profile/entry.c adds the
#      main() musl needs), linked `musl-gcc -static --gc-sections` with
#      --wrap=malloc,calloc,realloc,free,posix_memalign,aligned_alloc,memalign; no glibc object
#      and no compatibility shim is linked (checked). Output: .build-device-profile/bin/<program>
# Logs and the report: .build-device-profile/
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$TINYHUB_ROOT"
mode=run
case "${1:-}" in
  "") ;;
  --sweep) mode=sweep ;;
  *) echo "usage: scripts/build/device-profile.sh [--sweep]" >&2; exit 2 ;;
esac
ROOT=$PWD
OUT=$ROOT/.build-device-profile
DP=$ROOT/scripts/build/device-profile
PROGRAMS=(hub-minimal hub-telemetry)
mkdir -p "$OUT/bin"
start=$SECONDS

# --- 1. musl-gcc ------------------------------------------------------------------------------
install_packages musl-tools

# Every C object: size-optimised, one section per function and per object (--gc-sections drops
# what nothing reaches), no unwind tables (.eh_frame: nothing in the program unwinds; Embedded
# Swift emits none, musl is built without; mbedTLS's were 17.9 KB of hub-minimal).
C_FLAGS="-Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables"

# --- 2. mbedTLS from Debian's source package, built with musl-gcc ---------------------------
MBED_CFLAGS=$C_FLAGS
key=$( { cat "$DP/mbedtls_config.h"; echo "$MBED_CFLAGS"; musl-gcc --version | head -n 1; } | sha256sum | cut -c1-16)
MBED=$OUT/mbedtls-$key
if [ ! -f "$MBED/lib/libmbedcrypto.a" ]; then
  echo "-- building mbedTLS from Debian's source package (configuration $key)"
  t0=$SECONDS
  src=$OUT/mbedtls-src
  rm -rf "$src" "$MBED"; mkdir -p "$src"
  suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
  fetch_source() { (cd "$src" && apt-get -o APT::Sandbox::User=root source mbedtls >"$src/apt-source.log" 2>&1); }
  with_apt_source tinyhub-device-profile-src.sources "$(printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg' "$suite")" \
    fetch_source || { cat "$src/apt-source.log"; echo "FAIL: apt-get source mbedtls" >&2; exit 1; }
  tree=$(find "$src" -mindepth 1 -maxdepth 1 -type d -name 'mbedtls-*' | head -n 1)
  version=${tree##*/mbedtls-}
  case "$version" in 2.28.*) ;; *) echo "FAIL: expected mbedTLS 2.28.x, got '$version'" >&2; exit 1 ;; esac
  cp "$DP/mbedtls_config.h" "$tree/include/mbedtls/config.h"
  make -C "$tree/library" -j2 CC=musl-gcc AR=ar CFLAGS="$MBED_CFLAGS" static >"$OUT/mbedtls-build.log" 2>&1 \
    || { tail -n 40 "$OUT/mbedtls-build.log"; echo "FAIL: mbedTLS build" >&2; exit 1; }
  mkdir -p "$MBED/lib"
  cp "$tree"/library/libmbed{tls,x509,crypto}.a "$MBED/lib/"
  cp -r "$tree/include" "$MBED/include"
  echo "$version" >"$MBED/version"
  rm -rf "$src"
  echo "mbedTLS $version built with musl-gcc in $((SECONDS - t0)) s"
fi
echo "mbedTLS $(cat "$MBED/version") (Debian source package, $DP/mbedtls_config.h): $MBED"

# --- 3. Embedded Swift objects against the profile's mbedTLS headers -----------------------
SCRATCH=$OUT/swift
for p in "${PROGRAMS[@]}"; do
  # -Xlinker -L: SwiftPM's own (glibc, dynamic) link of the program picks the profile's archives
  # too, so no binary in the scratch folder mixes two mbedTLS configurations.
  build_embedded static "$SCRATCH" "$OUT/swift-build-$p.log" -Xcc -I"$MBED/include" -Xlinker -L"$MBED/lib" --product "$p" \
    || { echo "FAIL: Embedded build of $p" >&2; exit 1; }
done

# --- 4. fully static musl links ------------------------------------------------------------
musl-gcc $C_FLAGS -Wall -Wextra -Werror -c "$DP/budget_alloc.c" -o "$OUT/budget_alloc.o"
WRAP=-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=posix_memalign,--wrap=aligned_alloc,--wrap=memalign
for p in "${PROGRAMS[@]}"; do
  entry=${p//-/_}_main
  musl-gcc $C_FLAGS -I"$ROOT/Sources/CTinyPlatform/include" -DTINYHUB_ENTRY="$entry" \
    -c "$DP/entry.c" -o "$OUT/$p-entry.o"
  # The SwiftPM object list without its (glibc-compiled) C shim.
  example_objects "$SCRATCH" "$p" | grep -v "/CTinyPlatform.build/" >"$OUT/$p.objects"
  musl-gcc -static -Wl,--gc-sections "$WRAP" -Wl,-Map,"$OUT/$p.map" -o "$OUT/bin/$p" \
    "$OUT/$p-entry.o" "$OUT/budget_alloc.o" $(cat "$OUT/$p.objects") \
    "$MBED/lib/libmbedtls.a" "$MBED/lib/libmbedx509.a" "$MBED/lib/libmbedcrypto.a" 2>"$OUT/link-$p.log" \
    || { cat "$OUT/link-$p.log"; echo "FAIL: static musl link of $p" >&2; exit 1; }
  stripped_size "$OUT/bin/$p" >/dev/null
  # Fully static, musl only: no program interpreter, no glibc symbol versions, no _FORTIFY_SOURCE
  # entry points (__memcpy_chk ...; musl's own __stack_chk_fail is fine).
  if readelf -l "$OUT/bin/$p" | grep -q INTERP || readelf -d "$OUT/bin/$p" 2>/dev/null | grep -q NEEDED; then
    echo "FAIL: $p is not fully static" >&2; exit 1
  fi
  if nm "$OUT/bin/$p" | grep -qE ' (__[a-z0-9_]+_chk|__libc_start_main@.*|gnu_get_libc_version)$'; then
    echo "FAIL: $p links glibc code or fortify shims" >&2; exit 1
  fi
done

# --- sweep: every budget ends cleanly --------------------------------------------------------
if [ "$mode" = sweep ]; then
  source scripts/standin/hub.sh
  at_exit stop_hub
  SWEEP=$OUT/sweep
  rm -rf "$SWEEP"; mkdir -p "$SWEEP"
  # sweep_run <program> <budget>: prints "<budget> ok|FAIL <detail>" (budget_outcome of scripts/lib).
  sweep_run() {
    local p=$1 b=$2 dir=$SWEEP/$1 rc
    # shellcheck disable=SC2086  # HUB_ENV_LINE: the stand-in's settings, none with a space
    timeout 60 env $HUB_ENV_LINE MALLOC_BUDGET_BYTES="$b" MALLOC_BUDGET_REPORT="$dir/$b.report" \
      "$OUT/bin/$p" --count 5 >"$dir/$b.out" 2>"$dir/$b.err"
    rc=$?
    budget_outcome "$b" "$rc" "$dir/$b.out" "^sent and acknowledged: 5$" "$dir/$b.err" "$dir/$b.report" 60
  }
  export -f sweep_run budget_outcome
  # The stand-in's settings for the runs, as one word list (an array does not survive into bash -c).
  HUB_ENV_LINE="${HUB_ENV[*]}"
  export HUB_ENV_LINE SWEEP OUT
  status=0
  for p in "${PROGRAMS[@]}"; do
    mkdir -p "$SWEEP/$p"
    env "${HUB_ENV[@]}" MALLOC_BUDGET_REPORT="$SWEEP/$p.peak" "$OUT/bin/$p" --count 5 >/dev/null 2>"$SWEEP/$p.peak.err" \
      || { cat "$SWEEP/$p.peak.err"; echo "FAIL: $p does not complete without a budget" >&2; exit 1; }
    peak=$(sed -n 's/.*peak=\([0-9]*\).*/\1/p' "$SWEEP/$p.peak")
    if [ "$p" = hub-minimal ]; then budgets=$( { seq 0 4096; seq 4352 256 $((peak + 256)); } ); else budgets=$(seq 0 512 $((peak + 512))); fi
    t0=$SECONDS
    # shellcheck disable=SC2016
    printf '%s\n' $budgets | xargs -P2 -n1 bash -c 'sweep_run "$0" "$1"' "$p" 2>/dev/null \
      | sort -n >"$SWEEP/$p.txt"
    runs=$(wc -l <"$SWEEP/$p.txt"); failures=$(grep -c ' FAIL ' "$SWEEP/$p.txt" || true)
    echo "$p: heap peak $peak bytes; $runs budgets in $((SECONDS - t0)) s: $(grep -c ' ok completed$' "$SWEEP/$p.txt" || true) completed," \
      "$(grep -c ' ok .*out of memory' "$SWEEP/$p.txt" || true) clean out-of-memory exits, $failures failures"
    sed -n 's/^[0-9]* ok //p' "$SWEEP/$p.txt" | sort | uniq -c | sort -rn | sed 's/^/  /'
    if [ "$runs" -ne "$(printf '%s\n' $budgets | wc -l)" ] || [ "$failures" -ne 0 ]; then
      echo "FAIL: $p: not every budget ended cleanly (logs: $SWEEP/$p/):" >&2
      grep ' FAIL ' "$SWEEP/$p.txt" | head -n 20 >&2
      status=1
    fi
  done
  [ "$status" -eq 0 ] && echo "device-profile sweep passed" || echo "device-profile sweep FAILED" >&2
  exit "$status"
fi

# --- run against the local stand-in, measure -------------------------------------------------
source scripts/standin/hub.sh
at_exit stop_hub
COUNT=20
# measure <program> <tag> args…: runs it under /usr/bin/time (peak RSS, KB) with the allocator's report.
measure() {
  local p=$1 tag=$2; shift 2
  # env outside time: the peak RSS a process reports (ru_maxrss) survives exec, so a glibc
  # `env` started by time would count its own pages for the program.
  env "${HUB_ENV[@]}" MALLOC_BUDGET_REPORT="$OUT/$tag.heap" /usr/bin/time -f '%M' -o "$OUT/$tag.rss" \
    "$OUT/bin/$p" "$@" >"$OUT/$tag.out" 2>"$OUT/$tag.err" \
    || { cat "$OUT/$tag.err"; echo "FAIL: $p $* against the local stand-in" >&2; exit 1; }
}
report=$OUT/report.txt
{
  printf '%-14s %10s %10s %8s %8s %10s %10s\n' program stripped text data bss "heap peak" "peak RSS"
  for p in "${PROGRAMS[@]}"; do
    measure "$p" "$p" --count "$COUNT"
    grep -q "^sent and acknowledged: $COUNT$" "$OUT/$p.out" || { cat "$OUT/$p.out" "$OUT/$p.err"; echo "FAIL: $p did not finish" >&2; exit 1; }
    read -r text data bss _ <<<"$(size "$OUT/bin/$p" | awk 'NR == 2 {print $1, $2, $3}')"
    heap=$(sed -n 's/.*peak=\([0-9]*\).*/\1/p' "$OUT/$p.heap")
    printf '%-14s %10d %10d %8d %8d %10d %7d KB\n' "$p" "$(file_size "$OUT/bin/$p.stripped")" "$text" "$data" "$bss" "$heap" "$(cat "$OUT/$p.rss")"
  done
} | tee "$report"

# Larger writes than the 4 KB record: a 10,000-byte message leaves as three records.
measure hub-minimal split --count 3 --size 10000
python3 - "$HUB_GATE_LOG" <<'PY' || { echo "FAIL: the 10,000-byte messages did not arrive whole" >&2; exit 1; }
import json, sys
sizes = [len(bytes.fromhex(e["payload_hex"])) for e in map(json.loads, open(sys.argv[1]))
         if e.get("event") == "publish" and e.get("accepted") and len(e.get("payload_hex", "")) > 2000]
assert sizes == [10000, 10000, 10000], sizes
PY
echo "hub-minimal --size 10000: 3 messages of 10,000 bytes through 4 KB records, received whole"

# Where the bytes go: the linker map split by input, and the largest symbols.
for p in "${PROGRAMS[@]}"; do
  python3 - "$OUT/$p.map" "$p" <<'PY' >>"$report"
import re, sys
sys.path.insert(0, "scripts/lib")
from linkmap_text import text_sections
groups = {"Swift (TinyHub modules, stdlib, the program)": 0, "C shim + allocator": 0, "mbedTLS": 0, "musl libc": 0, "other": 0}
for path, n in text_sections(sys.argv[1]):
    if "libmbed" in path: groups["mbedTLS"] += n
    elif path.endswith(("-entry.o", "budget_alloc.o")): groups["C shim + allocator"] += n
    elif "/musl/" in path or "libc.a" in path or "crt1.o" in path or "crti.o" in path: groups["musl libc"] += n
    elif "/swift/" in path: groups["Swift (TinyHub modules, stdlib, the program)"] += n
    else: groups["other"] += n
print(f"-- {sys.argv[2]}: .text by input (linker map)")
for k, v in groups.items(): print(f"  {k:46s} {v:8d}")
PY
  { echo "-- $p: largest symbols"; nm -S --size-sort "$OUT/bin/$p" | tail -n 12 | while read -r _ n _ name; do printf '  %8d %s\n' "$((16#$n))" "$name"; done; } >>"$report"
done
sed -n '/^--/,$p' "$report"
echo "device profile: built and run in $((SECONDS - start)) s (report: $report)"
