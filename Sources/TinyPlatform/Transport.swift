/// A byte stream the MQTT session and the HTTPS client run over: plain TCP for tests,
/// TLS (mbedTLS) for devices. The session is generic over it, so calls are static and
/// Embedded Swift needs no existentials. Single-threaded; every call has a deadline, and it
/// bounds the whole call, not each wait inside it (docs/reliability.md, "Deadlines").
///
/// ```swift
/// func sendAll<T: Transport>(_ transport: T, _ bytes: UnsafeRawBufferPointer) throws(TransportError) {
///     if !transport.isOpen { try transport.open(timeoutMs: 10_000) }
///     try transport.send(bytes, timeoutMs: 5_000)
/// }
/// ```
public protocol Transport: AnyObject {
    /// Opens the connection (DNS lookup, TCP connect, then the TLS handshake if any), all of it
    /// within `timeoutMs`; a DNS lookup cannot be interrupted and is bounded by the resolver.
    /// Calling it while open closes the old connection first.
    ///
    /// - Parameter timeoutMs: the deadline for the whole opening, in milliseconds.
    /// - Throws: `TransportError` (`timeout`, `connectionRefused`, `dnsFailure`, a TLS failure...).
    func open(timeoutMs: Int32) throws(TransportError)

    /// Sends all of `bytes` within `timeoutMs`. A TLS transport writes them as one record when
    /// they fit, so each MQTT packet or HTTP request leaves in one piece.
    ///
    /// - Parameters:
    ///   - bytes: what to send.
    ///   - timeoutMs: the deadline for the whole call, in milliseconds.
    /// - Throws: `TransportError` (`timeout`, `closed`, `io`...); the connection is then unusable.
    func send(_ bytes: UnsafeRawBufferPointer, timeoutMs: Int32) throws(TransportError)

    /// Receives whatever is available into `buffer`, waiting at most `timeoutMs`
    /// (0: do not wait). Returns the count, 0 when the deadline passed with nothing to read.
    ///
    /// - Parameters:
    ///   - buffer: where the bytes go.
    ///   - timeoutMs: the deadline, in milliseconds (0: do not wait).
    /// - Returns: the count received, 0 when nothing came in time.
    /// - Throws: `TransportError` (`closed` when the peer closed, `io`...).
    func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMs: Int32) throws(TransportError) -> Int

    /// Closes the connection (TLS sends close_notify first). Safe to call when closed.
    func close()

    /// Whether `open` succeeded and `close` has not been called since.
    var isOpen: Bool { get }
}
