import TinyMQTT
import TinyPlatform

/// A point where an `MQTTFace` hands over to the code of cloud-to-device messages, twin and
/// direct methods (`HubFeatures.route`).
enum HubFeatureStep {
    /// In `init`: note the cloud-to-device subscription filter in the identity buffer.
    case prepare
    /// After `connect`: subscribe to the enabled features.
    case subscribe
    /// A connection was made: outstanding requests fail, the features are subscribed again.
    case connected
    /// A SUBACK arrived.
    case subscribed(packetID: UInt16, returnCodes: UnsafeRawBufferPointer)
    /// A message arrived from the hub.
    case message(MQTTPublish)
    /// Before a poll: report overdue twin requests (the step's result says whether any was).
    case expireRequests
    /// After the session's poll returned: what events asked for (subscribe, twin GET).
    case applyDueActions
}

/// How a client reaches the code of its features: one function for every `HubFeatureStep`, or
/// nil in a telemetry-only client.
typealias HubFeatureRoute<T: Transport, P: Platform> = (MQTTFace<T, P>, HubFeatureStep, (HubEvent) -> Void) throws(HubError) -> Bool

/// Cloud-to-device messages, twin and direct methods, as `options.features` enables them.
/// Only `HubClient.init(configuration:...)` refers to this function, so the linker keeps topic
/// classification, twin requests and their JSON only in programs that make a client that way; a
/// telemetry-only client (`init(sendingTelemetryOnly:...)`) links none of it. A free function, so
/// that referring to it captures nothing. Returns whether the step found something to report
/// (`.expireRequests`), else false.
func routeHubFeatures<T, P>(_ client: MQTTFace<T, P>, _ step: HubFeatureStep, _ handler: (HubEvent) -> Void) throws(HubError) -> Bool {
    switch step {
    case .prepare:
        try client.prepareCloudToDevice()
    case .subscribe:
        do throws(MQTTError) { try client.subscribeFeatures() } catch { throw HubError(error) }
    case .connected:
        client.featuresConnected(handler)
    case .subscribed(let id, let codes):
        client.featuresSubscribed(id, codes, handler)
    case .message(let message):
        client.routeMessage(message, handler)
    case .expireRequests:
        return client.expireTwinRequests(handler)
    case .applyDueActions:
        client.applyDueActions()
    }
    return false
}
