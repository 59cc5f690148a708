import CMbedTLS

/// The mbedTLS state of one TLS client, allocated once and freed on deinit. A class with
/// a deinit owns the C contexts, so they are released exactly once.
final class MbedTLSContexts {
    let ssl = UnsafeMutablePointer<mbedtls_ssl_context>.allocate(capacity: 1)
    let config = UnsafeMutablePointer<mbedtls_ssl_config>.allocate(capacity: 1)
    let drbg = UnsafeMutablePointer<mbedtls_ctr_drbg_context>.allocate(capacity: 1)
    let trust = UnsafeMutablePointer<mbedtls_x509_crt>.allocate(capacity: 1)
    let clientCertificate = UnsafeMutablePointer<mbedtls_x509_crt>.allocate(capacity: 1)
    let clientKey = UnsafeMutablePointer<mbedtls_pk_context>.allocate(capacity: 1)
    /// State the BIO callbacks read: the socket and the current deadlines.
    let bio = UnsafeMutablePointer<BIOState>.allocate(capacity: 1)

    /// Whether every context was allocated (Embedded `allocate` returns null when memory runs out).
    let allocated: Bool

    init() {
        allocated = isAllocated(ssl) && isAllocated(config) && isAllocated(drbg) && isAllocated(trust)
            && isAllocated(clientCertificate) && isAllocated(clientKey) && isAllocated(bio)
        guard allocated else { return }
        mbedtls_ssl_init(ssl)
        mbedtls_ssl_config_init(config)
        mbedtls_ctr_drbg_init(drbg)
        mbedtls_x509_crt_init(trust)
        mbedtls_x509_crt_init(clientCertificate)
        mbedtls_pk_init(clientKey)
        bio.initialize(to: BIOState())
    }

    deinit {
        if allocated {
            mbedtls_ssl_free(ssl)
            mbedtls_ssl_config_free(config)
            mbedtls_ctr_drbg_free(drbg)
            mbedtls_x509_crt_free(trust)
            mbedtls_x509_crt_free(clientCertificate)
            mbedtls_pk_free(clientKey)
        }
        // Deallocating a null pointer (a failed allocation) is a no-op.
        ssl.deallocate()
        config.deallocate()
        drbg.deallocate()
        trust.deallocate()
        clientCertificate.deallocate()
        clientKey.deallocate()
        bio.deallocate()
    }
}

/// What the C callbacks need to do socket I/O for mbedTLS.
struct BIOState {
    var descriptor: Int32 = -1
    /// The deadline of the `TLSTransport` call in progress (monotonic ms, `tp_deadline_after`):
    /// set once per open/send/receive/close, shared by every socket wait mbedTLS makes in it.
    var deadlineMs: UInt64 = 0
    /// The last shim result code (TP_ERR_*) and errno, to report the real cause.
    var lastCode: Int64 = 0
    var lastErrno: Int32 = 0
}
