import TinyMQTT

/// A direct-method call. Answer it with `HubClient.respondToMethod` (inside the callback
/// or later, copying the request id first).
public struct MethodRequest {
    /// Method name.
    public var name: UnsafeRawBufferPointer
    /// The hub's request id (`$rid`), to echo in the response.
    public var requestID: UnsafeRawBufferPointer
    /// Request payload (JSON or empty).
    public var payload: UnsafeRawBufferPointer
}

/// The full twin document from a GET.
public struct TwinDocument {
    /// Our request id.
    public var requestID: UInt32
    /// `{"desired":{...},"reported":{...}}`.
    public var body: UnsafeRawBufferPointer
    /// `desired.$version`, if present.
    public var desiredVersion: Int64?
    /// Whether the desired version differs from the last one this client saw (a desired
    /// change happened while no notification could arrive, e.g. during a reconnect).
    public var desiredChanged: Bool
}

/// What `HubClient.poll` reports.
public enum HubEvent {
    /// Connected (or reconnected) to the hub.
    case connected(sessionPresent: Bool)
    /// The subscriptions for the enabled features are in place.
    case subscribed
    /// The hub accepted the telemetry message with this id (PUBACK, QoS 1).
    case telemetryAcknowledged(packetID: UInt16)
    /// A cloud-to-device message arrived.
    case cloudToDevice(CloudToDeviceMessage)
    /// The full twin arrived (answer to `requestTwin`, also sent after every connect).
    case twin(TwinDocument)
    /// A desired-properties patch arrived (`$version` and the partial JSON).
    case desiredProperties(version: Int64, body: UnsafeRawBufferPointer)
    /// The hub accepted a reported-properties patch (status 204) and gave its new version.
    case reportedPropertiesAccepted(requestID: UInt32, version: Int64?)
    /// A twin request failed: the hub's status (400, 429, 5xx...), or 0 for a timeout / lost connection.
    case twinRequestFailed(requestID: UInt32, status: UInt16)
    /// A direct method was invoked.
    case methodRequest(MethodRequest)
    /// The hub refused the token and its clock differed from the device's: the client now
    /// mints tokens from the hub's time (`offsetSeconds` = hub minus device) and reconnects.
    case clockAdjusted(offsetSeconds: Int64)
    /// The SAS token was renewed; a clean reconnect follows (no message is lost).
    case tokenRenewed(expiry: Int64)
    /// The connection broke; the client reconnects by itself.
    case connectionLost(MQTTError)
    /// The next reconnect attempt starts in `delayMs`.
    case reconnectScheduled(delayMs: UInt32, attempt: UInt32)
    /// An inbound message too large for the receive buffer was dropped (and acknowledged).
    case messageDropped(length: Int)
    /// The hub refused a subscription (SUBACK 0x80).
    case subscriptionRefused
}
