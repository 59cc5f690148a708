import TinyHTTP
import TinyPlatform

/// The REST resources the client talks to.
enum HubResource {
    /// `/devices/{d}[/modules/{m}]/messages/events`
    case events
    /// `/devices/{d}/messages/deviceBound`
    case deviceBound
    /// `/devices/{d}/messages/deviceBound/{lock}` (+ `&reject`, or `/abandon`)
    case settle(C2DLockToken, C2DDisposition)
}

/// Request writing: request line, `Host`, `Authorization`, `User-Agent`, then the
/// operation's own headers.
extension HTTPSFace {
    /// Writes the request line and the common headers into the request buffer.
    func beginRequest(_ method: HTTPMethod, _ resource: HubResource) throws(HubError) -> HTTPRequestWriter {
        var writer = HTTPRequestWriter(buffer: requestBuffer)
        let token = try authorization()
        do throws(HTTPEncodeError) {
            try writer.beginTarget(method: method)
            try writer.appendTarget("/devices/")
            try writer.appendPercentEncodedTarget(connection.deviceID)
            if case .events = resource, let module = connection.moduleID {
                try writer.appendTarget("/modules/")
                try writer.appendPercentEncodedTarget(module)
            }
            switch resource {
            case .events:
                try writer.appendTarget("/messages/events")
            case .deviceBound:
                try writer.appendTarget("/messages/deviceBound")
            case .settle(let lock, let disposition):
                try writer.appendTarget("/messages/deviceBound/")
                try lock.withBytes { (bytes) throws(HTTPEncodeError) in try writer.appendPercentEncodedTarget(bytes) }
                if disposition == .abandon { try writer.appendTarget("/abandon") }
            }
            try writer.appendTarget("?api-version=")
            try writer.appendTarget(HubHTTPSProtocol.apiVersion)
            if case .settle(_, .reject) = resource { try writer.appendTarget("&reject") }
            try writer.endTarget(host: connection.hostName)
            if let token { try writer.header(name: "Authorization", value: token) }
            try writer.header(name: "User-Agent", value: HubHTTPSProtocol.userAgent)
        } catch {
            throw .request(error)
        }
        return writer
    }

    /// Writes `iothub-app-{name}: value` (the name is assembled on the stack; `HeaderSafety` checked it).
    static func appHeader(_ property: MessageProperty, to writer: inout HTTPRequestWriter) throws(HTTPEncodeError) {
        var name = InlineArray<256, UInt8>(repeating: 0)
        let prefix: StaticString = "iothub-app-"
        let p = prefix.utf8CodeUnitCount
        for i in 0..<p { name[i] = prefix.utf8Start[i] }
        let count = min(property.name.count, 256 - p)
        for i in 0..<count { name[p + i] = property.name[i] }
        let total = p + count
        try name.span.withUnsafeBytes { (all) throws(HTTPEncodeError) in
            try writer.header(name: UnsafeRawBufferPointer(rebasing: all[0..<total]), value: property.value)
        }
    }

    /// Writes the system-property headers of a telemetry message.
    static func systemHeaders(_ system: TelemetrySystemProperties, to writer: inout HTTPRequestWriter) throws(HTTPEncodeError) {
        try system.forEach { (property, value) throws(HTTPEncodeError) in try writer.header(name: property.headerName, value: value) }
    }
}
