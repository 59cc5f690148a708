import TinyBytes
import TinyHTTP
import TinyPlatform

/// One message of a telemetry batch.
public struct TelemetryBatchItem {
    /// Message body (sent Base64-encoded inside the batch JSON).
    public var payload: UnsafeRawBufferPointer
    /// System properties (message id, correlation id, content type/encoding, creation time).
    public var system: TelemetrySystemProperties
    /// Application properties.
    public var properties: UnsafeBufferPointer<MessageProperty>

    /// A batch item over caller-owned memory.
    ///
    /// - Parameters:
    ///   - payload: the message body.
    ///   - system: its system properties.
    ///   - properties: its application properties.
    public init(payload: UnsafeRawBufferPointer, system: TelemetrySystemProperties = TelemetrySystemProperties(),
                properties: UnsafeBufferPointer<MessageProperty> = UnsafeBufferPointer(start: nil, count: 0)) {
        self.payload = payload
        self.system = system
        self.properties = properties
    }
}

extension HTTPSFace {
    /// Sends several messages in one request: `POST …/messages/events` with
    /// `Content-Type: application/vnd.microsoft.iothub.json` and the body
    /// `[{"body":"<base64>","properties":{"iothub-app-k":"v",…}},…]` (system properties as
    /// `iothub-messageid`, `iothub-correlationid`, `iothub-contenttype`, `iothub-contentencoding`;
    /// creation time as `iothub-app-iothub-creation-time-utc`). The JSON is built in the body
    /// buffer, so the batch must fit it, and IoT Hub's 256 KB limit. Succeeds on 204.
    ///
    /// - Parameter items: the messages, in order.
    /// - Throws: `HubError.messageTooLarge` when the JSON does not fit the body buffer or the
    ///   256 KB limit, `.invalidPropertyName` / `.invalidPropertyValue(index:)`, or what any
    ///   request throws (transport, throttling, authentication, a status other than 204).
    func sendTelemetryBatch(_ items: UnsafeBufferPointer<TelemetryBatchItem>) throws(HubError) {
        for item in items {
            try HeaderSafety.check(item.properties)
            try HeaderSafety.check(item.system)
        }
        try checkMaySend()
        let length = try writeBatchBody(items)
        guard length <= HubLimits.maxTelemetryBytes else {
            throw .messageTooLarge(size: length, limit: HubLimits.maxTelemetryBytes)
        }
        var writer = try beginRequest(.post, .events)
        let headLength: Int
        do throws(HTTPEncodeError) {
            try writer.header(name: "Content-Type", value: "application/vnd.microsoft.iothub.json")
            headLength = try writer.finish(contentLength: length)
        } catch {
            throw .request(error)
        }
        let status = try exchange(headLength: headLength, appending: UnsafeRawBufferPointer(rebasing: bodyBuffer[0..<length]))
        guard status == 204 || status == 200 else { throw .unexpectedStatus(status) }
    }

    /// Writes the batch JSON into the body buffer; returns its length.
    ///
    /// Base64 bodies and `iothub-app-` keys are first assembled at the *end* of the body
    /// buffer and then copied into place by `JSONWriter` (`raw`/`key`): the writer's
    /// position is always before the assembled bytes when the result fits (a copy moves
    /// them left; keys are tokens, so nothing is escaped), and when it does not fit the
    /// writer throws before anything is used.
    func writeBatchBody(_ items: UnsafeBufferPointer<TelemetryBatchItem>) throws(HubError) -> Int {
        var json = JSONWriter(buffer: bodyBuffer, maxDepth: 4)
        do throws(JSONError) {
            try json.beginArray()
            for item in items {
                try json.beginObject()
                try json.key("body")
                guard let quoted = tailBase64(item.payload, after: json.count) else {
                    throw .bufferTooSmall(needed: json.count + Base64.encodedLength(item.payload.count) + 2)
                }
                try json.raw(quoted)
                if !item.system.isEmpty || item.properties.count > 0 {
                    try json.key("properties")
                    try json.beginObject()
                    try item.system.forEach { (property, value) throws(JSONError) in
                        try json.key(property.batchKey)
                        try json.string(value)
                    }
                    for property in item.properties {
                        guard let key = tailAppKey(property.name, after: json.count) else {
                            throw .bufferTooSmall(needed: json.count + property.name.count + 14)
                        }
                        try json.key(key)
                        try json.string(property.value)
                    }
                    try json.endObject()
                }
                try json.endObject()
            }
            try json.endArray()
        } catch {
            if case .bufferTooSmall(let needed) = error { throw .messageTooLarge(size: needed, limit: bodyBuffer.count) }
            throw .messageTooLarge(size: json.count, limit: bodyBuffer.count)
        }
        return json.count
    }

    /// `"` + Base64(`payload`) + `"` at the end of the body buffer, or nil if it cannot fit after `used` bytes.
    private func tailBase64(_ payload: UnsafeRawBufferPointer, after used: Int) -> UnsafeRawBufferPointer? {
        let n = Base64.encodedLength(payload.count) + 2
        guard used + 1 + n <= bodyBuffer.count else { return nil }
        let start = bodyBuffer.count - n
        var sink = ByteSink(bodyBuffer, start: start)
        sink.byte(0x22)
        sink.base64(payload)
        sink.byte(0x22) // ends exactly at the buffer's end
        guard !sink.overflowed else { return nil }
        return UnsafeRawBufferPointer(rebasing: bodyBuffer[start...])
    }

    /// `iothub-app-{name}` at the end of the body buffer, or nil if it cannot fit after `used` bytes.
    private func tailAppKey(_ name: UnsafeRawBufferPointer, after used: Int) -> UnsafeRawBufferPointer? {
        let prefix: StaticString = "iothub-app-"
        let n = prefix.utf8CodeUnitCount + name.count
        guard used + 4 + n <= bodyBuffer.count else { return nil }
        let start = bodyBuffer.count - n
        UnsafeMutableRawBufferPointer(rebasing: bodyBuffer[start..<(start + prefix.utf8CodeUnitCount)])
            .copyMemory(from: UnsafeRawBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount))
        if name.count > 0 {
            UnsafeMutableRawBufferPointer(rebasing: bodyBuffer[(start + prefix.utf8CodeUnitCount)...]).copyMemory(from: name)
        }
        return UnsafeRawBufferPointer(rebasing: bodyBuffer[start...])
    }
}
