import TinyPlatform
import TinyMQTT

/// All memory an MQTT `HubClient` (`MQTTFace`) uses, sized and owned by the application: making
/// a `HubClient` with them chooses MQTT.
///
/// ```swift
/// guard let buffers = HubBuffers.allocate(maxMessage: 1_024, receive: 2_048, window: 8) else { /* out of memory */ }
/// let configuration = try HubConfiguration(connectionString: connectionString, storage: buffers.identity)
/// let client = try HubClient(configuration: configuration, transport: tls, platform: SystemPlatform(),
///                            crypto: MbedTLSCrypto(), buffers: buffers)
/// ```
public struct HubBuffers {
    /// The MQTT session's buffers (transmit, receive, in-flight arena and slots).
    public var mqtt: MQTTBuffers
    /// Holds a copy of the connection string, the client id, user name and SAS token.
    public var identity: UnsafeMutableRawBufferPointer
    /// Outgoing topics: the telemetry topic with the fixed properties
    /// (`setTelemetryProperties`) at its start, then a message's own properties or a twin,
    /// method or outbox topic.
    public var topic: UnsafeMutableRawBufferPointer

    /// Wraps memory the caller already owns. `identity` then holds the key and token until you
    /// overwrite it: wipe it (and `mqtt.transmit`) once the client is gone.
    ///
    /// - Parameters:
    ///   - mqtt: the MQTT session's buffers.
    ///   - identity: bytes for the connection string's copy, client id, user name and SAS token.
    ///   - topic: bytes for the telemetry topic with its fixed properties, plus the longest of a
    ///     message's own properties, a twin or method response topic, and (with an outbox) a whole
    ///     telemetry topic with its bag.
    public init(mqtt: MQTTBuffers, identity: UnsafeMutableRawBufferPointer, topic: UnsafeMutableRawBufferPointer) {
        self.mqtt = mqtt
        self.identity = identity
        self.topic = topic
    }

    /// Allocates everything once at start-up. `maxMessage` bounds one telemetry payload
    /// plus its properties; `window` is the QoS 1 in-flight window.
    ///
    /// - Parameters:
    ///   - maxMessage: the largest telemetry payload plus its properties.
    ///   - receive: bytes for the largest incoming packet (a C2D message, twin document or method).
    ///   - window: how many QoS 1 messages may await their PUBACK.
    /// - Returns: the buffers, or nil when memory ran out.
    public static func allocate(maxMessage: Int = 1_024, receive: Int = 2_048, window: Int = 8) -> HubBuffers? {
        let topicBytes = 512
        let packet = MQTTEncoder.publishSize(topicLength: topicBytes, payloadLength: maxMessage, qos: .atLeastOnce)
        guard let mqtt = MQTTBuffers.allocate(transmit: max(packet, 1_024), receive: receive,
                                              inflightBytes: packet * window, inflightWindow: window) else { return nil }
        let buffers = HubBuffers(mqtt: mqtt, identity: .allocate(byteCount: 2_048, alignment: 1),
                                 topic: .allocate(byteCount: topicBytes, alignment: 1))
        guard buffers.identity.baseAddress != nil, buffers.topic.baseAddress != nil else {
            buffers.deallocate()
            return nil
        }
        return buffers
    }

    /// Wipes the secrets (connection string, SAS token, the CONNECT packet that carried it)
    /// and frees buffers made by `allocate`.
    public func deallocate() {
        zeroize(identity)
        zeroize(mqtt.transmit)
        mqtt.deallocate()
        identity.deallocate()
        topic.deallocate()
    }
}
