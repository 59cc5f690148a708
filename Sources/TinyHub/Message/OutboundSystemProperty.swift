/// The system properties a device may set on a device-to-cloud message, with the name each
/// wire gives them: the one table both clients write from (MQTT property bag, HTTPS headers,
/// HTTPS batch JSON), so a property cannot be added to one protocol and forgotten in another.
///
/// Names: IoT Hub's MQTT property-bag keys (`$.mid`…), and the `iothub-…` names of its device
/// REST API, where the creation time is not a system property of a batch and travels as the
/// application property `iothub-creation-time-utc`.
enum OutboundSystemProperty: UInt8, CaseIterable {
    case messageID
    case correlationID
    case contentType
    case contentEncoding
    case creationTime

    /// The key in the MQTT topic's property bag.
    var propertyBagName: StaticString {
        switch self {
        case .messageID: return SystemProperty.messageID
        case .correlationID: return SystemProperty.correlationID
        case .contentType: return SystemProperty.contentType
        case .contentEncoding: return SystemProperty.contentEncoding
        case .creationTime: return SystemProperty.creationTime
        }
    }

    /// The HTTP header of a single message (`POST …/messages/events`).
    var headerName: StaticString {
        switch self {
        case .messageID: return "iothub-messageid"
        case .correlationID: return "iothub-correlationid"
        case .contentType: return "iothub-contenttype"
        case .contentEncoding: return "iothub-contentencoding"
        case .creationTime: return "iothub-creation-time-utc"
        }
    }

    /// The key in a batch item's `properties` object.
    var batchKey: StaticString {
        switch self {
        case .creationTime: return "iothub-app-iothub-creation-time-utc"
        default: return headerName
        }
    }
}

extension TelemetrySystemProperties {
    /// The value set for `property`, or nil. Not inlined: `forEach`'s loop calls this one switch.
    @inline(never)
    subscript(_ property: OutboundSystemProperty) -> UnsafeRawBufferPointer? {
        switch property {
        case .messageID: return messageID
        case .correlationID: return correlationID
        case .contentType: return contentType
        case .contentEncoding: return contentEncoding
        case .creationTime: return creationTime
        }
    }

    /// Calls `body` with each property that is set and its value, in the table's order.
    /// (A loop over the raw values rather than over `allCases`, which would build an array on
    /// the heap; one call of `body`, so an inlined body is there once, not once per property.)
    func forEach<E: Error>(_ body: (OutboundSystemProperty, UnsafeRawBufferPointer) throws(E) -> Void) throws(E) {
        var raw: UInt8 = 0
        while let property = OutboundSystemProperty(rawValue: raw) {
            if let value = self[property] { try body(property, value) }
            raw += 1
        }
    }

    /// Whether any property is set.
    var isEmpty: Bool {
        messageID == nil && correlationID == nil && contentType == nil && contentEncoding == nil && creationTime == nil
    }

    /// Bytes of all values (they count toward IoT Hub's message size limit).
    var byteCount: Int {
        var total = 0
        forEach { (_, value) in total += value.count }
        return total
    }
}

extension HubLimits {
    /// IoT Hub's limit, counted the same way over both protocols: the body plus the names and
    /// values of the application properties plus the system property values.
    ///
    /// - Throws: `HubError.messageTooLarge` when the message is larger than `maxTelemetryBytes`.
    static func checkTelemetrySize(payloadCount: Int, system: TelemetrySystemProperties,
                                   properties: UnsafeBufferPointer<MessageProperty>) throws(HubError) {
        let size = payloadCount + countedBytes(system: system, properties: properties)
        guard size <= maxTelemetryBytes else { throw .messageTooLarge(size: size, limit: maxTelemetryBytes) }
    }

    /// What the properties add to a message's size for that limit: the system property values
    /// and the names and values of the application properties.
    static func countedBytes(system: TelemetrySystemProperties, properties: UnsafeBufferPointer<MessageProperty>) -> Int {
        var size = system.byteCount
        for property in properties { size += property.name.count + property.value.count }
        return size
    }
}
