import TinyHub
import TinyPlatform
import TinyTLS

func sendHello(connectionString: String) throws {
    guard let buffers = HubBuffers.allocate() else { throw HubError.transport(.outOfMemory) }
    let configuration = try HubConfiguration(connectionString: connectionString, storage: buffers.identity)
    let tls = try TLSTransport(TLSConfiguration(host: configuration.connectHostText, port: 8883))
    let client = try HubClient(configuration: configuration, transport: tls, platform: SystemPlatform(),
                               crypto: MbedTLSCrypto(), buffers: buffers)
    try client.connect()
    let id = try client.sendTelemetry(#"{"hello":"world"}"#)
    var acknowledged = false
    while !acknowledged { try client.poll(timeoutMs: 1_000) { if case .telemetryAcknowledged(id) = $0 { acknowledged = true } } }
    client.disconnect()
}
