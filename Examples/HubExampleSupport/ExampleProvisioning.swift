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
/// `IOTHUB_DPS_HTTPS_PORT` (DPS's clock, and MQTT over WebSockets with `--transport mqtt-ws`; default 443), `IOTHUB_DPS_CACHE_FILE` (the assignment,
/// kept between runs: `ExampleProvisioningCache`). A registration prints one stdout line
/// `provisioned <assignedHub> <deviceId>`; DPS's refusal of the credentials exits 2, any other
/// failure 1, each with one stderr line.
struct ExampleProvisioning {
    enum Credential {
        case individual(String)
        case group(String)
        case x509
    }

    let idScope: String
    let registrationID: String
    /// The two ids' bytes, for the cache file.
    let ids: OwnedText
    let credential: Credential
    /// The key the hub accepts: the individual key, or the one derived from the group key.
    let deviceKey: String?
    let host: String
    let port: UInt16
    let httpsPort: UInt16
    let cache: ExampleProvisioningCache?
    /// Whether the identity in use came from the cache (not from DPS in this run).
    var fromCache = false

    /// The DPS settings, or nil without `IOTHUB_DPS_ID_SCOPE`. Exits 1 with one line when they are
    /// incomplete or contradictory (two credentials, none).
    static func read(clientIdentity: ClientIdentity?, port: (StaticString, UInt16) -> UInt16) -> ExampleProvisioning? {
        guard let scope = ProcessEnvironment.value("IOTHUB_DPS_ID_SCOPE") else { return nil }
        guard let registration = ProcessEnvironment.value("IOTHUB_DPS_REGISTRATION_ID") else {
            ExampleOutput.fail("IOTHUB_DPS_ID_SCOPE needs IOTHUB_DPS_REGISTRATION_ID")
        }
        let individual = ProcessEnvironment.value("IOTHUB_DPS_SYMMETRIC_KEY")
        let group = ProcessEnvironment.value("IOTHUB_DPS_GROUP_KEY")
        do throws(ProvisioningProtocolError) {
            try ProvisioningIdentity.validate(scope)
            try ProvisioningIdentity.validate(registration)
        } catch {
            ExampleOutput.fail("IOTHUB_DPS_ID_SCOPE and IOTHUB_DPS_REGISTRATION_ID must be 1-128 characters of A-Z a-z 0-9 - . _ ~")
        }
        let credential: Credential
        var deviceKey: String? = nil
        switch (individual, group, clientIdentity) {
        case (let key?, nil, nil):
            credential = .individual(key)
            deviceKey = key
        case (nil, let key?, nil):
            credential = .group(key)
            deviceKey = derive(groupKey: key, registrationID: registration)
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
        return ExampleProvisioning(idScope: scope, registrationID: registration, ids: OwnedText([scope, registration]), credential: credential, deviceKey: deviceKey,
                                   host: host, port: port("IOTHUB_DPS_PORT", 8883), httpsPort: port("IOTHUB_DPS_HTTPS_PORT", 443),
                                   cache: cache)
    }

    /// base64(HMAC-SHA256(base64decode(groupKey), registrationId)): the key DPS and the hub
    /// expect from a device of the group. Exits 1 when the group key or the id is unusable.
    private static func derive(groupKey: String, registrationID: String) -> String {
        guard let key = try? ProvisioningCredentials.deriveDeviceKey(groupKey: groupKey, registrationID: registrationID,
                                                                     crypto: MbedTLSCrypto()) else {
            ExampleOutput.fail("IOTHUB_DPS_GROUP_KEY is not a usable key (Base64, at most 128 bytes decoded)")
        }
        return key
    }

    /// The identity to connect with: the cached assignment when it is there and names this
    /// registration, else DPS's (which is then cached). Returns the connection string.
    mutating func connectionString(_ environment: ExampleEnvironment) -> String {
        if let cache, let cached = cache.read(idScope: ids[0], registrationID: ids[1]) {
            fromCache = true
            return Self.connectionString(hub: cached.hub, deviceID: cached.deviceID, key: deviceKey)
        }
        fromCache = false
        return register(environment)
    }
}
