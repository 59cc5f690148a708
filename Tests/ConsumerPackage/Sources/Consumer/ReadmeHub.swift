import TinyHub
import TinyPlatform
import TinyTLS

/// Connects to IoT Hub as the device of `connectionString` (the bytes of
/// `HostName=…;DeviceId=…;SharedAccessKey=…`), sends one telemetry message and returns
/// once the hub acknowledged it.
func sendOneTelemetryMessage(connectionString: UnsafeRawBufferPointer) throws(HubError) {
    let client = try makeHubClient(connectionString: connectionString)
    try client.connect()
    let payload: StaticString = #"{"temperature":21.5}"#
    let id = try client.sendTelemetry(UnsafeRawBufferPointer(start: payload.utf8Start, count: payload.utf8CodeUnitCount))
    var acknowledged = false
    while !acknowledged {
        try client.poll(timeoutMs: 1_000) { event in   // renews the SAS token and reconnects as needed
            if case .telemetryAcknowledged(id) = event { acknowledged = true }
        }
    }
    client.disconnect()
}

/// A telemetry-only hub client over TLS to the connection string's host, port 8883, trusting
/// the built-in Azure roots. Parses the string and signs a SAS token; opens no connection.
func makeHubClient(connectionString: UnsafeRawBufferPointer) throws(HubError) -> HubClient<TLSTransport, SystemPlatform> {
    let host: String
    do throws(ConnectionStringError) {
        host = String(decoding: try ConnectionString.parse(connectionString).connectHostName, as: UTF8.self)
    } catch {
        throw .connectionString(error)
    }
    let transport: TLSTransport
    do throws(TransportError) {
        transport = try TLSTransport(TLSConfiguration(host: host, port: 8883))
    } catch {
        throw .mqtt(.transport(error))
    }
    guard let buffers = HubBuffers.allocate() else { throw .mqtt(.transport(.outOfMemory)) }
    var options = HubOptions()
    options.features = []   // telemetry only: no C2D, twin or method subscriptions
    return try HubClient(connectionString: connectionString, transport: transport, platform: SystemPlatform(),
                         buffers: buffers, options: options)
}
