import TinyHub
import TinyPlatform
import TinyTLS

extension ExampleEnvironment {
    /// Names the device through DPS or its cache when the DPS settings are there; exits 1 with
    /// one line when they are not.
    mutating func provision(port: (StaticString, UInt16) -> UInt16) {
        guard var dps = ExampleProvisioning.read(clientIdentity: clientIdentity, port: port) else { return }
        connectionString = dps.connectionString(self)
        provisioning = dps
    }

    /// Called once `client` started. With an identity from the cache, waits for the hub's
    /// verdict: accepted, `client` goes on; refused (after the hub's clock check), the device
    /// registers with DPS once, rewrites the cache and a new client with the new identity
    /// starts on the same buffers.
    func confirmProvisioned(_ client: HubClient<TLSTransport, SystemPlatform>, buffers: HubBuffers,
                            options: HubOptions) -> HubClient<TLSTransport, SystemPlatform> {
        guard let provisioning, provisioning.fromCache else { return client }
        var connected = false, refused = false
        while !connected, !refused {
            pollOrExit(client, timeoutMs: 1_000, refused: { refused = true }) { event in
                if case .connected = event { connected = true }
                reportConnectionEvent(event)
            }
        }
        guard refused else { return client }
        ExampleOutput.note("the hub refused the cached identity: provisioning again")
        client.disconnect()
        var fresh = self
        ExampleProvisioning.cacheInUse = nil
        fresh.connectionString = provisioning.register(self)
        fresh.provisioning?.fromCache = false
        return fresh.connectMQTT(buffers: buffers, options: options)
    }
}
