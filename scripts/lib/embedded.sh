# The Embedded device build and the size helpers (part of scripts/lib, sourced by common.sh).
#
# EMBEDDED_FLAGS: the Swift/C flags of every Embedded device build, so all of them compile the same
# objects into .build-embedded-*: SwiftPM does not recompile a module when only -Xfrontend flags
# change, so mixing flag sets in one scratch folder mixes objects. -Osize; one section per function
# (Swift and the C shim), so the linker's --gc-sections (SwiftPM passes it in release) drops every
# function the program does not reach: unused public API and stdlib specialisations. Linked
# mqtt-demo: TinyHub's share of .text 93.5 KB -> 46.0 KB. Measured and left out: -Xllvm
# -enable-merge-functions (no change: Swift already merges at -Osize) and gold --icf=all (-0.2 KB).
# Embedded Swift itself is switched on by TINYHUB_EMBEDDED=1 in swift build's environment (read by
# Package.swift); build_embedded sets it on its own build line only, so no other Swift command of a
# script (swift test, a default build) turns Embedded by accident.
EMBEDDED_FLAGS=(-Xswiftc -Osize -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections -Xcc -fdata-sections)
# The static mbedTLS archives, for links by hand.
MBEDTLS_STATIC=(-l:libmbedtls.a -l:libmbedx509.a -l:libmbedcrypto.a)

# build_embedded VARIANT SCRATCH LOG [ARGUMENT...]: `swift build -c release` of the package in the
# current folder as Embedded Swift with EMBEDDED_FLAGS and mbedTLS linked VARIANT (static: the
# StaticMbedTLS trait, the device build; dynamic: DynamicMbedTLS) into SCRATCH, more swift build
# ARGUMENTs after (--product NAME, -Xcc ...); the output goes to LOG. On failure prints LOG, returns 1.
build_embedded() {
  local variant=$1 scratch=$2 log=$3 traits
  shift 3
  case $variant in
    static) traits=StaticMbedTLS ;;
    dynamic) traits=DynamicMbedTLS ;;
    *) echo "build_embedded: VARIANT is static or dynamic, not '$variant'" >&2; return 2 ;;
  esac
  TINYHUB_EMBEDDED=1 swift build -c release --scratch-path "$scratch" --traits "$traits" "${EMBEDDED_FLAGS[@]}" "$@" \
    >"$log" 2>&1 || { cat "$log"; return 1; }
}

# example_objects SCRATCH EXAMPLE: the object files SwiftPM linked EXAMPLE from (release build in
# SCRATCH), one a line, for a link by hand with -Wl,--defsym,main=<example>_main (SwiftPM renames
# an example's entry point).
example_objects() { cat "$1/x86_64-unknown-linux-gnu/release/$2.product/Objects.LinkFileList"; }

# file_size FILE: FILE's size in bytes (a link followed).
file_size() { stat -L -c %s "$1"; }

# stripped_size BINARY [OUTPUT]: strips BINARY into OUTPUT (default BINARY.stripped), prints its size in bytes.
stripped_size() {
  local out=${2:-$1.stripped}
  strip -o "$out" "$1"
  file_size "$out"
}

# text_size FILE [SIZE-COMMAND]: bytes of FILE's .text sections (.text and .text.*), by `size -A`
# (SIZE-COMMAND: a cross toolchain's size, e.g. arm-linux-gnueabihf-size).
text_size() { "${2:-size}" -A "$1" | awk '$1 ~ /^\.text/ {s += $2} END {print s + 0}'; }

# section_size FILE SECTION: bytes of FILE's SECTION (e.g. .rodata) by `size -A`; 0 without one.
section_size() { size -A "$1" | awk -v s="$2" '$1 == s {print $2 + 0; f = 1} END {if (!f) print 0}'; }

# objects_text_size OBJECT...: the sum of text_size over the OBJECTs.
objects_text_size() {
  local o sum=0
  for o in "$@"; do sum=$((sum + $(text_size "$o"))); done
  echo "$sum"
}

# kb BYTES: "12.3 KB".
kb() { awk -v b="$1" 'BEGIN {printf "%.1f KB", b / 1024}'; }
