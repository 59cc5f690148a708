import TinyPlatform
import TinyTLS
import TinyWebSocket

/// The connection an example's MQTT client (hub or DPS) runs over: MQTT over TLS (`--transport
/// mqtt`), or MQTT over WebSockets over TLS (`--transport mqtt-ws`: `GET /$iothub/websocket` on the
/// HTTPS port, 443 by default). One concrete type for both, so every example and the support code
/// around it (polling, DPS, the outbox) is written once; the choice costs one branch per call.
public final class ExampleLink: Transport {
    private let tls: TLSTransport
    private let webSocket: WebSocketTransport<TLSTransport>?
    /// Where the TLS session is kept between runs (`IOTHUB_TLS_SESSION_FILE`), if anywhere.
    private let session: ExampleTLSSession?

    private init(tls: TLSTransport, webSocket: WebSocketTransport<TLSTransport>?, session: ExampleTLSSession?) {
        self.tls = tls
        self.webSocket = webSocket
        self.session = session
    }

    /// A link to `host`: TLS to `port`, or with `webSockets` TLS to `webSocketPort` and the upgrade
    /// over it (with `?iothub-no-client-cert=true` unless `clientCertificate`). `IOTHUB_PROXY`, when
    /// set, carries the TLS connection; the upgrade goes through the tunnel. Exits 1 with one line
    /// `<failure><reason>` when the transport cannot be set up.
    ///
    /// - Parameters:
    ///   - host: The server's name (TLS server name and the upgrade's `Host`).
    ///   - port: The MQTT port (MQTT over TLS).
    ///   - webSocketPort: The HTTPS port (MQTT over WebSockets).
    ///   - webSockets: Whether MQTT goes over WebSockets.
    ///   - trustAnchors: The roots the server's certificate must chain to.
    ///   - clientIdentity: The device certificate and key for X.509, if any.
    ///   - clientCertificate: Whether the device authenticates with that certificate (the upgrade's query).
    ///   - failure: The start of the line a setup failure prints.
    ///   - session: Where the TLS session is kept between runs: offered at every handshake, and
    ///     rewritten after it (nil: every run starts with a full handshake).
    static func make(host: String, port: UInt16, webSocketPort: UInt16, webSockets: Bool, trustAnchors: TrustAnchors,
                     clientIdentity: ClientIdentity?, clientCertificate: Bool, failure: StaticString,
                     session: ExampleTLSSession? = nil) -> ExampleLink {
        do throws(TransportError) {
            var configuration = TLSConfiguration(host: host, port: webSockets ? webSocketPort : port, trustAnchors: trustAnchors,
                                                 clientIdentity: clientIdentity, proxy: ExampleProxy.configuration())
            if session != nil { configuration.sessionCacheBytes = ExampleTLSSession.recordBytes }
            let tls = try TLSTransport(configuration)
            session?.restore(into: tls)
            guard webSockets else { return ExampleLink(tls: tls, webSocket: nil, session: session) }
            let webSocket = try WebSocketTransport(over: tls, configuration: WebSocketConfiguration(host: host,
                                                                                                  clientCertificate: clientCertificate))
            // Embedded Swift traps when a class instance cannot be allocated.
            guard Heap.canAllocate(64) else { throw .outOfMemory }
            return ExampleLink(tls: tls, webSocket: webSocket, session: session)
        } catch {
            ExampleOutput.fail(failure, error.summary)
        }
    }

    /// Opens TLS (and runs the WebSocket upgrade) within `timeoutMs`.
    ///
    /// - Parameter timeoutMs: The deadline of the whole call, in milliseconds.
    /// - Throws: The transport's `TransportError`.
    public func open(timeoutMs: Int32) throws(TransportError) {
        if let webSocket { try webSocket.open(timeoutMs: timeoutMs) } else { try tls.open(timeoutMs: timeoutMs) }
        session?.store(from: tls)
    }

    /// Sends all of `bytes` within `timeoutMs`.
    ///
    /// - Parameters:
    ///   - bytes: The bytes to send.
    ///   - timeoutMs: The deadline, in milliseconds.
    /// - Throws: The transport's `TransportError`.
    public func send(_ bytes: UnsafeRawBufferPointer, timeoutMs: Int32) throws(TransportError) {
        if let webSocket { try webSocket.send(bytes, timeoutMs: timeoutMs) } else { try tls.send(bytes, timeoutMs: timeoutMs) }
    }

    /// Receives what is available into `buffer`, waiting at most `timeoutMs`.
    ///
    /// - Parameters:
    ///   - buffer: Where the bytes go.
    ///   - timeoutMs: The longest wait, in milliseconds (0: do not wait).
    /// - Returns: The count received, 0 when nothing came in time.
    /// - Throws: The transport's `TransportError`.
    public func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMs: Int32) throws(TransportError) -> Int {
        if let webSocket { return try webSocket.receive(into: buffer, timeoutMs: timeoutMs) }
        return try tls.receive(into: buffer, timeoutMs: timeoutMs)
    }

    /// Closes the connection (the WebSocket close handshake first, then TLS's close_notify).
    public func close() {
        if let webSocket { webSocket.close() } else { tls.close() }
    }

    /// Whether the connection is open (for WebSockets: upgraded and not closed since).
    public var isOpen: Bool { webSocket?.isOpen ?? tls.isOpen }
}
