import TinyMQTT
import TinyPlatform
/// How a device proves its identity to DPS, matching how it was enrolled.
///
/// ```swift
/// let assignment = try dps.register(idScope: scope, registrationID: registrationID, credential: .groupKey(groupKey))
/// // with strings: dps.register(idScope: "0ne00000A0A", registrationID: "dev-1", credential: .groupKey(keyText))
/// ```
public enum ProvisioningCredential {
    /// An individual enrollment's symmetric key (Base64 text, caller-owned for the call).
    /// The same key then authenticates the device to the assigned hub.
    case symmetricKey(UnsafeRawBufferPointer)
    /// An enrollment group's symmetric key (Base64 text). The device's own key is derived
    /// from it and the registration id; that derived key authenticates to DPS and the hub.
    case groupKey(UnsafeRawBufferPointer)
    /// An X.509 enrollment: the TLS client certificate the caller configured on the
    /// transport authenticates; no password is sent. The registration id is the
    /// certificate's common name (CN).
    case x509

    /// Whether a SAS token is the MQTT password.
    var usesToken: Bool {
        if case .x509 = self { return false }
        return true
    }
}
