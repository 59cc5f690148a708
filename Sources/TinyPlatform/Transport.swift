/// A byte stream the MQTT session and the HTTPS client run over: plain TCP for tests,
/// TLS (mbedTLS) for devices. The session is generic over it, so calls are static and
/// Embedded Swift needs no existentials. Single-threaded; every call has a deadline, and it
/// bounds the whole call, not each wait inside it (docs/reliability.md, "Deadlines").
public protocol Transport: AnyObject {
    /// Opens the connection (DNS lookup, TCP connect, then the TLS handshake if any), all of it
    /// within `timeoutMs`; a DNS lookup cannot be interrupted and is bounded by the resolver.
    /// Calling it while open closes the old connection first.
    func open(timeoutMs: Int32) throws(TransportError)

    /// Sends all of `bytes` within `timeoutMs`. A TLS transport writes them as one record when
    /// they fit, so each MQTT packet or HTTP request leaves in one piece.
    func send(_ bytes: UnsafeRawBufferPointer, timeoutMs: Int32) throws(TransportError)

    /// Receives whatever is available into `buffer`, waiting at most `timeoutMs`
    /// (0: do not wait). Returns the count, 0 when the deadline passed with nothing to read.
    func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMs: Int32) throws(TransportError) -> Int

    /// Closes the connection (TLS sends close_notify first). Safe to call when closed.
    func close()

    /// Whether `open` succeeded and `close` has not been called since.
    var isOpen: Bool { get }
}
