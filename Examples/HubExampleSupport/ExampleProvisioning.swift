import TinyHub
import TinyMQTT
import TinyPlatform
import TinyProvisioning
import TinyTLS

/// The examples' second way to name the device (README contract): with
/// `IOTHUB_DEVICE_CONNECTION_STRING` unset and `IOTHUB_DPS_ID_SCOPE` set, the device asks the
/// Device Provisioning Service (DPS) which hub it belongs to, then connects there.
///
/// Settings: `IOTHUB_DPS_ID_SCOPE`, `IOTHUB_DPS_REGISTRATION_ID`; one credential:
/// `IOTHUB_DPS_SYMMETRIC_KEY` (individual enrollment), `IOTHUB_DPS_GROUP_KEY` (enrollment group:
/// the device key is derived from it) or `IOTHUB_DEVICE_CERT_FILE` + `IOTHUB_DEVICE_KEY_FILE`
/// (X.509); `IOTHUB_DPS_HOST` / `IOTHUB_DPS_PORT` (default global.azure-devices-provisioning.net:8883),
/// `IOTHUB_DPS_HTTPS_PORT` (DPS's clock, default 443), `IOTHUB_DPS_CACHE_FILE` (the assignment,
/// kept between runs: `ExampleProvisioningCache`). A registration prints one stdout line
/// `provisioned <assignedHub> <deviceId>`; DPS's refusal of the credentials exits 2, any other
/// failure 1, each with one stderr line.
struct ExampleProvisioning {
    enum Credential {
        case individual(StableBytes)
        case group(StableBytes)
        case x509
    }

    let idScope: StableBytes
    let registrationID: StableBytes
    let credential: Credential
    /// The key the hub accepts: the individual key, or the one derived from the group key.
    let deviceKey: StableBytes?
    let host: String
    let port: UInt16
    let httpsPort: UInt16
    let cache: ExampleProvisioningCache?
    /// Whether the identity in use came from the cache (not from DPS in this run).
    var fromCache = false
    /// The cache the identity in use came from, for `forgetCachedIdentity`.
    nonisolated(unsafe) static var cacheInUse: ExampleProvisioningCache? = nil

    /// Over HTTPS, where the example cannot swap its client: after the hub refused an identity
    /// from the cache, clears the cache (so the next run registers with DPS) and says so.
    static func forgetCachedIdentity() {
        guard let cache = cacheInUse else { return }
        cache.clear()
        Console.write("the hub refused the cached DPS assignment: IOTHUB_DPS_CACHE_FILE was cleared, the next run registers again\n", to: .err)
    }

    /// The DPS settings, or nil without `IOTHUB_DPS_ID_SCOPE`. Exits 1 with one line when they are
    /// incomplete or contradictory (two credentials, none).
    static func read(clientIdentity: ClientIdentity?, port: (StaticString, UInt16) -> UInt16) -> ExampleProvisioning? {
        guard let scope = ProcessEnvironment.value("IOTHUB_DPS_ID_SCOPE") else { return nil }
        guard let registration = ProcessEnvironment.value("IOTHUB_DPS_REGISTRATION_ID") else {
            ExampleOutput.fail("IOTHUB_DPS_ID_SCOPE needs IOTHUB_DPS_REGISTRATION_ID")
        }
        let individual = ProcessEnvironment.value("IOTHUB_DPS_SYMMETRIC_KEY")
        let group = ProcessEnvironment.value("IOTHUB_DPS_GROUP_KEY")
        let idScope = StableBytes(scope), registrationID = StableBytes(registration)
        let credential: Credential
        var deviceKey: StableBytes? = nil
        switch (individual, group, clientIdentity) {
        case (let key?, nil, nil):
            credential = .individual(StableBytes(key))
            deviceKey = StableBytes(key)
        case (nil, let key?, nil):
            let groupKey = StableBytes(key)
            credential = .group(groupKey)
            deviceKey = derive(groupKey: groupKey, registrationID: registrationID)
        case (nil, nil, _?):
            credential = .x509
        case (nil, nil, nil):
            ExampleOutput.fail("IOTHUB_DPS_ID_SCOPE needs a credential: IOTHUB_DPS_SYMMETRIC_KEY, IOTHUB_DPS_GROUP_KEY or IOTHUB_DEVICE_CERT_FILE + IOTHUB_DEVICE_KEY_FILE")
        default:
            ExampleOutput.fail("set one DPS credential: IOTHUB_DPS_SYMMETRIC_KEY, IOTHUB_DPS_GROUP_KEY or IOTHUB_DEVICE_CERT_FILE + IOTHUB_DEVICE_KEY_FILE, not two")
        }
        let fallback = ProvisioningIdentity.defaultHost
        let host = ProcessEnvironment.value("IOTHUB_DPS_HOST")
            ?? String(decoding: UnsafeRawBufferPointer(start: fallback.utf8Start, count: fallback.utf8CodeUnitCount), as: UTF8.self)
        guard !host.isEmpty else { ExampleOutput.fail("IOTHUB_DPS_HOST is empty") }
        let cache = ProcessEnvironment.value("IOTHUB_DPS_CACHE_FILE").map { ExampleProvisioningCache(path: $0) }
        return ExampleProvisioning(idScope: idScope, registrationID: registrationID, credential: credential, deviceKey: deviceKey,
                                   host: host, port: port("IOTHUB_DPS_PORT", 8883), httpsPort: port("IOTHUB_DPS_HTTPS_PORT", 443),
                                   cache: cache)
    }

    /// base64(HMAC-SHA256(base64decode(groupKey), registrationId)): the key DPS and the hub
    /// expect from a device of the group. Exits 1 when the group key or the id is unusable.
    private static func derive(groupKey: StableBytes, registrationID: StableBytes) -> StableBytes {
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
        defer {
            zeroize(output)
            output.deallocate()
        }
        let length = try? ProvisioningCredentials.deriveDeviceKey(groupKey: groupKey.bytes, registrationID: registrationID.bytes,
                                                                  into: output)
        let text = length.map { String(decoding: UnsafeRawBufferPointer(rebasing: output[0..<$0]), as: UTF8.self) }
        guard let text else {
            ExampleOutput.fail("IOTHUB_DPS_GROUP_KEY must be Base64 and IOTHUB_DPS_REGISTRATION_ID 1-128 characters of A-Z a-z 0-9 - . _ ~")
        }
        return StableBytes(text)
    }

    /// The identity to connect with: the cached assignment when it is there and names this
    /// registration, else DPS's (which is then cached). Returns the connection string.
    mutating func connectionString(_ environment: ExampleEnvironment) -> String {
        if let cache, let cached = cache.read(idScope: idScope.bytes, registrationID: registrationID.bytes) {
            fromCache = true
            Self.cacheInUse = cache
            return Self.connectionString(hub: cached.hub.bytes, deviceID: cached.deviceID.bytes, key: deviceKey?.bytes)
        }
        fromCache = false
        return register(environment)
    }

    /// One registration with DPS: prints `provisioned <hub> <device>`, writes the cache and
    /// returns the connection string; exits (2: DPS refused the credentials, 1: anything else).
    func register(_ environment: ExampleEnvironment) -> String {
        ExampleProxy.forDPS = true
        defer { ExampleProxy.forDPS = false }
        var identity: ClientIdentity? = nil
        if case .x509 = credential { identity = environment.clientIdentity }
        let transport: TLSTransport
        do throws(TransportError) {
            transport = try TLSTransport(TLSConfiguration(host: host, port: port, trustAnchors: environment.trustAnchors,
                                                          clientIdentity: identity, proxy: ExampleProxy.configuration()))
        } catch {
            ExampleOutput.fail("TLS setup for DPS failed: ", error.summary)
        }
        guard Heap.canAllocate(2 * MQTTSession<TLSTransport, SystemPlatform>.objectBytes),
              let client = ProvisioningClient(transport: transport, platform: SystemPlatform()) else {
            ExampleOutput.fail("out of memory: no room for the provisioning client")
        }
        // A refused token may be the device's clock: read DPS's once over HTTPS and try again.
        let anchors = environment.trustAnchors, host = host, httpsPort = httpsPort, hostBytes = StableBytes(host)
        client.enableClockCheck { scope, registration in
            guard let https = try? TLSTransport(TLSConfiguration(host: host, port: httpsPort, trustAnchors: anchors,
                                                                 proxy: ExampleProxy.configuration())),
                  let check = ProvisioningClockCheck(transport: https, host: hostBytes.bytes) else { return nil }
            return check.dpsTime(idScope: scope, registrationID: registration)
        }
        let assignment: ProvisioningAssignment
        do throws(ProvisioningError) {
            switch credential {
            case .individual(let key):
                assignment = try client.register(idScope: idScope.bytes, registrationID: registrationID.bytes, credential: .symmetricKey(key.bytes))
            case .group(let key):
                assignment = try client.register(idScope: idScope.bytes, registrationID: registrationID.bytes, credential: .groupKey(key.bytes))
            case .x509:
                assignment = try client.register(idScope: idScope.bytes, registrationID: registrationID.bytes, credential: .x509)
            }
        } catch {
            Self.fail(error)
        }
        guard ExampleProvisioningCache.isUsable(hub: assignment.assignedHub, deviceID: assignment.deviceID) else {
            ExampleOutput.fail("provisioning failed: DPS assigned a hub name or device id that cannot go into a connection string")
        }
        Console.write("provisioned ")
        Console.write(bytes: assignment.assignedHub)
        Console.write(" ")
        Console.write(bytes: assignment.deviceID)
        Console.write("\n")
        cache?.write(idScope: idScope.bytes, registrationID: registrationID.bytes, hub: assignment.assignedHub,
                     deviceID: assignment.deviceID)
        return Self.connectionString(hub: assignment.assignedHub, deviceID: assignment.deviceID, key: deviceKey?.bytes)
    }

    /// `HostName={hub};DeviceId={id};SharedAccessKey={key}`, or `…;x509=true` without a key.
    static func connectionString(hub: UnsafeRawBufferPointer, deviceID: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer?) -> String {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 + hub.count + deviceID.count + (key?.count ?? 0), alignment: 1)
        defer {
            zeroize(storage)
            storage.deallocate()
        }
        var sink = ByteSink(storage)
        sink.literal("HostName=")
        sink.bytes(hub)
        sink.literal(";DeviceId=")
        sink.bytes(deviceID)
        if let key {
            sink.literal(";SharedAccessKey=")
            sink.bytes(key)
        } else {
            sink.literal(";x509=true")
        }
        return String(decoding: sink.written, as: UTF8.self)
    }

    /// One stderr line for a failed registration, with DPS's own message when it sent one;
    /// exit 2 when DPS refused the credentials, else 1.
    static func fail(_ error: ProvisioningError) -> Never {
        if case .connectionFailed(let mqtt) = error { ExampleProxy.exitIfProxyFailure(mqtt) }
        Console.write("provisioning failed: ", to: .err)
        switch error {
        case .timedOut:
            Console.write("DPS did not assign the device within 90 s", to: .err)
        case .connectionFailed:
            Console.write("cannot reach DPS: ", to: .err)
            Console.write(error.summary, to: .err)
        case .rejected(let status, _, let message):
            Console.write(error.summary, to: .err)
            Console.write(": status ", to: .err)
            Console.write(int: Int64(status), to: .err)
            writeMessage(message)
        case .assignmentFailed(_, let message), .disabled(_, let message):
            Console.write(error.summary, to: .err)
            writeMessage(message)
        default:
            Console.write(error.summary, to: .err)
        }
        Console.write("\n", to: .err)
        Console.exit(error.isAuthenticationFailure ? 2 : 1)
    }

    private static func writeMessage(_ message: ProvisioningErrorMessage) {
        guard message.count > 0 else { return }
        Console.write(": ", to: .err)
        // DPS's text, on one line.
        var text = message.withBytes { [UInt8]($0) }
        for i in text.indices where text[i] < 0x20 || text[i] == 0x7F { text[i] = 0x20 }
        text.withUnsafeBytes { Console.write(bytes: $0, to: .err) }
    }
}

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
