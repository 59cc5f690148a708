import TinyMQTT
import TinyPlatform

extension HubClient {
    /// An MQTT client for the device of `configuration` (`MQTTFace`): its text goes into
    /// `buffers.identity` (copied, unless the configuration keeps it there), followed by the
    /// client id, the user name and a SAS token signed now. Opens no connection: call `connect()`
    /// or `start()`. Subscribes to `options.features` once connected and reports their messages
    /// from `poll`.
    ///
    /// - Parameters:
    ///   - configuration: the device's identity and credential.
    ///   - transport: the connection to `configuration.connectHost`, normally TLS to port 8883.
    ///   - platform: clocks and randomness.
    ///   - crypto: signs the SAS tokens (`MbedTLSCrypto()` from TinyTLS, or your own `CryptoProvider`).
    ///   - buffers: all the memory the client uses; the caller keeps it alive while the client is.
    ///   - options: behaviour (features to subscribe to, SAS lifetime, keep-alive...).
    /// - Throws: `HubError.bufferTooSmall` when the identity buffer cannot hold the identity
    ///   and a token, `.topic` for an id MQTT cannot carry, `.sasToken` when the token cannot be
    ///   signed. A failed init wipes the identity buffer.
    public init<T, P, C: CryptoProvider>(configuration: HubConfiguration, transport: T, platform: P, crypto: C,
                                         buffers: HubBuffers, options: HubOptions = HubOptions()) throws(HubError)
        where Face == MQTTFace<T, P> {
        face = try MQTTFace(configuration: configuration, transport: transport, platform: platform, crypto: crypto,
                            buffers: buffers, options: options)
    }

    /// An MQTT client that only sends telemetry: it subscribes to nothing (`options.features` is
    /// not used) and ignores any message the hub sends down. A program that makes its clients only
    /// this way links no cloud-to-device, twin or direct-method code.
    ///
    /// - Parameters:
    ///   - configuration: the device's identity and credential.
    ///   - transport: the connection to `configuration.connectHost`, normally TLS to port 8883.
    ///   - platform: clocks and randomness.
    ///   - crypto: signs the SAS tokens.
    ///   - buffers: all the memory the client uses (a small receive buffer will do).
    ///   - options: SAS lifetime and keep-alive (`features` is not used).
    /// - Throws: as `init(configuration:transport:platform:crypto:buffers:options:)`.
    public init<T, P, C: CryptoProvider>(sendingTelemetryOnly configuration: HubConfiguration, transport: T, platform: P,
                                         crypto: C, buffers: HubBuffers, options: HubOptions = HubOptions()) throws(HubError)
        where Face == MQTTFace<T, P> {
        face = try MQTTFace(sendingTelemetryOnly: configuration, transport: transport, platform: platform, crypto: crypto,
                            buffers: buffers, options: options)
    }
}

/// The MQTT-only API: connection control, `poll` and its events, QoS, the twin and direct methods.
extension HubClient where Face: MQTTFaceKind {
    /// The MQTT session underneath (for diagnostics; do not publish on hub topics directly).
    public var session: MQTTSession<Face.FaceTransport, Face.FacePlatform> { face.mqtt.session }

    /// Whether the MQTT connection is up.
    public var isConnected: Bool { face.mqtt.isConnected }

    /// When the current streak of failed connection attempts began (monotonic ms), or nil while
    /// connected or before any attempt failed.
    public var failingSinceMs: UInt64? { face.mqtt.failingSinceMs }

    /// Connects, subscribes to the enabled features and (if enabled) requests the twin.
    ///
    /// - Throws: `HubError` on failure; an authentication refusal is permanent (`isAuthenticationFailure`).
    public func connect() throws(HubError) { try face.mqtt.connect() }

    /// Connects from the next `poll` instead of now, so a first attempt that fails for a
    /// transient reason is retried with the backoff like any later reconnect.
    public func start() { face.mqtt.start() }

    /// Closes the connection cleanly (DISCONNECT). Queued QoS 1 telemetry stays queued.
    public func disconnect() { face.mqtt.disconnect() }

    /// Lets the client recover from a wrong device clock (see `MQTTFace.enableClockCheck(_:)`).
    ///
    /// - Parameter hubTime: returns the hub's time in Unix seconds, or nil when it cannot.
    public func enableClockCheck(_ hubTime: @escaping (ConnectionString) -> Int64?) { face.mqtt.enableClockCheck(hubTime) }

    /// Runs the client for up to `timeoutMs`: renews the SAS token when due, reconnects after
    /// losses, and reports hub events.
    ///
    /// - Parameters:
    ///   - timeoutMs: how long to wait for traffic.
    ///   - handler: receives each event.
    /// - Throws: `HubError` only when the client cannot go on (a permanent refusal such as a bad
    ///   key, or `disconnect` was called).
    public func poll(timeoutMs: UInt32, _ handler: (HubEvent) -> Void) throws(HubError) {
        try face.mqtt.poll(timeoutMs: timeoutMs, handler)
    }

    /// Sends telemetry at the quality of service given.
    ///
    /// - Parameters:
    ///   - payload: the message body.
    ///   - system: the system properties (message id, content type...).
    ///   - properties: the application properties.
    ///   - qos: MQTT quality of service (QoS 1 is acknowledged by `.telemetryAcknowledged`; QoS 0 needs a connection).
    /// - Returns: the MQTT packet id (0 for QoS 0).
    /// - Throws: `.inflightWindowFull`, `.notConnected` (QoS 0), `.messageTooLarge`, `.properties`, `.topic`.
    @discardableResult
    public func sendTelemetry(_ payload: UnsafeRawBufferPointer, system: TelemetrySystemProperties = TelemetrySystemProperties(),
                              properties: UnsafeBufferPointer<MessageProperty> = UnsafeBufferPointer(start: nil, count: 0),
                              qos: MQTTQoS) throws(HubError) -> UInt16 {
        try face.mqtt.sendTelemetry(payload, system: system, properties: properties, qos: qos)
    }

    /// Sends the bytes of a string literal as telemetry at the quality of service given.
    ///
    /// - Parameters:
    ///   - payload: the message body.
    ///   - system: the system properties.
    ///   - properties: the application properties.
    ///   - qos: MQTT quality of service.
    /// - Returns: the MQTT packet id (0 for QoS 0).
    /// - Throws: as the raw-bytes form.
    @discardableResult
    public func sendTelemetry(_ payload: StaticString, system: TelemetrySystemProperties = TelemetrySystemProperties(),
                              properties: UnsafeBufferPointer<MessageProperty> = UnsafeBufferPointer(start: nil, count: 0),
                              qos: MQTTQoS) throws(HubError) -> UInt16 {
        try payload.withUTF8Buffer { bytes in
            Result { () throws(HubError) in
                try face.mqtt.sendTelemetry(UnsafeRawBufferPointer(bytes), system: system, properties: properties, qos: qos)
            }
        }.get()
    }

    /// Sends the UTF-8 bytes of `payload` as telemetry at the quality of service given.
    ///
    /// - Parameters:
    ///   - payload: the message body.
    ///   - system: the system properties.
    ///   - properties: the application properties.
    ///   - qos: MQTT quality of service.
    /// - Returns: the MQTT packet id (0 for QoS 0).
    /// - Throws: as the raw-bytes form.
    @discardableResult
    public func sendTelemetry(_ payload: String, system: TelemetrySystemProperties = TelemetrySystemProperties(),
                              properties: UnsafeBufferPointer<MessageProperty> = UnsafeBufferPointer(start: nil, count: 0),
                              qos: MQTTQoS) throws(HubError) -> UInt16 {
        var text = payload
        return try text.withUTF8 { bytes in
            Result { () throws(HubError) in
                try face.mqtt.sendTelemetry(UnsafeRawBufferPointer(bytes), system: system, properties: properties, qos: qos)
            }
        }.get()
    }

    /// Sends the bytes of `payload` as telemetry at the quality of service given.
    ///
    /// - Parameters:
    ///   - payload: the message body.
    ///   - system: the system properties.
    ///   - properties: the application properties.
    ///   - qos: MQTT quality of service.
    /// - Returns: the MQTT packet id (0 for QoS 0).
    /// - Throws: as the raw-bytes form.
    @discardableResult
    public func sendTelemetry(_ payload: RawSpan, system: TelemetrySystemProperties = TelemetrySystemProperties(),
                              properties: UnsafeBufferPointer<MessageProperty> = UnsafeBufferPointer(start: nil, count: 0),
                              qos: MQTTQoS) throws(HubError) -> UInt16 {
        try payload.withUnsafeBytes { (bytes) throws(HubError) in
            try face.mqtt.sendTelemetry(bytes, system: system, properties: properties, qos: qos)
        }
    }

    /// Sets properties every telemetry message carries from now on (see `MQTTFace.setTelemetryProperties`).
    ///
    /// - Parameters:
    ///   - system: System properties for every message.
    ///   - properties: Application properties for every message.
    /// - Throws: `.properties` when they do not fit the topic buffer, `.topic` for ids a topic cannot carry.
    public func setTelemetryProperties(system: TelemetrySystemProperties = TelemetrySystemProperties(),
                                       properties: UnsafeBufferPointer<MessageProperty> = UnsafeBufferPointer(start: nil, count: 0))
        throws(HubError) {
        try face.mqtt.setTelemetryProperties(system: system, properties: properties)
    }

    /// Whether a QoS 1 telemetry message of `payloadCount` bytes, with the fixed properties and
    /// no others, would be queued now: ask before formatting a message. When the telemetry topic
    /// cannot be made (an id a topic cannot carry, a topic buffer too small) the answer is true,
    /// and `sendTelemetry` throws why.
    ///
    /// - Parameter payloadCount: The payload's size in bytes.
    public func hasInflightRoom(payloadCount: Int) -> Bool { face.mqtt.hasInflightRoom(payloadCount: payloadCount) }

    /// Asks for the full twin; the answer arrives as `.twin`.
    ///
    /// - Returns: the request id.
    /// - Throws: `.notConnected`, `.tooManyPendingRequests`, or a failed send.
    @discardableResult
    public func requestTwin() throws(HubError) -> UInt32 { try face.mqtt.requestTwin() }

    /// Sends a reported-properties patch (a JSON object; `null` members delete); the answer
    /// arrives as `.reportedPropertiesAccepted` or `.twinRequestFailed`.
    ///
    /// - Parameter json: the patch.
    /// - Returns: the request id.
    /// - Throws: as `requestTwin()`.
    @discardableResult
    public func reportProperties(_ json: UnsafeRawBufferPointer) throws(HubError) -> UInt32 { try face.mqtt.reportProperties(json) }

    /// Answers a direct method with `payload` (JSON or empty).
    ///
    /// - Parameters:
    ///   - requestID: the request's id (`MethodRequest.requestID`).
    ///   - status: the method's status code.
    ///   - payload: the answer.
    /// - Throws: `.topic` for a request id a topic cannot carry, or a failed send.
    public func respondToMethod(requestID: UnsafeRawBufferPointer, status: UInt16, payload: UnsafeRawBufferPointer) throws(HubError) {
        try face.mqtt.respondToMethod(requestID: requestID, status: status, payload: payload)
    }
}
