import TinyPlatform

// `register` with strings: the ids, the key and the payload are copied for the call into one
// allocation the call owns (zeroed and freed before it returns), so a caller never turns a
// `String` into bytes by hand.
extension ProvisioningClient {
    /// Registers the device with DPS, as `register(idScope:registrationID:credential:payload:)`
    /// with byte views, taking strings.
    ///
    /// ```swift
    /// let assignment = try dps.register(idScope: "0ne00000A0A", registrationID: "my-device-1",
    ///                                   credential: .symmetricKey(key))
    /// print(assignment.assignedHubText, assignment.deviceIDText)
    /// ```
    ///
    /// Unlike the byte-view form, it allocates: one copy of the strings for the duration of the call.
    ///
    /// - Parameters:
    ///   - idScope: the DPS instance's ID scope (e.g. `0ne00000A0A`).
    ///   - registrationID: the enrollment's registration id (for X.509: the certificate's CN).
    ///   - credential: how the device authenticates, with the key as text.
    ///   - payload: optional custom allocation payload, one complete JSON value.
    /// - Returns: the assigned hub and device id (and device key for key credentials), as views
    ///   into the client's storage valid until the next `register`.
    /// - Throws: `ProvisioningError`, as the byte-view form.
    public func register(idScope: String, registrationID: String, credential: ProvisioningTextCredential,
                         payload: String? = nil) throws(ProvisioningError) -> ProvisioningAssignment {
        let copy = OwnedText([idScope, registrationID, credential.key, payload ?? ""])
        let result = withExtendedLifetime(copy) { () -> Result<ProvisioningAssignment, ProvisioningError> in
            Result { () throws(ProvisioningError) in
                try register(idScope: copy[0], registrationID: copy[1], credential: credential.bytes(copy[2]),
                             payload: payload == nil ? nil : copy[3])
            }
        }
        return try result.get()
    }
}
