/// A last-will message the broker publishes if the client vanishes (§3.1.2.5).
public struct MQTTWill {
    /// Topic of the will message (caller-owned bytes, UTF-8).
    public var topic: UnsafeRawBufferPointer
    /// Will payload (caller-owned bytes).
    public var payload: UnsafeRawBufferPointer
    /// QoS the broker publishes the will with.
    public var qos: MQTTQoS
    /// Whether the broker retains the will.
    public var retain: Bool

    /// Describes a will message; the bytes must outlive every connect that uses it.
    ///
    /// - Parameters:
    ///   - topic: the will's topic.
    ///   - payload: the will's message.
    ///   - qos: its quality of service.
    ///   - retain: its retain flag.
    public init(topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, qos: MQTTQoS = .atMostOnce, retain: Bool = false) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
    }
}

/// The fields of a CONNECT packet (§3.1). Byte fields point into caller-owned memory
/// that must stay valid while a session may (re)connect with these options.
///
/// ```swift
/// var options = MQTTConnectOptions(clientID: clientID, username: user, password: token)
/// options.keepAliveSeconds = 60
/// try session.connect(options)
/// ```
public struct MQTTConnectOptions {
    /// Client identifier (§3.1.3.1); IoT Hub wants the device id.
    public var clientID: UnsafeRawBufferPointer
    /// User name, or nil for none.
    public var username: UnsafeRawBufferPointer?
    /// Password, or nil for none (§3.1.2.9: only allowed with a user name).
    public var password: UnsafeRawBufferPointer?
    /// Optional will message.
    public var will: MQTTWill?
    /// false resumes a stored session (IoT Hub keeps queued cloud-to-device messages only then).
    public var cleanSession: Bool
    /// Keep-alive in seconds (0 disables keep-alive).
    public var keepAliveSeconds: UInt16

    /// Options with the given client id, a persistent session and a 60 s keep-alive.
    ///
    /// - Parameters:
    ///   - clientID: the client identifier.
    ///   - username: the user name, or nil.
    ///   - password: the password (IoT Hub: the SAS token), or nil.
    ///   - will: the message the broker publishes if the connection drops, or nil.
    ///   - cleanSession: whether the broker drops any stored session.
    ///   - keepAliveSeconds: the longest silence before a PINGREQ (0: none).
    public init(clientID: UnsafeRawBufferPointer, username: UnsafeRawBufferPointer? = nil,
                password: UnsafeRawBufferPointer? = nil, will: MQTTWill? = nil,
                cleanSession: Bool = false, keepAliveSeconds: UInt16 = 60) {
        self.clientID = clientID
        self.username = username
        self.password = password
        self.will = will
        self.cleanSession = cleanSession
        self.keepAliveSeconds = keepAliveSeconds
    }
}

/// One topic filter of a SUBSCRIBE packet.
public struct MQTTSubscription {
    /// The topic filter (may contain `+` and `#`), caller-owned UTF-8 bytes.
    public var filter: UnsafeRawBufferPointer
    /// Maximum QoS requested.
    public var qos: MQTTQoS

    /// A filter and the QoS asked for.
    ///
    /// - Parameters:
    ///   - filter: the topic filter (`+` and `#` wildcards allowed).
    ///   - qos: the highest quality of service wanted.
    public init(filter: UnsafeRawBufferPointer, qos: MQTTQoS) {
        self.filter = filter
        self.qos = qos
    }
}
