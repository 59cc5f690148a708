#!/usr/bin/env bash
# Links a fully static mqtt-demo (libc + mbedTLS inside: no shared objects, no ld.so) from the
# objects of the Embedded device build. SwiftPM cannot do this link itself (gold: "-pie and
# -static are incompatible"), so it is done by hand, replacing SwiftPM's renamed entry point.
#
#   scripts/build/static.sh          glibc:  .build-embedded-static/release/mqtt-demo-fully-static
#   scripts/build/static.sh --musl   musl:   .build-embedded-static/release/mqtt-demo-musl-static
#
# Builds first with scripts/build/embedded.sh unless STATIC_SKIP_BUILD=1.
#
# --musl is a measurement, not a supported device build: it needs `musl-tools`, recompiles the C
# shim with musl-gcc, and links Debian's glibc-built mbedTLS archives, whose _FORTIFY_SOURCE
# calls (__memcpy_chk ...) are forwarded to the plain functions without the checks. musl also
# does not pass argc/argv to .init_array functions (the shim's way of capturing them), so a
# small main() captures them first. A real device build would compile mbedTLS against musl.
# Peak RSS (docs/memory.md): glibc ~1.4 MB (static glibc alone is ~0.55 MB), musl ~0.6 MB.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$TINYHUB_ROOT"
libc=glibc
[ "${1:-}" = --musl ] && libc=musl
if [ "${STATIC_SKIP_BUILD:-0}" != 1 ]; then
  scripts/build/embedded.sh >/dev/null
fi
if [ "$libc" = glibc ]; then
  OUT=.build-embedded-static/release/mqtt-demo-fully-static
  # glibc's warning that a static getaddrinfo may load NSS modules at run time is expected:
  # since glibc 2.34 the "files" and "dns" services are built in, so nothing is loaded for them.
  gcc -static -Wl,--gc-sections -Wl,--defsym,main=mqtt_demo_main -o "$OUT" \
    $(example_objects .build-embedded-static mqtt-demo) "${MBEDTLS_STATIC[@]}" \
    2> >(grep -v "statically linked applications requires at runtime\|in function .tp_tcp_connect" >&2)
else
  command -v musl-gcc >/dev/null || { echo "musl-gcc not found: apt-get install musl-tools" >&2; exit 1; }
  OUT=.build-embedded-static/release/mqtt-demo-musl-static
  W=.build-embedded-static/musl
  mkdir -p "$W"
  cat >"$W/fortify.c" <<'C'
/* glibc _FORTIFY_SOURCE entry points used by Debian's mbedTLS objects, forwarded for musl. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
void *__memcpy_chk(void *d, const void *s, size_t n, size_t dl) { (void)dl; return memcpy(d, s, n); }
void *__memset_chk(void *d, int c, size_t n, size_t dl) { (void)dl; return memset(d, c, n); }
int __vsnprintf_chk(char *s, size_t n, int f, size_t sl, const char *fmt, va_list ap) { (void)f; (void)sl; return vsnprintf(s, n, fmt, ap); }
int __snprintf_chk(char *s, size_t n, int f, size_t sl, const char *fmt, ...) {
    (void)f; (void)sl; va_list ap; va_start(ap, fmt); int r = vsnprintf(s, n, fmt, ap); va_end(ap); return r;
}
int __printf_chk(int f, const char *fmt, ...) { (void)f; va_list ap; va_start(ap, fmt); int r = vprintf(fmt, ap); va_end(ap); return r; }
long __fdelt_chk(long d) { return d / (8 * (long)sizeof(long)); }
void (*__sysv_signal(int s, void (*h)(int)))(int) { return signal(s, h); }
C
  cat >"$W/platform-musl.c" <<'C'
/* The C shim compiled against musl, with a main() that hands argc/argv to it first. */
#include "../../Sources/CTinyPlatform/platform.c"
extern int mqtt_demo_main(int, char **);
int main(int argc, char **argv) { capture_args(argc, argv, 0); return mqtt_demo_main(argc, argv); }
C
  musl-gcc -Os -ffunction-sections -fdata-sections -ISources/CTinyPlatform/include -c "$W/platform-musl.c" -o "$W/platform-musl.o"
  musl-gcc -Os -c "$W/fortify.c" -o "$W/fortify.o"
  musl-gcc -static -Wl,--gc-sections -o "$OUT" "$W/platform-musl.o" "$W/fortify.o" \
    $(example_objects .build-embedded-static mqtt-demo | grep -v "/CTinyPlatform.build/") \
    /usr/lib/x86_64-linux-gnu/libmbedtls.a /usr/lib/x86_64-linux-gnu/libmbedx509.a /usr/lib/x86_64-linux-gnu/libmbedcrypto.a
fi
stripped=$(stripped_size "$OUT")
printf 'fully static mqtt-demo (%s)  %8d bytes stripped  (%s)\n' "$libc" "$stripped" "$OUT"
