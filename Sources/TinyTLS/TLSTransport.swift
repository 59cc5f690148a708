import CMbedTLS
import CTinyPlatform
import TinyPlatform

/// TLS 1.2 client over TCP with Debian's mbedTLS 2.28: the transport devices use.
///
/// - Server certificate chain verified against the configured roots (`VERIFY_REQUIRED`),
///   host name checked and sent as server name indication (SNI); neither can be turned off.
/// - Offers only ECDHE-ECDSA and ECDHE-RSA with AES-128/256-GCM (`tp_tls_ciphersuites`),
///   with the curves P-256, x25519, P-384, P-521 in that order, those mbedTLS was built with (`tinyhub_tls_curves`).
/// - A TCP close before the peer's close_notify is `TransportError.truncated`, not `.closed`.
/// - Random bytes straight from `getrandom()`: no DRBG or entropy context.
/// - Each `send` is written with one `mbedtls_ssl_write` per 16 KB, so an MQTT packet or
///   HTTP request leaves as one TLS record.
/// - `close` sends close_notify before closing the socket.
/// - Reads go through a read-ahead buffer (`TLSConfiguration.readAheadBytes`): one `recv`
///   brings as many records as fit, where mbedTLS alone makes two per record.
/// - With `TLSConfiguration.sessionCacheBytes`, each handshake offers the session of the last
///   one (or one given to `restoreSession`) for resumption; a server that does not resume it,
///   or a stored session that fails, costs a full handshake, never an error.
/// - With `TLSConfiguration.proxy`, the TCP connection goes to the HTTP proxy, which is asked
///   for a tunnel to `host:port` (`CONNECT`, see `ProxyConfiguration`) before the handshake.
///
/// All mbedTLS memory is allocated at init and by the handshake (record buffers); none per
/// message. The read-ahead buffer and the session's room are one block allocated at init.
///
/// ```swift
/// let tls = try TLSTransport(TLSConfiguration(host: "myhub.azure-devices.net", port: 8883))
/// try tls.open(timeoutMs: 10_000)   // TCP, then the verified handshake
/// ```
public final class TLSTransport: Transport {
    let contexts: MbedTLSContexts
    private let tcp: TCPTransport
    private var established = false
    /// Whether mbedtls_ssl_setup succeeded (before that, the SSL context must not be reset).
    private var ready = false
    /// The CONNECT exchange, when the configuration names a proxy.
    private var tunnel: ProxyTunnel? = nil
    /// The server's name and port, which a stored session must name.
    var host: String
    let port: UInt16
    /// The master secret of the session offered to the handshake in progress.
    var offeredMaster = OfferedMaster()
    /// The mbedTLS code of a failure met after bytes were already received in one `receive`
    /// call (the connection is dropped at once); the next call throws it. 0 when none.
    private var deferredReceiveCode: Int32 = 0

    /// Heap bytes of the three objects a transport is made of (this one, its `TCPTransport`
    /// and its `MbedTLSContexts`; about 170 today): an upper bound, checked by a test.
    static let objectBytes = 512

    /// Sets up mbedTLS for `configuration`: parses trust anchors and the client identity.
    /// Throws `invalidConfiguration` for unusable PEM or keys, `outOfMemory`
    /// when the heap cannot hold the transport (checked before any object is created:
    /// Embedded Swift traps when a class instance cannot be allocated).
    ///
    /// - Parameter configuration: the server, trust anchors, client identity and proxy.
    /// - Throws: `TransportError`: `invalidConfiguration`, `outOfMemory`.
    public convenience init(_ configuration: TLSConfiguration) throws(TransportError) {
        guard Heap.canAllocate(TLSTransport.objectBytes) else { throw .outOfMemory }
        try self.init(checked: configuration)
    }

    /// The objects are created before any other allocation, so the probe above covers them.
    private init(checked configuration: TLSConfiguration) throws(TransportError) {
        // Through a proxy, TCP goes to the proxy; the name TLS checks stays the destination's.
        tcp = TCPTransport(host: configuration.proxy?.host ?? configuration.host, port: configuration.proxy?.port ?? configuration.port)
        host = configuration.host
        port = configuration.port
        contexts = MbedTLSContexts(readAheadBytes: configuration.readAheadBytes, sessionBytes: configuration.sessionCacheBytes,
                                   clientIdentity: configuration.clientIdentity != nil)
        guard contexts.allocated else { throw .outOfMemory }
        tp_errno_clear()
        try loadTrustAnchors(configuration.trustAnchors)
        let config = contexts.config
        guard mbedtls_ssl_config_defaults(config, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                          MBEDTLS_SSL_PRESET_DEFAULT) == 0 else {
            throw .invalidConfiguration("mbedtls_ssl_config_defaults failed")
        }
        // TLS 1.2 only: IoT Hub deprecates 1.0/1.1, and mbedTLS 2.28 has no 1.3 client.
        mbedtls_ssl_conf_min_version(config, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3)
        mbedtls_ssl_conf_authmode(config, MBEDTLS_SSL_VERIFY_REQUIRED)
        mbedtls_ssl_conf_ca_chain(config, contexts.trust, nil)
        // A device whose clock was never set (earlier than this release) cannot tell whether a
        // certificate is valid yet: only then is "not yet valid" forgiven. Expiry, trust and
        // name are always checked.
        mbedtls_ssl_conf_verify(config, { _, _, _, flags in
            if let flags, WallClockTrust.systemClockIsUnknown {
                flags.pointee &= ~UInt32(MBEDTLS_X509_BADCERT_FUTURE)
            }
            return 0
        }, nil)
        mbedtls_ssl_conf_rng(config, BIOCallbacks.random, nil)
        // Offer only ECDHE with AES-GCM (IoT Hub's recommended suites), not mbedTLS's ~80 defaults:
        // no static RSA key exchange, no CBC, no SHA-1 MACs. The list is static C storage, as
        // mbedTLS keeps the pointer for the configuration's lifetime.
        mbedtls_ssl_conf_ciphersuites(config, tp_tls_ciphersuites())
        // ECDHE on P-256 first (`tinyhub_tls_curves`), not mbedTLS's default P-521: the handshake's
        // two scalar multiplications cost a quarter of the CPU. Static C storage, as above.
        mbedtls_ssl_conf_curves(config, tinyhub_tls_curves())
        if let identity = configuration.clientIdentity { try loadClientIdentity(identity) }
        // mbedtls_ssl_setup allocates the 16 KB + 16 KB record buffers; it fails only for lack of memory.
        guard mbedtls_ssl_setup(contexts.ssl, config) == 0 else { throw .outOfMemory }
        ready = true
        let hostResult = configuration.host.withCString { mbedtls_ssl_set_hostname(contexts.ssl, $0) }
        guard hostResult == 0 else { throw .invalidConfiguration("host name rejected by mbedTLS (too long?)") }
        mbedtls_ssl_set_bio(contexts.ssl, contexts.bio, BIOCallbacks.send, nil, BIOCallbacks.receive)
        // Last: nothing after it throws, so the tunnel's buffer is always released by deinit.
        if let proxy = configuration.proxy {
            tunnel = try ProxyTunnel(destination: configuration.host, port: configuration.port, proxy: proxy)
        }
    }

    deinit {
        close()
        tunnel?.release()
    }

    /// Whether the TLS handshake completed and the connection has not been closed since.
    public var isOpen: Bool { established }

    /// Verification flags (`MBEDTLS_X509_BADCERT_*`) of the last handshake, for diagnostics.
    public private(set) var lastVerificationFlags: UInt32 = 0

    /// Whether the last completed handshake resumed a stored session (the abbreviated
    /// handshake of RFC 5246 §7.3: the server took the offered session id or ticket, and the
    /// connection runs on the stored master secret). False after a full handshake.
    public private(set) var lastHandshakeResumed = false

    /// TCP connect (DNS lookup included), the proxy's tunnel if one is configured, and the TLS
    /// handshake within one deadline `timeoutMs` from now: each step gets what the ones before
    /// it left, and every socket wait only what is left of the whole. Throws `.timeout` when the
    /// deadline passes; through a proxy also `proxyRefused(status)` and `proxyInvalidResponse`
    /// (a proxy that cannot be reached fails like a host that cannot: `connectionRefused`...).
    /// With a stored session (`TLSConfiguration.sessionCacheBytes`) the handshake offers it; when
    /// that handshake fails, the session is forgotten and the connection made once more with a
    /// full handshake, within the same deadline.
    ///
    /// - Parameter timeoutMs: the deadline for the whole opening, in milliseconds.
    /// - Throws: `TransportError`: `timeout`, a connection failure, `proxyRefused`, a handshake or verification failure.
    public func open(timeoutMs: Int32) throws(TransportError) {
        close()
        let deadline = tp_deadline_after(max(0, timeoutMs))
        try connect(timeoutMs: max(0, timeoutMs), deadline: deadline)
        let offered = offerStoredSession()
        do throws(TransportError) {
            try handshake(deadline: deadline)
        } catch {
            // A stored session the server takes but that then fails (a damaged record, a server
            // that lost its key) ends that handshake: forget it and try once more in full.
            guard offered, error != .timeout, error != .outOfMemory, tp_remaining_ms(deadline) != 0 else { throw error }
            contexts.session.forget()
            try connect(timeoutMs: tp_remaining_ms(deadline), deadline: deadline)
            try handshake(deadline: deadline)
        }
        lastVerificationFlags = mbedtls_ssl_get_verify_result(contexts.ssl)
        established = true
        if contexts.session.isEnabled {
            host.withUTF8 { contexts.session.save(from: contexts.ssl, host: UnsafeRawBufferPointer($0), port: port) }
        }
    }

    /// TCP connect and the proxy's tunnel, before `deadline`. Drops the connection on failure.
    private func connect(timeoutMs: Int32, deadline: UInt64) throws(TransportError) {
        try tcp.open(timeoutMs: timeoutMs)
        guard tp_remaining_ms(deadline) > 0 else { abort(); throw .timeout }
        if let tunnel {
            do throws(TransportError) { try tunnel.open(descriptor: tcp.descriptor, deadline: deadline) } catch {
                abort()
                throw error
            }
        }
        contexts.bio.pointee.readAhead.reset()
        contexts.bio.pointee.receiveSliceMs = 0
        contexts.bio.pointee.descriptor = tcp.descriptor
        contexts.bio.pointee.deadlineMs = deadline
    }

    /// The TLS handshake before `deadline`; sets `lastHandshakeResumed`. Drops the connection on failure.
    private func handshake(deadline: UInt64) throws(TransportError) {
        tp_errno_clear()
        lastHandshakeResumed = false
        while true {
            let result = mbedtls_ssl_handshake(contexts.ssl)
            if result == 0 { break }
            if result == MBEDTLS_ERR_SSL_WANT_READ || result == MBEDTLS_ERR_SSL_WANT_WRITE
                || result == MBEDTLS_ERR_SSL_TIMEOUT {
                if result != MBEDTLS_ERR_SSL_TIMEOUT, tp_remaining_ms(deadline) > 0 { continue }
                abort()
                throw .timeout
            }
            let error = handshakeError(result)
            abort()
            throw error
        }
        lastHandshakeResumed = offeredMaster.matches(contexts.ssl)
        offeredMaster.clear()
    }

    /// Sends all of `bytes` within one deadline `timeoutMs` from now (every record and every
    /// socket wait shares it). A deadline that passes mid-record leaves the TLS stream
    /// unusable, so the connection is dropped and `.timeout` thrown.
    ///
    /// - Parameters:
    ///   - bytes: what to send.
    ///   - timeoutMs: the deadline for the whole call, in milliseconds.
    /// - Throws: `TransportError`: `timeout`, `closed`, a TLS failure.
    public func send(_ bytes: UnsafeRawBufferPointer, timeoutMs: Int32) throws(TransportError) {
        guard established else { throw .notConnected }
        let deadline = tp_deadline_after(max(0, timeoutMs))
        contexts.bio.pointee.deadlineMs = deadline
        var offset = 0
        while offset < bytes.count {
            let result = mbedtls_ssl_write(contexts.ssl, bytes.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) + offset },
                                           bytes.count - offset)
            if result > 0 { offset += Int(result); continue }
            if result == MBEDTLS_ERR_SSL_WANT_WRITE || result == MBEDTLS_ERR_SSL_WANT_READ, tp_remaining_ms(deadline) > 0 { continue }
            let error = (result == MBEDTLS_ERR_SSL_WANT_WRITE || result == MBEDTLS_ERR_SSL_WANT_READ) ? .timeout : ioError(result)
            abort()
            throw error
        }
    }

    /// Receives what one record gives, then every whole application-data record the read-ahead
    /// already holds behind it (while `buffer` has room), within one deadline `timeoutMs` from
    /// now shared by every socket read mbedTLS makes (record header, body). Returns 0 when the
    /// deadline passes first; a partly received record stays in mbedTLS for the next call.
    ///
    /// The records after the first cost no socket read and no wait (they are whole in the
    /// read-ahead), so a burst of small records (PUBACKs) reaches the caller in one call. A
    /// failure on one of them is reported by the next call, after the bytes before it.
    ///
    /// - Parameters:
    ///   - buffer: where the bytes go.
    ///   - timeoutMs: the deadline for the whole call, in milliseconds (0: do not wait).
    /// - Returns: the count received, 0 when nothing came in time.
    /// - Throws: `TransportError`: `closed`, a TLS failure.
    public func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMs: Int32) throws(TransportError) -> Int {
        if deferredReceiveCode != 0 {
            let code = deferredReceiveCode
            deferredReceiveCode = 0
            throw receiveError(code)
        }
        guard established else { throw .notConnected }
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        contexts.bio.pointee.deadlineMs = tp_deadline_after(max(0, timeoutMs))
        let first = mbedtls_ssl_read(contexts.ssl, base.assumingMemoryBound(to: UInt8.self), buffer.count)
        guard first > 0 else {
            if first == MBEDTLS_ERR_SSL_TIMEOUT || first == MBEDTLS_ERR_SSL_WANT_READ || first == MBEDTLS_ERR_SSL_WANT_WRITE {
                return 0
            }
            let error = receiveError(first)
            abort()
            throw error
        }
        var total = Int(first)
        guard total < buffer.count, contexts.bio.pointee.readAhead.buffered > 0 else { return total }
        // 23: application data (RFC 5246 §6.2.1). Anything else (an alert, a handshake message)
        // is left for the next call, which reads it as the first record; so is an empty record.
        // The expansion counts the 5-byte header too; what is left is the fragment's overhead.
        let overhead = max(0, Int(mbedtls_ssl_get_record_expansion(contexts.ssl)) - 5)
        while total < buffer.count, contexts.bio.pointee.readAhead.startsWithWholeRecord(ofType: 23, overhead: overhead) {
            let next = mbedtls_ssl_read(contexts.ssl, (base + total).assumingMemoryBound(to: UInt8.self), buffer.count - total)
            guard next > 0 else {
                // A whole record needs no socket read, so this is a failure of the record itself
                // (a bad MAC...): the bytes before it are handed out, the failure next time.
                if next != MBEDTLS_ERR_SSL_WANT_READ && next != MBEDTLS_ERR_SSL_WANT_WRITE {
                    deferredReceiveCode = next == 0 ? MBEDTLS_ERR_SSL_CONN_EOF : next
                    abort()
                }
                break
            }
            total += Int(next)
        }
        return total
    }

    /// Sends close_notify (best effort) and closes the socket. Safe to call when closed.
    public func close() {
        deferredReceiveCode = 0
        if established, ready {
            // close_notify (RFC 5246 §7.2.1): best effort, one short deadline.
            contexts.bio.pointee.deadlineMs = tp_deadline_after(1_000)
            _ = mbedtls_ssl_close_notify(contexts.ssl)
        }
        abort()
    }

    /// Drops the connection without close_notify and readies mbedTLS for a new handshake.
    private func abort() {
        established = false
        offeredMaster.clear()
        tcp.close()
        guard ready else { return }
        contexts.bio.pointee.descriptor = -1
        _ = mbedtls_ssl_session_reset(contexts.ssl)
    }

    // MARK: - Errors

    private func handshakeError(_ code: Int32) -> TransportError {
        if failedForLackOfMemory(code) { return .outOfMemory }
        if code == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED {
            let flags = mbedtls_ssl_get_verify_result(contexts.ssl)
            lastVerificationFlags = flags
            if flags & UInt32(MBEDTLS_X509_BADCERT_NOT_TRUSTED) != 0 { return .untrustedCertificate }
            if flags & UInt32(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE) != 0 { return .certificateExpired }
            if flags & UInt32(MBEDTLS_X509_BADCERT_CN_MISMATCH) != 0 { return .hostnameMismatch }
            return .untrustedCertificate
        }
        return ioError(code)
    }

    /// A clean end is only the peer's close_notify. A TCP end of stream or reset before it
    /// (mbedtls_ssl_read returns 0 for a bare FIN) may have cut a record or a close-delimited
    /// HTTP body short: `truncated`, so a reader never takes a cut body for a whole one.
    private func receiveError(_ code: Int32) -> TransportError {
        if code == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY { return .closed }
        if code == 0 || code == MBEDTLS_ERR_NET_CONN_RESET || code == MBEDTLS_ERR_SSL_CONN_EOF { return .truncated }
        return ioError(code)
    }

    private func ioError(_ code: Int32) -> TransportError {
        let bio = contexts.bio.pointee
        if code == MBEDTLS_ERR_SSL_TIMEOUT { return .timeout }
        if isAllocationFailure(code) { return .outOfMemory }
        if code == MBEDTLS_ERR_NET_CONN_RESET || code == MBEDTLS_ERR_SSL_CONN_EOF { return .closed }
        if code == MBEDTLS_ERR_NET_SEND_FAILED || code == MBEDTLS_ERR_NET_RECV_FAILED {
            return TCPTransport.error(code: bio.lastCode, errno: bio.lastErrno)
        }
        return .tls(code: code)
    }

    // MARK: - Certificates

    private func loadTrustAnchors(_ anchors: TrustAnchors) throws(TransportError) {
        switch anchors {
        case .azureRoots:
            try parseCertificate(AzureRootCertificates.digiCertGlobalRootG2, into: contexts.trust)
            try parseCertificate(AzureRootCertificates.microsoftRSARoot2017, into: contexts.trust)
            try parseCertificate(AzureRootCertificates.digiCertGlobalRootG3, into: contexts.trust)
        case .pem(let text):
            try parseCertificate(text, into: contexts.trust)
        case .pemBytes(let bytes):
            let result = mbedtls_x509_crt_parse(contexts.trust, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
            if failedForLackOfMemory(result) { throw .outOfMemory }
            guard result == 0 else { throw .invalidConfiguration("trusted CA certificates could not be parsed") }
        case .file(let path):
            // mbedTLS reads a directory as a file of absurd length and reports that as an
            // allocation failure: say what is wrong instead.
            guard path.withCString({ tp_is_regular_file($0) }) == 1 else {
                throw .invalidConfiguration("trusted CA file is missing or not a regular file")
            }
            // fopen's FILE buffer is heap too: a read that failed with ENOMEM is out of memory, not a missing file.
            tp_errno_clear()
            let result = path.withCString { mbedtls_x509_crt_parse_file(contexts.trust, $0) }
            if failedForLackOfMemory(result) { throw .outOfMemory }
            guard result == 0 else { throw .invalidConfiguration("trusted CA file missing or not PEM/DER certificates") }
        }
    }

    private func parseCertificate(_ pem: StaticString, into chain: UnsafeMutablePointer<mbedtls_x509_crt>) throws(TransportError) {
        // StaticString storage is NUL-terminated; mbedTLS wants the NUL counted for PEM.
        let result = mbedtls_x509_crt_parse(chain, pem.utf8Start, pem.utf8CodeUnitCount + 1)
        if failedForLackOfMemory(result) { throw .outOfMemory }
        guard result == 0 else { throw .invalidConfiguration("built-in certificate could not be parsed") }
    }

    private func loadClientIdentity(_ identity: ClientIdentity) throws(TransportError) {
        // Allocated by MbedTLSContexts whenever the configuration has a client identity.
        guard let clientCertificate = contexts.clientCertificate, let clientKey = contexts.clientKey else {
            throw .invalidConfiguration("client certificate and key have no storage")
        }
        switch identity {
        case .files(let certificate, let key):
            guard certificate.withCString({ tp_is_regular_file($0) }) == 1, key.withCString({ tp_is_regular_file($0) }) == 1 else {
                throw .invalidConfiguration("client certificate or key path is not a readable file")
            }
            tp_errno_clear()
            let certificateResult = certificate.withCString { mbedtls_x509_crt_parse_file(clientCertificate, $0) }
            if failedForLackOfMemory(certificateResult) { throw .outOfMemory }
            guard certificateResult == 0 else {
                throw .invalidConfiguration("client certificate file missing or unreadable")
            }
            let keyResult = key.withCString { mbedtls_pk_parse_keyfile(clientKey, $0, nil) }
            if failedForLackOfMemory(keyResult) { throw .outOfMemory }
            guard keyResult == 0 else {
                throw .invalidConfiguration("client key file missing, unreadable or encrypted")
            }
        case .bytes(let certificate, let key):
            guard mbedtls_x509_crt_parse(clientCertificate,
                                         certificate.baseAddress?.assumingMemoryBound(to: UInt8.self), certificate.count) == 0 else {
                throw .invalidConfiguration("client certificate could not be parsed")
            }
            guard mbedtls_pk_parse_key(clientKey, key.baseAddress?.assumingMemoryBound(to: UInt8.self), key.count, nil, 0) == 0 else {
                throw .invalidConfiguration("client key could not be parsed")
            }
        }
        guard mbedtls_ssl_conf_own_cert(contexts.config, clientCertificate, clientKey) == 0 else {
            throw .invalidConfiguration("client certificate and key do not match")
        }
    }
}
