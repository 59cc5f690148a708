/*
 * Heap budget for the fully static device-profile binaries (scripts/build/device-profile.sh).
 *
 * An LD_PRELOAD shim (Tests/MemoryHarness/malloc_budget.c) cannot reach a static binary, so
 * this file is linked in and every allocation of the program -- Swift, mbedTLS, musl's own
 * (getaddrinfo, fopen) -- is routed through it with
 *   -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=posix_memalign,
 *   --wrap=aligned_alloc,--wrap=memalign
 * (the Embedded Swift runtime allocates with posix_memalign).
 *
 * It counts the bytes the program asks for (byte-exact, without allocator overhead), their
 * peak and the number of allocations, and refuses with NULL / ENOMEM whatever would take the
 * live total above MALLOC_BUDGET_BYTES (unset or empty: no limit, it only measures). At exit
 * it writes one line to MALLOC_BUDGET_REPORT (when set), the same fields as the LD_PRELOAD shim:
 *   peak=<bytes> count=<allocations> refused=<n> first_refused=<bytes or -1> live=<bytes at exit>
 *
 * Each block carries a 16-byte header in front (its size and the distance to the block musl
 * returned), so free() knows what to subtract and alignment up to 16 is kept; larger
 * alignments are served from an over-allocated block.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *__real_malloc(size_t);
void __real_free(void *);

struct header {
    size_t size;   /* bytes the program asked for */
    size_t offset; /* from the block musl returned to the pointer handed out */
};
#define HEADER 16

static int configured;
static int limited;
static size_t budget;
static size_t live, peak;
static long count, refused;
static long long first_refused = -1;

static void configure(void) {
    configured = 1;
    const char *text = getenv("MALLOC_BUDGET_BYTES");
    if (text == NULL || *text == 0) return;
    char *end = NULL;
    unsigned long long value = strtoull(text, &end, 10);
    if (end != NULL && *end == 0) { limited = 1; budget = (size_t)value; }
}

/* Whether `size` more bytes fit the budget; counts a refusal when they do not. */
static int admit(size_t size) {
    if (!configured) configure();
    if (limited && (size > budget || live > budget - size)) {
        refused++;
        if (first_refused < 0) first_refused = (long long)size;
        errno = ENOMEM;
        return 0;
    }
    return 1;
}

static void *allocate(size_t size, size_t alignment) {
    if (!admit(size)) return NULL;
    if (alignment < HEADER) alignment = HEADER;
    size_t extra = HEADER + (alignment > HEADER ? alignment : 0);
    if (size > SIZE_MAX - extra) { errno = ENOMEM; return NULL; }
    unsigned char *raw = __real_malloc(size + extra);
    if (raw == NULL) return NULL;
    uintptr_t user = ((uintptr_t)raw + HEADER + alignment - 1) & ~(uintptr_t)(alignment - 1);
    struct header *h = (struct header *)(user - HEADER);
    h->size = size;
    h->offset = (size_t)(user - (uintptr_t)raw);
    live += size;
    if (live > peak) peak = live;
    count++;
    return (void *)user;
}

static size_t size_of(void *p) { return ((struct header *)((unsigned char *)p - HEADER))->size; }

void __wrap_free(void *p) {
    if (p == NULL) return;
    struct header *h = (struct header *)((unsigned char *)p - HEADER);
    live -= h->size;
    __real_free((unsigned char *)p - h->offset);
}

void *__wrap_malloc(size_t size) { return allocate(size, HEADER); }

void *__wrap_calloc(size_t n, size_t size) {
    if (size != 0 && n > SIZE_MAX / size) { errno = ENOMEM; return NULL; }
    void *p = allocate(n * size, HEADER);
    if (p != NULL) memset(p, 0, n * size);
    return p;
}

void *__wrap_realloc(void *old, size_t size) {
    if (old == NULL) return allocate(size, HEADER);
    if (size == 0) { __wrap_free(old); return NULL; }
    size_t before = size_of(old);
    /* The old block stays counted until the copy is made, as a moving realloc needs both. */
    void *p = allocate(size, HEADER);
    if (p == NULL) return NULL;
    memcpy(p, old, before < size ? before : size);
    __wrap_free(old);
    return p;
}

int __wrap_posix_memalign(void **out, size_t alignment, size_t size) {
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    void *p = allocate(size, alignment);
    if (p == NULL) return ENOMEM;
    *out = p;
    return 0;
}

void *__wrap_aligned_alloc(size_t alignment, size_t size) {
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) { errno = EINVAL; return NULL; }
    return allocate(size, alignment);
}

void *__wrap_memalign(size_t alignment, size_t size) { return __wrap_aligned_alloc(alignment, size); }

/* Decimal digits of v into buf (no stdio: it may allocate), returns the length. */
static size_t decimal(char *buf, long long v) {
    char tmp[24];
    size_t n = 0, len = 0;
    int negative = v < 0;
    unsigned long long u = negative ? (unsigned long long)(-(v + 1)) + 1 : (unsigned long long)v;
    do { tmp[n++] = (char)('0' + u % 10); u /= 10; } while (u != 0);
    if (negative) buf[len++] = '-';
    while (n > 0) buf[len++] = tmp[--n];
    return len;
}

__attribute__((destructor)) static void report(void) {
    const char *path = getenv("MALLOC_BUDGET_REPORT");
    if (path == NULL || *path == 0) return;
    char line[160];
    size_t len = 0;
    const char *names[] = {"peak=", " count=", " refused=", " first_refused=", " live="};
    long long values[] = {(long long)peak, count, refused, first_refused, (long long)live};
    for (int i = 0; i < 5; i++) {
        size_t k = strlen(names[i]);
        memcpy(line + len, names[i], k);
        len += k;
        len += decimal(line + len, values[i]);
    }
    line[len++] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;
    ssize_t ignored = write(fd, line, len);
    (void)ignored;
    close(fd);
}
