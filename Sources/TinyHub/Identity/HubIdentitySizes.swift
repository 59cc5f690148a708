import TinyBytes

/// What one device's identity takes in a telemetry-only MQTT client, from its parsed connection
/// string: buffers sized from these hold this device and nothing more (a small device need not
/// reserve room for the longest ids and keys IoT Hub accepts).
///
/// ```swift
/// let sizes = HubIdentitySizes(connection, textLength: text.count)
/// // HubBuffers(identity: .allocate(byteCount: sizes.identity, alignment: 1), …) and a transmit
/// // buffer of at least sizes.connectPacket bytes
/// ```
public struct HubIdentitySizes {
    /// Bytes of the identity buffer (`HubBuffers.identity`) of a client made with
    /// `HubClient(sendingTelemetryOnly:…)` and no model id: the connection string text, the
    /// client id, the MQTT user name and the longest SAS token the client signs for this device
    /// (every signature character percent-encoded, a 20-digit expiry; none with X.509).
    public let identity: Int
    /// Bytes of the MQTT CONNECT packet carrying the client id, user name and that longest
    /// token (no will): the least transmit buffer (`MQTTBuffers.transmit`) that can connect.
    public let connectPacket: Int
    /// Bytes of `devices/{d}[/modules/{m}]/messages/events/`, the telemetry topic before its
    /// property bag (the topic buffer holds it and the fixed bag, then the message's own
    /// properties or another topic).
    public let telemetryTopicPrefix: Int

    /// The sizes for `connection`, parsed from a text of `textLength` bytes.
    ///
    /// - Parameters:
    ///   - connection: The parsed connection string.
    ///   - textLength: Bytes of the connection string text it was parsed from.
    public init(_ connection: ConnectionString, textLength: Int) {
        // Every term but `textLength` is a literal's length or at most three times the length of a
        // slice of a connection string (`ConnectionString.maxLength`, 4,096 bytes), percent-encoded:
        // no sum of them comes near overflowing, so they wrap (`&+`) instead of checking.
        let device = connection.deviceID.count
        let module = connection.moduleID.map { 1 &+ $0.count } ?? 0 // "/" + id
        let clientID = device &+ module
        // {host}/{clientID}/?api-version=…&DeviceClientType=… (HubMQTTIdentity.username)
        let username = connection.hostName.count &+ clientID &+ (1 + Self.literal(HubMQTTIdentity.usernameQuery))
        var token = 0
        if connection.sharedAccessKey != nil {
            // SharedAccessSignature sr={host}%2Fdevices%2F{d}[%2Fmodules%2F{m}]&sig={44 Base64 characters}&se={expiry}[&skn={name}]
            let resource = PercentEncoding.encodedLength(connection.hostName) &+ PercentEncoding.encodedLength(connection.deviceID)
                &+ (connection.moduleID.map { PercentEncoding.encodedLength($0) &+ Self.literal("%2Fmodules%2F") } ?? 0)
            token = resource &+ (Self.literal("SharedAccessSignature sr=") + Self.literal("%2Fdevices%2F") + Self.literal("&sig=")
                                 + 3 * SASToken.signatureLength + Self.literal("&se=") + Decimal.maxLength)
                &+ (connection.sharedAccessKeyName.map { $0.count &+ Self.literal("&skn=") } ?? 0)
        }
        identity = textLength + (clientID &+ username &+ token) // the caller's length is checked
        // Variable header 10 (§3.1.2: "MQTT", level, flags, keep-alive), each string with its 2-byte
        // length; a fixed header of 1 + up to 4 remaining-length bytes.
        connectPacket = clientID &+ username &+ (token > 0 ? token &+ 2 : 0) &+ (5 + 10 + 2 + 2)
        telemetryTopicPrefix = device &+ (connection.moduleID.map { $0.count &+ Self.literal("/modules/") } ?? 0)
            &+ (Self.literal("devices/") + Self.literal("/messages/events/"))
    }

    private static func literal(_ text: StaticString) -> Int { text.utf8CodeUnitCount }
}
