import TinyBytes
import TinyHTTP

/// A cloud-to-device message, whichever protocol brought it: over MQTT from `HubEvent.cloudToDevice`
/// (its properties in the topic's property bag), over HTTPS from `HubClient.receive()` or
/// `pollCloudToDevice` (its properties in response headers, with a lock token to settle it by).
/// Its properties read the same way over both:
///
/// ```swift
/// let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 1)
/// let id = try message.systemProperty(.messageID, scratch: scratch)      // $.mid / iothub-messageid
/// let color = try message.applicationProperty("color", scratch: scratch) // color / iothub-app-color
/// ```
///
/// Payload, property bag and headers point into the client's receive buffers: over MQTT they are
/// valid during the event callback (the PUBACK that completes the message at the hub goes out after
/// it returns), over HTTPS until the client's next request. To settle a message after a later
/// request, keep a copy of its `lockToken`.
public struct CloudToDeviceMessage: HubMessageProperties {
    /// Decoding a malformed or oversized MQTT property bag fails with `PropertyBagError`;
    /// reading HTTPS headers never fails.
    public typealias ReadError = PropertyBagError

    /// Where the properties come from.
    enum Source {
        /// MQTT: the topic's property bag, still percent-encoded.
        case propertyBag(UnsafeRawBufferPointer)
        /// HTTPS: the response headers (system properties by name, application ones `iothub-app-*`,
        /// the lock token as `ETag`), and the number of the response that brought them, so the
        /// client refuses to settle by headers a later response has overwritten.
        case headers(HTTPHeaders, response: UInt32)
    }

    /// Message body.
    public var payload: UnsafeRawBufferPointer
    /// The properties' source.
    let source: Source

    /// A message received over MQTT, with the topic's property bag (still percent-encoded).
    ///
    /// - Parameters:
    ///   - payload: the message body.
    ///   - propertyBag: the topic's property bag after `devicebound/`.
    public init(payload: UnsafeRawBufferPointer, propertyBag: UnsafeRawBufferPointer) {
        self.payload = payload
        self.source = .propertyBag(propertyBag)
    }

    /// A message received over HTTPS, in the response numbered `response` by the client.
    init(payload: UnsafeRawBufferPointer, headers: HTTPHeaders, response: UInt32) {
        self.payload = payload
        self.source = .headers(headers, response: response)
    }

    /// The lock token (`ETag` without quotes) of a message received over HTTPS, copied out of
    /// the response headers; nil over MQTT (MQTT completes a message with its PUBACK). The HTTPS
    /// client's `complete`, `reject` and `abandon` settle the message by it, within the hub's
    /// one-minute lock. Read it before the client's next request and keep the copy to settle later.
    public var lockToken: C2DLockToken? {
        guard case .headers(let headers, _) = source, let etag = headers.etagUnquoted else { return nil }
        do throws(HubError) { return try C2DLockToken(etag) } catch { return nil }
    }

    /// The MQTT topic's property bag, still percent-encoded (system properties as `%24.mid`, …);
    /// nil for a message received over HTTPS.
    public var propertyBag: UnsafeRawBufferPointer? {
        if case .propertyBag(let bag) = source { return bag }
        return nil
    }

    /// All response headers of a message received over HTTPS, for anything the property readers
    /// do not cover; nil for a message received over MQTT.
    public var headers: HTTPHeaders? {
        if case .headers(let headers, _) = source { return headers }
        return nil
    }

    /// The value of a system property, or nil when absent. Over MQTT it is decoded into `scratch`
    /// (sequence number, delivery count and enqueued time are not carried and read as nil); over
    /// HTTPS it points into the response headers and `scratch` is not used.
    ///
    /// - Parameters:
    ///   - property: the system property, e.g. `.messageID`.
    ///   - scratch: room for the decoded value (MQTT).
    /// - Throws: `PropertyBagError` when the MQTT property bag is malformed or `scratch` too small.
    public func systemProperty(_ property: HubSystemProperty, scratch: UnsafeMutableRawBufferPointer) throws(PropertyBagError) -> UnsafeRawBufferPointer? {
        switch source {
        case .propertyBag(let bag):
            guard let name = property.mqttName else { return nil }
            return try PropertyBagReader.find(name, in: bag, scratch: scratch)?.value
        case .headers(let headers, _):
            return headers.value(property.httpHeaderName)
        }
    }

    /// The value of the application property `name` (as the sender named it), or nil when
    /// absent; a property without value reads as empty. Over MQTT names match byte for byte after
    /// decoding; over HTTPS the header `iothub-app-{name}` is found ignoring ASCII case (HTTP
    /// field names are case-insensitive).
    ///
    /// - Parameters:
    ///   - name: the property's name, without any `iothub-app-` prefix.
    ///   - scratch: room for the decoded name and value (MQTT).
    /// - Throws: `PropertyBagError` when the MQTT property bag is malformed or `scratch` too small.
    public func applicationProperty(named name: UnsafeRawBufferPointer, scratch: UnsafeMutableRawBufferPointer) throws(PropertyBagError) -> UnsafeRawBufferPointer? {
        switch source {
        case .propertyBag(let bag):
            var reader = PropertyBagReader(bag)
            while let property = try reader.next(scratch: scratch) {
                if !Self.isSystem(property), Bytes.equal(property.name, name) {
                    return property.value ?? UnsafeRawBufferPointer(start: scratch.baseAddress, count: 0)
                }
            }
            return nil
        case .headers(let headers, _):
            let p = Self.appPrefix.utf8CodeUnitCount
            for header in headers where header.nameHasPrefix(Self.appPrefix) && header.name.count == p + name.count {
                if Self.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: header.name[p...]), name) { return header.value }
            }
            return nil
        }
    }

    /// Calls `body(name, value)` for each application property, in the order received (names
    /// without the `iothub-app-` prefix; over MQTT both decoded into `scratch`).
    ///
    /// - Parameters:
    ///   - scratch: room for each decoded name and value (MQTT).
    ///   - body: receives each property's name and value.
    /// - Throws: `PropertyBagError` when the MQTT property bag is malformed or `scratch` too small.
    public func forEachApplicationProperty(scratch: UnsafeMutableRawBufferPointer,
                                           _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) throws(PropertyBagError) {
        switch source {
        case .propertyBag(let bag):
            var reader = PropertyBagReader(bag)
            while let property = try reader.next(scratch: scratch) {
                if Self.isSystem(property) { continue }
                body(property.name, property.value ?? UnsafeRawBufferPointer(start: scratch.baseAddress, count: 0))
            }
        case .headers(let headers, _):
            let p = Self.appPrefix.utf8CodeUnitCount
            for header in headers where header.nameHasPrefix(Self.appPrefix) && header.name.count > p {
                body(UnsafeRawBufferPointer(rebasing: header.name[p...]), header.value)
            }
        }
    }

    /// The `iothub-app-` prefix of application-property headers.
    static let appPrefix: StaticString = "iothub-app-"

    /// MQTT: the `$.`-prefixed keys and `iothub-ack` are system properties, every other key an application one.
    private static func isSystem(_ property: HubProperty) -> Bool {
        property.isSystemProperty || property.nameEquals(SystemProperty.ack)
    }

    /// Whether `a` and `b` are equal ignoring ASCII case.
    static func equalsIgnoringCase(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        var i = 0
        while i < a.count {
            let x = a[i] &- 0x41 < 26 ? a[i] | 0x20 : a[i]
            let y = b[i] &- 0x41 < 26 ? b[i] | 0x20 : b[i]
            guard x == y else { return false }
            i += 1
        }
        return true
    }
}
