import TinyPlatform

/// All memory an HTTPS `HubClient` (`HTTPSFace`) uses, sized and owned by the application: making
/// a `HubClient` with them chooses HTTPS.
///
/// ```swift
/// guard let buffers = HubHTTPSBuffers.allocate(request: 2_048, responseHeaders: 2_048, body: 4_096, identity: 1_024) else {
///     /* out of memory */
/// }
/// let configuration = try HubConfiguration(connectionString: connectionString, storage: buffers.identity)
/// let client = try HubClient(configuration: configuration, transport: tls, platform: SystemPlatform(),
///                            crypto: MbedTLSCrypto(), buffers: buffers)   // HubClient<HTTPSFace<…>>
/// ```
public struct HubHTTPSBuffers {
    /// Requests are written here (head, and the body when it fits; larger bodies are sent
    /// from the caller's memory). After a request is sent it doubles as the receive buffer.
    public var request: UnsafeMutableRawBufferPointer
    /// The status line and headers of a response (the C2D message properties live here).
    public var responseHeaders: UnsafeMutableRawBufferPointer
    /// Response bodies (C2D payloads) and batch bodies being built: its size bounds both.
    public var body: UnsafeMutableRawBufferPointer
    /// Holds a copy of the connection string and the current SAS token.
    public var identity: UnsafeMutableRawBufferPointer

    /// Wraps memory the caller already owns. `identity` and `request` then hold the key and
    /// token until you overwrite them: wipe them once the client is gone.
    ///
    /// - Parameters:
    ///   - request: bytes for a request's head (and its body when it fits).
    ///   - responseHeaders: bytes for a response's status line and headers.
    ///   - body: bytes for a response body and a telemetry batch being built.
    ///   - identity: bytes for the connection string's copy and the SAS token.
    public init(request: UnsafeMutableRawBufferPointer, responseHeaders: UnsafeMutableRawBufferPointer,
                body: UnsafeMutableRawBufferPointer, identity: UnsafeMutableRawBufferPointer) {
        self.request = request
        self.responseHeaders = responseHeaders
        self.body = body
        self.identity = identity
    }

    /// Allocates everything once at start-up. `body` bounds a received C2D message and a
    /// telemetry batch; `request` should hold the head plus a typical telemetry payload.
    ///
    /// - Parameters:
    ///   - request: bytes for a request's head (and its body when it fits).
    ///   - responseHeaders: bytes for a response's status line and headers.
    ///   - body: bytes for the largest cloud-to-device message and telemetry batch.
    ///   - identity: bytes for the connection string's copy and the SAS token.
    /// - Returns: the buffers, or nil when memory ran out (Embedded Swift's `allocate` returns
    ///   null rather than trapping).
    public static func allocate(request: Int = 2_048, responseHeaders: Int = 2_048, body: Int = 4_096,
                                identity: Int = 1_024) -> HubHTTPSBuffers? {
        let buffers = HubHTTPSBuffers(request: .allocate(byteCount: request, alignment: 1),
                                      responseHeaders: .allocate(byteCount: responseHeaders, alignment: 1),
                                      body: .allocate(byteCount: body, alignment: 1),
                                      identity: .allocate(byteCount: identity, alignment: 1))
        guard buffers.request.baseAddress != nil, buffers.responseHeaders.baseAddress != nil,
              buffers.body.baseAddress != nil, buffers.identity.baseAddress != nil else {
            buffers.deallocate()
            return nil
        }
        return buffers
    }

    /// Wipes the secrets (connection string, SAS token, the last request's Authorization
    /// header) and frees buffers made by `allocate`.
    public func deallocate() {
        zeroize(identity)
        zeroize(request)
        request.deallocate()
        responseHeaders.deallocate()
        body.deallocate()
        identity.deallocate()
    }
}
