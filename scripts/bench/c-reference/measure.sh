#!/usr/bin/env bash
# Runtime figures of the C reference (main.c, built by build.sh), measured exactly as
# scripts/bench/telemetry.sh measures hub-minimal (same broker, same helpers, same differences):
#   - instructions per message outside mbedTLS: callgrind, COUNT 1100 minus COUNT 100, / 1,000;
#     all objects but libmbed*
#   - heap peak (massif, COUNT 1) with the hub as `localhost` and as `127.0.0.1`, and the libc
#     resolver's share of the `localhost` peak (massif tree under getaddrinfo); the program's .bss
#     (size -A; mbedTLS's own .bss is in its shared objects, as for hub-minimal)
#   - worst-case stack of the main thread, painted before main (scripts/lib/stackpaint.c, COUNT 100)
#   - syscalls per message: strace -f -c, COUNT 1100 minus COUNT 100, / 1,000 (and by name)
#   - 10,000 QoS 1 messages: wall and client CPU (scripts/lib/rusage.py), median of 11 runs,
#     the binaries taking turns
# usage: [NODELAY=1] [RUNS=11] measure.sh BINARY... (e.g. /tmp/cref/out/x86_64/{default,small}/telemetry);
# one column each. Raw output: .build-bench/c-reference/ (OUT=… to change).
# main.c as it is leaves Nagle on (mbedtls_net_connect sets no TCP_NODELAY) and coreMQTT, without a
# writev, sends each PUBLISH as 4 mbedtls_ssl_write calls (4 TLS records): the tail of a PUBLISH
# waits for the broker's delayed ACK (~40 ms per window of 8), about 45 s per 10,000 messages, and
# the 10 ms read timeout of the poll loop expires meanwhile (extra pselect6 calls). NODELAY=1
# preloads a connect() shim that sets TCP_NODELAY (as hub-minimal's tp_tcp_connect does); nothing
# else changes. About 10 s per binary with NODELAY=1; without it each 10,000-message run takes ~50 s
# (about 10 minutes per binary at RUNS=11).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/common.sh"
[ $# -ge 1 ] || { echo "usage: measure.sh BINARY..." >&2; exit 1; }
BINS=(); for b in "$@"; do BINS+=("$(realpath "$b")"); done
cd "$TINYHUB_ROOT"
install_deps
OUT=${OUT:-.build-bench/c-reference}
N=10000
RUNS=${RUNS:-11}
mkdir -p "$OUT"
source "$TINYHUB_ROOT/scripts/standin/broker.sh"
at_exit stop_broker
KEY=$(head -c 32 /dev/urandom | base64)

NODELAY_SO=
if [ "${NODELAY:-0}" = 1 ]; then
  NODELAY_SO=$(realpath "$OUT")/nodelay.so
  gcc -O1 -shared -fPIC -x c -o "$NODELAY_SO" - -ldl <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
int connect(int fd, const struct sockaddr *a, socklen_t n) { /* TCP_NODELAY on every TCP socket */
    static int (*real)(int, const struct sockaddr *, socklen_t);
    if (!real) real = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
    int one = 1, type = 0; socklen_t len = sizeof type;
    if ((a->sa_family == AF_INET || a->sa_family == AF_INET6)
        && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return real(fd, a, n);
}
C
fi

# run <index> <host> <count> [wrapper…]: one run of BINS[index] (QoS 1, window 8, $.ct/$.ce bag);
# PRELOAD=LIB adds LIB to the program's LD_PRELOAD (valgrind passes LD_PRELOAD on to its client).
run() {
  local bin=${BINS[$1]} host=$2 count=$3 pre="${PRELOAD:-} $NODELAY_SO"; shift 3
  LD_PRELOAD=${pre# } "$@" "$bin" "$host" "$BROKER_PORT" bench-device "$KEY" "$BROKER_CA" "$count" </dev/null
}
ok() { grep -q "^sent and acknowledged: $2$" "$1" || { cat "$1"; exit 1; }; }
strace_calls() { # strace -c file -> "name calls" lines (the total too)
  awk '$1 ~ /^[0-9.]+$/ && NF >= 5 {print $NF, $4}' "$1"
}
gcc -O1 -shared -fPIC -o "$OUT/stackpaint.so" "$TINYHUB_LIB/stackpaint.c"

declare -A IPM HEAP HEAP_LIT RES BSS STACK SYS SYS_BY WALL CPU
for i in "${!BINS[@]}"; do
  p="$OUT/$i"
  for count in 100 1100; do
    run "$i" localhost "$count" valgrind --tool=callgrind --callgrind-out-file="$p-callgrind-$count.out" >"$p-callgrind-$count.log" 2>&1
    ok "$p-callgrind-$count.log" "$count"
  done
  IPM[$i]=$(( ($(instructions_outside "$p-callgrind-1100.out" libmbed) - $(instructions_outside "$p-callgrind-100.out" libmbed)) / 1000 ))
  run "$i" localhost 1 "${MASSIF[@]}" --massif-out-file="$p-massif.out" >"$p-massif.log" 2>&1; ok "$p-massif.log" 1
  run "$i" 127.0.0.1 1 "${MASSIF[@]}" --massif-out-file="$p-massif-literal.out" >"$p-massif-literal.log" 2>&1; ok "$p-massif-literal.log" 1
  HEAP[$i]=$(massif_peak "$p-massif.out"); HEAP_LIT[$i]=$(massif_peak "$p-massif-literal.out")
  RES[$i]=$(resolver_share "$p-massif.out")
  BSS[$i]=$(size -A "${BINS[$i]}" | awk '$1 == ".bss" {print $2}')
  STACKPAINT_OUT="$p-stack.txt" LD_BIND_NOW=1 PRELOAD=$(realpath "$OUT/stackpaint.so") run "$i" localhost 100 >"$p-stack.log" 2>&1
  ok "$p-stack.log" 100; STACK[$i]=$(cat "$p-stack.txt")
  for count in 100 1100; do
    run "$i" localhost "$count" strace -f -c -o "$p-strace-$count.txt" >"$p-strace-$count.log" 2>&1; ok "$p-strace-$count.log" "$count"
  done
  # per name: (calls at 1100 - calls at 100) / 1000, the busiest first
  SYS_BY[$i]=$(join -a2 -e0 -o0,1.2,2.2 <(strace_calls "$p-strace-100.txt" | sort) <(strace_calls "$p-strace-1100.txt" | sort) |
    awk '{d = ($3 - $2) / 1000; if (d >= 0.01) printf "%s %.2f\n", $1, d}' | sort -k2 -rn | tr '\n' ' ')
  SYS[$i]=$(awk -v a="$(strace_total "$p-strace-100.txt")" -v b="$(strace_total "$p-strace-1100.txt")" 'BEGIN {printf "%.2f", (b - a) / 1000}')
done

for i in "${!BINS[@]}"; do rm -f "$OUT/$i.times"; done
for _ in $(seq 1 $RUNS); do
  for i in "${!BINS[@]}"; do
    run "$i" localhost "$N" python3 "$TINYHUB_LIB/rusage.py" "$OUT/t.txt" >"$OUT/$i-time.log" 2>&1; ok "$OUT/$i-time.log" "$N"
    cat "$OUT/t.txt" >>"$OUT/$i.times"
  done
done
for i in "${!BINS[@]}"; do
  WALL[$i]=$(cut -d' ' -f1 "$OUT/$i.times" | median); CPU[$i]=$(cut -d' ' -f2 "$OUT/$i.times" | median)
done

row() { local title=$1 i; shift; printf '| %s |' "$title"; for i in "${!BINS[@]}"; do printf ' %s |' "$(eval "echo \"$*\"")"; done; echo; }
{
  printf '| figure (QoS 1, window 8%s) |' "${NODELAY_SO:+, TCP_NODELAY preloaded}"; for b in "${BINS[@]}"; do printf ' %s |' "$b"; done; echo
  printf '|---|'; for _ in "${BINS[@]}"; do printf -- '---:|'; done; echo
  row 'instructions / message outside mbedTLS' '${IPM[$i]}'
  row 'heap peak (massif, 1 message), host localhost (B)' '${HEAP[$i]}'
  row '  of which the libc resolver (getaddrinfo) (B)' '${RES[$i]}'
  row 'heap peak, host 127.0.0.1 (B)' '${HEAP_LIT[$i]}'
  row 'program .bss (B; mbedTLS .bss in its .so)' '${BSS[$i]}'
  row 'worst-case stack, painted, whole process (B)' '${STACK[$i]}'
  row 'syscalls / message' '${SYS[$i]}'
  row '  by name' '${SYS_BY[$i]}'
  row "$N messages: wall / client CPU (s, median of $RUNS)" '${WALL[$i]} / ${CPU[$i]}'
} | tee "$OUT/table.md"
