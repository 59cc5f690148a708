/// MQTT 3.1.1 control packet types (§2.2.1), the high nibble of the first byte.
public enum MQTTPacketType: UInt8 {
    /// A packet type of MQTT 3.1.1 §2.2.1, named as in the specification (CONNECT is 1).
    case connect = 1, connack, publish, puback, pubrec, pubrel, pubcomp
    /// A packet type of MQTT 3.1.1 §2.2.1, named as in the specification (DISCONNECT is 14).
    case subscribe, suback, unsubscribe, unsuback, pingreq, pingresp, disconnect
}

/// Quality of service levels TinyHub sends and accepts. QoS 2 is left out on purpose:
/// Azure IoT Hub closes the connection on a QoS 2 PUBLISH.
public enum MQTTQoS: UInt8 {
    /// At most once: no acknowledgement.
    case atMostOnce = 0
    /// At least once: acknowledged with PUBACK, resent until then.
    case atLeastOnce = 1
}
