#!/usr/bin/env bash
# The 1 MB device profile (docs/device-profile.md): hub-minimal and hub-telemetry as Embedded
# Swift, linked fully static against musl with an mbedTLS 2.28 built from Debian's own source
# package under TinyHub's configuration (scripts/device-profile/mbedtls_config.h), and a heap
# budget allocator linked in (scripts/device-profile/budget_alloc.c).
#
#   scripts/device-profile.sh           build, run both programs against the local stand-in
#                                       (scripts/local-hub.sh), report sizes, heap and RSS
#   scripts/device-profile.sh --sweep   build, then run hub-minimal at every heap budget from 0 to
#                                       4,096 bytes and every 256 bytes up to its peak (hub-telemetry
#                                       every 512 bytes): each must complete or exit 1 with one
#                                       "out of memory" line; run by scripts/memory-harness.sh
#
# Steps (a second run skips what is already there):
#   1. musl-tools (musl-gcc), installed if missing.
#   2. mbedTLS: a temporary deb-src entry for this Debian release, `apt-get source mbedtls` (the
#      package behind libmbedtls-dev: 2.28.3 on bookworm), the entry removed and apt's lists
#      refreshed; the configuration header replaces include/mbedtls/config.h and the three
#      libraries are built with musl-gcc -Os and one section per function. The archives and
#      headers are cached in .build-device-profile/mbedtls-<hash of the header>/ (~1 min once).
#   3. The Swift objects: TINYHUB_EMBEDDED=1 swift build -c release -Osize (scripts/embedded-flags.sh)
#      against those headers (-Xcc -I), so both sides agree on mbedTLS's struct layouts, into
#      .build-device-profile/swift.
#   4. Per program: the C shim compiled with musl-gcc (scripts/device-profile/entry.c adds the
#      main() musl needs), linked `musl-gcc -static --gc-sections` with
#      --wrap=malloc,calloc,realloc,free,posix_memalign,aligned_alloc,memalign; no glibc object
#      and no compatibility shim is linked (checked). Output: .build-device-profile/bin/<program>
# Logs and the report: .build-device-profile/
set -euo pipefail
cd "$(dirname "$0")/.."
mode=run
case "${1:-}" in
  "") ;;
  --sweep) mode=sweep ;;
  *) echo "usage: scripts/device-profile.sh [--sweep]" >&2; exit 2 ;;
esac
ROOT=$PWD
OUT=$ROOT/.build-device-profile
DP=$ROOT/scripts/device-profile
PROGRAMS=(hub-minimal hub-telemetry)
mkdir -p "$OUT/bin"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
start=$SECONDS

# --- 1. musl-gcc ------------------------------------------------------------------------------
if ! command -v musl-gcc >/dev/null; then
  echo "-- installing musl-tools"
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq musl-tools >/dev/null
fi

# --- 2. mbedTLS from Debian's source package, built with musl-gcc ---------------------------
MBED_CFLAGS="-Os -ffunction-sections -fdata-sections"
key=$( { cat "$DP/mbedtls_config.h"; echo "$MBED_CFLAGS"; musl-gcc --version | head -n 1; } | sha256sum | cut -c1-16)
MBED=$OUT/mbedtls-$key
if [ ! -f "$MBED/lib/libmbedcrypto.a" ]; then
  echo "-- building mbedTLS from Debian's source package (configuration $key)"
  t0=$SECONDS
  src=$OUT/mbedtls-src
  rm -rf "$src" "$MBED"; mkdir -p "$src"
  list=/etc/apt/sources.list.d/tinyhub-device-profile-src.sources
  suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
  cleanup_list() {
    if [ -f "$list" ]; then $SUDO rm -f "$list"; $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq || true; fi
  }
  trap cleanup_list EXIT
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$suite" | $SUDO tee "$list" >/dev/null
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  (cd "$src" && apt-get -o APT::Sandbox::User=root source mbedtls >"$src/apt-source.log" 2>&1) \
    || { cat "$src/apt-source.log"; echo "FAIL: apt-get source mbedtls" >&2; exit 1; }
  cleanup_list
  trap - EXIT
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
source scripts/embedded-flags.sh
SCRATCH=$OUT/swift
for p in "${PROGRAMS[@]}"; do
  # -Xlinker -L: SwiftPM's own (glibc, dynamic) link of the program picks the profile's archives
  # too, so no binary in the scratch folder mixes two mbedTLS configurations.
  TINYHUB_EMBEDDED=1 swift build -c release --scratch-path "$SCRATCH" --traits StaticMbedTLS "${EMBEDDED_FLAGS[@]}" \
    -Xcc -I"$MBED/include" -Xlinker -L"$MBED/lib" --product "$p" >"$OUT/swift-build-$p.log" 2>&1 \
    || { tail -n 60 "$OUT/swift-build-$p.log"; echo "FAIL: Embedded build of $p" >&2; exit 1; }
done
OBJ=$SCRATCH/x86_64-unknown-linux-gnu/release

# --- 4. fully static musl links ------------------------------------------------------------
musl-gcc -Os -Wall -Wextra -Werror -ffunction-sections -fdata-sections -c "$DP/budget_alloc.c" -o "$OUT/budget_alloc.o"
WRAP=-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=posix_memalign,--wrap=aligned_alloc,--wrap=memalign
for p in "${PROGRAMS[@]}"; do
  entry=${p//-/_}_main
  musl-gcc -Os -ffunction-sections -fdata-sections -I"$ROOT/Sources/CTinyPlatform/include" -DTINYHUB_ENTRY="$entry" \
    -c "$DP/entry.c" -o "$OUT/$p-entry.o"
  # The SwiftPM object list without its (glibc-compiled) C shim.
  grep -v "/CTinyPlatform.build/" "$OBJ/$p.product/Objects.LinkFileList" >"$OUT/$p.objects"
  musl-gcc -static -Wl,--gc-sections "$WRAP" -Wl,-Map,"$OUT/$p.map" -o "$OUT/bin/$p" \
    "$OUT/$p-entry.o" "$OUT/budget_alloc.o" $(cat "$OUT/$p.objects") \
    "$MBED/lib/libmbedtls.a" "$MBED/lib/libmbedx509.a" "$MBED/lib/libmbedcrypto.a" 2>"$OUT/link-$p.log" \
    || { cat "$OUT/link-$p.log"; echo "FAIL: static musl link of $p" >&2; exit 1; }
  strip -o "$OUT/bin/$p.stripped" "$OUT/bin/$p"
  # Fully static, musl only: no program interpreter, no glibc symbol versions, no _FORTIFY_SOURCE
  # entry points (__memcpy_chk ...; musl's own __stack_chk_fail is fine).
  if readelf -l "$OUT/bin/$p" | grep -q INTERP || readelf -d "$OUT/bin/$p" 2>/dev/null | grep -q NEEDED; then
    echo "FAIL: $p is not fully static" >&2; exit 1
  fi
  if nm "$OUT/bin/$p" | grep -qE ' (__[a-z0-9_]+_chk|__libc_start_main@.*|gnu_get_libc_version)$'; then
    echo "FAIL: $p links glibc code or fortify shims" >&2; exit 1
  fi
done

bytes() { stat -c %s "$1"; }
kb() { awk -v b="$1" 'BEGIN {printf "%.1f KB", b / 1024}'; }

# --- sweep: every budget ends cleanly --------------------------------------------------------
if [ "$mode" = sweep ]; then
  source scripts/local-hub.sh
  trap stop_hub EXIT
  SWEEP=$OUT/sweep
  rm -rf "$SWEEP"; mkdir -p "$SWEEP"
  # sweep_run <program> <budget>: prints "<budget> ok|FAIL <detail>". Allowed: completes (exit 0 and
  # its summary line), or exit 1 with a report from the allocator (exit() ran), at least one refused
  # allocation and exactly one stderr line saying "out of memory".
  sweep_run() {
    local p=$1 b=$2 dir=$SWEEP/$1 rc report lines last
    # shellcheck disable=SC2086  # HUB_ENV_LINE: the stand-in's settings, none with a space
    timeout 60 env $HUB_ENV_LINE MALLOC_BUDGET_BYTES="$b" MALLOC_BUDGET_REPORT="$dir/$b.report" \
      "$OUT/bin/$p" --count 5 >"$dir/$b.out" 2>"$dir/$b.err"
    rc=$?
    report=$(cat "$dir/$b.report" 2>/dev/null || true)
    lines=$(wc -l <"$dir/$b.err")
    last=$(tail -n 1 "$dir/$b.err")
    if [ "$rc" -eq 0 ] && grep -q "^sent and acknowledged: 5$" "$dir/$b.out"; then echo "$b ok completed"
    elif [ "$rc" -eq 124 ]; then echo "$b FAIL hung (timeout 60 s); last stderr line: $last"
    elif [ "$rc" -gt 128 ]; then echo "$b FAIL killed by signal $((rc - 128)); last stderr line: $last"
    elif [ "$rc" -ne 1 ]; then echo "$b FAIL exit $rc: $last"
    elif [ -z "$report" ]; then echo "$b FAIL exit 1 without the allocator's report (exit() did not run)"
    elif ! grep -q 'out of memory' <<<"$last"; then echo "$b FAIL exit 1 without an out-of-memory message: $last"
    elif [ "$lines" -ne 1 ]; then echo "$b FAIL $lines stderr lines: $(tr '\n' '|' <"$dir/$b.err")"
    elif grep -q 'refused=0 ' <<<"$report"; then echo "$b FAIL out of memory reported, but nothing was refused"
    else echo "$b ok $last"; fi
  }
  export -f sweep_run
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
source scripts/local-hub.sh
trap stop_hub EXIT
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
    printf '%-14s %10d %10d %8d %8d %10d %7d KB\n' "$p" "$(bytes "$OUT/bin/$p.stripped")" "$text" "$data" "$bss" "$heap" "$(cat "$OUT/$p.rss")"
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
sys.path.insert(0, "scripts")
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
