#!/usr/bin/env bash
# Builds and runs every libFuzzer target under Fuzz/<name>/ (entry.swift + sources.txt + corpus/).
#   FUZZ_SECONDS   seconds per target (default 60)
#   FUZZ_TARGETS   optional space/comma separated list of target names to run (default: all)
#   SWIFTC         compiler (default: swiftc on PATH, else /opt/swift/usr/bin/swiftc)
# Exit status: non-zero if any target fails to build or the fuzzer reports a crash;
# crashing inputs are copied to Fuzz/<name>/crashes/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
FUZZ_TARGETS="${FUZZ_TARGETS:-}"
if [[ -z "${SWIFTC:-}" ]]; then
    if command -v swiftc >/dev/null 2>&1; then SWIFTC="$(command -v swiftc)"; else SWIFTC=/opt/swift/usr/bin/swiftc; fi
fi

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

    # Expand the globs in sources.txt (relative to the repo root; blank lines and # comments ignored).
    sources=()
    while IFS= read -r line || [[ -n "$line" ]]; do
        line="${line%%#*}"
        line="$(echo "$line" | xargs)"
        [[ -z "$line" ]] && continue
        matches=( $line )
        if [[ ${#matches[@]} -eq 0 ]]; then
            echo "fuzz.sh: $dir/sources.txt: '$line' matches no file" >&2
            failures+=("$name (sources)")
            continue 2
        fi
        sources+=("${matches[@]}")
    done < "$dir/sources.txt"

    module="Fuzz_$(echo "$name" | tr -c 'A-Za-z0-9_\n' '_')"
    binary=".fuzz/$name"
    echo "=== $name: building ($module, ${#sources[@]} sources)"
    if ! "$SWIFTC" -O -sanitize=fuzzer,address -parse-as-library -module-name "$module" -use-ld=lld \
            "${sources[@]}" "$dir/entry.swift" -o "$binary"; then
        echo "fuzz.sh: $name: build failed" >&2
        failures+=("$name (build)")
        continue
    fi

    work="$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$name.XXXXXX")"
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
