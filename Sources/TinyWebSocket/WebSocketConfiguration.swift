/// What a `WebSocketTransport` asks for and how much memory it takes.
///
/// The transport allocates `frameBufferBytes + receiveBufferBytes` once, at init; nothing after.
///
/// ```swift
/// let configuration = WebSocketConfiguration(host: "myhub.azure-devices.net", clientCertificate: false)
/// let webSocket = try WebSocketTransport(over: tls, configuration: configuration)
/// ```
public struct WebSocketConfiguration {
    /// The smallest buffer accepted for either side: the upgrade request (with a host name of up
    /// to 255 bytes) must fit the frame buffer, and the answer's header block is read into it.
    public static let minimumBufferBytes = 512

    /// The `Host` of the upgrade request: the name the TLS transport connects to (the hub's
    /// `HostName`, or the gateway's).
    public var host: String
    /// Whether the device authenticates with a client certificate (X.509). False (SAS tokens)
    /// adds `?iothub-no-client-cert=true` to the request, as IoT Hub wants.
    public var clientCertificate: Bool
    /// Room for one outgoing frame (its header takes up to 14 bytes): a `send` longer than
    /// that leaves as several binary frames. Also where the answer to the upgrade is parsed, so
    /// it bounds that answer's header block.
    public var frameBufferBytes: Int
    /// Room for bytes read from the inner transport before they are unframed.
    public var receiveBufferBytes: Int
    /// The longest data frame accepted from the server; a longer one is
    /// `TransportError.webSocketProtocolViolation` (`lastFrameError == .frameTooLong`). Frames are
    /// unframed as they arrive, so this bounds nothing in memory; it is a sanity limit. The
    /// default, 1 MiB, is four times IoT Hub's largest message.
    public var maxFrameLength: UInt64

    /// A configuration for the hub (or gateway) named `host`.
    ///
    /// - Parameters:
    ///   - host: The `Host` header value.
    ///   - clientCertificate: True for X.509 authentication, false for SAS tokens.
    ///   - frameBufferBytes: Room for one outgoing frame, at least `minimumBufferBytes`.
    ///   - receiveBufferBytes: Room for incoming bytes, at least `minimumBufferBytes`.
    ///   - maxFrameLength: The longest data frame accepted from the server.
    public init(host: String, clientCertificate: Bool = false, frameBufferBytes: Int = 2_048,
                receiveBufferBytes: Int = 2_048, maxFrameLength: UInt64 = 1 << 20) {
        self.host = host
        self.clientCertificate = clientCertificate
        self.frameBufferBytes = frameBufferBytes
        self.receiveBufferBytes = receiveBufferBytes
        self.maxFrameLength = maxFrameLength
    }
}
