// POSIX side of TinyHub. Kept small and free of allocation after start-up:
// getaddrinfo allocates (and frees) during connect of a host name, nothing else does.
#define _GNU_SOURCE
#include "tinyplatform.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

// --- Deadlines --------------------------------------------------------------------------
// Every socket call takes one absolute deadline on the monotonic clock, computed once per
// call, and every wait inside it (poll before each send/recv) gets only what is left of it.
// A peer that trickles one byte per wait can no longer stretch a call: the call ends at its
// deadline whatever the peer does. Arithmetic saturates: no overflow, no negative wait.

uint64_t tp_deadline_after(int32_t timeout_ms) {
    if (timeout_ms < 0) return TP_NO_DEADLINE;
    uint64_t now = tp_monotonic_ms();
    uint64_t span = (uint64_t)timeout_ms;
    return (now > TP_NO_DEADLINE - span) ? TP_NO_DEADLINE : now + span;
}

int32_t tp_remaining_ms(uint64_t deadline_ms) {
    if (deadline_ms == TP_NO_DEADLINE) return -1;
    uint64_t now = tp_monotonic_ms();
    if (now >= deadline_ms) return 0;
    uint64_t left = deadline_ms - now;
    return left > (uint64_t)INT32_MAX ? INT32_MAX : (int32_t)left;
}

// Waits until fd is ready for events or the deadline passes (a passed deadline still checks
// readiness once, without waiting). EINTR waits again for what is left, never from scratch.
static int wait_fd(int fd, short events, uint64_t deadline_ms, int32_t *err) {
    struct pollfd p = { .fd = fd, .events = events, .revents = 0 };
    for (;;) {
        int r = poll(&p, 1, tp_remaining_ms(deadline_ms));
        if (r > 0) return TP_OK;
        if (r == 0) return TP_ERR_TIMEOUT;
        if (errno == EINTR) continue;
        if (err) *err = errno;
        return TP_ERR_IO;
    }
}

static int deadline_passed(uint64_t deadline_ms) { return tp_remaining_ms(deadline_ms) == 0; }

// --- DNS --------------------------------------------------------------------------------
// getaddrinfo has no timeout of its own. glibc's resolver makes `retry` rounds over the name
// servers and waits up to `retrans` seconds for the first server, (retrans << i) / n for the
// i-th of n (res_send.c, send_dg); resolv.conf defaults are 5 s and 2 rounds. Before each lookup
// TinyHub caps them at TP_DNS_TIMEOUT_S and TP_DNS_ATTEMPTS (a stricter resolv.conf stays as it
// is) and looks a dotted name up as given, without the search list. A silent DNS then costs at
// most 4 s (1 server), 8 s (2) or 10 s (3, glibc's maximum) per lookup, A and AAAA together.
// docs/reliability.md, "Deadlines", has the whole bound.
#define TP_DNS_TIMEOUT_S 2
#define TP_DNS_ATTEMPTS 2

static void bound_resolver(void) {
#if defined(__GLIBC__)
    if (res_init() != 0) return; // out of memory: getaddrinfo reports it
    if (_res.retrans <= 0 || _res.retrans > TP_DNS_TIMEOUT_S) _res.retrans = TP_DNS_TIMEOUT_S;
    if (_res.retry <= 0 || _res.retry > TP_DNS_ATTEMPTS) _res.retry = TP_DNS_ATTEMPTS;
    _res.options &= ~(unsigned long)RES_DNSRCH; // dotted names: one name, not one per search domain
#endif
}

int tp_resolver_bounds(int32_t *timeout_s, int32_t *attempts) {
#if defined(__GLIBC__)
    bound_resolver();
    *timeout_s = _res.retrans;
    *attempts = _res.retry;
    return TP_OK;
#else
    (void)timeout_s; (void)attempts;
    return TP_ERR_IO;
#endif
}

static int connect_one(const struct addrinfo *ai, uint64_t deadline_ms, int32_t *out_fd, int32_t *err) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) { *err = errno; return (errno == ENOMEM || errno == ENOBUFS) ? TP_ERR_NOMEM : TP_ERR_IO; }
    int one = 1;
    // Without TCP_NODELAY a TLS handshake waits on Nagle + delayed ACK (~40 ms per flight).
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#ifdef SO_NOSIGPIPE
    setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (r != 0 && errno != EINPROGRESS) {
        *err = errno;
        close(fd);
        return (*err == ECONNREFUSED) ? TP_ERR_REFUSED
             : (*err == ENETUNREACH || *err == EHOSTUNREACH) ? TP_ERR_UNREACHABLE : TP_ERR_IO;
    }
    if (r != 0) {
        int w = wait_fd(fd, POLLOUT, deadline_ms, err);
        if (w != TP_OK) { close(fd); return w; }
        int soerr = 0;
        socklen_t len = sizeof soerr;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
        if (soerr != 0) {
            *err = soerr;
            close(fd);
            return (soerr == ECONNREFUSED) ? TP_ERR_REFUSED
                 : (soerr == ENETUNREACH || soerr == EHOSTUNREACH) ? TP_ERR_UNREACHABLE : TP_ERR_IO;
        }
    }
    *out_fd = fd;
    return TP_OK;
}

/// Heap tp_tcp_connect asks to be free before a lookup. Measured under a heap budget
/// (scripts/check/memory-harness.sh's shim): getaddrinfo of a name in /etc/hosts peaks at 8.7 KB and
/// crashes when only 4 KB are free, not from 8 KB on; a DNS lookup peaks at 68 KB (its 64 KB
/// answer buffer) and fails cleanly (EAI_MEMORY) when 9 KB were free. 9 KB keeps a reconnect
/// (54.8 KB live after a session) under the documented 64 KB budget (docs/memory.md).
/// musl's resolver (the device profile, docs/device-profile.md) reads /etc/hosts and DNS answers
/// into stack buffers; its one allocation is the result list (98 bytes for one address) and a
/// failed one is EAI_MEMORY: nothing to probe for, and a 9 KB probe on top of the TLS record
/// buffers (allocated before the connection) would be the program's heap peak.
#if defined(__GLIBC__)
#define TP_RESOLVER_BYTES 9216
#else
#define TP_RESOLVER_BYTES 0
#endif

// The port as getaddrinfo's decimal service string. By hand: snprintf would link libc's whole
// printf core, floating point included (8.4 KB of musl in the device profile), for five digits.
static void port_digits(uint16_t port, char out[6]) {
    char reversed[5];
    int n = 0;
    do { reversed[n++] = (char)('0' + port % 10); port /= 10; } while (port != 0);
    for (int i = 0; i < n; i++) out[i] = reversed[n - 1 - i];
    out[n] = 0;
}

// A literal IPv4 or IPv6 address ("192.0.2.7", "2001:db8::7") as a socket address, without the
// resolver: inet_pton neither allocates nor reads files, where glibc's getaddrinfo keeps its NSS
// state (about 5.6 KB of heap, measured with massif) for the rest of the process. Returns 0 when
// `host` is a name.
static socklen_t numeric_address(const char *host, uint16_t port, struct sockaddr_storage *out) {
    memset(out, 0, sizeof *out);
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        return sizeof *v4;
    }
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        return sizeof *v6;
    }
    return 0;
}

int tp_tcp_connect(const char *host, uint16_t port, int32_t timeout_ms, int32_t *out_fd, int32_t *err) {
    uint64_t deadline_ms = tp_deadline_after(timeout_ms);
    int32_t dummy = 0;
    if (!err) err = &dummy;
    *err = 0;
    struct sockaddr_storage literal;
    socklen_t literal_length = numeric_address(host, port, &literal);
    if (literal_length > 0) {
        struct addrinfo one;
        memset(&one, 0, sizeof one);
        one.ai_family = literal.ss_family;
        one.ai_socktype = SOCK_STREAM;
        one.ai_addr = (struct sockaddr *)&literal;
        one.ai_addrlen = literal_length;
        return connect_one(&one, deadline_ms, out_fd, err);
    }
    char service[6]; // "65535" and its NUL
    port_digits(port, service);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    struct addrinfo *list = NULL;
    // glibc's resolver is not safe when malloc fails inside it (a NULL NSS state dereferenced,
    // aborts in its file parsing: SIGSEGV/SIGABRT under a heap budget), so it only runs when
    // the heap can give it the ~9 KB a lookup takes at most (/etc/hosts or DNS, measured).
    if (TP_RESOLVER_BYTES > 0 && !tp_can_allocate(TP_RESOLVER_BYTES)) { *err = ENOMEM; return TP_ERR_NOMEM; }
    bound_resolver();
    errno = 0;
    int g = getaddrinfo(host, service, &hints, &list);
    // glibc's resolver reports a failed allocation as EAI_MEMORY or as a lookup failure with errno ENOMEM.
    if (g == EAI_MEMORY || (g != 0 && errno == ENOMEM)) { *err = ENOMEM; return TP_ERR_NOMEM; }
    // The lookup cannot be interrupted: when it used up the deadline, the call ends now.
    if (g != 0 && deadline_passed(deadline_ms)) { *err = 0; return TP_ERR_TIMEOUT; }
    if (g == EAI_AGAIN) { *err = g; return TP_ERR_DNS; } // the servers did not answer: no second round
    if (g != 0 || list == NULL) {
        // AI_ADDRCONFIG hides ::1 / 127.0.0.1 on hosts without a configured address; retry without it.
        hints.ai_flags = 0;
        if (TP_RESOLVER_BYTES > 0 && !tp_can_allocate(TP_RESOLVER_BYTES)) { *err = ENOMEM; return TP_ERR_NOMEM; }
        errno = 0;
        g = getaddrinfo(host, service, &hints, &list);
        if (g == EAI_MEMORY || (g != 0 && errno == ENOMEM)) { *err = ENOMEM; return TP_ERR_NOMEM; }
        if (g != 0 && deadline_passed(deadline_ms)) { *err = 0; return TP_ERR_TIMEOUT; }
        if (g != 0 || list == NULL) { *err = g; return TP_ERR_DNS; }
    }
    int result = TP_ERR_REFUSED;
    for (struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
        // Every address shares the one deadline; none starts once it has passed.
        if (deadline_passed(deadline_ms)) { result = TP_ERR_TIMEOUT; *err = 0; break; }
        result = connect_one(ai, deadline_ms, out_fd, err);
        if (result == TP_OK || result == TP_ERR_TIMEOUT || result == TP_ERR_NOMEM) break;
    }
    freeaddrinfo(list);
    return result;
}

int64_t tp_send_all(int32_t fd, const void *buf, size_t len, int32_t timeout_ms, int32_t *err) {
    return tp_send_all_by(fd, buf, len, tp_deadline_after(timeout_ms), err);
}

int64_t tp_send_all_by(int32_t fd, const void *buf, size_t len, uint64_t deadline_ms, int32_t *err) {
    const unsigned char *p = buf;
    size_t done = 0;
    while (done < len) {
        // MSG_DONTWAIT: a socket tp_recv_wait switched to blocking mode still never blocks here.
        ssize_t n = send(fd, p + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) { done += (size_t)n; continue; }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int w = wait_fd(fd, POLLOUT, deadline_ms, err);
            if (w != TP_OK) return w;
            continue;
        }
        if (err) *err = errno;
        return (errno == EPIPE || errno == ECONNRESET) ? TP_ERR_CLOSED : TP_ERR_IO;
    }
    return (int64_t)done;
}

int64_t tp_recv(int32_t fd, void *buf, size_t len, int32_t timeout_ms, int32_t *err) {
    return tp_recv_by(fd, buf, len, tp_deadline_after(timeout_ms), err);
}

int64_t tp_recv_by(int32_t fd, void *buf, size_t len, uint64_t deadline_ms, int32_t *err) {
    for (;;) {
        ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);
        if (n > 0) return n;
        if (n == 0) return TP_ERR_CLOSED;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (deadline_passed(deadline_ms)) return TP_ERR_TIMEOUT;
            int w = wait_fd(fd, POLLIN, deadline_ms, err);
            if (w != TP_OK) return w;
            continue;
        }
        if (err) *err = errno;
        return (errno == ECONNRESET) ? TP_ERR_CLOSED : TP_ERR_IO;
    }
}

// Waiting inside recv: with SO_RCVTIMEO set to a slice no longer than what is left of the
// deadline, a recv on a blocking socket sleeps until bytes arrive and returns them, one system
// call where the non-blocking way takes three (a recv that finds nothing, poll, a recv). The slice
// is the largest power of two in milliseconds not above what is left, so successive calls with
// similar deadlines (a poll loop of 1 s: 512 ms) reuse it without another setsockopt. When the
// slice passes with nothing, the rest of the deadline is waited with poll, as tp_recv_by does.
static int32_t floor_pow2(int32_t v) {
    int32_t p = 1;
    while (p <= v / 2) p *= 2;
    return p;
}

int64_t tp_recv_wait(int32_t fd, void *buf, size_t len, uint64_t deadline_ms, int32_t *slice_ms, int32_t *err) {
    int32_t left = tp_remaining_ms(deadline_ms);
    if (left == 0 || slice_ms == NULL) return tp_recv_by(fd, buf, len, deadline_ms, err);
    if (left < 0) left = INT32_MAX;
    if (*slice_ms <= 0 || *slice_ms > left) {
        if (*slice_ms == 0) {
            // First wait on this socket: switch it to blocking mode (every other call passes MSG_DONTWAIT).
            int flags = fcntl(fd, F_GETFL, 0);
            if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) { *slice_ms = -1; }
        }
        if (*slice_ms >= 0) {
            int32_t slice = floor_pow2(left);
            struct timeval tv = { .tv_sec = slice / 1000, .tv_usec = (slice % 1000) * 1000 };
            *slice_ms = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 ? slice : -1;
        }
        if (*slice_ms < 0) return tp_recv_by(fd, buf, len, deadline_ms, err);
    }
    for (;;) {
        ssize_t n = recv(fd, buf, len, 0);
        if (n > 0) return n;
        if (n == 0) return TP_ERR_CLOSED;
        if (errno == EINTR) {
            if (deadline_passed(deadline_ms)) return TP_ERR_TIMEOUT;
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) break; // the slice passed with nothing
        if (err) *err = errno;
        return (errno == ECONNRESET) ? TP_ERR_CLOSED : TP_ERR_IO;
    }
    // The rest of the deadline: poll, then a recv that does not wait (as tp_recv_by, without its first probe).
    for (;;) {
        if (deadline_passed(deadline_ms)) return TP_ERR_TIMEOUT;
        int w = wait_fd(fd, POLLIN, deadline_ms, err);
        if (w != TP_OK) return w;
        ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);
        if (n > 0) return n;
        if (n == 0) return TP_ERR_CLOSED;
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
        if (err) *err = errno;
        return (errno == ECONNRESET) ? TP_ERR_CLOSED : TP_ERR_IO;
    }
}

void tp_close(int32_t fd) { if (fd >= 0) close(fd); }

uint64_t tp_monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void tp_sleep_ms(uint32_t ms) {
    struct timespec ts = { .tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

int64_t tp_wall_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

int tp_random(void *buf, size_t len) {
    unsigned char *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t n = getrandom(p + done, len - done, 0);
        if (n < 0) { if (errno == EINTR) continue; return TP_ERR_IO; }
        done += (size_t)n;
    }
    return TP_OK;
}

void tp_write(int32_t fd, const void *buf, size_t len) {
    const unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) { if (errno == EINTR) continue; return; }
        p += n;
        len -= (size_t)n;
    }
}

void tp_exit(int32_t code) { exit(code); }

// argv without CommandLine (unavailable in Embedded Swift): glibc passes argc/argv/envp
// to functions in .init_array, so we capture them before main runs.
static int32_t saved_argc;
static char **saved_argv;
static void capture_args(int argc, char **argv, char **envp) {
    (void)envp;
    saved_argc = argc;
    saved_argv = argv;
}
__attribute__((section(".init_array"), used)) static void (*tp_capture_args)(int, char **, char **) = capture_args;

int32_t tp_argc(void) { return saved_argc; }
const char *tp_argv(int32_t i) { return (i >= 0 && i < saved_argc) ? saved_argv[i] : NULL; }
const char *tp_getenv(const char *name) { return getenv(name); }

int32_t tp_is_regular_file(const char *path) {
    struct stat info;
    return path != NULL && stat(path, &info) == 0 && S_ISREG(info.st_mode) ? 1 : 0;
}

int64_t tp_read_file(const char *path, void *buf, size_t cap, int32_t *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { if (err) *err = errno; return TP_ERR_IO; }
    size_t done = 0;
    for (;;) {
        if (done == cap) {
            char extra;
            ssize_t n = read(fd, &extra, 1);
            close(fd);
            return n == 0 ? (int64_t)done : TP_ERR_TOO_LARGE;
        }
        ssize_t n = read(fd, (char *)buf + done, cap - done);
        if (n < 0) { if (errno == EINTR) continue; if (err) *err = errno; close(fd); return TP_ERR_IO; }
        if (n == 0) break;
        done += (size_t)n;
    }
    close(fd);
    return (int64_t)done;
}

// --- Files for the outbox: positional reads and writes, and a data sync -----------------

// Syncs the directory that holds `path`, so a file just created there keeps its name after a
// power cut. File systems that cannot sync a directory (EINVAL, ENOTSUP) are taken as done.
static int sync_parent_directory(const char *path, int32_t *err) {
    size_t len = strlen(path);
    char *dir = malloc(len + 2);
    if (!dir) { if (err) *err = ENOMEM; return TP_ERR_IO; }
    memcpy(dir, path, len + 1);
    char *slash = strrchr(dir, '/');
    if (!slash) { dir[0] = '.'; dir[1] = 0; }
    else if (slash == dir) { dir[1] = 0; }
    else { *slash = 0; }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (dfd < 0) { if (err) *err = errno; return TP_ERR_IO; }
    int rc = fsync(dfd);
    int e = errno;
    close(dfd);
    if (rc != 0 && e != EINVAL && e != ENOTSUP) { if (err) *err = e; return TP_ERR_IO; }
    return TP_OK;
}

int32_t tp_file_open(const char *path, uint64_t size, int32_t *err) {
    int created = 1;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) {
        created = 0;
        fd = open(path, O_RDWR | O_CLOEXEC);
    }
    if (fd < 0) { if (err) *err = errno; return TP_ERR_IO; }
    struct stat st;
    if (fstat(fd, &st) != 0) { if (err) *err = errno; close(fd); return TP_ERR_IO; }
    if (!S_ISREG(st.st_mode)) { if (err) *err = EINVAL; close(fd); return TP_ERR_IO; }  // a directory, a device...
    int grown = (uint64_t)st.st_size < size;
    if (grown && ftruncate(fd, (off_t)size) != 0) {
        if (err) *err = errno;
        close(fd);
        return TP_ERR_IO;
    }
    // The size and, for a new file, its directory entry are durable before the caller relies on them.
    if (grown && fsync(fd) != 0) { if (err) *err = errno; close(fd); return TP_ERR_IO; }
    if (created && sync_parent_directory(path, err) != TP_OK) { close(fd); return TP_ERR_IO; }
    return fd;
}

int tp_file_read(int32_t fd, uint64_t offset, void *buf, size_t len, int32_t *err) {
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(offset + done));
        if (n < 0) { if (errno == EINTR) continue; if (err) *err = errno; return TP_ERR_IO; }
        if (n == 0) { memset((char *)buf + done, 0, len - done); break; }  // past the end: zeros
        done += (size_t)n;
    }
    return TP_OK;
}

int tp_file_write(int32_t fd, uint64_t offset, const void *buf, size_t len, int32_t *err) {
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(fd, (const char *)buf + done, len - done, (off_t)(offset + done));
        if (n < 0) { if (errno == EINTR) continue; if (err) *err = errno; return TP_ERR_IO; }
        done += (size_t)n;
    }
    return TP_OK;
}

int tp_file_sync(int32_t fd, int32_t *err) {
    while (fdatasync(fd) != 0) {
        if (errno == EINTR) continue;
        if (err) *err = errno;
        return TP_ERR_IO;
    }
    return TP_OK;
}

const char *tp_strerror(int32_t err) { const char *s = strerror(err); return s ? s : "unknown error"; }

void tp_errno_clear(void) { errno = 0; }
int tp_errno_is_nomem(void) { return errno == ENOMEM; }

// Called through volatile pointers: compilers may delete a malloc/free pair whose memory is
// unused and fold the NULL check to "success", which would make the probe always pass.
static void *(*volatile probe_malloc)(size_t) = malloc;
static void (*volatile probe_free)(void *) = free;

int tp_can_allocate(size_t bytes) {
    void *probe = probe_malloc(bytes ? bytes : 1);
    if (!probe) return 0;
    probe_free(probe);
    return 1;
}

const char *tp_program_name(void) {
    const char *name = tp_argv(0);
    if (!name) return "";
    const char *slash = strrchr(name, '/');
    return slash ? slash + 1 : name;
}

// IANA TLS cipher suite numbers (RFC 5289); mbedTLS's MBEDTLS_TLS_* ids are the same numbers
// (TinyTLSTests checks them against mbedTLS's headers). Order: Azure IoT Hub's recommendation.
static const int tls_ciphersuites[] = {
    0xC02C, // TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
    0xC02B, // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    0xC030, // TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
    0xC02F, // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    0,
};

const int *tp_tls_ciphersuites(void) { return tls_ciphersuites; }

// The compiler cannot see through a volatile function pointer, so it cannot prove the call is
// plain memset on memory that is dead afterwards, and must keep it (mbedtls_platform_zeroize
// uses the same device). A separate function in a separate object: never inlined into Swift.
static void *(*const volatile zeroize_memset)(void *, int, size_t) = memset;

void tp_zeroize(void *buf, size_t len) {
    if (buf != NULL && len > 0) zeroize_memset(buf, 0, len);
}
