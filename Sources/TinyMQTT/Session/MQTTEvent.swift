/// What `MQTTSession.poll` reports to the application. Byte buffers inside an event
/// point into the session's receive buffer and are valid only during the callback.
public enum MQTTEvent {
    /// A CONNACK accepted the connection; `sessionPresent` false means the broker lost
    /// subscriptions (subscribe again). Unacknowledged QoS 1 messages were resent.
    case connected(sessionPresent: Bool)
    /// A message arrived. For QoS 1 the PUBACK goes out after the callback returns.
    case message(MQTTPublish)
    /// The broker acknowledged the QoS 1 PUBLISH with this id (PUBACK).
    case delivered(packetID: UInt16)
    /// SUBACK for a SUBSCRIBE: one code per filter (0/1 granted QoS, 0x80 refused).
    case subscribed(packetID: UInt16, returnCodes: UnsafeRawBufferPointer)
    /// UNSUBACK for an UNSUBSCRIBE.
    case unsubscribed(packetID: UInt16)
    /// A SUBSCRIBE/UNSUBSCRIBE got no acknowledgement in time or its connection was lost.
    case ackTimedOut(packetID: UInt16)
    /// An inbound packet longer than the receive buffer was read and thrown away (a QoS 1
    /// PUBLISH is still acknowledged so the broker does not redeliver it forever).
    case oversizedPacketDropped(packetType: UInt8, length: Int)
    /// The connection broke; the session will reconnect (see `reconnectScheduled`).
    case connectionLost(MQTTError)
    /// The next connection attempt will start after `delayMs` (attempt counts from 1).
    case reconnectScheduled(delayMs: UInt32, attempt: UInt32)
}
