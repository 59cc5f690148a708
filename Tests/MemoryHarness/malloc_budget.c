// malloc_budget.c: an LD_PRELOAD shim that puts a hard budget on a process's heap.
//
//   gcc -O2 -shared -fPIC -o malloc_budget.so malloc_budget.c
//   MALLOC_BUDGET_BYTES=65536 MALLOC_BUDGET_REPORT=/tmp/report LD_PRELOAD=./malloc_budget.so ./app
//
// - Tracks live heap bytes (the sizes the program asked for, byte-exact; the shim's own
//   16-byte header and glibc's chunk overhead are not counted) and their peak.
// - Refuses (returns NULL, errno = ENOMEM) any allocation that would take the live bytes
//   above MALLOC_BUDGET_BYTES. Unset or empty: no limit, it only measures.
// - Counts allocations (malloc, calloc, realloc, memalign family) and refusals.
// - At exit (exit() or return from main) writes one line of key=value pairs to the file
//   named by MALLOC_BUDGET_REPORT:
//     peak=<bytes> count=<allocations> refused=<n> first_refused=<bytes> live=<bytes>
//       budget=<bytes|none> count_at_mark=<allocations|-1>
//   A process killed by a signal writes nothing: the harness treats a missing report as a crash.
// - MALLOC_BUDGET_MARK=<text>: the first write() to stdout that starts with <text> snapshots
//   the allocation count (reported as count_at_mark=, -1 if never seen), so a harness can
//   count the allocations of the steady state after a program prints e.g. "subscribed to".
//   write() is interposed for that alone and passed straight to the kernel.
// - MALLOC_BUDGET_VERBOSE=1 prints one line on stderr per refusal (off by default, so the
//   harness sees only the program's own out-of-memory message).
//
// Every block gets a 16-byte header {requested size, pointer glibc returned} right before the
// user pointer, so free() and realloc() know the size and aligned blocks can be released.
// The real allocator is reached through glibc's exported __libc_* entry points (no dlsym, so
// no bootstrap recursion). Single-threaded programs are the target; counters are atomic anyway.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

typedef struct {
    size_t size;  // bytes the caller asked for
    void *base;   // what __libc_malloc / __libc_memalign returned
} header_t;

#define HEADER ((size_t)sizeof(header_t))  // 16: keeps malloc's 16-byte alignment

static size_t budget;
static int limited;            // MALLOC_BUDGET_BYTES set and not empty (0 then refuses everything)
static int configured;
static int verbose;
static size_t live, peak, count, refused, first_refused;
static const char *mark;       // MALLOC_BUDGET_MARK
static long count_at_mark = -1;

static size_t parse_size(const char *s) {
    size_t v = 0;
    if (!s) return 0;
    for (; *s >= '0' && *s <= '9'; s++) v = v * 10 + (size_t)(*s - '0');
    return v;
}

static void configure(void) {
    if (configured) return;
    configured = 1;
    const char *b = getenv("MALLOC_BUDGET_BYTES");
    limited = b && *b;
    budget = parse_size(b);
    const char *v = getenv("MALLOC_BUDGET_VERBOSE");
    verbose = v && v[0] == '1';
    mark = getenv("MALLOC_BUDGET_MARK");
    if (mark && !*mark) mark = NULL;
}

static char *put_num(char *p, size_t v) {
    char tmp[24];
    int n = 0;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) *p++ = tmp[--n];
    return p;
}

static char *put_str(char *p, const char *s) {
    while (*s) *p++ = *s++;
    return p;
}

/// Reserves `size` bytes of the budget; 0 when that would exceed it.
static int reserve(size_t size) {
    configure();
    size_t now = __atomic_add_fetch(&live, size, __ATOMIC_RELAXED);
    if (limited && (now > budget || now < size)) {
        __atomic_sub_fetch(&live, size, __ATOMIC_RELAXED);
        if (__atomic_fetch_add(&refused, 1, __ATOMIC_RELAXED) == 0) first_refused = size;
        if (verbose) {
            char line[128], *p = line;
            p = put_str(p, "malloc_budget: refused ");
            p = put_num(p, size);
            p = put_str(p, " bytes (live ");
            p = put_num(p, now - size);
            p = put_str(p, ", budget ");
            p = put_num(p, budget);
            p = put_str(p, ")\n");
            (void)!write(2, line, (size_t)(p - line));
        }
        return 0;
    }
    size_t old = __atomic_load_n(&peak, __ATOMIC_RELAXED);
    while (now > old && !__atomic_compare_exchange_n(&peak, &old, now, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
    __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED);
    return 1;
}

static void release(size_t size) { __atomic_sub_fetch(&live, size, __ATOMIC_RELAXED); }

static header_t *header_of(void *p) { return (header_t *)((char *)p - HEADER); }

static void *finish(void *base, void *user, size_t size) {
    header_t *h = header_of(user);
    h->size = size;
    h->base = base;
    return user;
}

/// malloc / calloc body. calloc goes to __libc_calloc directly: written as malloc + memset,
/// gcc would turn it back into a call to calloc (itself).
static void *allocate(size_t size, int zero) {
    if (size > SIZE_MAX - HEADER) { errno = ENOMEM; return NULL; }
    if (!reserve(size)) { errno = ENOMEM; return NULL; }
    char *base = zero ? __libc_calloc(1, size + HEADER) : __libc_malloc(size + HEADER);
    if (!base) { release(size); __atomic_sub_fetch(&count, 1, __ATOMIC_RELAXED); errno = ENOMEM; return NULL; }
    return finish(base, base + HEADER, size);
}

void *malloc(size_t size) { return allocate(size, 0); }

void free(void *p) {
    if (!p) return;
    header_t *h = header_of(p);
    release(h->size);
    __libc_free(h->base);
}

void *calloc(size_t n, size_t size) {
    if (size && n > (SIZE_MAX - HEADER) / size) { errno = ENOMEM; return NULL; }
    return allocate(n * size, 1);
}

void *realloc(void *p, size_t size) {
    if (!p) return malloc(size);
    if (size == 0) { free(p); return NULL; }
    header_t *h = header_of(p);
    size_t old = h->size;
    // Count the new block in full while the old one is still live: that is what a
    // moving realloc costs at its worst moment, and it keeps the accounting simple.
    void *n = allocate(size, 0);
    if (!n) return NULL;  // old block untouched, as realloc promises
    memcpy(n, p, old < size ? old : size);
    free(p);
    return n;
}

static void *aligned(size_t alignment, size_t size) {
    if (alignment <= HEADER) return malloc(size);
    if (alignment & (alignment - 1)) { errno = EINVAL; return NULL; }
    if (size > SIZE_MAX - alignment) { errno = ENOMEM; return NULL; }
    if (!reserve(size)) { errno = ENOMEM; return NULL; }
    // Room for the header in front: the user block starts one `alignment` in.
    char *base = __libc_memalign(alignment, size + alignment);
    if (!base) { release(size); __atomic_sub_fetch(&count, 1, __ATOMIC_RELAXED); errno = ENOMEM; return NULL; }
    return finish(base, base + alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (alignment < sizeof(void *) || (alignment & (alignment - 1))) return EINVAL;
    void *p = aligned(alignment, size);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

void *aligned_alloc(size_t alignment, size_t size) { return aligned(alignment, size); }
void *memalign(size_t alignment, size_t size) { return aligned(alignment, size); }
void *valloc(size_t size) { return aligned((size_t)sysconf(_SC_PAGESIZE), size); }
void *pvalloc(size_t size) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return aligned(page, (size + page - 1) & ~(page - 1));
}
size_t malloc_usable_size(void *p) { return p ? header_of(p)->size : 0; }

ssize_t write(int fd, const void *buf, size_t len) {
    configure();
    if (mark && fd == 1 && count_at_mark < 0) {
        size_t n = strlen(mark);
        if (len >= n && memcmp(buf, mark, n) == 0) count_at_mark = (long)__atomic_load_n(&count, __ATOMIC_RELAXED);
    }
    return syscall(SYS_write, fd, buf, len);
}

__attribute__((destructor)) static void write_report(void) {
    const char *path = getenv("MALLOC_BUDGET_REPORT");
    if (!path || !*path) return;
    char line[256], *p = line;
    p = put_str(p, "peak="); p = put_num(p, peak);
    p = put_str(p, " count="); p = put_num(p, count);
    p = put_str(p, " refused="); p = put_num(p, refused);
    p = put_str(p, " first_refused="); p = put_num(p, first_refused);
    p = put_str(p, " live="); p = put_num(p, live);
    p = put_str(p, " budget=");
    if (limited) p = put_num(p, budget); else p = put_str(p, "none");
    p = put_str(p, " count_at_mark=");
    if (count_at_mark < 0) p = put_str(p, "-1"); else p = put_num(p, (size_t)count_at_mark);
    *p++ = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;
    (void)!write(fd, line, (size_t)(p - line));
    close(fd);
}
