import TinyMQTT
import TinyPlatform
import TinyTLS

/// Publishes one QoS 1 message to an MQTT broker over TLS (port 8883, the built-in Azure
/// roots) and returns once the broker acknowledged it (PUBACK).
func publishOnce(host: String, clientID: StaticString, topic: StaticString, payload: StaticString) throws(MQTTError) {
    let transport: TLSTransport
    do throws(TransportError) {
        transport = try TLSTransport(TLSConfiguration(host: host, port: 8883))
    } catch {
        throw .transport(error)
    }
    // All the memory the session will use, allocated once (nil when memory ran out).
    guard let buffers = MQTTBuffers.allocate(transmit: 1024, receive: 1024, inflightBytes: 4096, inflightWindow: 16) else {
        throw .transport(.outOfMemory)
    }
    let session = MQTTSession(transport: transport, platform: SystemPlatform(), buffers: buffers)
    try session.connect(MQTTConnectOptions(clientID: bytes(clientID)))   // a CONNACK refusal is a typed error
    let id = try session.publish(topic: bytes(topic), payload: bytes(payload), qos: .atLeastOnce)
    var acknowledged = false
    while !acknowledged {
        try session.poll(timeoutMs: 1_000) { event in   // also .message, .connectionLost, …
            if case .delivered(id) = event { acknowledged = true }
        }
    }
    session.disconnect()
}

/// The bytes of a string literal.
func bytes(_ text: StaticString) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
}
