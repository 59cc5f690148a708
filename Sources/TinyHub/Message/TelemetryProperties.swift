/// One application property of a telemetry message (name and value as raw UTF-8; the
/// client percent-encodes both).
public struct MessageProperty {
    /// Property name.
    public var name: UnsafeRawBufferPointer
    /// Property value.
    public var value: UnsafeRawBufferPointer

    /// A name/value pair in caller-owned memory.
    ///
    /// - Parameters:
    ///   - name: the property's name (UTF-8).
    ///   - value: the property's value (UTF-8).
    public init(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        self.name = name
        self.value = value
    }
}

/// The system properties IoT Hub understands on device-to-cloud messages.
public struct TelemetrySystemProperties {
    /// `$.mid`: message id (at most 128 characters).
    public var messageID: UnsafeRawBufferPointer? = nil
    /// `$.cid`: correlation id.
    public var correlationID: UnsafeRawBufferPointer? = nil
    /// `$.ct`: content type, e.g. `application/json` (needed for routing on the body).
    public var contentType: UnsafeRawBufferPointer? = nil
    /// `$.ce`: content encoding, e.g. `utf-8`.
    public var contentEncoding: UnsafeRawBufferPointer? = nil
    /// `$.ctime`: creation time (ISO 8601).
    public var creationTime: UnsafeRawBufferPointer? = nil

    /// No system properties.
    public init() {}
}
