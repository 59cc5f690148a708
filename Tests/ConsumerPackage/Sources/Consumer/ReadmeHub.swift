import TinyHub
import TinyPlatform
import TinyTLS

/// Connects to IoT Hub as the device of `connectionString`
/// (`HostName=…;DeviceId=…;SharedAccessKey=…`), sends one telemetry message and returns
/// once the hub acknowledged it.
func sendOneTelemetryMessage(connectionString: String) throws(HubError) {
    let client = try makeHubClient(connectionString: connectionString)
    try client.connect()
    let id = try client.sendTelemetry(#"{"temperature":21.5}"#)
    var acknowledged = false
    while !acknowledged {
        try client.poll(timeoutMs: 1_000) { event in   // renews the SAS token and reconnects as needed
            if case .telemetryAcknowledged(id) = event { acknowledged = true }
        }
    }
    client.disconnect()
}

/// A telemetry-only hub client over TLS to the connection string's host, port 8883, trusting
/// the built-in Azure roots. Parses the string once and signs a SAS token; opens no connection.
func makeHubClient(connectionString: String) throws(HubError) -> HubClient<MQTTFace<TLSTransport, SystemPlatform>> {
    guard let buffers = HubBuffers.allocate() else { throw .transport(.outOfMemory) }
    // Parsed once, and kept in the client's identity buffer: who the device is, where it connects.
    let configuration = try HubConfiguration(connectionString: connectionString, storage: buffers.identity)
    let transport: TLSTransport
    do throws(TransportError) {
        transport = try TLSTransport(TLSConfiguration(host: configuration.connectHostText, port: 8883))
    } catch {
        throw .transport(error)
    }
    var options = HubOptions()
    options.features = []   // telemetry only: no C2D, twin or method subscriptions
    return try HubClient(configuration: configuration, transport: transport, platform: SystemPlatform(),
                         crypto: MbedTLSCrypto(), buffers: buffers, options: options)
}
