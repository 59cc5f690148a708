import TinyPlatform

extension HubClient {
    /// An HTTPS client for the device of `configuration` (`HTTPSFace`): its text goes into
    /// `buffers.identity` (copied, unless the configuration keeps it there), followed by a SAS
    /// token signed now. No connection is opened yet: the first request does that.
    ///
    /// - Parameters:
    ///   - configuration: the device's identity and credential.
    ///   - transport: the connection to `configuration.connectHost`, normally TLS to port 443.
    ///   - platform: clocks and randomness.
    ///   - crypto: signs the SAS tokens (`MbedTLSCrypto()` from TinyTLS, or your own `CryptoProvider`).
    ///   - buffers: all the memory the client uses; the caller keeps it alive while the client is.
    ///   - options: behaviour (SAS lifetime, polling policy, timeouts).
    ///   - log: receives one-line notices (development polling mode, stopping after
    ///     authentication failures); nothing is printed.
    /// - Throws: `HubError.bufferTooSmall` when the identity buffer cannot hold the identity and
    ///   a token, `.sasToken` when the token cannot be signed. A failed init wipes the identity buffer.
    public init<T, P, C: CryptoProvider>(configuration: HubConfiguration, transport: T, platform: P, crypto: C,
                                         buffers: HubHTTPSBuffers, options: HubOptions = HubOptions(),
                                         log: ((StaticString) -> Void)? = nil) throws(HubError)
        where Face == HTTPSFace<T, P> {
        face = try HTTPSFace(configuration: configuration, transport: transport, platform: platform, crypto: crypto,
                             buffers: buffers, options: options, log: log)
    }
}

/// The HTTPS-only API: polled cloud-to-device messages and their settlement, batches, the stop
/// after repeated authentication failures.
extension HubClient where Face: HTTPSFaceKind {
    /// Milliseconds until the polling policy (and any `Retry-After`) allows the next C2D GET.
    public var nextPollInMs: UInt64 { face.https.nextPollInMs }

    /// Poll cycles started so far (diagnostics).
    public var pollCyclesStarted: Int { face.https.pollCyclesStarted }

    /// Connections opened so far (diagnostics).
    public var connectionsOpened: Int { face.https.connectionsOpened }

    /// Clears a stop after repeated authentication failures; the next request mints a fresh token.
    public func resume() { face.https.resume() }

    /// Fetches one cloud-to-device message (`GET …/messages/deviceBound`), or nil when the queue
    /// is empty (see `HTTPSFace.receive()`).
    ///
    /// - Returns: the message, or nil.
    /// - Throws: `.pollTooSoon` when the polling policy forbids a GET now, `.receivedMessageTooLarge`
    ///   (the message was rejected), or what any request throws.
    public func receive() throws(HubError) -> CloudToDeviceMessage? { try face.https.receive() }

    /// Completes (deletes) a received message.
    ///
    /// - Parameter message: a message from `receive()`.
    /// - Throws: `.lockLost` when the lock expired or the message was settled, `.missingLockToken`
    ///   for a message without lock token, or what any request throws.
    public func complete(_ message: CloudToDeviceMessage) throws(HubError) { try face.https.settle(message, .complete) }

    /// Rejects (dead-letters) a received message.
    ///
    /// - Parameter message: a message from `receive()`.
    /// - Throws: as `complete(_:)`.
    public func reject(_ message: CloudToDeviceMessage) throws(HubError) { try face.https.settle(message, .reject) }

    /// Abandons a received message: it is queued again, its delivery count raised.
    ///
    /// - Parameter message: a message from `receive()`.
    /// - Throws: as `complete(_:)`.
    public func abandon(_ message: CloudToDeviceMessage) throws(HubError) { try face.https.settle(message, .abandon) }

    /// Settles a received message as `disposition` says.
    ///
    /// - Parameters:
    ///   - message: a message from `receive()`.
    ///   - disposition: complete, reject or abandon.
    /// - Throws: as `complete(_:)`.
    public func settle(_ message: CloudToDeviceMessage, _ disposition: C2DDisposition) throws(HubError) {
        try face.https.settle(message, disposition)
    }

    /// Completes the message `lock` belongs to.
    ///
    /// - Parameter lock: the message's lock token.
    /// - Throws: `.lockLost` when the lock expired or the message was settled, or what any request throws.
    public func complete(_ lock: C2DLockToken) throws(HubError) { try face.https.settle(lock, .complete) }

    /// Rejects the message `lock` belongs to.
    ///
    /// - Parameter lock: the message's lock token.
    /// - Throws: as `complete(_:)`.
    public func reject(_ lock: C2DLockToken) throws(HubError) { try face.https.settle(lock, .reject) }

    /// Abandons the message `lock` belongs to.
    ///
    /// - Parameter lock: the message's lock token.
    /// - Throws: as `complete(_:)`.
    public func abandon(_ lock: C2DLockToken) throws(HubError) { try face.https.settle(lock, .abandon) }

    /// Settles the message `lock` belongs to as `disposition` says.
    ///
    /// - Parameters:
    ///   - lock: the message's lock token.
    ///   - disposition: complete, reject or abandon.
    /// - Throws: as `complete(_:)`.
    public func settle(_ lock: C2DLockToken, _ disposition: C2DDisposition) throws(HubError) { try face.https.settle(lock, disposition) }

    /// One poll cycle, if due: receives while messages are waiting, hands each to `handler` and
    /// settles it as the handler answers (see `HTTPSFace.pollCloudToDevice(_:)`).
    ///
    /// - Parameter handler: says what to do with each message.
    /// - Returns: how many messages came and when the next poll is allowed.
    /// - Throws: what `receive` or settling throws (a lost lock is not an error here).
    public func pollCloudToDevice(_ handler: (CloudToDeviceMessage) -> C2DDisposition) throws(HubError) -> C2DPollResult {
        try face.https.pollCloudToDevice(handler)
    }

    /// Sends several messages in one request (see `HTTPSFace.sendTelemetryBatch(_:)`).
    ///
    /// - Parameter items: the messages.
    /// - Throws: `.messageTooLarge` when the batch does not fit the body buffer or the hub's limit,
    ///   or what any request throws.
    public func sendTelemetryBatch(_ items: UnsafeBufferPointer<TelemetryBatchItem>) throws(HubError) {
        try face.https.sendTelemetryBatch(items)
    }
}
