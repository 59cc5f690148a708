#!/usr/bin/env bash
# Builds and runs every libFuzzer target under Fuzz/<name>/ (entry.swift + sources.txt + corpus/).
#
# sources.txt: one glob a line (relative to the repo root; blank lines and # comments ignored);
# those files are compiled into the fuzz module with entry.swift, so their internals are visible.
# Directive lines give the target modules to import (built first, in the order given, each seeing
# the ones before it, instrumented like the target and cached in .fuzz/modules/):
#   module NAME: GLOBS     a Swift module (e.g. `module TinyPlatform: Sources/TinyPlatform/*.swift`),
#                          built with -enable-testing so the entry may `@testable import` it
#   cmodule NAME: GLOBS    a C module from .c files; its headers are <dir of the first file>/include/*.h
#   include: DIRS          directories holding a module.modulemap (system libraries: Sources/CMbedTLS)
#   link: LIBS             libraries to link (-l), e.g. `link: mbedcrypto`
#
#   FUZZ_SECONDS   seconds per target (default 60)
#   FUZZ_TARGETS   optional space/comma separated list of target names to run (default: all)
#   SWIFTC         compiler (default: swiftc on PATH, else /opt/swift/usr/bin/swiftc)
# Exit status: non-zero if any target fails to build or the fuzzer reports a crash;
# crashing inputs are copied to Fuzz/<name>/crashes/.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
ROOT=$TINYHUB_ROOT
cd "$ROOT"

FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
FUZZ_TARGETS="${FUZZ_TARGETS:-}"
if [[ -z "${SWIFTC:-}" ]]; then
    if command -v swiftc >/dev/null 2>&1; then SWIFTC="$(command -v swiftc)"; else SWIFTC=/opt/swift/usr/bin/swiftc; fi
fi

SWIFT_BIN="$(dirname "$SWIFTC")"
CLANG="${CLANG:-$SWIFT_BIN/clang}"
AR="${AR:-$SWIFT_BIN/llvm-ar}"
[[ -x "$CLANG" ]] || CLANG=clang
[[ -x "$AR" ]] || AR=ar

mkdir -p .fuzz
# The Swift runtime backtracer adds noise (and its own ASan reports) to libFuzzer crash output.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"
shopt -s nullglob

selected() {
    local name="$1"
    [[ -z "$FUZZ_TARGETS" ]] && return 0
    local t
    for t in ${FUZZ_TARGETS//,/ }; do [[ "$t" == "$name" ]] && return 0; done
    return 1
}

# Builds (or finds in the cache) module $2 of kind $1 ("module": Swift, "cmodule": C) from the
# files $3...; appends its directory to `search`, its archive to `archives`, its key to `chain`.
build_module() {
    local kind="$1" modname="$2"
    shift 2
    local key
    key="$( { echo "$kind $modname $chain $SWIFTC"; for f in "$@"; do echo "$f"; cat "$f"; done
              if [[ "$kind" == cmodule ]]; then cat "$(dirname "$1")"/include/*.h; fi; } | sha256sum | cut -c1-16)"
    local out="$ROOT/.fuzz/modules/$modname-$key"
    if [[ ! -f "$out/lib$modname.a" ]]; then
        echo "=== module $modname ($kind, $# files)"
        rm -rf "$out.tmp"
        mkdir -p "$out.tmp"
        if [[ "$kind" == cmodule ]]; then
            local include headers=() objects=() f
            include="$(cd "$(dirname "$1")/include" && pwd)"
            headers=( "$include"/*.h )
            { echo "module $modname {"
              for f in "${headers[@]}"; do echo "    header \"$f\""; done
              echo "    export *"
              echo "}"; } > "$out.tmp/module.modulemap"
            for f in "$@"; do
                "$CLANG" -O1 -g -fsanitize=fuzzer-no-link,address -I "$include" -c "$f" \
                    -o "$out.tmp/$(basename "$f").o" || return 1
                objects+=("$out.tmp/$(basename "$f").o")
            done
            "$AR" rcs "$out.tmp/lib$modname.a" "${objects[@]}" || return 1
        else
            "$SWIFTC" -O -sanitize=fuzzer,address -parse-as-library -package-name TinyHub -module-name "$modname" -enable-testing \
                "${search[@]}" -emit-module -emit-module-path "$out.tmp/$modname.swiftmodule" \
                -emit-library -static -o "$out.tmp/lib$modname.a" "$@" || return 1
        fi
        rm -rf "$out"
        mv "$out.tmp" "$out"
    fi
    search+=(-I "$out")
    archives=("$out/lib$modname.a" "${archives[@]}")
    chain="$chain $key"
}

failures=()
ran=0
for dir in Fuzz/*/; do
    dir="${dir%/}"
    name="$(basename "$dir")"
    selected "$name" || continue
    if [[ ! -f "$dir/entry.swift" || ! -f "$dir/sources.txt" ]]; then
        echo "fuzz.sh: skipping $dir (needs entry.swift and sources.txt)" >&2
        continue
    fi
    ran=$((ran + 1))

    # Expand the globs in sources.txt and build the modules its directives name.
    sources=()
    search=()      # -I flags: module directories and include: directories
    archives=()    # module archives, dependents first
    libraries=()   # -l flags
    chain=""       # cache keys of the modules so far (a module depends on all before it)
    while IFS= read -r line || [[ -n "$line" ]]; do
        line="${line%%#*}"
        line="$(echo "$line" | xargs)"
        [[ -z "$line" ]] && continue
        kind=""
        case "$line" in
            module\ *|cmodule\ *)
                kind="${line%% *}"
                rest="${line#* }"
                modname="${rest%%:*}"; modname="$(echo "$modname" | xargs)"
                line="${rest#*:}"
                ;;
            include:*)
                for d in ${line#include:}; do search+=(-I "$ROOT/$d"); done
                continue
                ;;
            link:*)
                for l in ${line#link:}; do libraries+=("-l$l"); done
                continue
                ;;
        esac
        matches=( $line )
        if [[ ${#matches[@]} -eq 0 ]]; then
            echo "fuzz.sh: $dir/sources.txt: '$line' matches no file" >&2
            failures+=("$name (sources)")
            continue 2
        fi
        if [[ -z "$kind" ]]; then
            sources+=("${matches[@]}")
            continue
        fi
        if ! build_module "$kind" "$modname" "${matches[@]}"; then
            echo "fuzz.sh: $name: module $modname failed to build" >&2
            failures+=("$name (module $modname)")
            continue 2
        fi
    done < "$dir/sources.txt"

    module="Fuzz_$(echo "$name" | tr -c 'A-Za-z0-9_\n' '_')"
    binary=".fuzz/$name"
    echo "=== $name: building ($module, ${#sources[@]} sources, ${#archives[@]} modules)"
    if ! "$SWIFTC" -O -sanitize=fuzzer,address -parse-as-library -package-name TinyHub -module-name "$module" \
            -use-ld=lld "${search[@]}" "${sources[@]}" "$dir/entry.swift" "${archives[@]}" "${libraries[@]}" \
            -o "$binary"; then
        echo "fuzz.sh: $name: build failed" >&2
        failures+=("$name (build)")
        continue
    fi

    make_temp_dir work "fuzz-$name"
    mkdir -p "$work/corpus" "$work/artifacts"
    if [[ -d "$dir/corpus" ]]; then cp -R "$dir/corpus/." "$work/corpus/"; fi
    log="$work/fuzz.log"

    echo "=== $name: fuzzing for ${FUZZ_SECONDS}s"
    status=0
    "$binary" "$work/corpus" \
        -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=512 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/" >"$log" 2>&1 || status=$?

    execs="$(grep -E '^stat::number_of_executed_units:' "$log" | tail -1 | awk '{print $2}')"
    echo "=== $name: executions: ${execs:-unknown}, exit status $status"

    artifacts=( "$work/artifacts"/* )
    if [[ $status -ne 0 || ${#artifacts[@]} -gt 0 ]]; then
        echo "fuzz.sh: $name: fuzzer failed (status $status); last lines of the log:" >&2
        grep -E 'ERROR|SUMMARY|Fatal error|#[0-9]+ 0x' "$log" | head -40 >&2 || true
        tail -20 "$log" >&2
        if [[ ${#artifacts[@]} -gt 0 ]]; then
            mkdir -p "$dir/crashes"
            cp "${artifacts[@]}" "$dir/crashes/"
            echo "fuzz.sh: $name: crashing input(s) saved in $dir/crashes/" >&2
        fi
        cp "$log" ".fuzz/$name.log"
        failures+=("$name (crash)")
    fi
    rm -rf "$work"
done

if [[ $ran -eq 0 ]]; then
    echo "fuzz.sh: no fuzz targets ran (FUZZ_TARGETS='${FUZZ_TARGETS}')" >&2
    exit 1
fi
if [[ ${#failures[@]} -gt 0 ]]; then
    echo "fuzz.sh: FAILED: ${failures[*]}" >&2
    exit 1
fi
echo "fuzz.sh: all $ran target(s) passed"
