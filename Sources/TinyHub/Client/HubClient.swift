/// An Azure IoT Hub device (or module) client over MQTT or HTTPS: one type, its protocol chosen by
/// the buffers it is made with. `HubBuffers` make a `HubClient<MQTTFace<T, P>>` (telemetry, pushed
/// cloud-to-device messages, twin, direct methods), `HubHTTPSBuffers` a
/// `HubClient<HTTPSFace<T, P>>` (telemetry, batches, polled cloud-to-device messages). Both take
/// the same `HubConfiguration`, `HubOptions` and crypto, throw the same `HubError` and bring the
/// same `CloudToDeviceMessage`.
///
/// ```swift
/// let configuration = try HubConfiguration(connectionString: text, storage: buffers.identity)
/// let transport = try TLSTransport(TLSConfiguration(host: configuration.connectHostText, port: 8883))
/// let client = try HubClient(configuration: configuration, transport: transport, platform: SystemPlatform(),
///                            crypto: MbedTLSCrypto(), buffers: buffers)   // HubBuffers: MQTT
/// try client.sendTelemetry(#"{"temperature":21.5}"# as StaticString)
/// ```
///
/// What both protocols do is available on every `HubClient` (and through `HubFace` in code
/// generic over the face); what only one does exists only on clients of that face: calling
/// `requestTwin()` on an HTTPS client, or `receive()` on an MQTT one, does not compile. The
/// faces' own members are internal: the client is the one way in.
///
/// A struct holding the face (a class): copies share one client. Single-threaded and
/// allocation-free after `init`: the application owns the buffers.
public struct HubClient<Face: HubFace> {
    /// The protocol face underneath (`MQTTFace` or `HTTPSFace`): the client's whole state.
    let face: Face

    /// A client over a face.
    init(face: Face) {
        self.face = face
    }

    /// The parsed connection string; its slices point into the client's identity buffer.
    public var connection: ConnectionString { face.connection }

    /// The host the transport must connect to: `GatewayHostName` if set, else `HostName`.
    public var connectHost: UnsafeRawBufferPointer { face.connectHost }

    /// When the current SAS token expires (Unix seconds; 0 with X.509).
    public var sasExpiry: Int64 { face.sasExpiry }

    /// Hub time minus device time, in seconds, as the last clock check found it.
    public var clockOffsetSeconds: Int64 { face.clockOffsetSeconds }

    /// Ends the connection (MQTT: DISCONNECT, queued QoS 1 telemetry stays queued; HTTPS: TLS close).
    public func close() { face.close() }

    /// Sends one telemetry message: over MQTT at QoS 1 (acknowledged by `.telemetryAcknowledged`
    /// from `poll`; returns its packet id), over HTTPS with one POST (acknowledged when this returns).
    ///
    /// - Parameters:
    ///   - payload: the message body.
    ///   - system: the system properties (message id, content type...).
    ///   - properties: the application properties.
    /// - Returns: the MQTT packet id, or nothing over HTTPS.
    /// - Throws: `HubError` (`.messageTooLarge`, `.inflightWindowFull`, `.unauthorized`, `.throttled`...).
    @discardableResult
    public func sendTelemetry(_ payload: UnsafeRawBufferPointer, system: TelemetrySystemProperties = TelemetrySystemProperties(),
                              properties: UnsafeBufferPointer<MessageProperty> = UnsafeBufferPointer(start: nil, count: 0))
                              throws(HubError) -> Face.TelemetryReceipt {
        try face.sendTelemetry(payload, system: system, properties: properties)
    }

    /// Sends the bytes of a string literal as one telemetry message.
    ///
    /// - Parameters:
    ///   - payload: the message body.
    ///   - system: the system properties (message id, content type...).
    ///   - properties: the application properties.
    /// - Returns: the MQTT packet id, or nothing over HTTPS.
    /// - Throws: `HubError` as the raw-bytes form does.
    @discardableResult
    public func sendTelemetry(_ payload: StaticString, system: TelemetrySystemProperties = TelemetrySystemProperties(),
                              properties: UnsafeBufferPointer<MessageProperty> = UnsafeBufferPointer(start: nil, count: 0))
                              throws(HubError) -> Face.TelemetryReceipt {
        try payload.withUTF8Buffer { bytes in
            Result { () throws(HubError) in try face.sendTelemetry(UnsafeRawBufferPointer(bytes), system: system, properties: properties) }
        }.get()
    }

    /// Sends the UTF-8 bytes of `payload` as one telemetry message.
    ///
    /// - Parameters:
    ///   - payload: the message body.
    ///   - system: the system properties (message id, content type...).
    ///   - properties: the application properties.
    /// - Returns: the MQTT packet id, or nothing over HTTPS.
    /// - Throws: `HubError` as the raw-bytes form does.
    @discardableResult
    public func sendTelemetry(_ payload: String, system: TelemetrySystemProperties = TelemetrySystemProperties(),
                              properties: UnsafeBufferPointer<MessageProperty> = UnsafeBufferPointer(start: nil, count: 0))
                              throws(HubError) -> Face.TelemetryReceipt {
        var text = payload
        return try text.withUTF8 { bytes in
            Result { () throws(HubError) in try face.sendTelemetry(UnsafeRawBufferPointer(bytes), system: system, properties: properties) }
        }.get()
    }

    /// Sends the bytes of `payload` (for example `array.span.bytes`) as one telemetry message.
    ///
    /// - Parameters:
    ///   - payload: the message body.
    ///   - system: the system properties (message id, content type...).
    ///   - properties: the application properties.
    /// - Returns: the MQTT packet id, or nothing over HTTPS.
    /// - Throws: `HubError` as the raw-bytes form does.
    @discardableResult
    public func sendTelemetry(_ payload: RawSpan, system: TelemetrySystemProperties = TelemetrySystemProperties(),
                              properties: UnsafeBufferPointer<MessageProperty> = UnsafeBufferPointer(start: nil, count: 0))
                              throws(HubError) -> Face.TelemetryReceipt {
        try payload.withUnsafeBytes { (bytes) throws(HubError) in
            try face.sendTelemetry(bytes, system: system, properties: properties)
        }
    }
}
