/// What `MQTTFace` keeps of its `HubOptions` after init: the MQTT fields it reads later, and
/// nothing of the HTTPS ones (the model id goes into the user name at init and is not kept).
/// Each field is stored once, inside the client object, so one options type for both
/// protocols costs no heap.
struct HubMQTTSettings {
    /// SAS token lifetime in seconds.
    let sasLifetimeSeconds: UInt32
    /// Share of the lifetime after which the token is renewed.
    let renewAtPercent: UInt32
    /// Keep-alive sent in CONNECT, already clamped to what IoT Hub honours.
    let keepAliveSeconds: UInt16
    /// Features subscribed to on connect.
    let features: HubFeatures
    /// Fetch the full twin after every connect.
    let getTwinOnConnect: Bool
    /// How long a twin request may wait for its answer.
    let twinRequestTimeoutMs: UInt32

    /// The MQTT fields of `options`.
    init(_ options: HubOptions) {
        sasLifetimeSeconds = options.sasLifetimeSeconds
        renewAtPercent = options.renewAtPercent
        keepAliveSeconds = options.effectiveKeepAlive
        features = options.features
        getTwinOnConnect = options.getTwinOnConnect
        twinRequestTimeoutMs = options.twinRequestTimeoutMs
    }
}
