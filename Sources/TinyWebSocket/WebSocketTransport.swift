import CTinyPlatform
import TinyPlatform

/// MQTT over WebSockets (RFC 6455) as a `Transport`, over another transport (a `TLSTransport`
/// to the hub's port 443, optionally through an HTTP proxy). What the MQTT session and the hub
/// client run over does not change: they see a byte stream.
///
/// - `open` opens the inner transport, then sends the upgrade (`GET /$iothub/websocket`, with
///   `?iothub-no-client-cert=true` for SAS authentication, `Sec-WebSocket-Protocol: mqtt`, a
///   fresh `Sec-WebSocket-Key` from `getrandom()`) and checks the answer (101, `Upgrade`,
///   `Connection`, `Sec-WebSocket-Accept`, the `mqtt` subprotocol), all within its one deadline.
///   Reconnecting is calling `open` again: a new connection, a new handshake.
/// - `send` writes each call as binary frames masked with a fresh random key per frame.
/// - `receive` returns the payloads of binary and continuation frames as one stream (an MQTT
///   packet may span frames, a frame may hold several packets); pings are answered with pongs,
///   pongs ignored; a close from the server is answered and ends the connection (`.closed`).
/// - A frame RFC 6455 forbids, or an answer to the upgrade that is not one, is a typed
///   `TransportError` and ends the connection.
/// - `close` runs the close handshake (a close frame, then the server's, within one second)
///   before closing the inner transport.
///
/// Memory: one buffer of `frameBufferBytes + receiveBufferBytes`, allocated at init and freed
/// at deinit; nothing per message. Every call is bounded by its deadline, shared by all the
/// inner transport's calls it makes.
///
/// ```swift
/// let tls = try TLSTransport(TLSConfiguration(host: "myhub.azure-devices.net", port: 443))
/// let webSocket = try WebSocketTransport(over: tls, configuration: WebSocketConfiguration(host: "myhub.azure-devices.net"))
/// // then, like any transport: HubClient(configuration: configuration, transport: webSocket, …)
/// ```
public final class WebSocketTransport<Inner: Transport>: Transport {
    /// The transport the frames travel over.
    public let inner: Inner
    let storage: UnsafeMutableRawBufferPointer
    /// Where frames are built; during `open`, where the upgrade request and its answer go.
    let frame: UnsafeMutableRawBufferPointer
    /// Bytes read from the inner transport; `pending` of them, from `pendingStart`, are not unframed yet.
    let received: UnsafeMutableRawBufferPointer
    var pendingStart = 0
    var pendingEnd = 0
    var decoder: WebSocketFrameDecoder
    let host: UnsafeRawBufferPointer
    let clientCertificate: Bool
    var established = false

    /// The frame rule the server broke, when the last failure was `webSocketProtocolViolation`
    /// (kept until the next successful `open`).
    public internal(set) var lastFrameError: WebSocketFrameError? = nil
    /// The status code of the server's close frame, when the last connection ended with one.
    public internal(set) var lastCloseStatus: UInt16? = nil

    /// Heap bytes of the object and its decoder's 125-byte control buffer: an upper bound.
    static var objectBytes: Int { 512 }
    /// How long `close` waits for the server's close frame (and for sending ours).
    static var closeHandshakeMs: Int32 { 1_000 }

    /// A WebSocket transport over `inner` (not opened: call `open`).
    ///
    /// - Parameters:
    ///   - inner: The transport to the server (TLS to port 443 for IoT Hub); this transport opens and closes it.
    ///   - configuration: The host, the authentication kind and the buffer sizes.
    /// - Throws: `invalidConfiguration` for buffers under `WebSocketConfiguration.minimumBufferBytes`
    ///   or an empty host, `outOfMemory` when the buffers or the object do not fit.
    public convenience init(over inner: Inner, configuration: WebSocketConfiguration) throws(TransportError) {
        guard configuration.frameBufferBytes >= WebSocketConfiguration.minimumBufferBytes,
              configuration.receiveBufferBytes >= WebSocketConfiguration.minimumBufferBytes else {
            throw .invalidConfiguration("WebSocket buffers must hold at least 512 bytes each")
        }
        var host = configuration.host
        let hostCount = host.utf8.count
        guard hostCount > 0, hostCount <= 255 else { throw .invalidConfiguration("WebSocket host name is empty or too long") }
        let total = configuration.frameBufferBytes + configuration.receiveBufferBytes + hostCount
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: total, alignment: 8)
        guard storage.baseAddress != nil else { throw .outOfMemory }
        guard Heap.canAllocate(Self.objectBytes) else {
            storage.deallocate()
            throw .outOfMemory
        }
        host.withUTF8 { utf8 in
            for i in 0..<hostCount { storage[total - hostCount + i] = utf8[i] }
        }
        self.init(inner: inner, storage: storage, configuration: configuration, hostCount: hostCount)
    }

    private init(inner: Inner, storage: UnsafeMutableRawBufferPointer, configuration: WebSocketConfiguration, hostCount: Int) {
        self.inner = inner
        self.storage = storage
        let frameEnd = configuration.frameBufferBytes
        let receiveEnd = frameEnd + configuration.receiveBufferBytes
        frame = UnsafeMutableRawBufferPointer(rebasing: storage[0..<frameEnd])
        received = UnsafeMutableRawBufferPointer(rebasing: storage[frameEnd..<receiveEnd])
        host = UnsafeRawBufferPointer(rebasing: storage[receiveEnd..<(receiveEnd + hostCount)])
        clientCertificate = configuration.clientCertificate
        decoder = WebSocketFrameDecoder(maxFrameLength: configuration.maxFrameLength)
    }

    deinit {
        close()
        storage.deallocate()
    }

    /// Whether the upgrade succeeded and the connection has not ended since.
    public var isOpen: Bool { established && inner.isOpen }

    /// Opens the inner transport and runs the opening handshake, all within `timeoutMs`.
    /// Closes an open connection first (with the close handshake).
    ///
    /// - Parameter timeoutMs: The deadline of the whole call, in milliseconds.
    /// - Throws: The inner transport's failures (`.timeout` once the deadline passes),
    ///   `webSocketUpgradeRefused(status)` or `webSocketUpgradeInvalid`.
    public func open(timeoutMs: Int32) throws(TransportError) {
        close()
        let deadline = tp_deadline_after(max(0, timeoutMs))
        try inner.open(timeoutMs: max(0, timeoutMs))
        decoder.reset()
        pendingStart = 0
        pendingEnd = 0
        do throws(TransportError) {
            try upgrade(deadline: deadline)
        } catch {
            inner.close()
            throw error
        }
        lastFrameError = nil
        lastCloseStatus = nil
        established = true
    }

    /// Runs the close handshake (RFC 6455 §7.1.2: a close frame with status 1000, then the
    /// server's close frame, data before it discarded) within one second, then closes the inner
    /// transport. Safe to call when closed.
    public func close() {
        if established, inner.isOpen {
            established = false
            closeHandshake(status: 1000, deadline: tp_deadline_after(Self.closeHandshakeMs), awaitReply: true)
        }
        established = false
        inner.close()
    }

    /// Milliseconds left until `deadline` (0 once passed).
    static func remaining(_ deadline: UInt64) -> Int32 { max(0, tp_remaining_ms(deadline)) }

    /// A random 32-bit value from `getrandom()`: masking keys and the handshake key must be
    /// unpredictable (RFC 6455 §5.3, §4.1), so no seeded generator.
    static func random32() -> UInt32 {
        var value: UInt32 = 0
        _ = withUnsafeMutableBytes(of: &value) { tp_random($0.baseAddress, 4) }
        return value
    }
}
