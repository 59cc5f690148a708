import CTinyPlatform

/// Plain TCP, for tests and debugging against a local broker. Never a default:
/// IoT Hub only speaks TLS, and a device should too.
///
/// ```swift
/// let tcp = TCPTransport(host: "localhost", port: 1883)   // a local broker, no TLS
/// let session = MQTTSession(transport: tcp, platform: SystemPlatform(), buffers: buffers)
/// ```
public final class TCPTransport: Transport {
    private let host: String
    private let port: UInt16
    /// The socket descriptor while open, -1 otherwise. `TLSTransport` reads it for its BIO.
    public private(set) var descriptor: Int32 = -1

    /// A transport that will connect to `host:port` (a name, an IPv4 or an IPv6 literal).
    ///
    /// - Parameters:
    ///   - host: a host name or IP literal.
    ///   - port: the TCP port.
    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    deinit { close() }

    /// Whether a socket is open.
    public var isOpen: Bool { descriptor >= 0 }

    /// Resolves the host and connects (closing any previous socket first).
    ///
    /// - Parameter timeoutMs: The deadline of the connect, in milliseconds.
    /// - Throws: `TransportError` (DNS failure, refused, unreachable, timeout, out of memory).
    public func open(timeoutMs: Int32) throws(TransportError) {
        close()
        var fd: Int32 = -1
        var err: Int32 = 0
        let result = host.withCString { tp_tcp_connect($0, port, timeoutMs, &fd, &err) }
        if result != Int32(TP_OK) { throw TCPTransport.error(code: Int64(result), errno: err) }
        descriptor = fd
    }

    /// Sends all of `bytes`.
    ///
    /// - Parameters:
    ///   - bytes: The bytes to send.
    ///   - timeoutMs: The deadline of the whole send, in milliseconds.
    /// - Throws: `TransportError.notConnected` when closed, or the socket's failure.
    public func send(_ bytes: UnsafeRawBufferPointer, timeoutMs: Int32) throws(TransportError) {
        guard descriptor >= 0 else { throw .notConnected }
        var err: Int32 = 0
        let n = tp_send_all(descriptor, bytes.baseAddress, bytes.count, timeoutMs, &err)
        if n < 0 { throw TCPTransport.error(code: n, errno: err) }
    }

    /// Receives what is available into `buffer`.
    ///
    /// - Parameters:
    ///   - buffer: Where the bytes go.
    ///   - timeoutMs: How long to wait for the first byte, in milliseconds.
    /// - Returns: The number of bytes received, 0 when the deadline passed with nothing to read.
    /// - Throws: `TransportError.notConnected` when closed, `.closed` when the peer closed, or the socket's failure.
    public func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMs: Int32) throws(TransportError) -> Int {
        guard descriptor >= 0 else { throw .notConnected }
        var err: Int32 = 0
        let n = tp_recv(descriptor, buffer.baseAddress, buffer.count, timeoutMs, &err)
        if n == Int64(TP_ERR_TIMEOUT) { return 0 }
        if n < 0 { throw TCPTransport.error(code: n, errno: err) }
        return Int(n)
    }

    /// Closes the socket. Safe to call when closed.
    public func close() {
        if descriptor >= 0 { tp_close(descriptor) }
        descriptor = -1
    }

    /// Maps a platform-shim result code (`TP_ERR_*`) and errno to a transport error.
    ///
    /// - Parameters:
    ///   - code: the shim's result code.
    ///   - errno: the C `errno` that came with it.
    /// - Returns: the matching `TransportError`.
    public static func error(code: Int64, errno: Int32) -> TransportError {
        switch code {
        case Int64(TP_ERR_TIMEOUT): return .timeout
        case Int64(TP_ERR_DNS): return .dnsFailure(code: errno)
        case Int64(TP_ERR_REFUSED): return .connectionRefused
        case Int64(TP_ERR_CLOSED): return .closed
        case Int64(TP_ERR_UNREACHABLE): return .networkUnreachable
        case Int64(TP_ERR_NOMEM): return .outOfMemory
        default: return .io(errno: errno)
        }
    }
}
