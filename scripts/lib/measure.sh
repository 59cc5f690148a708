# What the benchmarks (scripts/bench/) and the heap-budget sweeps (scripts/check/memory-harness.sh,
# scripts/build/device-profile.sh --sweep) share. Part of scripts/lib, sourced by common.sh.

# MASSIF: valgrind massif as every heap-peak figure is measured: the heap the process allocates
# (not its pages), the peak snapshot exact. Add --massif-out-file=FILE and the program; set the
# program's environment with `env` before it (valgrind does not follow an exec).
MASSIF=(valgrind --tool=massif --pages-as-heap=no --peak-inaccuracy=0)

# massif_peak FILE: the largest mem_heap_B of a massif output file.
massif_peak() { grep '^mem_heap_B=' "$1" | cut -d= -f2 | sort -n | tail -n 1; }

# median: the median of the numbers on stdin, one a line (the lower middle one of an even count).
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# instructions_outside CALLGRIND_OUT EXCLUDED: the instructions (self cost) of a callgrind run in every
# object whose name does not match the regular expression EXCLUDED (the TLS library: `libmbed`).
instructions_outside() { python3 "$TINYHUB_LIB/callgrind_cost.py" "$1" "$2"; }

# strace_total FILE: the number of system calls in an `strace -c` summary (its "total" line:
# % seconds usecs/call calls [errors] total).
strace_total() { awk '$NF == "total" {print $4}' "$1"; }

# resolver_share MASSIF_OUT: the bytes of the peak that libc's resolver holds (scripts/lib/resolver_share.py).
resolver_share() { python3 "$TINYHUB_LIB/resolver_share.py" "$1"; }

# What a feature adds to hub-telemetry (scripts/bench/outbox.sh, provisioning.sh): hub-telemetry
# built twice as the device build, as it is and from a copy of the package the feature is taken out of.
# feature_with OUT NAME: builds hub-telemetry (build_embedded static, .build-embedded-static; log in
#   OUT) and sets WITH to it; sets COPY to OUT/NAME, made anew with a copy of the package
#   (Package.swift, Sources, Examples, Tests) for the caller to take the feature out of.
# feature_without OUT NAME: builds hub-telemetry from COPY into OUT/.build-NAME and sets WITHOUT to it;
#   returns 1 (the log printed) when the build fails.
feature_with() {
  mkdir -p "$1"
  build_embedded static "$TINYHUB_ROOT/.build-embedded-static" "$1/build-embedded-static.log" --product hub-telemetry
  WITH=$TINYHUB_ROOT/.build-embedded-static/release/hub-telemetry
  COPY=$1/$2
  rm -rf "$COPY"
  mkdir -p "$COPY"
  cp -r "$TINYHUB_ROOT/Package.swift" "$TINYHUB_ROOT/Sources" "$TINYHUB_ROOT/Examples" "$TINYHUB_ROOT/Tests" "$COPY/"
}

feature_without() {
  (cd "$COPY" && build_embedded static "$1/.build-$2" "$1/build-$2.log" --product hub-telemetry) || return 1
  WITHOUT=$1/.build-$2/release/hub-telemetry
}

# size_comparison TITLE WITHOUT-LABEL WITH-LABEL WITHOUT WITH DIR: the Markdown table of two
# binaries' `size -A` sections (.text .rodata .data .bss) and stripped files (stripped into
# DIR/without.stripped and DIR/with.stripped), with the difference.
size_comparison() {
  local title=$1 without_label=$2 with_label=$3 without=$4 with=$5 dir=$6 s a b
  echo "| $title | $without_label | $with_label | added |"
  echo "|---|---:|---:|---:|"
  for s in .text .rodata .data .bss; do
    a=$(section_size "$without" "$s"); b=$(section_size "$with" "$s")
    echo "| \`size -A\` $s | $a | $b | $((b - a)) |"
  done
  a=$(stripped_size "$without" "$dir/without.stripped"); b=$(stripped_size "$with" "$dir/with.stripped")
  echo "| stripped file | $a | $b | $((b - a)) |"
}

# budget_outcome BUDGET STATUS OUT PATTERN ERR REPORT TIMEOUT: the verdict on one run of a program
# under a heap budget of BUDGET bytes that exited with STATUS (124: `timeout TIMEOUT` ended it),
# its stdout in OUT, its stderr in ERR, the budget allocator's report in REPORT. Prints one line
# "BUDGET ok|FAIL DETAIL". Allowed: it completed (status 0 and a line of OUT matches PATTERN), or
# a clean out-of-memory exit: exit 1 with the allocator's report (so exit() ran), something refused
# and exactly one stderr line, saying "out of memory". Anything else fails: a signal (a trap is
# SIGILL, a NULL dereference SIGSEGV), a hang, another exit status or message, a retry.
# A sweep that runs it under `xargs … bash -c` exports it (export -f budget_outcome).
budget_outcome() {
  local b=$1 rc=$2 out=$3 pattern=$4 err=$5 report lines last
  report=$(cat "$6" 2>/dev/null || true)
  lines=$(wc -l <"$err")
  last=$(tail -n 1 "$err")
  if [ "$rc" -eq 0 ] && grep -q "$pattern" "$out"; then echo "$b ok completed"
  elif [ "$rc" -eq 124 ]; then echo "$b FAIL hung (timeout $7 s); last stderr line: $last"
  elif [ "$rc" -gt 128 ]; then echo "$b FAIL killed by signal $((rc - 128)) ($(kill -l $((rc - 128)) 2>/dev/null || echo ?)); last stderr line: $last"
  elif [ "$rc" -ne 1 ]; then echo "$b FAIL exit $rc: $last"
  elif [ -z "$report" ]; then echo "$b FAIL exit 1 without the allocator's report (exit() did not run)"
  elif ! grep -q 'out of memory' <<<"$last"; then echo "$b FAIL exit 1 without an out-of-memory message: $last"
  elif [ "$lines" -ne 1 ]; then echo "$b FAIL $lines stderr lines (one clear line wanted): $(tr '\n' '|' <"$err")"
  elif grep -q 'refused=0 ' <<<"$report"; then echo "$b FAIL out of memory reported, but nothing was refused"
  else echo "$b ok $last"; fi
}
