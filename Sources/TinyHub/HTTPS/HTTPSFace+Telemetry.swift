import TinyHTTP
import TinyPlatform

extension HTTPSFace {
    /// Sends one device-to-cloud message: `POST /devices/{id}[/modules/{m}]/messages/events`
    /// with `Content-Type: application/octet-stream`, each application property as an
    /// `iothub-app-{name}: value` header and the system properties as `iothub-messageid`,
    /// `iothub-correlationid`, `iothub-contenttype`, `iothub-contentencoding`,
    /// `iothub-creation-time-utc`. Succeeds on 204.
    ///
    /// Names must be RFC 9110 tokens (at most 245 bytes) and values printable ASCII without
    /// edge whitespace, else `invalidPropertyName`/`invalidPropertyValue(index:)` and nothing
    /// is sent. The payload is copied behind the head when it fits the request buffer (one
    /// TLS record), otherwise sent from the caller's memory right after it.
    ///
    /// - Parameters:
    ///   - payload: the message body.
    ///   - system: its system properties.
    ///   - properties: its application properties.
    /// - Throws: `HubError.invalidPropertyName` / `.invalidPropertyValue(index:)` /
    ///   `.invalidSystemProperty` without sending, `.messageTooLarge` beyond 256 KB, or what any
    ///   request throws (transport, throttling, authentication, a status other than 204).
    public func sendTelemetry(_ payload: UnsafeRawBufferPointer, system: TelemetrySystemProperties = TelemetrySystemProperties(),
                              properties: UnsafeBufferPointer<MessageProperty> = UnsafeBufferPointer(start: nil, count: 0))
                              throws(HubError) {
        try HubLimits.checkTelemetrySize(payloadCount: payload.count, system: system, properties: properties)
        try HeaderSafety.check(properties)
        try HeaderSafety.check(system)
        try checkMaySend()
        var writer = try beginRequest(.post, .events)
        let headLength: Int
        do throws(HTTPEncodeError) {
            try writer.header(name: "Content-Type", value: "application/octet-stream")
            try Self.systemHeaders(system, to: &writer)
            for property in properties { try Self.appHeader(property, to: &writer) }
            headLength = try writer.finish(contentLength: payload.count)
        } catch {
            throw .request(error)
        }
        let status = try exchange(headLength: headLength, appending: payload)
        guard status == 204 || status == 200 else { throw .unexpectedStatus(status) }
    }
}
