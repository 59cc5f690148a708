import TinyBytes
import TinyHub
import TinyMQTT
import TinyPlatform

/// What `register` prepared before connecting: the caller's ids and lengths of what was
/// written into the client's storage.
struct PreparedRegistration {
    var idScope: UnsafeRawBufferPointer
    var registrationID: UnsafeRawBufferPointer
    var usesToken: Bool
    var userNameLength = 0
    var keyLength = 0
    var bodyLength = 0
    var tokenLength = 0
}

// Checking the inputs and writing the identity, the device key and the request body, before the first byte goes out.
extension ProvisioningClient {
    func prepare(idScope: UnsafeRawBufferPointer, registrationID: UnsafeRawBufferPointer, credential: ProvisioningCredential,
                 payload: UnsafeRawBufferPointer?) throws(ProvisioningError) -> PreparedRegistration {
        var prepared = PreparedRegistration(idScope: idScope, registrationID: registrationID, usesToken: credential.usesToken)
        do throws(ProvisioningProtocolError) {
            if let payload, payload.count > options.maxPayloadBytes { throw .bufferTooSmall(needed: payload.count) }
            prepared.userNameLength = try ProvisioningIdentity.writeUserName(
                idScope: idScope, registrationID: registrationID, clientVersion: Bytes.view(TinyHubVersion.product),
                into: storage.userName)
            switch credential {
            case .symmetricKey(let key):
                // Checked now (a key that cannot sign is an input error, not DPS's refusal) and kept:
                // it is the key the assigned hub accepts.
                guard key.count <= storage.deviceKey.count else { throw .keyTooLong }
                _ = try ProvisioningCredentials.writeSASToken(idScope: idScope, registrationID: registrationID, key: key,
                                                              expiry: 0, crypto: crypto, into: storage.token)
                storage.deviceKey.copyMemory(from: key)
                prepared.keyLength = key.count
            case .groupKey(let groupKey):
                prepared.keyLength = try ProvisioningCredentials.deriveDeviceKey(groupKey: groupKey, registrationID: registrationID, crypto: crypto,
                                                                                 into: storage.deviceKey)
            case .x509:
                break
            }
            prepared.bodyLength = try RegistrationRequest.writeBody(registrationID: registrationID, payload: payload,
                                                                    into: storage.body)
        } catch {
            zeroize(storage.deviceKey)
            throw .protocolError(error)
        }
        return prepared
    }

    /// Mints a SAS token from DPS's time (the wall clock plus the last clock offset).
    func mintToken(_ prepared: inout PreparedRegistration) throws(ProvisioningError) {
        guard prepared.usesToken else { return }
        // Clamped so a nonsense wall clock cannot overflow (the same bound as the hub client's).
        let now = min(max(dpsNow, 0), Int64(1) << 40)
        let expiry = UInt64(now) + UInt64(options.sasLifetimeSeconds)
        do throws(ProvisioningProtocolError) {
            prepared.tokenLength = try ProvisioningCredentials.writeSASToken(
                idScope: prepared.idScope, registrationID: prepared.registrationID,
                key: UnsafeRawBufferPointer(rebasing: storage.deviceKey[0..<prepared.keyLength]),
                expiry: expiry, crypto: crypto, into: storage.token)
        } catch {
            throw .protocolError(error)
        }
    }

    /// The CONNECT fields: client id = registration id, the DPS user name, the token unless
    /// X.509, clean session.
    func connectOptions(_ prepared: PreparedRegistration) -> MQTTConnectOptions {
        MQTTConnectOptions(
            clientID: prepared.registrationID,
            username: UnsafeRawBufferPointer(rebasing: storage.userName[0..<prepared.userNameLength]),
            password: prepared.usesToken ? UnsafeRawBufferPointer(rebasing: storage.token[0..<prepared.tokenLength]) : nil,
            cleanSession: true, keepAliveSeconds: options.keepAliveSeconds)
    }
}
