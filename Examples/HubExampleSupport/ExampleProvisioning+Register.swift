import TinyHub
import TinyMQTT
import TinyPlatform
import TinyProvisioning
import TinyTLS

// Registering with DPS: the transport (TLS, or WebSockets over TLS) and clock check, the `provisioned` line, the
// connection string for the hub, and the one line a failure ends with.
extension ExampleProvisioning {
    /// One registration with DPS: prints `provisioned <hub> <device>`, writes the cache and
    /// returns the connection string; exits (2: DPS refused the credentials, 1: anything else).
    func register(_ environment: ExampleEnvironment) -> String {
        ExampleProxy.forDPS = true
        defer { ExampleProxy.forDPS = false }
        var identity: ClientIdentity? = nil
        if case .x509 = credential { identity = environment.clientIdentity }
        // MQTT to IOTHUB_DPS_PORT, or with --transport mqtt-ws over WebSockets on IOTHUB_DPS_HTTPS_PORT
        // (DPS serves both on 443: its HTTPS API and MQTT over WebSockets).
        let transport = ExampleLink.make(host: host, port: port, webSocketPort: httpsPort, webSockets: environment.webSockets,
                                         trustAnchors: environment.trustAnchors, clientIdentity: identity,
                                         clientCertificate: identity != nil, failure: "TLS setup for DPS failed: ")
        guard Heap.canAllocate(2 * MQTTSession<ExampleLink, SystemPlatform>.objectBytes),
              let client = ProvisioningClient(transport: transport, platform: SystemPlatform(), crypto: MbedTLSCrypto()) else {
            ExampleOutput.fail("out of memory: no room for the provisioning client")
        }
        // A refused token may be the device's clock: read DPS's once over HTTPS and try again.
        let anchors = environment.trustAnchors, host = host, httpsPort = httpsPort
        client.enableClockCheck { scope, registration in
            guard let https = try? TLSTransport(TLSConfiguration(host: host, port: httpsPort, trustAnchors: anchors,
                                                                 proxy: ExampleProxy.configuration())),
                  let check = ProvisioningClockCheck(transport: https, host: host) else { return nil }
            return check.dpsTime(idScope: scope, registrationID: registration)
        }
        let assignment: ProvisioningAssignment
        do throws(ProvisioningError) {
            switch credential {
            case .individual(let key):
                assignment = try client.register(idScope: idScope, registrationID: registrationID, credential: .symmetricKey(key))
            case .group(let key):
                assignment = try client.register(idScope: idScope, registrationID: registrationID, credential: .groupKey(key))
            case .x509:
                assignment = try client.register(idScope: idScope, registrationID: registrationID, credential: .x509)
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
        cache?.write(idScope: ids[0], registrationID: ids[1], hub: assignment.assignedHub, deviceID: assignment.deviceID)
        return Self.connectionString(assignment)
    }

    /// `HostName={hub};DeviceId={id};SharedAccessKey={key}`, or `…;x509=true` without a key: a
    /// cached assignment with the key from the settings.
    static func connectionString(hub: String, deviceID: String, key: String?) -> String {
        let parts = OwnedText([hub, deviceID, key ?? ""])
        return withExtendedLifetime(parts) {
            connectionString(ProvisioningAssignment(assignedHub: parts[0], deviceID: parts[1], deviceKey: key == nil ? nil : parts[2]))
        }
    }

    /// The connection string of DPS's assignment (its device key: the individual key or the one
    /// derived from the group key).
    static func connectionString(_ assignment: ProvisioningAssignment) -> String {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: assignment.connectionStringLength, alignment: 1)
        defer {
            zeroize(storage)
            storage.deallocate()
        }
        let length = (try? assignment.writeConnectionString(into: storage)) ?? 0
        return String(decoding: UnsafeRawBufferPointer(rebasing: storage[0..<length]), as: UTF8.self)
    }

    /// One stderr line for a failed registration, with DPS's own message when it sent one;
    /// exit 2 when DPS refused the credentials, else 1.
    static func fail(_ error: ProvisioningError) -> Never {
        if case .connectionFailed(let mqtt) = error { ExampleProxy.exitIfProxyFailure(mqtt) }
        Console.write("provisioning failed: ", to: .err)
        switch error {
        case .timedOut:
            Console.write("DPS did not assign the device within ", to: .err)
            Console.write(int: Int64(ProvisioningOptions().registrationTimeoutMs / 1_000), to: .err)
            Console.write(" s", to: .err)
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
