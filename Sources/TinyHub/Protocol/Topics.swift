import TinyBytes

/// A received PUBLISH topic, classified. Slices point into the caller's topic bytes.
package enum HubTopic {
    /// Cloud-to-device message; `properties` is the still-encoded bag (read it with
    /// `PropertyBagReader`): everything after the first `/messages/devicebound/`
    /// (Azure SDK for Embedded C `az_iot_hub_client_c2d.c:17-50`).
    case cloudToDevice(properties: UnsafeRawBufferPointer)
    /// Twin response `$iothub/twin/res/{status}/?$rid={rid}[&$version={v}]`
    /// (200 GET, 204 reported-patch ack, 4xx/5xx error; Azure SDK for Embedded C `az_iot_hub_client_twin.c`).
    case twinResponse(status: UInt16, requestID: UnsafeRawBufferPointer, version: Int64?)
    /// Desired-properties patch `$iothub/twin/PATCH/properties/desired/?$version={v}`.
    case twinDesiredPatch(version: Int64)
    /// Direct-method request `$iothub/methods/POST/{name}/?$rid={rid}`.
    case methodRequest(name: UnsafeRawBufferPointer, requestID: UnsafeRawBufferPointer)
    /// Any other topic (not an error: the app may have its own subscriptions).
    case unrecognized
}

/// Builds and classifies IoT Hub MQTT topics (Microsoft's "Communicate with an IoT hub using
/// the MQTT protocol"). Device and module ids are inserted raw, as Azure SDK for Embedded C,
/// azure-iot-sdk-c and the Python device SDK do; ids with `/`, `+`, `#` or NUL are refused
/// because they would make an illegal or ambiguous topic name.
package enum HubTopics {
    /// Longest request id accepted by the builders.
    package static let maxRequestIDLength = 64
    /// Subscription filter for twin responses (subscribe before any request).
    package static let twinResponseFilter: StaticString = "$iothub/twin/res/#"
    /// Subscription filter for desired-property patches.
    package static let twinDesiredFilter: StaticString = "$iothub/twin/PATCH/properties/desired/#"
    /// Subscription filter for direct-method requests.
    package static let methodsFilter: StaticString = "$iothub/methods/POST/#"

    /// Telemetry topic `devices/{d}/messages/events/` or `devices/{d}/modules/{m}/messages/events/`
    /// followed by `properties` (an already-encoded bag, e.g. `PropertyBagWriter.bag`; no `?`,
    /// Azure SDK for Embedded C `az_iot_hub_client_telemetry.c:16-66`). Returns the topic length.
    package static func telemetry(deviceID: UnsafeRawBufferPointer, moduleID: UnsafeRawBufferPointer? = nil,
                                 properties: UnsafeRawBufferPointer? = nil,
                                 into output: UnsafeMutableRawBufferPointer) throws(TopicError) -> Int {
        try checkIdentifier(deviceID, inTopic: true)
        if let moduleID { try checkIdentifier(moduleID, inTopic: true) }
        var sink = ByteSink(output)
        sink.literal("devices/")
        sink.bytes(deviceID)
        if let moduleID {
            sink.literal("/modules/")
            sink.bytes(moduleID)
        }
        sink.literal("/messages/events/")
        if let properties { sink.bytes(properties) }
        return try finish(sink)
    }

    /// Cloud-to-device subscription filter `devices/{d}/messages/devicebound/#` (docs, azure-iot-sdk-c, the Python device SDK form).
    package static func cloudToDeviceFilter(deviceID: UnsafeRawBufferPointer,
                                           into output: UnsafeMutableRawBufferPointer) throws(TopicError) -> Int {
        try checkIdentifier(deviceID, inTopic: true)
        var sink = ByteSink(output)
        sink.literal("devices/")
        sink.bytes(deviceID)
        sink.literal("/messages/devicebound/#")
        return try finish(sink)
    }

    /// Twin GET request topic `$iothub/twin/GET/?$rid={rid}` (publish with an empty payload).
    package static func twinGet(requestID: UnsafeRawBufferPointer,
                               into output: UnsafeMutableRawBufferPointer) throws(TopicError) -> Int {
        try request("$iothub/twin/GET/?$rid=", requestID: requestID, into: output)
    }

    /// Reported-properties patch topic `$iothub/twin/PATCH/properties/reported/?$rid={rid}`.
    package static func twinReportedPatch(requestID: UnsafeRawBufferPointer,
                                         into output: UnsafeMutableRawBufferPointer) throws(TopicError) -> Int {
        try request("$iothub/twin/PATCH/properties/reported/?$rid=", requestID: requestID, into: output)
    }

    /// `prefix` followed by a checked request id.
    private static func request(_ prefix: StaticString, requestID: UnsafeRawBufferPointer,
                                into output: UnsafeMutableRawBufferPointer) throws(TopicError) -> Int {
        try checkRequestID(requestID)
        var sink = ByteSink(output)
        sink.literal(prefix)
        sink.bytes(requestID)
        return try finish(sink)
    }

    /// Direct-method response topic `$iothub/methods/res/{status}/?$rid={rid}`; `status` is
    /// the device-chosen result, printed in decimal (Azure SDK for Embedded C `az_iot_hub_client_methods.c:79-117`).
    package static func methodResponse(status: UInt16, requestID: UnsafeRawBufferPointer,
                                      into output: UnsafeMutableRawBufferPointer) throws(TopicError) -> Int {
        try checkRequestID(requestID)
        var sink = ByteSink(output)
        sink.literal("$iothub/methods/res/")
        sink.decimal(UInt64(status))
        sink.literal("/?$rid=")
        sink.bytes(requestID)
        return try finish(sink)
    }

    /// Classifies a received topic. Unrelated topics are `.unrecognized`; topics with a hub
    /// prefix but a broken shape throw.
    package static func classify(_ topic: UnsafeRawBufferPointer) throws(TopicError) -> HubTopic {
        if Bytes.hasPrefix(topic, "devices/") {
            guard let at = Bytes.index(of: "/messages/devicebound/", in: topic) else { return .unrecognized }
            let prefix = Bytes.length("devices/")
            guard at > prefix else { throw .malformedTopic } // empty device id
            let start = at + Bytes.length("/messages/devicebound/")
            return .cloudToDevice(properties: Bytes.slice(topic, start..<topic.count))
        }
        if Bytes.hasPrefix(topic, "$iothub/twin/res/") {
            let rest = Bytes.slice(topic, Bytes.length("$iothub/twin/res/")..<topic.count)
            guard let slash = Bytes.index(of: 0x2F, in: rest) else { throw .malformedTopic }
            guard let status = Decimal.value(Bytes.slice(rest, 0..<slash), limit: 999) else { throw .invalidStatus }
            let query = try queryAfterSlash(rest, slash: slash)
            let fields = try QueryFields.parse(query)
            guard let rid = fields.requestID else { throw .missingRequestID }
            var version: Int64?
            if let raw = fields.version { version = try parseVersion(raw) }
            return .twinResponse(status: UInt16(status), requestID: rid, version: version)
        }
        if Bytes.hasPrefix(topic, "$iothub/twin/PATCH/properties/desired/") {
            let rest = Bytes.slice(topic, Bytes.length("$iothub/twin/PATCH/properties/desired/")..<topic.count)
            guard rest.count > 0, rest[0] == 0x3F else { throw .malformedTopic } // '?'
            let fields = try QueryFields.parse(Bytes.slice(rest, 1..<rest.count))
            guard let raw = fields.version else { throw .invalidVersion }
            return .twinDesiredPatch(version: try parseVersion(raw))
        }
        if Bytes.hasPrefix(topic, "$iothub/methods/POST/") {
            let rest = Bytes.slice(topic, Bytes.length("$iothub/methods/POST/")..<topic.count)
            guard let slash = Bytes.index(of: 0x2F, in: rest), slash > 0 else { throw .malformedTopic }
            let query = try queryAfterSlash(rest, slash: slash)
            let fields = try QueryFields.parse(query)
            guard let rid = fields.requestID else { throw .missingRequestID }
            return .methodRequest(name: Bytes.slice(rest, 0..<slash), requestID: rid)
        }
        return .unrecognized
    }

    // MARK: - Helpers

    /// `rest[slash...]` must be `/?query`; returns the query.
    private static func queryAfterSlash(_ rest: UnsafeRawBufferPointer, slash: Int) throws(TopicError) -> UnsafeRawBufferPointer {
        guard slash + 1 < rest.count, rest[slash + 1] == 0x3F else { throw .malformedTopic }
        return Bytes.slice(rest, (slash + 2)..<rest.count)
    }

    private static func parseVersion(_ raw: UnsafeRawBufferPointer) throws(TopicError) -> Int64 {
        guard let value = Decimal.value(raw, limit: UInt64(Int64.max)) else { throw .invalidVersion }
        return Int64(value)
    }

    static func finish(_ sink: ByteSink) throws(TopicError) -> Int {
        guard !sink.overflowed else { throw .bufferTooSmall(needed: sink.count) }
        return sink.count
    }

    /// Ids must be non-empty and free of `/` and NUL; in topic names also of `+` and `#`.
    static func checkIdentifier(_ id: UnsafeRawBufferPointer, inTopic: Bool) throws(TopicError) {
        guard id.count > 0 else { throw .invalidIdentifier }
        for byte in id {
            if byte == 0x2F || byte == 0 { throw .invalidIdentifier }
            if inTopic, byte == 0x2B || byte == 0x23 { throw .invalidIdentifier }
        }
    }

    static func checkRequestID(_ id: UnsafeRawBufferPointer) throws(TopicError) {
        guard id.count > 0, id.count <= maxRequestIDLength else { throw .invalidRequestID }
        for byte in id where !PercentEncoding.isUnreserved(byte) { throw .invalidRequestID }
    }
}

/// The `$rid` and `$version` fields of a topic query (`k=v&k=v`); other fields are ignored.
/// Keys are matched literally as `$rid`/`$version` (what the hub sends) or `%24rid`/`%24version`.
struct QueryFields {
    var requestID: UnsafeRawBufferPointer?
    var version: UnsafeRawBufferPointer?

    static func parse(_ query: UnsafeRawBufferPointer) throws(TopicError) -> QueryFields {
        var fields = QueryFields()
        var start = 0
        while start < query.count {
            let end = Bytes.index(of: 0x26, in: query, from: start) ?? query.count
            defer { start = end + 1 }
            if end == start { continue }
            let segment = Bytes.slice(query, start..<end)
            let equals = Bytes.index(of: 0x3D, in: segment) ?? segment.count
            let key = Bytes.slice(segment, 0..<equals)
            let value = Bytes.slice(segment, min(equals + 1, segment.count)..<segment.count)
            if Bytes.equal(key, "$rid") || Bytes.equal(key, "%24rid") {
                guard fields.requestID == nil, value.count > 0 else { throw .malformedTopic }
                fields.requestID = value
            } else if Bytes.equal(key, "$version") || Bytes.equal(key, "%24version") {
                guard fields.version == nil else { throw .malformedTopic }
                fields.version = value
            }
        }
        return fields
    }
}
