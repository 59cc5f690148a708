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
    func confirmProvisioned(_ client: ExampleHubClient, buffers: HubBuffers,
                            options: HubOptions) -> ExampleHubClient {
        guard let provisioning, provisioning.fromCache else { return client }
        var connected = false, refused = false
        while !connected, !refused {
            pollOrExit(client, timeoutMs: 1_000, refused: { refused = true }) { event in
                if case .connected = event { connected = true }
                reportConnectionEvent(event)
            }
        }
        guard refused else { return client }
        client.disconnect()
        var fresh = self
        fresh.reprovision()
        return fresh.connectMQTT(buffers: buffers, options: options)
    }

    /// Over HTTPS, after `client` failed with `error`: when that is the hub refusing an identity
    /// from the cache (after its clock check), closes `client`, registers with DPS once (the
    /// `provisioned` line, the cache rewritten) and returns a new client with the new identity
    /// on the same buffers, to repeat the request with. Nil for any other failure, and for a
    /// refused identity that DPS gave in this run: the caller handles those as before.
    package mutating func reprovisionedHTTPS(after error: HubError, replacing client: ExampleHTTPSClient,
                                             buffers: HubHTTPSBuffers, options: HubOptions) -> ExampleHTTPSClient? {
        guard error.isAuthenticationFailure, let provisioning, provisioning.fromCache else { return nil }
        client.close()
        reprovision()
        return makeHTTPS(buffers: buffers, options: options)
    }

    /// The hub refused the identity from the cache: one registration with DPS (exits when it
    /// fails), whose identity replaces it.
    private mutating func reprovision() {
        guard let provisioning else { return }
        ExampleOutput.note("the hub refused the cached identity: provisioning again")
        connectionString = provisioning.register(self)
        self.provisioning?.fromCache = false
    }
}
