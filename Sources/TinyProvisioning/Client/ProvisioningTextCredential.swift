/// How a device proves its identity to DPS, with the key as a `String`: the form
/// `ProvisioningClient.register(idScope:registrationID:credential:payload:)` with strings takes.
///
/// ```swift
/// let assignment = try dps.register(idScope: "0ne00000A0A", registrationID: "my-device-1",
///                                   credential: .groupKey(groupKey))
/// ```
public enum ProvisioningTextCredential {
    /// An individual enrollment's symmetric key (Base64). The same key then authenticates the
    /// device to the assigned hub.
    case symmetricKey(String)
    /// An enrollment group's symmetric key (Base64). The device's own key is derived from it and
    /// the registration id.
    case groupKey(String)
    /// An X.509 enrollment: the TLS client certificate configured on the transport authenticates.
    case x509

    /// The key's text (empty for X.509).
    var key: String {
        switch self {
        case .symmetricKey(let key), .groupKey(let key): return key
        case .x509: return ""
        }
    }

    /// The byte-view credential over `key`'s copy.
    func bytes(_ key: UnsafeRawBufferPointer) -> ProvisioningCredential {
        switch self {
        case .symmetricKey: return .symmetricKey(key)
        case .groupKey: return .groupKey(key)
        case .x509: return .x509
        }
    }
}
