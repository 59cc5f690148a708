import TinyMQTT

// Payloads as Swift gives them: a string literal, a `String`, a `RawSpan` (of an array, an
// `InlineArray`...), so an application never builds an `UnsafeRawBufferPointer` itself. Each
// reads the bytes in place, for the duration of the call (the MQTT client copies them into
// its buffers, the HTTPS client sends them before returning); nothing is allocated.

extension MQTTFace {
    /// Sends the bytes of a string literal as telemetry, like `sendTelemetry(_:system:properties:qos:)`
    /// with raw bytes.
    ///
    /// ```swift
    /// let id = try client.sendTelemetry(#"{"temperature":21.5}"# as StaticString)
    /// ```
    ///
    /// - Parameters:
    ///   - payload: the message body.
    ///   - system: the system properties (message id, content type...).
    ///   - properties: the application properties.
    ///   - qos: MQTT quality of service (default at least once: acknowledged by `.telemetryAcknowledged`).
    /// - Returns: the MQTT packet id (0 for QoS 0).
    /// - Throws: `HubError` as the raw-bytes form does (`.inflightWindowFull`, `.notConnected`, `.messageTooLarge`...).
    @discardableResult
    public func sendTelemetry(_ payload: StaticString, system: TelemetrySystemProperties = TelemetrySystemProperties(),
                              properties: UnsafeBufferPointer<MessageProperty> = UnsafeBufferPointer(start: nil, count: 0),
                              qos: MQTTQoS = .atLeastOnce) throws(HubError) -> UInt16 {
        try payload.withUTF8Buffer { bytes in
            Result { () throws(HubError) in try sendTelemetry(UnsafeRawBufferPointer(bytes), system: system, properties: properties, qos: qos) }
        }.get()
    }

    /// Sends the UTF-8 bytes of `payload` as telemetry.
    ///
    /// ```swift
    /// let id = try client.sendTelemetry(#"{"temperature":21.5}"#)
    /// ```
    ///
    /// - Parameters:
    ///   - payload: the message body.
    ///   - system: the system properties (message id, content type...).
    ///   - properties: the application properties.
    ///   - qos: MQTT quality of service (default at least once: acknowledged by `.telemetryAcknowledged`).
    /// - Returns: the MQTT packet id (0 for QoS 0).
    /// - Throws: `HubError` as the raw-bytes form does.
    @discardableResult
    public func sendTelemetry(_ payload: String, system: TelemetrySystemProperties = TelemetrySystemProperties(),
                              properties: UnsafeBufferPointer<MessageProperty> = UnsafeBufferPointer(start: nil, count: 0),
                              qos: MQTTQoS = .atLeastOnce) throws(HubError) -> UInt16 {
        var text = payload
        return try text.withUTF8 { bytes in
            Result { () throws(HubError) in try sendTelemetry(UnsafeRawBufferPointer(bytes), system: system, properties: properties, qos: qos) }
        }.get()
    }

    /// Sends the bytes of `payload` (for example `array.span.bytes`) as telemetry.
    ///
    /// - Parameters:
    ///   - payload: the message body.
    ///   - system: the system properties (message id, content type...).
    ///   - properties: the application properties.
    ///   - qos: MQTT quality of service (default at least once: acknowledged by `.telemetryAcknowledged`).
    /// - Returns: the MQTT packet id (0 for QoS 0).
    /// - Throws: `HubError` as the raw-bytes form does.
    @discardableResult
    public func sendTelemetry(_ payload: RawSpan, system: TelemetrySystemProperties = TelemetrySystemProperties(),
                              properties: UnsafeBufferPointer<MessageProperty> = UnsafeBufferPointer(start: nil, count: 0),
                              qos: MQTTQoS = .atLeastOnce) throws(HubError) -> UInt16 {
        try payload.withUnsafeBytes { (bytes) throws(HubError) in
            try sendTelemetry(bytes, system: system, properties: properties, qos: qos)
        }
    }
}

extension HTTPSFace {
    /// Sends the bytes of a string literal as one telemetry message (`POST …/messages/events`).
    ///
    /// - Parameters:
    ///   - payload: the message body.
    ///   - system: the system properties (message id, content type...).
    ///   - properties: the application properties.
    /// - Throws: `HubError` as the raw-bytes form does (`.messageTooLarge`, `.unauthorized`, `.throttled`...).
    public func sendTelemetry(_ payload: StaticString, system: TelemetrySystemProperties = TelemetrySystemProperties(),
                              properties: UnsafeBufferPointer<MessageProperty> = UnsafeBufferPointer(start: nil, count: 0))
                              throws(HubError) {
        try payload.withUTF8Buffer { bytes in
            Result { () throws(HubError) in try sendTelemetry(UnsafeRawBufferPointer(bytes), system: system, properties: properties) }
        }.get()
    }

    /// Sends the UTF-8 bytes of `payload` as one telemetry message.
    ///
    /// - Parameters:
    ///   - payload: the message body.
    ///   - system: the system properties (message id, content type...).
    ///   - properties: the application properties.
    /// - Throws: `HubError` as the raw-bytes form does.
    public func sendTelemetry(_ payload: String, system: TelemetrySystemProperties = TelemetrySystemProperties(),
                              properties: UnsafeBufferPointer<MessageProperty> = UnsafeBufferPointer(start: nil, count: 0))
                              throws(HubError) {
        var text = payload
        try text.withUTF8 { bytes in
            Result { () throws(HubError) in try sendTelemetry(UnsafeRawBufferPointer(bytes), system: system, properties: properties) }
        }.get()
    }

    /// Sends the bytes of `payload` (for example `array.span.bytes`) as one telemetry message.
    ///
    /// - Parameters:
    ///   - payload: the message body.
    ///   - system: the system properties (message id, content type...).
    ///   - properties: the application properties.
    /// - Throws: `HubError` as the raw-bytes form does.
    public func sendTelemetry(_ payload: RawSpan, system: TelemetrySystemProperties = TelemetrySystemProperties(),
                              properties: UnsafeBufferPointer<MessageProperty> = UnsafeBufferPointer(start: nil, count: 0))
                              throws(HubError) {
        try payload.withUnsafeBytes { (bytes) throws(HubError) in
            try sendTelemetry(bytes, system: system, properties: properties)
        }
    }
}
