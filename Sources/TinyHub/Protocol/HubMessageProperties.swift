import TinyBytes

/// The system properties a received cloud-to-device message may carry, named once for
/// both faces: MQTT puts them in the topic's property bag (`$.mid`, …), HTTPS in response
/// headers (`iothub-messageid`, …).
public enum HubSystemProperty: UInt8, Sendable {
    /// Message id (`$.mid` / `iothub-messageid`).
    case messageID
    /// Correlation id (`$.cid` / `iothub-correlationid`).
    case correlationID
    /// User id (`$.uid` / `iothub-userid`).
    case userID
    /// Destination (`$.to` / `iothub-to`).
    case to
    /// Content type (`$.ct` / `ContentType`).
    case contentType
    /// Content encoding (`$.ce` / `ContentEncoding`).
    case contentEncoding
    /// Absolute expiry time (`$.exp` / `iothub-expiry`).
    case expiry
    /// Feedback request (`iothub-ack` on both).
    case ack
    /// Sequence number (HTTPS only: `iothub-sequencenumber`).
    case sequenceNumber
    /// Delivery count (HTTPS only: `iothub-deliverycount`).
    case deliveryCount
    /// Enqueued time (HTTPS only: `iothub-enqueuedtime`).
    case enqueuedTime

    /// The property-bag key used over MQTT, or nil when MQTT does not carry it.
    public var mqttName: StaticString? {
        switch self {
        case .messageID: return SystemProperty.messageID
        case .correlationID: return SystemProperty.correlationID
        case .userID: return SystemProperty.userID
        case .to: return SystemProperty.to
        case .contentType: return SystemProperty.contentType
        case .contentEncoding: return SystemProperty.contentEncoding
        case .expiry: return SystemProperty.expiry
        case .ack: return SystemProperty.ack
        case .sequenceNumber, .deliveryCount, .enqueuedTime: return nil
        }
    }

    /// The response header used over HTTPS.
    public var httpHeaderName: StaticString {
        switch self {
        case .messageID: return "iothub-messageid"
        case .correlationID: return "iothub-correlationid"
        case .userID: return "iothub-userid"
        case .to: return "iothub-to"
        case .contentType: return "ContentType"
        case .contentEncoding: return "ContentEncoding"
        case .expiry: return "iothub-expiry"
        case .ack: return "iothub-ack"
        case .sequenceNumber: return "iothub-sequencenumber"
        case .deliveryCount: return "iothub-deliverycount"
        case .enqueuedTime: return "iothub-enqueuedtime"
        }
    }
}

/// How a received message's properties are read, whichever protocol brought it.
/// `CloudToDeviceMessage` (both protocols) conforms; a handler generic over this protocol also
/// takes a message type of your own (a recorded or simulated message in a test).
///
/// `scratch` receives decoded bytes where the protocol needs decoding (MQTT property bags
/// are percent-encoded); HTTPS values point into the response header buffer and ignore it.
public protocol HubMessageProperties {
    /// What reading a property can throw (`PropertyBagError` for `CloudToDeviceMessage`).
    associatedtype ReadError: Error

    /// The message body.
    var payload: UnsafeRawBufferPointer { get }

    /// The value of a system property, or nil when absent.
    ///
    /// - Parameters:
    ///   - property: which system property.
    ///   - scratch: where the value is decoded.
    /// - Returns: the value, or nil when absent.
    /// - Throws: `ReadError` when the properties cannot be read.
    func systemProperty(_ property: HubSystemProperty, scratch: UnsafeMutableRawBufferPointer) throws(ReadError) -> UnsafeRawBufferPointer?

    /// The value of the application property `name` (as the sender named it, without any
    /// `iothub-app-` prefix), or nil when absent. A property without value reads as empty.
    ///
    /// - Parameters:
    ///   - name: the property's name, as the sender named it.
    ///   - scratch: where names and values are decoded.
    /// - Returns: the value, or nil when absent.
    /// - Throws: `ReadError` when the properties cannot be read.
    func applicationProperty(named name: UnsafeRawBufferPointer, scratch: UnsafeMutableRawBufferPointer) throws(ReadError) -> UnsafeRawBufferPointer?

    /// Calls `body(name, value)` for each application property, in order received.
    ///
    /// - Parameters:
    ///   - scratch: where names and values are decoded.
    ///   - body: called with each name and value (views valid during the call).
    /// - Throws: `ReadError` when the properties cannot be read.
    func forEachApplicationProperty(scratch: UnsafeMutableRawBufferPointer,
                                    _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) throws(ReadError)
}

extension HubMessageProperties {
    /// The application property named by a constant.
    ///
    /// - Parameters:
    ///   - name: the property's name, as the sender named it.
    ///   - scratch: where the value is decoded.
    /// - Returns: the value (a view into `scratch` or the message), or nil when absent.
    /// - Throws: `ReadError` when the properties cannot be read (a malformed bag, a small `scratch`).
    public func applicationProperty(_ name: StaticString, scratch: UnsafeMutableRawBufferPointer) throws(ReadError) -> UnsafeRawBufferPointer? {
        try applicationProperty(named: UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount), scratch: scratch)
    }
}
