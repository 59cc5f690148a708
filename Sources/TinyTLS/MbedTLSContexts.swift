import CMbedTLS
import TinyPlatform

/// The mbedTLS state of one TLS client, allocated once and freed on deinit. A class with
/// a deinit owns the C contexts, so they are released exactly once.
final class MbedTLSContexts {
    let ssl = UnsafeMutablePointer<mbedtls_ssl_context>.allocate(capacity: 1)
    let config = UnsafeMutablePointer<mbedtls_ssl_config>.allocate(capacity: 1)
    let trust = UnsafeMutablePointer<mbedtls_x509_crt>.allocate(capacity: 1)
    /// The device's certificate chain and key: only for a client certificate (X.509 devices);
    /// nil otherwise, so a SAS device does not carry their heads (about 630 bytes).
    let clientCertificate: UnsafeMutablePointer<mbedtls_x509_crt>?
    let clientKey: UnsafeMutablePointer<mbedtls_pk_context>?
    /// State the BIO callbacks read: the socket and the current deadlines.
    let bio = UnsafeMutablePointer<BIOState>.allocate(capacity: 1)

    /// One block: the read-ahead buffer, then the stored session (`SessionStore`).
    let buffers: UnsafeMutableRawBufferPointer

    /// Whether every context was allocated (Embedded `allocate` returns null when memory runs out).
    let allocated: Bool

    /// Contexts with a read-ahead buffer of `readAheadBytes` and room for a stored session of
    /// `sessionBytes` (either may be 0), and a client certificate chain and key when
    /// `clientIdentity`, allocated here once.
    ///
    /// - Parameters:
    ///   - readAheadBytes: The read-ahead buffer's size (`TLSConfiguration.readAheadBytes`).
    ///   - sessionBytes: The stored session's room (`TLSConfiguration.sessionCacheBytes`).
    ///   - clientIdentity: Whether the device presents a certificate (`TLSConfiguration.clientIdentity`).
    init(readAheadBytes: Int = 0, sessionBytes: Int = 0, clientIdentity: Bool = false) {
        clientCertificate = clientIdentity ? .allocate(capacity: 1) : nil
        clientKey = clientIdentity ? .allocate(capacity: 1) : nil
        let readAhead = max(0, readAheadBytes)
        let total = readAhead + max(0, sessionBytes)
        buffers = total > 0 ? .allocate(byteCount: total, alignment: 8) : UnsafeMutableRawBufferPointer(start: nil, count: 0)
        allocated = isAllocated(ssl) && isAllocated(config) && isAllocated(trust)
            && (!clientIdentity || (clientCertificate.map(isAllocated) == true && clientKey.map(isAllocated) == true))
            && isAllocated(bio) && (total == 0 || buffers.baseAddress != nil)
        guard allocated else { return }
        mbedtls_ssl_init(ssl)
        mbedtls_ssl_config_init(config)
        mbedtls_x509_crt_init(trust)
        if let clientCertificate { mbedtls_x509_crt_init(clientCertificate) }
        if let clientKey { mbedtls_pk_init(clientKey) }
        bio.initialize(to: BIOState(readAhead: ReadAhead(storage: UnsafeMutableRawBufferPointer(rebasing: buffers[0..<readAhead]))))
        session = SessionStore(storage: UnsafeMutableRawBufferPointer(rebasing: buffers[readAhead...]))
    }

    /// The session kept for resumption (empty storage when resumption is off).
    var session = SessionStore(storage: UnsafeMutableRawBufferPointer(start: nil, count: 0))

    deinit {
        if allocated {
            mbedtls_ssl_free(ssl)
            mbedtls_ssl_config_free(config)
            mbedtls_x509_crt_free(trust)
            if let clientCertificate { mbedtls_x509_crt_free(clientCertificate) }
            if let clientKey { mbedtls_pk_free(clientKey) }
        }
        // Deallocating a null pointer (a failed allocation) is a no-op.
        ssl.deallocate()
        config.deallocate()
        trust.deallocate()
        clientCertificate?.deallocate()
        clientKey?.deallocate()
        bio.deallocate()
        // The stored session holds a master secret.
        zeroize(buffers)
        buffers.deallocate()
    }
}

/// What the C callbacks need to do socket I/O for mbedTLS.
struct BIOState {
    /// Bytes received from the socket that mbedTLS has not asked for yet.
    var readAhead: ReadAhead
    var descriptor: Int32 = -1
    /// The socket's receive timeout slice (`tp_recv_wait`): 0 for a new socket.
    var receiveSliceMs: Int32 = 0
    /// The deadline of the `TLSTransport` call in progress (monotonic ms, `tp_deadline_after`):
    /// set once per open/send/receive/close, shared by every socket wait mbedTLS makes in it.
    var deadlineMs: UInt64 = 0
    /// The last shim result code (TP_ERR_*) and errno, to report the real cause.
    var lastCode: Int64 = 0
    var lastErrno: Int32 = 0
}
