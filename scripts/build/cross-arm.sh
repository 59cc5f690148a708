#!/usr/bin/env bash
# Cross-builds TinyHub for ARM Linux as Embedded Swift (-Osize, whole module) and runs a smoke
# test under qemu-user:
#   armv7 (armhf, Thumb-2, hard float; linked -static)  and  aarch64 (arm64; linked -static-pie)
# Steps (idempotent; a second run skips what is already there):
#   1. apt-get install crossbuild-essential-armhf crossbuild-essential-arm64 qemu-user
#   2. Debian's libmbedtls-dev for armhf/arm64: `apt-get download` through a temporary sources
#      entry `[arch=armhf,arm64 signed-by=…]` (no dpkg --add-architecture), the entry removed and
#      `apt-get update` run again, then `dpkg -x` into .build-cross/sysroot-<arch>
#   3. each library module (TinyBytes, TinyPlatform, TinyMQTT, TinyHTTP, TinyTLS, TinyWebSocket, TinyHub, TinyProvisioning: every .swift file of the
#      module) compiled to one object + .swiftmodule, in dependency order, with the target flags
#      of docs/DESIGN (bare-metal Embedded triple + Linux clang target); platform.c with the cross gcc
#   4. Tests/ARMSmoke (main.swift and the files it calls) compiled against those modules, linked by the cross gcc with
#      the static mbedTLS archives, run under qemu-arm / qemu-aarch64: must print "N passed, 0 failed"
#   5. a size table per architecture: .text of each TinyHub module object vs mbedTLS in the binary
#   6. Examples/hub-minimal compiled against the same module objects, linked with the static mbedTLS
#      (one section per function, --gc-sections, as the x86 Embedded build), started once under qemu
#      without its environment (must print its missing-environment error and exit 1), and its MQTT +
#      hub protocol .text split by owner and by concern (scripts/lib/protocol_text.py with the cross binutils)
# Output: .build-cross/<arch>/ (objects, modules, arm-smoke and hub-minimal binaries, size.txt)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$TINYHUB_ROOT"
ROOT=$PWD
OUT=$ROOT/.build-cross
mkdir -p "$OUT"
start=$(date +%s)

# --- 1. cross toolchains and qemu -------------------------------------------------------------
install_packages crossbuild-essential-armhf crossbuild-essential-arm64 qemu-user

# --- 2. mbedTLS for the targets ---------------------------------------------------------------
mbedtls_cross_sysroots "$OUT"
echo "mbedTLS: $(basename "$OUT"/debs/libmbedtls-dev_*_armhf.deb) $(basename "$OUT"/debs/libmbedtls-dev_*_arm64.deb)"

# --- 3-5. per architecture -------------------------------------------------------------------
SWIFTC=$(command -v swiftc)
modules=(TinyBytes TinyPlatform TinyMQTT TinyHTTP TinyTLS TinyWebSocket TinyHub TinyProvisioning) # dependency order

# A module map for the C shim (SwiftPM makes one itself; here we name the header).
mkdir -p "$OUT/modulemaps/CTinyPlatform"
cat >"$OUT/modulemaps/CTinyPlatform/module.modulemap" <<MAP
module CTinyPlatform {
    header "$ROOT/Sources/CTinyPlatform/include/tinyplatform.h"
    export *
}
MAP

build_arch() { # <name> <swift target> <clang target> <gcc prefix> <deb sysroot> <multiarch> <qemu> <link flags> <extra swift flags…>
  local name=$1 target=$2 clang_target=$3 prefix=$4 debroot=$5 multiarch=$6 qemu=$7 linkflags=$8
  shift 8
  local dir=$OUT/$name
  local libc_sysroot=/usr/$prefix
  rm -rf "$dir"; mkdir -p "$dir/modules"
  local flags=(-target "$target" -Xfrontend -clang-target -Xfrontend "$clang_target"
    -enable-experimental-feature Embedded -wmo -Osize -parse-as-library -package-name TinyHub
    -Xcc --sysroot="$libc_sysroot" -Xcc -I"$debroot/usr/include"
    -I "$dir/modules" -I "$OUT/modulemaps/CTinyPlatform" -I "$ROOT/Sources/CMbedTLS"
    -Xfrontend -function-sections -Xcc -ffunction-sections -Xcc -fdata-sections "$@")
  local t0; t0=$(date +%s)
  for m in "${modules[@]}"; do
    "$SWIFTC" "${flags[@]}" -module-name "$m" -emit-module -emit-module-path "$dir/modules/$m.swiftmodule" \
      -c -o "$dir/$m.o" $(find "$ROOT/Sources/$m" -name '*.swift' | sort) 2>"$dir/$m.log" \
      || { cat "$dir/$m.log"; echo "FAIL: $m for $name" >&2; exit 1; }
  done
  "$SWIFTC" "${flags[@]/-parse-as-library/}" -module-name ARMSmoke -c -o "$dir/ARMSmoke.o" \
    $(find "$ROOT/Tests/ARMSmoke" -name '*.swift' | sort) 2>"$dir/ARMSmoke.log" || { cat "$dir/ARMSmoke.log"; echo "FAIL: smoke test for $name" >&2; exit 1; }
  local gccflags=()
  [ "$name" = armv7 ] && gccflags=(-mthumb -mfloat-abi=hard -mfpu=vfpv3-d16)
  "$prefix-gcc" -Os "${gccflags[@]}" -ffunction-sections -fdata-sections -I"$ROOT/Sources/CTinyPlatform/include" -c -o "$dir/platform.o" "$ROOT/Sources/CTinyPlatform/platform.c"
  local libdir=$debroot/usr/lib/$multiarch
  # shellcheck disable=SC2086
  "$prefix-gcc" $linkflags -Wl,-Map,"$dir/arm-smoke.map" -o "$dir/arm-smoke" "$dir/ARMSmoke.o" \
    "$dir/TinyBytes.o" "$dir/TinyPlatform.o" "$dir/TinyMQTT.o" "$dir/TinyHTTP.o" "$dir/TinyTLS.o" "$dir/TinyWebSocket.o" "$dir/TinyHub.o" "$dir/TinyProvisioning.o" \
    "$dir/platform.o" \
    "$libdir/libmbedtls.a" "$libdir/libmbedx509.a" "$libdir/libmbedcrypto.a" 2>"$dir/link.log" \
    || { cat "$dir/link.log"; echo "FAIL: link for $name" >&2; exit 1; }
  local t1; t1=$(date +%s)
  echo "-- $name: built in $((t1 - t0)) s ($(file -b "$dir/arm-smoke" | cut -d, -f1-2,6 | sed 's/  */ /g'))"
  local run=("$qemu")
  if ! file -b "$dir/arm-smoke" | grep -q 'static'; then run+=(-L "$libc_sysroot"); fi
  set +e
  "${run[@]}" "$dir/arm-smoke" >"$dir/smoke.out" 2>&1
  local rc=$?
  set -e
  grep -E '^FAIL' "$dir/smoke.out" || true
  local summary; summary=$(tail -n 1 "$dir/smoke.out")
  echo "$name under ${run[*]}: $summary (exit $rc)"
  if [ "$rc" -ne 0 ] || ! grep -qE '^[0-9]+ passed, 0 failed$' <<<"$summary"; then
    cat "$dir/smoke.out"; echo "FAIL: smoke test on $name" >&2; exit 1
  fi
  size_table "$name" "$prefix" "$dir" "$libdir"
  hub_minimal "$name" "$prefix" "$dir" "$libdir" "$linkflags" "${run[@]}"
}

# hub_minimal NAME PREFIX DIR LIBDIR LINKFLAGS RUN...: step 6 (the Swift flags are build_arch's `flags`).
# Linked with --emit-relocs (no byte of .text changes) so protocol_text.py sees the address loads of
# ARM code (literal pools, adrp/add pairs), which the disassembly alone does not name.
hub_minimal() {
  local name=$1 prefix=$2 dir=$3 libdir=$4 linkflags=$5 t0
  shift 5
  t0=$(date +%s)
  "$SWIFTC" "${flags[@]}" -module-name hub_minimal -c -o "$dir/hub-minimal.o" \
    $(find "$ROOT/Examples/hub-minimal" -name '*.swift' | sort) 2>"$dir/hub-minimal.log" \
    || { cat "$dir/hub-minimal.log"; echo "FAIL: hub-minimal for $name" >&2; exit 1; }
  # shellcheck disable=SC2086
  "$prefix-gcc" $linkflags -Wl,--emit-relocs -o "$dir/hub-minimal" "$dir/hub-minimal.o" \
    "$dir/TinyPlatform.o" "$dir/TinyMQTT.o" "$dir/TinyHTTP.o" "$dir/TinyTLS.o" "$dir/TinyWebSocket.o" "$dir/TinyHub.o" \
    "$dir/platform.o" "$libdir/libmbedtls.a" "$libdir/libmbedx509.a" "$libdir/libmbedcrypto.a" 2>"$dir/hub-minimal-link.log" \
    || { cat "$dir/hub-minimal-link.log"; echo "FAIL: hub-minimal link for $name" >&2; exit 1; }
  set +e
  env -u IOTHUB_DEVICE_CONNECTION_STRING "$@" "$dir/hub-minimal" >"$dir/hub-minimal.out" 2>&1
  local rc=$?
  set -e
  echo "$name hub-minimal (built in $(( $(date +%s) - t0 )) s) under $*, no environment: $(head -n 1 "$dir/hub-minimal.out") (exit $rc)"
  if [ "$rc" -ne 1 ] || ! grep -q 'IOTHUB_DEVICE_CONNECTION_STRING is not set' "$dir/hub-minimal.out"; then
    cat "$dir/hub-minimal.out"; echo "FAIL: hub-minimal did not start on $name" >&2; exit 1
  fi
  python3 "$ROOT/scripts/lib/protocol_text.py" "$dir/hub-minimal" --binutils "$prefix-" --symbols 8 --concerns >"$dir/text-hub-minimal.txt"
  field() { awk -v k="$1" '$1 == k {print $2}' "$dir/text-hub-minimal.txt"; }
  {
    echo "-- hub-minimal: MQTT + hub protocol .text (scripts/lib/protocol_text.py --binutils $prefix-)"
    printf '%-26s %10d\n' "TinyMQTT" "$(field TinyMQTT)" "TinyHub" "$(field TinyHub)" \
      "stdlib reached" "$(field protocol-stdlib)" "TinyHTTP reached" "$(field protocol-http)" \
      "protocol total" "$(field protocol-total)"
    printf '%-26s %10d\n' "binary text (size)" "$("$prefix-size" "$dir/hub-minimal" | awk 'NR == 2 {print $1}')"
    echo "-- the protocol total by concern (protocol_text.py --concerns)"
    awk '$1 == "concern" {n = $2; $1 = $2 = ""; sub(/^ +/, ""); printf "%-60s %6d\n", $0, n}' "$dir/text-hub-minimal.txt"
  } | tee -a "$dir/size.txt"
}

# .text of each TinyHub module object and of the linked binary split by where it came from
# (linker map: input sections from the module objects, platform.o, the mbedTLS archives, the rest).
size_table() {
  local name=$1 prefix=$2 dir=$3 libdir=$4
  {
    echo "== $name: .text bytes"
    printf '%-26s %10s\n' "object" "text"
    local sum=0
    for m in "${modules[@]}" ; do
      local t; t=$(text_size "$dir/$m.o" "$prefix-size")
      sum=$((sum + t)); printf '%-26s %10d\n' "$m.o" "$t"
    done
    local tp; tp=$(text_size "$dir/platform.o" "$prefix-size")
    printf '%-26s %10d\n' "platform.o (C shim)" "$tp"
    printf '%-26s %10d\n' "TinyHub total (objects)" "$((sum + tp))"
    printf '%-26s %10d\n' "ARMSmoke.o (test program)" "$(text_size "$dir/ARMSmoke.o" "$prefix-size")"
    echo "-- linked arm-smoke (from the linker map, .text input sections kept after --gc-sections)"
    python3 - "$dir/arm-smoke.map" <<'PY'
import re, sys
sys.path.insert(0, "scripts/lib")
from linkmap_text import text_sections
groups = {"TinyHub modules + shim": 0, "mbedTLS (libmbed*.a)": 0, "smoke test": 0, "libc / libgcc / crt": 0}
for path, n in text_sections(sys.argv[1]):
    if "libmbed" in path:
        groups["mbedTLS (libmbed*.a)"] += n
    elif "ARMSmoke.o" in path:
        groups["smoke test"] += n
    elif re.search(r"/(TinyBytes|TinyPlatform|TinyMQTT|TinyHTTP|TinyTLS|TinyWebSocket|TinyHub|TinyProvisioning|platform)\.o$", path):
        groups["TinyHub modules + shim"] += n
    else:
        groups["libc / libgcc / crt"] += n
for k, v in groups.items():
    print(f"{k:26s} {v:10d}")
PY
    printf '%-26s %10d\n' "binary text (size)" "$("$prefix-size" "$dir/arm-smoke" | awk 'NR == 2 {print $1}')"
  } | tee "$dir/size.txt"
}

build_arch armv7 armv7-none-none-eabi armv7-unknown-linux-gnueabihf arm-linux-gnueabihf "$OUT/sysroot-armhf" \
  arm-linux-gnueabihf qemu-arm "-static -Wl,--gc-sections" \
  -Xcc -mfloat-abi=hard -Xcc -mfpu=vfpv3-d16 -Xcc -mthumb
build_arch aarch64 aarch64-none-none-elf aarch64-unknown-linux-gnu aarch64-linux-gnu "$OUT/sysroot-arm64" \
  aarch64-linux-gnu qemu-aarch64 "-static-pie -Wl,--gc-sections"

echo "cross-arm: both architectures passed in $(( $(date +%s) - start )) s"
