// TinyHub platform shim: the only C in the SDK besides the mbedTLS module map.
// Every call returns errors as values (negative TP_ERR_* codes plus errno in an out
// parameter); nothing here aborts except tp_exit, which is asked to.
#ifndef TINYPLATFORM_H
#define TINYPLATFORM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Result codes shared by the socket calls.
enum {
    TP_OK = 0,
    TP_ERR_IO = -1,          ///< any other socket error; errno in *err
    TP_ERR_TIMEOUT = -2,     ///< the deadline passed
    TP_ERR_DNS = -3,         ///< getaddrinfo found no address
    TP_ERR_REFUSED = -4,     ///< every address refused the connection
    TP_ERR_CLOSED = -5,      ///< the peer closed the connection
    TP_ERR_UNREACHABLE = -6, ///< no route / network down
    TP_ERR_TOO_LARGE = -7,   ///< a file does not fit the caller's buffer
    TP_ERR_NOMEM = -8,       ///< the C library ran out of memory (getaddrinfo, socket)
};

/// A deadline that never passes (tp_deadline_after(-1)).
#define TP_NO_DEADLINE UINT64_MAX

/// The monotonic-clock deadline timeout_ms from now (saturating; negative: TP_NO_DEADLINE).
uint64_t tp_deadline_after(int32_t timeout_ms);

/// Milliseconds left until deadline_ms: 0 once it has passed, -1 for TP_NO_DEADLINE,
/// at most INT32_MAX.
int32_t tp_remaining_ms(uint64_t deadline_ms);

/// Opens a TCP connection to host:port (IPv4 or IPv6) with TCP_NODELAY set and the socket
/// left non-blocking. The whole call (DNS lookup and every address tried) shares one deadline
/// timeout_ms from now; a DNS lookup, which cannot be interrupted, is bounded by the resolver
/// settings (tp_resolver_bounds) and the call returns TP_ERR_TIMEOUT right after it when it
/// used up the deadline. A literal address (IPv4 dotted quad or IPv6) is connected to without
/// the resolver, so it allocates nothing. On success stores the descriptor in *out_fd and
/// returns TP_OK.
int tp_tcp_connect(const char *host, uint16_t port, int32_t timeout_ms, int32_t *out_fd, int32_t *err);

/// Sends all len bytes before one deadline timeout_ms from now. Returns len, or a negative TP_ERR_*.
int64_t tp_send_all(int32_t fd, const void *buf, size_t len, int32_t timeout_ms, int32_t *err);

/// Sends all len bytes before deadline_ms (monotonic); every wait gets only what is left.
int64_t tp_send_all_by(int32_t fd, const void *buf, size_t len, uint64_t deadline_ms, int32_t *err);

/// Receives up to len bytes, waiting at most timeout_ms in all (0 = do not wait, -1 = forever).
/// Returns the count (> 0), TP_ERR_TIMEOUT, TP_ERR_CLOSED or TP_ERR_IO.
int64_t tp_recv(int32_t fd, void *buf, size_t len, int32_t timeout_ms, int32_t *err);

/// Receives up to len bytes, waiting until deadline_ms at most (a passed deadline: no wait).
int64_t tp_recv_by(int32_t fd, void *buf, size_t len, uint64_t deadline_ms, int32_t *err);

/// Receives up to len bytes like tp_recv_by, but waits inside recv (one system call for a wait
/// that ends with data, where tp_recv_by takes three): the first call switches the socket to
/// blocking mode (every other call here passes MSG_DONTWAIT, so nothing else ever blocks) and
/// sets SO_RCVTIMEO to the largest power of two in milliseconds not above what is left of the
/// deadline; later calls reuse it while it still fits. *slice_ms is that per-socket state: 0 for
/// a new socket, then the slice set (-1: blocking waits unavailable, tp_recv_by is used).
int64_t tp_recv_wait(int32_t fd, void *buf, size_t len, uint64_t deadline_ms, int32_t *slice_ms, int32_t *err);

/// The resolver bounds in force for the next lookup (glibc: after capping resolv.conf's
/// `timeout` at 2 s and `attempts` at 2). Returns TP_OK, or TP_ERR_IO on a C library whose
/// resolver TinyHub does not configure.
int tp_resolver_bounds(int32_t *timeout_s, int32_t *attempts);

/// Closes a descriptor (ignores errors).
void tp_close(int32_t fd);

/// Monotonic clock in milliseconds.
uint64_t tp_monotonic_ms(void);

/// Sleeps for ms milliseconds (restarts after signals).
void tp_sleep_ms(uint32_t ms);

/// Wall-clock time in whole seconds since the Unix epoch (UTC).
int64_t tp_wall_seconds(void);

/// Fills buf with len bytes from getrandom(). Returns TP_OK or TP_ERR_IO.
int tp_random(void *buf, size_t len);

/// Writes bytes to standard output (fd 1) or standard error (fd 2).
void tp_write(int32_t fd, const void *buf, size_t len);

/// Flushes nothing (output is unbuffered) and exits the process with code.
_Noreturn void tp_exit(int32_t code);

/// Number of program arguments, including the program name.
int32_t tp_argc(void);

/// Argument i (0 = program name), or NULL when out of range.
const char *tp_argv(int32_t i);

/// getenv(name), or NULL.
const char *tp_getenv(const char *name);

/// Reads a whole file into buf (at most cap bytes). Returns the length, TP_ERR_IO
/// when it cannot be read, or TP_ERR_TOO_LARGE when the file is larger than cap.
int64_t tp_read_file(const char *path, void *buf, size_t cap, int32_t *err);

/// Opens (creating it if missing, mode 0600) a file for reading and writing at any offset and
/// makes it at least `size` bytes long (new bytes read as zeros). A new or grown file is synced
/// (fsync), and a new file's directory too, before this returns. Returns the descriptor (>= 0)
/// or TP_ERR_IO with errno in *err.
int32_t tp_file_open(const char *path, uint64_t size, int32_t *err);

/// Reads exactly len bytes at offset (retrying short reads; bytes past the end of the file read as
/// zeros). Returns TP_OK or TP_ERR_IO with errno in *err.
int tp_file_read(int32_t fd, uint64_t offset, void *buf, size_t len, int32_t *err);

/// Writes exactly len bytes at offset (retrying short writes). Returns TP_OK or TP_ERR_IO.
int tp_file_write(int32_t fd, uint64_t offset, const void *buf, size_t len, int32_t *err);

/// Waits until the file's data written so far is on the storage device (fdatasync).
/// Returns TP_OK or TP_ERR_IO.
int tp_file_sync(int32_t fd, int32_t *err);

/// 1 when path names a regular file (after following links), 0 otherwise (missing, a
/// directory, a device...).
int32_t tp_is_regular_file(const char *path);

/// Sets errno to 0, so a later check can tell whether something since failed for lack of memory.
void tp_errno_clear(void);

/// Whether errno is ENOMEM (an allocation inside a C library failed since tp_errno_clear).
int tp_errno_is_nomem(void);

/// Whether the heap can give `bytes` right now: mallocs that much and frees it at once.
/// Embedded Swift traps when a class instance or a String's storage cannot be allocated, so
/// code that is about to create one probes first and reports out of memory instead.
int tp_can_allocate(size_t bytes);

/// The program name (argv[0] after its last '/'), for error lines; "" when unknown.
const char *tp_program_name(void);

/// Text for an errno value (strerror), never NULL.
const char *tp_strerror(int32_t err);

/// Overwrites len bytes at buf with zeros in a way the optimiser cannot remove as a dead
/// store (memset through a volatile function pointer), for keys, tokens and connection
/// strings about to be freed or reused. NULL or len 0 does nothing.
void tp_zeroize(void *buf, size_t len);

/// The TLS cipher suites the client offers, in order of preference, 0-terminated (static
/// storage, as mbedtls_ssl_conf_ciphersuites keeps the pointer): ECDHE-ECDSA and ECDHE-RSA
/// with AES-256-GCM-SHA384 and AES-128-GCM-SHA256, the suites Azure IoT Hub recommends.
const int *tp_tls_ciphersuites(void);

#ifdef __cplusplus
}
#endif
#endif
